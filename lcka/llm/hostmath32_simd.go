//go:build goexperiment.simd && amd64

package llm

import (
	"simd/archsimd"
)

// AVX-512 bodies of hostmath32.go's steps (see hostmath_simd.go for the
// conventions).

func scaleMul32AVX512(dst, x, w []float32, s float32) bool {
	if !archsimd.X86.AVX512() {
		return false
	}
	sv := archsimd.BroadcastFloat32x16(s)
	n := len(w)
	full := n / 16 * 16
	for j := 0; j < full; j += 16 {
		loadF32(x[j:]).Mul(sv).Mul(loadF32(w[j:])).StoreSlice(dst[j:])
	}
	if full < n {
		loadF32Part(x[full:n]).Mul(sv).Mul(loadF32Part(w[full:])).StoreSlicePart(dst[full:n])
	}
	archsimd.ClearAVXUpperBits()
	return true
}

func add32AVX512(dst, a, b []float32) bool {
	if !archsimd.X86.AVX512() {
		return false
	}
	n := len(dst)
	full := n / 16 * 16
	for i := 0; i < full; i += 16 {
		loadF32(a[i:]).Add(loadF32(b[i:])).StoreSlice(dst[i:])
	}
	if full < n {
		loadF32Part(a[full:n]).Add(loadF32Part(b[full:n])).StoreSlicePart(dst[full:])
	}
	archsimd.ClearAVXUpperBits()
	return true
}

func siluMul32AVX512(dst, g, u []float32) bool {
	if !archsimd.X86.AVX512() {
		return false
	}
	k := newVExp()
	var zero archsimd.Float32x16
	silu := func(x, uv archsimd.Float32x16) archsimd.Float32x16 {
		return x.Mul(k.one.Div(k.one.Add(k.exp(zero.Sub(x))))).Mul(uv)
	}
	n := len(dst)
	full := n / 16 * 16
	for i := 0; i < full; i += 16 {
		silu(loadF32(g[i:]), loadF32(u[i:])).StoreSlice(dst[i:])
	}
	if full < n {
		silu(loadF32Part(g[full:n]), loadF32Part(u[full:n])).StoreSlicePart(dst[full:])
	}
	archsimd.ClearAVXUpperBits()
	return true
}

func rope32AVX512(x, cos, sin []float32) bool {
	if !archsimd.X86.AVX512() {
		return false
	}
	half := len(cos)
	full := half / 16 * 16
	for r := 0; r+2*half <= len(x); r += 2 * half {
		x1, x2 := x[r:r+half], x[r+half:r+2*half]
		for j := 0; j < full; j += 16 {
			a, b, cv, sv := loadF32(x1[j:]), loadF32(x2[j:]), loadF32(cos[j:]), loadF32(sin[j:])
			a.Mul(cv).Sub(b.Mul(sv)).StoreSlice(x1[j:])
			b.Mul(cv).Add(a.Mul(sv)).StoreSlice(x2[j:])
		}
		if full < half {
			a, b, cv, sv := loadF32Part(x1[full:]), loadF32Part(x2[full:]), loadF32Part(cos[full:]), loadF32Part(sin[full:])
			a.Mul(cv).Sub(b.Mul(sv)).StoreSlicePart(x1[full:])
			b.Mul(cv).Add(a.Mul(sv)).StoreSlicePart(x2[full:])
		}
	}
	archsimd.ClearAVXUpperBits()
	return true
}

func splitAVX512(hi, mid, lo []uint16, x []float32) bool {
	if !archsimd.X86.AVX512() {
		return false
	}
	c := newVBF()
	var zero archsimd.Float32x16
	split := func(v archsimd.Float32x16) (h, m, l archsimd.Uint16x16) {
		hb := c.roundBits(v)
		finite := v.AsUint32x16().And(c.exp).NotEqual(c.exp)
		r := v.Sub(hb.And(c.top).AsFloat32x16()).Merge(zero, finite)
		mb := c.roundBits(r)
		r2 := r.Sub(mb.And(c.top).AsFloat32x16())
		return hb.ShiftRight(c.sixteen).TruncateToUint16(), mb.ShiftRight(c.sixteen).TruncateToUint16(), c.narrow(r2)
	}
	n := len(x)
	full := n / 16 * 16
	for i := 0; i < full; i += 16 {
		h, m, l := split(loadF32(x[i:]))
		h.StoreSlice(hi[i:])
		m.StoreSlice(mid[i:])
		l.StoreSlice(lo[i:])
	}
	if full < n {
		h, m, l := split(loadF32Part(x[full:n]))
		h.StoreSlicePart(hi[full:n])
		m.StoreSlicePart(mid[full:n])
		l.StoreSlicePart(lo[full:n])
	}
	archsimd.ClearAVXUpperBits()
	return true
}
