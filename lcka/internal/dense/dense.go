// Package dense checks and prepares matrix arguments of the similarity
// packages.
package dense

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/rowkernels"
)

// Checked returns x as a *mat.Dense (without copying when it is one) after
// checking that it is non-empty and finite; name says which argument it is
// in the error.
func Checked(x mat.Matrix, name string) (*mat.Dense, error) {
	if x == nil {
		return nil, fmt.Errorf("%s is nil", name)
	}
	if d, ok := x.(*mat.Dense); ok && (d == nil || d.IsEmpty()) {
		return nil, fmt.Errorf("%s is empty", name)
	}
	r, c := x.Dims()
	if r == 0 || c == 0 {
		return nil, fmt.Errorf("%s is empty (%d×%d)", name, r, c)
	}
	d, ok := x.(*mat.Dense)
	if !ok {
		d = mat.DenseCopyOf(x)
	}
	// One vector pass finds whether every value is finite (a layer of the
	// study is 800 000 of them); only a matrix that is not is walked
	// again, to name the first value that is not.
	finite := true
	if raw := d.RawMatrix(); raw.Stride == c {
		_, finite = rowkernels.Magnitude(raw.Data[:r*c])
	} else {
		for i := 0; i < r && finite; i++ {
			_, finite = rowkernels.Magnitude(d.RawRowView(i))
		}
	}
	if finite {
		return d, nil
	}
	for i := 0; i < r; i++ {
		for j, v := range d.RawRowView(i) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s has non-finite value %v at row %d, column %d", name, v, i, j)
			}
		}
	}
	return d, nil
}

// CenteredColumns returns a copy of x with each column's mean subtracted
// (means summed in float64 over the rows, in order).
func CenteredColumns(x *mat.Dense) *mat.Dense {
	n, d := x.Dims()
	return mat.NewDense(n, d, CenteredInto(nil, x))
}

// CenteredInto writes x with each column's mean subtracted, row-major,
// into dst when it holds n·d values (a new slice otherwise) and returns it:
// CenteredColumns without the allocation, for callers that reuse a buffer.
func CenteredInto(dst []float64, x *mat.Dense) []float64 {
	n, d := x.Dims()
	if cap(dst) < n*d {
		dst = make([]float64, n*d)
	}
	dst = dst[:n*d]
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range x.RawRowView(i) {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for i := 0; i < n; i++ {
		row := dst[i*d : (i+1)*d]
		for j, v := range x.RawRowView(i) {
			row[j] = v - mean[j]
		}
	}
	return dst
}

// WeightedResample returns, for the resample of x whose row r is x's row
// idx[r] (a bootstrap draw, rows repeated), an m×d matrix built from its m
// distinct rows alone: row q is √c_q·(x_{i_q} − μ), with i_q the q-th
// distinct index in increasing order, c_q its count in idx and μ the
// resample's column mean (summed in float64 in idx's order). For two
// layers resampled by the same idx, any product of such matrices, AᵀB,
// equals that of the centred resamples (a row repeated c times adds c
// times its product), and so does every quantity of the column spaces'
// Gram matrices: their singular values, canonical correlations and shape
// distances, at the cost of m rows instead of len(idx). x must be Checked.
func WeightedResample(x *mat.Dense, idx []int) (*mat.Dense, error) {
	n, d := x.Dims()
	if len(idx) == 0 {
		return nil, fmt.Errorf("an empty resample")
	}
	count := make([]int, n)
	for r, i := range idx {
		if i < 0 || i >= n {
			return nil, fmt.Errorf("resample row %d is row %d of %d", r, i, n)
		}
		count[i]++
	}
	mean := make([]float64, d)
	for _, i := range idx {
		for j, v := range x.RawRowView(i) {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(len(idx))
	}
	m := 0
	for _, c := range count {
		if c > 0 {
			m++
		}
	}
	out := mat.NewDense(m, d, nil)
	q := 0
	for i, c := range count {
		if c == 0 {
			continue
		}
		w := math.Sqrt(float64(c))
		row := out.RawRowView(q)
		for j, v := range x.RawRowView(i) {
			row[j] = w * (v - mean[j])
		}
		q++
	}
	return out, nil
}

// ScaleToPeak divides the finite values v by the power of two p that
// brings their largest magnitude into [½, 1), exactly, and returns p (0,
// leaving v alone, when v is all zeros): so that squares and norms of the
// values neither overflow nor underflow, for measures that do not see the
// scale or that multiply by p again. A power of two rather than the
// largest magnitude itself keeps every value exact, and one pass of the
// vector kernels finds it.
func ScaleToPeak(v []float64) float64 {
	peak, _ := rowkernels.Magnitude(v)
	if peak == 0 {
		return 0
	}
	return math.Ldexp(1, ScaleDown(v, peak))
}

// ScaleDown multiplies a, whose largest magnitude is peak > 0, by the power
// of two that brings peak into [½, 1), exactly, and returns that power's
// negated exponent: a's values are the scaled ones times 2^exponent. A
// peak among the subnormal numbers takes two steps, as its power of two's
// inverse would overflow.
func ScaleDown(a []float64, peak float64) int {
	_, exp := math.Frexp(peak)
	e := exp
	if e < -1000 {
		for i := range a {
			a[i] *= 0x1p600
		}
		e += 600
	}
	f := math.Ldexp(1, -e)
	for i := range a {
		a[i] *= f
	}
	return exp
}

// Transpose writes the rows×cols row-major src into dst as its cols×rows
// transpose, in square tiles so that both sides stay in cache: an
// element-by-element walk down dst's columns (or gonum's Copy of a
// mat.Transpose) misses the cache on every write at a few hundred rows.
// dst and src must not overlap.
func Transpose(dst, src []float64, rows, cols int) {
	const tile = 32
	_ = src[rows*cols-1]
	_ = dst[rows*cols-1]
	for i0 := 0; i0 < rows; i0 += tile {
		i1 := min(i0+tile, rows)
		for j0 := 0; j0 < cols; j0 += tile {
			j1 := min(j0+tile, cols)
			for i := i0; i < i1; i++ {
				row := src[i*cols+j0 : i*cols+j1]
				for j, v := range row {
					dst[(j0+j)*rows+i] = v
				}
			}
		}
	}
}
