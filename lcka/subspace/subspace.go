package subspace

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/dense"
)

// Directions are the top directions of the centred paired differences of
// two representations.
type Directions struct {
	// V holds the directions as orthonormal columns, d × r, the strongest
	// first: the top right singular vectors of D − mean(D), D = A − B, each
	// signed so that its largest-magnitude component is positive.
	V *mat.Dense
	// Singular holds the r singular values of D − mean(D), descending.
	Singular []float64
	// Cumulative[k] is the fraction of the differences' variance,
	// ‖D − mean(D)‖²_F, that the first k+1 directions hold.
	Cumulative []float64
	// Mean is mean(D), the mean-difference vector (length d).
	Mean []float64
}

// Fraction returns the fraction of the differences' variance that all r
// directions hold (0 for r = 0).
func (s *Directions) Fraction() float64 {
	if len(s.Cumulative) == 0 {
		return 0
	}
	return s.Cumulative[len(s.Cumulative)-1]
}

// Prefix returns the first k directions (0 ≤ k ≤ r) as a d × k matrix,
// sharing storage; nil for k = 0.
func (s *Directions) Prefix(k int) *mat.Dense {
	if k == 0 {
		return nil
	}
	d, _ := s.V.Dims()
	return s.V.Slice(0, d, 0, k).(*mat.Dense)
}

// Removed is the result of Remove: the directions and both representations
// with them projected out.
type Removed struct {
	*Directions
	A, B *mat.Dense // A·P and B·P, P = I − V Vᵀ
}

// checked is dense.Checked with the package's prefix on its errors.
func checked(x mat.Matrix, name string) (*mat.Dense, error) {
	d, err := dense.Checked(x, name)
	if err != nil {
		return nil, fmt.Errorf("subspace: %w", err)
	}
	return d, nil
}

// pair checks a and b and that they have the same shape.
func pair(a, b mat.Matrix) (*mat.Dense, *mat.Dense, error) {
	ad, err := checked(a, "A")
	if err != nil {
		return nil, nil, err
	}
	bd, err := checked(b, "B")
	if err != nil {
		return nil, nil, err
	}
	ar, ac := ad.Dims()
	br, bc := bd.Dims()
	if ar != br || ac != bc {
		return nil, nil, fmt.Errorf("subspace: A is %d×%d and B is %d×%d; paired activations need the same shape", ar, ac, br, bc)
	}
	return ad, bd, nil
}

// centredDiff returns D − mean(D), D = a − b, and mean(D).
func centredDiff(a, b *mat.Dense) (*mat.Dense, []float64) {
	n, d := a.Dims()
	var diff mat.Dense
	diff.Sub(a, b)
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range diff.RawRowView(i) {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for i := 0; i < n; i++ {
		row := diff.RawRowView(i)
		for j := range row {
			row[j] -= mean[j]
		}
	}
	return &diff, mean
}

// Estimate returns the top r directions of the centred paired differences
// of a and b (n × d each, row i of both the same prompt). r = 0 gives no
// directions. r must be at most the rank of D − mean(D) (at most
// min(n − 1, d)): directions with a zero singular value would be arbitrary,
// and that is an error.
func Estimate(a, b mat.Matrix, r int) (*Directions, error) {
	ad, bd, err := pair(a, b)
	if err != nil {
		return nil, err
	}
	n, d := ad.Dims()
	if r < 0 {
		return nil, fmt.Errorf("subspace: r = %d; it must be ≥ 0", r)
	}
	if r > min(n-1, d) {
		return nil, fmt.Errorf("subspace: r = %d exceeds min(n − 1, d) = %d, the most the centred differences of %d prompts in %d dimensions can have", r, min(n-1, d), n, d)
	}
	dc, mean := centredDiff(ad, bd)
	out := &Directions{Mean: mean, Singular: []float64{}, Cumulative: []float64{}}
	if r == 0 {
		out.V = nil
		return out, nil
	}
	var svd mat.SVD
	if !svd.Factorize(dc, mat.SVDThin) {
		return nil, fmt.Errorf("subspace: the SVD of the differences did not converge")
	}
	s := svd.Values(nil)
	total := 0.0
	for _, v := range s {
		total += v * v
	}
	if total == 0 {
		return nil, fmt.Errorf("subspace: the centred differences A − B are zero: there is no direction to remove")
	}
	if s[r-1] <= 1e-12*s[0] {
		rank := 0
		for _, v := range s {
			if v > 1e-12*s[0] {
				rank++
			}
		}
		return nil, fmt.Errorf("subspace: r = %d exceeds the rank %d of the centred differences", r, rank)
	}
	var vt mat.Dense
	svd.VTo(&vt)
	v := mat.NewDense(d, r, nil)
	v.Copy(vt.Slice(0, d, 0, r))
	for k := 0; k < r; k++ {
		// Sign: the largest-magnitude component positive (the first on ties).
		big, at := 0.0, 0
		for i := 0; i < d; i++ {
			if x := math.Abs(v.At(i, k)); x > big {
				big, at = x, i
			}
		}
		if v.At(at, k) < 0 {
			for i := 0; i < d; i++ {
				v.Set(i, k, -v.At(i, k))
			}
		}
	}
	out.V = v
	out.Singular = slices.Clone(s[:r])
	acc := 0.0
	for k := 0; k < r; k++ {
		acc += s[k] * s[k]
		out.Cumulative = append(out.Cumulative, acc/total)
	}
	return out, nil
}

// Project returns x·(I − V Vᵀ) = x − (x V) Vᵀ, x with the directions of the
// columns of v projected out. v must have orthonormal columns (as Estimate
// returns; this is not checked) and as many rows as x has columns; a nil v
// or one with no columns returns a copy of x.
func Project(x mat.Matrix, v mat.Matrix) (*mat.Dense, error) {
	xd, err := checked(x, "x")
	if err != nil {
		return nil, err
	}
	out := mat.DenseCopyOf(xd)
	if empty(v) {
		return out, nil
	}
	vd, _ := v.Dims()
	if _, d := xd.Dims(); vd != d {
		return nil, fmt.Errorf("subspace: directions of dimension %d for a matrix of %d columns", vd, d)
	}
	var xv, back mat.Dense
	xv.Mul(xd, v)
	back.Mul(&xv, v.T())
	out.Sub(out, &back)
	return out, nil
}

// empty reports whether v holds no directions: nil (also a nil *mat.Dense,
// as Prefix(0) returns), empty, or without columns.
func empty(v mat.Matrix) bool {
	if v == nil {
		return true
	}
	if d, ok := v.(*mat.Dense); ok && (d == nil || d.IsEmpty()) {
		return true
	}
	_, c := v.Dims()
	return c == 0
}

// Remove estimates the top r directions of the paired differences of a and
// b and projects them out of both: it returns the directions, their share
// of the differences' variance and A·P, B·P with P = I − V Vᵀ.
func Remove(a, b mat.Matrix, r int) (*Removed, error) {
	dirs, err := Estimate(a, b, r)
	if err != nil {
		return nil, err
	}
	pa, err := Project(a, dirs.Prefix(r))
	if err != nil {
		return nil, err
	}
	pb, err := Project(b, dirs.Prefix(r))
	if err != nil {
		return nil, err
	}
	return &Removed{Directions: dirs, A: pa, B: pb}, nil
}

// HeldFraction returns the fraction of the variance of the centred paired
// differences of a and b that lies in the span of the orthonormal columns
// of v: ‖(D − mean(D)) V‖²_F / ‖D − mean(D)‖²_F. On the data the
// directions were estimated from it equals Directions.Fraction; on held-out
// prompts it says how much of their language difference the directions
// still capture. v nil or without columns gives 0.
func HeldFraction(a, b mat.Matrix, v mat.Matrix) (float64, error) {
	ad, bd, err := pair(a, b)
	if err != nil {
		return 0, err
	}
	if empty(v) {
		return 0, nil
	}
	vd, _ := v.Dims()
	if _, d := ad.Dims(); vd != d {
		return 0, fmt.Errorf("subspace: directions of dimension %d for matrices of %d columns", vd, d)
	}
	dc, _ := centredDiff(ad, bd)
	total := mat.Norm(dc, 2)
	if total == 0 {
		return 0, fmt.Errorf("subspace: the centred differences A − B are zero")
	}
	var dv mat.Dense
	dv.Mul(dc, v)
	held := mat.Norm(&dv, 2)
	return (held * held) / (total * total), nil
}

// Halves splits the prompts 0..n−1 into two halves of ⌊n/2⌋ and ⌈n/2⌉ at
// random (a PCG stream seeded by seed), each in ascending order.
func Halves(n int, seed uint64) [2][]int {
	perm := rand.New(rand.NewPCG(seed, 0x5ab5ace)).Perm(n)
	h := [2][]int{slices.Clone(perm[:n/2]), slices.Clone(perm[n/2:])}
	slices.Sort(h[0])
	slices.Sort(h[1])
	return h
}
