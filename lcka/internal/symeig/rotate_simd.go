//go:build goexperiment.simd && amd64

package symeig

import "simd/archsimd"

var haveAVX512 = archsimd.X86.AVX512()

// rotate is rotateGo, eight values at a time on AVX-512 where the CPU has
// it (with fused multiply-adds, so the last bit may differ).
func rotate(x, y []float64, c, s float64) {
	n := len(x)
	if !haveAVX512 || n < 8 {
		rotateGo(x, y, c, s)
		return
	}
	y = y[:n]
	// Filled by scalar stores and loaded, where a broadcast from a scalar
	// register goes through a legacy-SSE insert.
	cs := [24]float64{c, c, c, c, c, c, c, c, s, s, s, s, s, s, s, s, -s, -s, -s, -s, -s, -s, -s, -s}
	cv := archsimd.LoadFloat64x8Slice(cs[0:])
	sv := archsimd.LoadFloat64x8Slice(cs[8:])
	nsv := archsimd.LoadFloat64x8Slice(cs[16:])
	k := 0
	for ; k+8 <= n; k += 8 {
		xv := archsimd.LoadFloat64x8Slice(x[k:])
		yv := archsimd.LoadFloat64x8Slice(y[k:])
		xv.MulAdd(cv, yv.Mul(nsv)).StoreSlice(x[k:])
		xv.MulAdd(sv, yv.Mul(cv)).StoreSlice(y[k:])
	}
	// Leaves the upper halves of the vector registers clean for the scalar
	// code that follows (see internal/simdrt).
	archsimd.ClearAVXUpperBits()
	rotateGo(x[k:], y[k:], c, s)
}
