//go:build goexperiment.simd && amd64

package rowkernels

import "simd/archsimd"

var haveAVX512 = archsimd.X86.AVX512()

// The kernels below are the Go loops of rowkernels.go eight values at a
// time on AVX-512 where the CPU has it, with fused multiply-adds (so the
// last bit may differ); Accumulate, Dots and Update, the passes over a
// trailing matrix, call assembly (kernels_amd64.s).
//
// No scalar floating-point arithmetic runs between their vector
// instructions: Go's scalar code is legacy SSE, which costs a transition
// each time while the vector registers' upper halves are in use; each
// clears them before it returns.

// Axpy is AxpyGo.
func Axpy(y, x []float64, alpha float64) {
	n := len(y)
	if !haveAVX512 || n < 8 {
		AxpyGo(y, x, alpha)
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

// Accumulate is AccumulateGo, in assembly (accumulateAVX512).
func Accumulate(w, a []float64, stride, rows int, v []float64) {
	n := len(w)
	if !haveAVX512 || n < 1 || rows < 1 {
		AccumulateGo(w, a, stride, rows, v)
		return
	}
	_ = a[(rows-1)*stride+n-1]
	_ = v[rows-1]
	accumulateAVX512(&w[0], n, &a[0], stride, rows, &v[0])
}

// Update is UpdateGo, in assembly (updateAVX512).
func Update(a []float64, stride, rows int, w, u, v []float64, tau, sigma float64) {
	n := len(w)
	if !haveAVX512 || n < 1 || rows < 1 {
		UpdateGo(a, stride, rows, w, u, v, tau, sigma)
		return
	}
	_ = a[(rows-1)*stride+n-1]
	_ = u[n-1]
	_ = v[rows-1]
	updateAVX512(&a[0], stride, rows, &w[0], &u[0], &v[0], n, tau, sigma)
}

// Dots is DotsGo, in assembly (dotsAVX512).
func Dots(out, a []float64, stride, rows int, u []float64) {
	n := len(u)
	if !haveAVX512 || n < 1 || rows < 1 {
		DotsGo(out, a, stride, rows, u)
		return
	}
	_ = a[(rows-1)*stride+n-1]
	_ = out[rows-1]
	dotsAVX512(&out[0], &a[0], stride, rows, &u[0], n)
}

// Magnitude is MagnitudeGo. The vector maximum does not keep a NaN, so
// finiteness is found apart: v·0 is 0 for a finite v and NaN for NaN and
// ±Inf, and a sum of those is NaN if any is.
func Magnitude(a []float64) (float64, bool) {
	n := len(a)
	if !haveAVX512 || n < 8 {
		return MagnitudeGo(a)
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
