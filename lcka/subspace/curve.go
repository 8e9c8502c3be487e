package subspace

import (
	"fmt"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// MeasureFunc is a similarity between two representations with paired
// rows, such as cka.Standardized.
type MeasureFunc func(x, y mat.Matrix) (float64, error)

// Curve is a similarity before and after removing r directions, for each r.
type Curve struct {
	R        []int     // the numbers of directions removed
	Before   float64   // the measure of A and B
	After    []float64 // After[k]: the measure of A·P and B·P with R[k] directions removed
	Fraction []float64 // Fraction[k]: the share of the differences' variance those directions hold
	CrossFit bool      // whether directions were estimated on the other half of the prompts
}

func checkRs(rs []int) (int, error) {
	if len(rs) == 0 {
		return 0, fmt.Errorf("subspace: no r given")
	}
	top := 0
	for _, r := range rs {
		if r < 0 {
			return 0, fmt.Errorf("subspace: r = %d; it must be ≥ 0", r)
		}
		top = max(top, r)
	}
	return top, nil
}

// curveOn estimates directions on (ea, eb) and measures (a, b) before and
// after removing the first r of them for each r in rs; the fractions are
// those of (a, b)'s differences.
func curveOn(ea, eb, a, b *mat.Dense, rs []int, top int, measure MeasureFunc) (before float64, after, frac []float64, err error) {
	dirs, err := Estimate(ea, eb, top)
	if err != nil {
		return 0, nil, nil, err
	}
	before, err = measure(a, b)
	if err != nil {
		return 0, nil, nil, err
	}
	for _, r := range rs {
		v := dirs.Prefix(r)
		pa, err := Project(a, v)
		if err != nil {
			return 0, nil, nil, err
		}
		pb, err := Project(b, v)
		if err != nil {
			return 0, nil, nil, err
		}
		s, err := measure(pa, pb)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("r = %d: %w", r, err)
		}
		f, err := HeldFraction(a, b, v)
		if err != nil {
			return 0, nil, nil, err
		}
		after = append(after, s)
		frac = append(frac, f)
	}
	return before, after, frac, nil
}

// Measure returns measure(A, B) and measure(A·P, B·P) after removing the top
// r directions of the paired differences, estimated on all prompts, for each
// r in rs (r = 0 gives the value before).
func Measure(a, b mat.Matrix, rs []int, measure MeasureFunc) (*Curve, error) {
	ad, bd, err := pair(a, b)
	if err != nil {
		return nil, err
	}
	top, err := checkRs(rs)
	if err != nil {
		return nil, err
	}
	before, after, frac, err := curveOn(ad, bd, ad, bd, rs, top, measure)
	if err != nil {
		return nil, err
	}
	return &Curve{R: slices.Clone(rs), Before: before, After: after, Fraction: frac}, nil
}

// MeasureCrossFit is Measure with the directions estimated on one half of
// the prompts and the measure taken on the other, both ways round,
// averaged: a gain that survives is not fitted noise. Before is the mean of
// the measure on the two halves, and Fraction the mean share of the
// held-out differences' variance the directions hold. halves must
// partition 0..n−1 (Halves draws one) with at least 2 prompts in each half.
func MeasureCrossFit(a, b mat.Matrix, rs []int, halves [2][]int, measure MeasureFunc) (*Curve, error) {
	ad, bd, err := pair(a, b)
	if err != nil {
		return nil, err
	}
	top, err := checkRs(rs)
	if err != nil {
		return nil, err
	}
	n, _ := ad.Dims()
	if err := checkHalves(halves, n); err != nil {
		return nil, err
	}
	c := &Curve{R: slices.Clone(rs), After: make([]float64, len(rs)), Fraction: make([]float64, len(rs)), CrossFit: true}
	for k := range 2 {
		fit, eval := halves[k], halves[1-k]
		ea, eb := rows(ad, fit), rows(bd, fit)
		va, vb := rows(ad, eval), rows(bd, eval)
		before, after, frac, err := curveOn(ea, eb, va, vb, rs, top, measure)
		if err != nil {
			return nil, fmt.Errorf("subspace: cross-fit, estimated on half %d: %w", k+1, err)
		}
		c.Before += before / 2
		for i := range rs {
			c.After[i] += after[i] / 2
			c.Fraction[i] += frac[i] / 2
		}
	}
	return c, nil
}

// rows returns the rows idx of x as a new matrix.
func rows(x *mat.Dense, idx []int) *mat.Dense {
	_, d := x.Dims()
	out := mat.NewDense(len(idx), d, nil)
	for i, r := range idx {
		copy(out.RawRowView(i), x.RawRowView(r))
	}
	return out
}
