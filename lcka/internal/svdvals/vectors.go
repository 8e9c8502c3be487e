package svdvals

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/lapack/gonum"
)

// LeftVectors returns the singular values of the m×n matrix a (m ≤ n;
// row-major, overwritten) in descending order and its left singular
// vectors as the rows of ut (m×m, row i for values[i]).
//
// It bidiagonalizes Aᵀ = Q·B·Pᵀ as Values does, forms Pᵀ from the right
// reflectors, and lets gonum's implicit-shift QR (Dbdsqr) diagonalize B
// while rotating the rows of Pᵀ: the rows that come out are the right
// singular vectors of Aᵀ, the left ones of A. mat.SVD rotates the columns
// of a row-major U instead, a strided walk over every row for each
// rotation, which takes most of its time at these sizes.
func LeftVectors(a []float64, m, n int) (values, ut []float64, err error) {
	if m < 1 || n < 1 || len(a) != m*n {
		return nil, nil, fmt.Errorf("svdvals: %d values for a %d×%d matrix", len(a), m, n)
	}
	if m > n {
		return nil, nil, fmt.Errorf("svdvals: LeftVectors of a %d×%d matrix: it needs no more rows than columns", m, n)
	}
	scale := 0.0
	for _, v := range a {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, nil, errors.New("svdvals: the matrix holds NaN or ±Inf")
		}
		scale = max(scale, math.Abs(v))
	}
	ut = make([]float64, m*m)
	if scale == 0 {
		for i := range m {
			ut[i*m+i] = 1
		}
		return make([]float64, m), ut, nil
	}
	// t = Aᵀ/scale, n×m with n ≥ m.
	t := make([]float64, n*m)
	inv := 1 / scale
	for i := range m {
		for j, v := range a[i*n : (i+1)*n] {
			t[j*m+i] = v * inv
		}
	}
	d := make([]float64, m)
	e := make([]float64, m)
	sigmas := bidiagonalize(t, n, m, d, e)
	// P = G₀·G₁⋯G_{m−2}, built from the last reflector back so that each
	// touches only the block it changes; G_k's vector u (u₀ = 1) is row k
	// of t from column k+1 on.
	p := ut
	for i := range m {
		p[i*m+i] = 1
	}
	w := make([]float64, m)
	scratch := make([]float64, 8*m)
	u := make([]float64, m)
	for k := m - 2; k >= 0; k-- {
		if sigmas[k] == 0 {
			continue
		}
		size := m - k - 1
		copy(u[:size], t[k*m+k+1:k*m+m])
		block := p[(k+1)*m+k+1:]
		ww := w[:size]
		clear(ww)
		accumulate(ww, block, m, size, u[:size], scratch)
		update(block, m, size, ww, ww, u[:size], sigmas[k], 0, scratch)
	}
	// Pᵀ in place.
	for i := range m {
		for j := i + 1; j < m; j++ {
			p[i*m+j], p[j*m+i] = p[j*m+i], p[i*m+j]
		}
	}
	var impl gonum.Implementation
	if !impl.Dbdsqr('U', m, m, 0, 0, d, e, ut, m, nil, 1, nil, 1, make([]float64, 4*m)) {
		return nil, nil, errors.New("svdvals: the bidiagonal QR iteration did not converge")
	}
	for i := range d {
		d[i] *= scale
	}
	return d, ut, nil
}
