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
// permuted): Permutations, Null and FromNull in turn.
func Calibrate(x, y mat.Matrix, f Measure, opt Options) (Result, error) {
	if f == nil || x == nil || y == nil {
		return Result{}, fmt.Errorf("calibrate: nil measure or input")
	}
	n, _ := y.Dims()
	if nx, _ := x.Dims(); nx != n {
		return Result{}, fmt.Errorf("calibrate: x has %d rows and y has %d; they must match", nx, n)
	}
	perms, err := Permutations(n, opt)
	if err != nil {
		return Result{}, err
	}
	score, err := f(x, y)
	if err != nil {
		return Result{}, err
	}
	null, err := Null(x, y, f, perms)
	if err != nil {
		return Result{}, err
	}
	return FromNull(score, null)
}

// Permutations returns the permutations of n rows that Calibrate draws
// under opt. A caller that calibrates several pairs of the same inputs (the
// layers of a model) shuffles them all alike by passing these to Null.
func Permutations(n int, opt Options) ([][]int, error) {
	p := opt.Permutations
	if p == 0 {
		p = 100
	}
	if p < 2 {
		return nil, fmt.Errorf("calibrate: need at least 2 permutations for a spread, got %d", p)
	}
	if n < 1 {
		return nil, fmt.Errorf("calibrate: %d rows; want at least 1", n)
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x15))
	perms := make([][]int, p)
	for i := range perms {
		perms[i] = rng.Perm(n)
	}
	return perms, nil
}

// Null returns f(x, y′) for each permutation of perms, y′ holding y's row
// perm[r] as its row r; the permutations run in parallel.
func Null(x, y mat.Matrix, f Measure, perms [][]int) ([]float64, error) {
	if f == nil || x == nil || y == nil {
		return nil, fmt.Errorf("calibrate: nil measure or input")
	}
	n, c := y.Dims()
	if nx, _ := x.Dims(); nx != n {
		return nil, fmt.Errorf("calibrate: x has %d rows and y has %d; they must match", nx, n)
	}
	seen := make([]bool, n)
	for i, perm := range perms {
		if len(perm) != n {
			return nil, fmt.Errorf("calibrate: permutation %d has %d entries for %d rows", i, len(perm), n)
		}
		clear(seen)
		for _, r := range perm {
			if r < 0 || r >= n || seen[r] {
				return nil, fmt.Errorf("calibrate: permutation %d is not a permutation of 0…%d", i, n-1)
			}
			seen[r] = true
		}
	}
	yd := mat.DenseCopyOf(y)
	null := make([]float64, len(perms))
	errs := make([]error, len(perms))
	parallel.For(len(perms), 0, func(i int) {
		yp := mat.NewDense(n, c, nil)
		for r, src := range perms[i] {
			yp.SetRow(r, yd.RawRowView(src))
		}
		null[i], errs[i] = f(x, yp)
	})
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("calibrate: permutation %d: %w", i, err)
		}
	}
	return null, nil
}

// FromNull returns score beside the null scores: their mean, spread
// (ddof 1), the calibrated value and the one-sided p-value.
func FromNull(score float64, null []float64) (Result, error) {
	p := len(null)
	if p < 2 {
		return Result{}, fmt.Errorf("calibrate: need at least 2 permutations for a spread, got %d", p)
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
