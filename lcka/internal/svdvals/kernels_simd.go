//go:build goexperiment.simd && amd64

package svdvals

import "simd/archsimd"

var haveAVX512 = archsimd.X86.AVX512()

// The kernels below are the Go loops of svdvals.go eight values at a time
// on AVX-512 where the CPU has it, with fused multiply-adds (so the last
// bit may differ); accumulate, dots and update, the passes over the
// trailing matrix, call assembly (kernels_amd64.s). Each takes a whole
// block of rows, so that a column's pass over the trailing matrix is one
// call, not one per row.
//
// No scalar floating-point arithmetic runs between their vector
// instructions: Go's scalar code is legacy SSE, which costs a transition
// each time while the vector registers' upper halves are in use; each
// clears them before it returns.

// axpy is axpyGo.
func axpy(y, x []float64, alpha float64) {
	n := len(y)
	if !haveAVX512 || n < 8 {
		axpyGo(y, x, alpha)
		return
	}
	axpyVec(y, x[:n], archsimd.BroadcastFloat64x8(alpha))
	// Leaves the upper halves of the vector registers clean for the scalar
	// code that follows (see internal/simdrt).
	archsimd.ClearAVXUpperBits()
}

func axpyVec(y, x []float64, av archsimd.Float64x8) {
	n := len(y)
	i := 0
	for ; i+8 <= n; i += 8 {
		archsimd.LoadFloat64x8Slice(x[i:]).MulAdd(av, archsimd.LoadFloat64x8Slice(y[i:])).StoreSlice(y[i:])
	}
	if i < n {
		archsimd.LoadFloat64x8SlicePart(x[i:]).MulAdd(av, archsimd.LoadFloat64x8SlicePart(y[i:])).StoreSlicePart(y[i:])
	}
}

// accumulate is accumulateGo, in assembly (accumulateAVX512).
func accumulate(w, a []float64, stride, rows int, v []float64) {
	n := len(w)
	if !haveAVX512 || n < 1 || rows < 1 {
		accumulateGo(w, a, stride, rows, v)
		return
	}
	_ = a[(rows-1)*stride+n-1]
	_ = v[rows-1]
	accumulateAVX512(&w[0], n, &a[0], stride, rows, &v[0])
}

// update is updateGo, in assembly (updateAVX512).
func update(a []float64, stride, rows int, w, u, v []float64, tau, sigma float64) {
	n := len(w)
	if !haveAVX512 || n < 1 || rows < 1 {
		updateGo(a, stride, rows, w, u, v, tau, sigma)
		return
	}
	_ = a[(rows-1)*stride+n-1]
	_ = u[n-1]
	_ = v[rows-1]
	updateAVX512(&a[0], stride, rows, &w[0], &u[0], &v[0], n, tau, sigma)
}

// dots is dotsGo, in assembly (dotsAVX512).
func dots(out, a []float64, stride, rows int, u []float64) {
	n := len(u)
	if !haveAVX512 || n < 1 || rows < 1 {
		dotsGo(out, a, stride, rows, u)
		return
	}
	_ = a[(rows-1)*stride+n-1]
	_ = out[rows-1]
	dotsAVX512(&out[0], &a[0], stride, rows, &u[0], n)
}

// magnitude is magnitudeGo. The vector maximum does not keep a NaN, so
// finiteness is found apart: v·0 is 0 for a finite v and NaN for NaN and
// ±Inf, and a sum of those is NaN if any is.
func magnitude(a []float64) (float64, bool) {
	n := len(a)
	if !haveAVX512 || n < 8 {
		return magnitudeGo(a)
	}
	absMask := archsimd.BroadcastUint64x8(1<<63 - 1)
	var zero, m0, m1, z0, z1 archsimd.Float64x8
	i := 0
	for ; i+16 <= n; i += 16 {
		v0, v1 := archsimd.LoadFloat64x8Slice(a[i:]), archsimd.LoadFloat64x8Slice(a[i+8:])
		m0 = m0.Max(v0.AsUint64x8().And(absMask).AsFloat64x8())
		m1 = m1.Max(v1.AsUint64x8().And(absMask).AsFloat64x8())
		z0 = v0.MulAdd(zero, z0)
		z1 = v1.MulAdd(zero, z1)
	}
	for ; i < n; i += 8 {
		v := archsimd.LoadFloat64x8SlicePart(a[i:])
		m0 = m0.Max(v.AsUint64x8().And(absMask).AsFloat64x8())
		z0 = v.MulAdd(zero, z0)
	}
	var ms, zs [8]float64
	m0.Max(m1).Store(&ms)
	z0.Add(z1).Store(&zs)
	archsimd.ClearAVXUpperBits()
	p, z := 0.0, 0.0
	for k := range 8 {
		p = max(p, ms[k])
		z += zs[k]
	}
	return p, z == 0
}
