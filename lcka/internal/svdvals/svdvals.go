// Package svdvals computes the singular values of a dense matrix of a few
// hundred rows and columns, without vectors, 2.6 times as fast as gonum's
// mat.SVD at n = 200 and 3.9 times at n = 399 (BenchmarkValues). The
// nuclear norms of the SVD-based similarity measures (CCA, the shape
// metrics) need exactly this, once per pair of layers.
//
// It reduces the matrix to upper bidiagonal form by Householder reflections
// from the left and the right, alternately (Golub & Kahan, "Calculating the
// singular values and pseudo-inverse of a matrix", SIAM J. Numer. Anal. B2,
// 1965), and finds the bidiagonal matrix's singular values to high relative
// accuracy in O(n²) by dqds (dqds.go: two shifts a transform, in one loop;
// gonum's Dlasq1 where that one cannot finish). The
// reduction is written here because gonum's (Dgebrd) spends its time in
// pure-Go matrix-vector and matrix-matrix kernels; this one runs over
// contiguous rows with the AVX-512 kernels in assembly of
// lcka/internal/rowkernels where the CPU has it.
// Column by column it makes two passes over the trailing matrix:
//
//  1. w = Aᵀv, the left reflector's effect, accumulated row by row;
//  2. per row, the left update, the right reflector's dot product and the
//     right update, fused.
//
// A matrix of blockedFrom + panelWidth columns or more is reduced by panels
// first, as LAPACK's dgebrd does (blocked.go): per column two passes that
// only read, and per panel one update of rank 2·panelWidth, on the tile
// kernel of lcka/internal/grampanel where the CPU has AVX-512.
//
// Values pads the matrix with zero rows and columns to multiples of eight
// (zeros that stay zero through every reflector), so that each row starts
// where the first does in a cache line, and keeps it at a 64-byte
// boundary: rowkernels' passes then read whole lines, and the values
// depend on the matrix alone, not on where it lies.
//
// ValuesBatch (and ValuesPair) finds up to four matrices' values at once,
// their dqds runs interleaved in one loop (dqds_batch.go): each run is a
// chain of dependent divisions, bound by their latency, and the chains
// overlap.
//
// It is backward stable, as Householder reductions are: the singular
// values are those of A + δA with ‖δA‖ of order n·ε·‖A‖, so each is within
// about n·ε·‖A‖₂ of the exact one (Weyl). The tests compare them with
// gonum's.
package svdvals

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/lapack/gonum"

	"github.com/layersim/layersim/lcka/internal/dense"
	"github.com/layersim/layersim/lcka/internal/rowkernels"
)

// Values returns the singular values of the m×n matrix a (row-major,
// overwritten) in descending order, min(m, n) of them.
func Values(a []float64, m, n int) ([]float64, error) {
	d, e, exp, err := reduce(a, m, n)
	if err != nil || e == nil {
		return d, err
	}
	n = len(d)
	work := temporary(dqdsWork(n) + n)
	defer release(work)
	out := work[dqdsWork(n):]
	ok := bidiagonalValues(out, d, e, work[:dqdsWork(n)])
	return values(d, e, out, ok, exp, work)
}

// reduce is Values up to the bidiagonal form: its checks, the scaling and
// the reduction of a (or of aᵀ, if wide). It returns the form's diagonal d
// and superdiagonal e (n values each, e's last unused), and the power of
// two by which the values must be scaled back; for a zero matrix, d holds
// its values already and e is nil.
func reduce(a []float64, m, n int) (d, e []float64, exp int, err error) {
	if m < 1 || n < 1 || len(a) != m*n {
		return nil, nil, 0, fmt.Errorf("svdvals: %d values for a %d×%d matrix", len(a), m, n)
	}
	scale, err := peak(a)
	if err != nil {
		return nil, nil, 0, err
	}
	k := min(m, n)
	if scale == 0 {
		return make([]float64, k), nil, 0, nil
	}
	if m < n {
		// The singular values of Aᵀ, which has more rows than columns.
		t := temporary(m * n)
		defer release(t)
		dense.Transpose(t, a, m, n)
		a, m, n = t, n, m
	}
	k = n
	if np, mp := (n+7)&^7, (m+7)&^7; np != n || mp != m || !rowkernels.IsAligned(a) {
		// Zero columns and rows bring both sizes to multiples of eight, so
		// that every row (of the matrix, and of the panels' reflectors)
		// starts where the first does in a cache line and the kernels'
		// whole vectors each read one line: reading across two, the
		// passes over the trailing matrix ran at half the speed. The zeros
		// stay zero through every reflector (TestPadding), so the
		// bidiagonal form is A's followed by zeros. The copy starts at a
		// 64-byte boundary, as the kernels need for values that depend on
		// the data alone (rowkernels.Aligned).
		t := temporary(mp * np)
		defer release(t)
		for i := range m {
			copy(t[i*np:i*np+n], a[i*n:(i+1)*n])
			clear(t[i*np+n : (i+1)*np])
		}
		clear(t[m*np:])
		a, m, n = t, mp, np
	}
	// Scaled to a largest entry below 1, so that no reflector's norm
	// overflows or underflows.
	exp = dense.ScaleDown(a, scale)
	d = make([]float64, n)
	e = make([]float64, n)
	bidiagonalize(a, m, n, d, e)
	d, e = d[:k], e[:k]
	n = k
	for i := range n {
		if math.IsNaN(d[i]) || math.IsNaN(e[i]) || math.IsInf(d[i], 0) || math.IsInf(e[i], 0) {
			return nil, nil, 0, errors.New("svdvals: the bidiagonal reduction produced a non-finite value")
		}
	}
	return d, e, exp, nil
}

// values is Values after dqds: d becomes the values, those that
// bidiagonalValues wrote into out where ok, otherwise Dlasq1's (with work
// of 4·len(d) values), scaled back by 2^exp and sorted.
func values(d, e, out []float64, ok bool, exp int, work []float64) ([]float64, error) {
	n := len(d)
	if ok {
		copy(d, out)
	} else {
		var impl gonum.Implementation
		if info := impl.Dlasq1(n, d, e, work[:4*n]); info != 0 {
			return nil, fmt.Errorf("svdvals: dqds did not converge (info %d)", info)
		}
	}
	for i := range d {
		d[i] = math.Ldexp(d[i], exp)
	}
	slices.SortFunc(d, func(x, y float64) int {
		switch {
		case x > y:
			return -1
		case x < y:
			return 1
		}
		return 0
	})
	return d, nil
}

// bidiagonalize reduces a (m×n, m ≥ n, row-major) to upper bidiagonal
// form: d its diagonal, e its superdiagonal (e[n−1] unused). a is
// overwritten; row k keeps the right reflector G_k's vector from column k+1
// on, and the returned slice holds the reflectors' σ_k. Wide matrices go
// by panels (blocked.go) until what is left is narrow, then column by
// column.
func bidiagonalize(a []float64, m, n int, d, e []float64) []float64 {
	sigmas := make([]float64, n)
	p := reduceBlocked(a, m, n, d, e, sigmas)
	reduceColumns(a[p*n+p:], n, m-p, n-p, d[p:], e[p:], sigmas[p:])
	return sigmas
}

// reduceColumns is bidiagonalize column by column on the m×n block at a,
// whose rows are lda apart.
func reduceColumns(a []float64, lda, m, n int, d, e, sigmas []float64) {
	w := make([]float64, n)
	v := temporary(m) // Reflector's dot product runs on it
	defer release(v)
	for k := range n {
		cols := n - k - 1 // columns right of k
		// The left reflector H = I − τvvᵀ (v₀ = 1) maps A[k:, k] to d[k]·e₁.
		for i := k; i < m; i++ {
			v[i-k] = a[i*lda+k]
		}
		var tau float64
		d[k], tau = reflector(v[:m-k])
		if cols == 0 {
			break
		}
		// w = A[k:, k+1:]ᵀ v.
		ww := w[:cols]
		clear(ww)
		if tau != 0 {
			accumulate(ww, a[k*lda+k+1:], lda, m-k, v[:m-k])
		}
		// Row k after H; then the right reflector G = I − σuuᵀ (u₀ = 1),
		// kept in row k, maps it to e[k]·e₁.
		row := a[k*lda+k+1 : k*lda+n]
		axpy(row, ww, -tau)
		var sigma float64
		e[k], sigma = reflector(row)
		sigmas[k] = sigma
		// The rows below: H's update, G's dot product and G's update.
		if m > k+1 {
			update(a[(k+1)*lda+k+1:], lda, m-k-1, ww, row, v[1:m-k], tau, sigma)
		}
	}
}

// peak returns the largest magnitude in a, or an error if a holds NaN or
// ±Inf.
func peak(a []float64) (float64, error) {
	p, finite := magnitude(a)
	if !finite {
		return 0, errors.New("svdvals: the matrix holds NaN or ±Inf")
	}
	return p, nil
}
