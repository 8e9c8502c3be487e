// Package rowkernels holds the matrix–vector passes of the Householder
// reductions (lcka/internal/svdvals' bidiagonalization, lcka/internal/symeig's
// tridiagonalization) over blocks of contiguous rows of a row-major matrix:
// the dot products of each row with one vector (Dots), a combination of the
// rows (Accumulate), a rank-one update fused with a reflector's dot product
// (Update), y += αx (Axpy) and the largest magnitude (Magnitude); and the
// Householder reflector both reductions make of each column or row
// (Reflector).
//
// Each has a Go loop (AxpyGo, …), the reference; with GOEXPERIMENT=simd on
// amd64, where the CPU has AVX-512, the kernels run eight values at a time
// (Dots and Accumulate in assembly, four rows a step, Update one row a
// step), with fused multiply-adds, so the last bit may differ from the
// loop's. A block of rows is one call, so that a pass over a trailing
// matrix costs one call, not one per row. Dots and Accumulate start each
// row's whole vectors at a cache line (a masked head before them), so
// that no load spans two lines: on rows read from the second-level cache,
// as the reductions' trailing matrices are, loads across lines halved
// their speed. Which values then share a lane of a dot product depends on
// where the block starts in memory; matrices kept in slices from Aligned
// give results that depend on the data alone (align.go).
package rowkernels

import "math"

// AxpyGo sets y += α·x.
func AxpyGo(y, x []float64, alpha float64) {
	x = x[:len(y)]
	for i := range y {
		y[i] += alpha * x[i]
	}
}

// AccumulateGo adds Σᵢ v[i]·(row i of the rows×len(w) block at a, rows
// stride apart) to w.
func AccumulateGo(w, a []float64, stride, rows int, v []float64) {
	for i := range rows {
		AxpyGo(w, a[i*stride:i*stride+len(w)], v[i])
	}
}

// UpdateGo applies, to each row r of the rows×len(w) block at a (rows
// stride apart), r −= τ·v[i]·w, then, unless σ is ±0, r −= σ·(r·u)·u.
func UpdateGo(a []float64, stride, rows int, w, u, v []float64, tau, sigma float64) {
	for i := range rows {
		r := a[i*stride : i*stride+len(w)]
		t := updateDotGo(r, w, u, tau*v[i])
		if sigma != 0 {
			AxpyGo(r, u, -sigma*t)
		}
	}
}

// updateDotGo sets r −= c·w and returns the new r's dot product with u.
func updateDotGo(r, w, u []float64, c float64) float64 {
	w, u = w[:len(r)], u[:len(r)]
	t := 0.0
	for i := range r {
		r[i] -= c * w[i]
		t += r[i] * u[i]
	}
	return t
}

// DotsGo sets out[i] to the dot product of u with row i of the
// rows×len(u) block at a (rows stride apart).
func DotsGo(out, a []float64, stride, rows int, u []float64) {
	for i := range rows {
		r := a[i*stride : i*stride+len(u)]
		s := 0.0
		for j, v := range r {
			s += v * u[j]
		}
		out[i] = s
	}
}

// MagnitudeGo returns the largest magnitude in a and whether every value
// is finite. The builtin max keeps a NaN once met, and ±Inf is the largest
// magnitude, so one test at the end finds both.
func MagnitudeGo(a []float64) (float64, bool) {
	p0, p1, p2, p3 := 0.0, 0.0, 0.0, 0.0
	i := 0
	for ; i+4 <= len(a); i += 4 {
		p0 = max(p0, math.Abs(a[i]))
		p1 = max(p1, math.Abs(a[i+1]))
		p2 = max(p2, math.Abs(a[i+2]))
		p3 = max(p3, math.Abs(a[i+3]))
	}
	for ; i < len(a); i++ {
		p0 = max(p0, math.Abs(a[i]))
	}
	p := max(p0, p1, p2, p3)
	return p, !math.IsNaN(p) && !math.IsInf(p, 0)
}
