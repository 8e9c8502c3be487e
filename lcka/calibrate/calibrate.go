package calibrate

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/parallel"
)

// Measure is a similarity of two matrices with the same rows.
type Measure func(x, y mat.Matrix) (float64, error)

// Options sets the number of permutations and the seed of their generator.
type Options struct {
	Permutations int // at least 2; 0 means 100
	Seed         uint64
}

// Result is a score with its permutation null.
type Result struct {
	Score, NullMean, NullSD, Calibrated, P float64
	Permutations                           int
}

// Calibrate returns f(x, y) next to the scores of f(x, y with its rows
// permuted).
func Calibrate(x, y mat.Matrix, f Measure, opt Options) (Result, error) {
	if f == nil || x == nil || y == nil {
		return Result{}, fmt.Errorf("calibrate: nil measure or input")
	}
	p := opt.Permutations
	if p == 0 {
		p = 100
	}
	if p < 2 {
		return Result{}, fmt.Errorf("calibrate: need at least 2 permutations for a spread, got %d", p)
	}
	n, _ := y.Dims()
	if nx, _ := x.Dims(); nx != n {
		return Result{}, fmt.Errorf("calibrate: x has %d rows and y has %d; they must match", nx, n)
	}
	score, err := f(x, y)
	if err != nil {
		return Result{}, err
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x15))
	perms := make([][]int, p)
	for i := range perms {
		perms[i] = rng.Perm(n)
	}
	yd := mat.DenseCopyOf(y)
	null := make([]float64, p)
	errs := make([]error, p)
	parallel.For(p, 0, func(i int) {
		_, c := yd.Dims()
		yp := mat.NewDense(n, c, nil)
		for r, src := range perms[i] {
			yp.SetRow(r, yd.RawRowView(src))
		}
		null[i], errs[i] = f(x, yp)
	})
	for i, err := range errs {
		if err != nil {
			return Result{}, fmt.Errorf("calibrate: permutation %d: %w", i, err)
		}
	}
	mean, above := 0.0, 0
	for _, v := range null {
		mean += v
		if v >= score {
			above++
		}
	}
	mean /= float64(p)
	ss := 0.0
	for _, v := range null {
		ss += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(ss / float64(p-1))
	if !(sd > 0) {
		return Result{}, fmt.Errorf("calibrate: the %d null scores are all %v; the calibrated value is undefined", p, mean)
	}
	return Result{
		Score: score, NullMean: mean, NullSD: sd,
		Calibrated:   (score - mean) / sd,
		P:            float64(1+above) / float64(p+1),
		Permutations: p,
	}, nil
}
