//go:build goexperiment.simd && amd64

package llm

import (
	"math"
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

func softmax32RowsAVX512(p, raw []float32, s int, div float32, window func(row int) (lo, hi int), keyOK []float32, noKey []int) ([]int, bool) {
	if !archsimd.X86.AVX512() {
		return noKey, false
	}
	clear(p)
	k, red := newVExp(), newVRed()
	divV := archsimd.BroadcastFloat32x16(div)
	masked := archsimd.BroadcastFloat32x16(-math.MaxFloat32)
	var zero archsimd.Float32x16
	for row := 0; row*s < len(p); row++ {
		lo, hi := window(row)
		w, ok := raw[row*s+lo:row*s+hi+1], keyOK[lo:hi+1]
		n := len(w)
		full := n / 16 * 16
		mx := masked
		var seen uint16
		scaled := func(v, okv archsimd.Float32x16) archsimd.Float32x16 {
			allow := okv.NotEqual(zero)
			seen |= allow.ToBits()
			v = v.Div(divV).Merge(masked, allow)
			mx = mx.Max(v)
			return v
		}
		for j := 0; j < full; j += 16 {
			scaled(loadF32(w[j:]), loadF32(ok[j:])).StoreSlice(w[j:])
		}
		if full < n {
			scaled(loadF32Part(w[full:]), loadF32Part(ok[full:])).StoreSlicePart(w[full:])
		}
		if seen == 0 {
			noKey = append(noKey, row)
			continue
		}
		mx = red.max(mx)
		var sum archsimd.Float32x16
		for j := 0; j < full; j += 16 {
			e := k.exp(loadF32(w[j:]).Sub(mx))
			e.StoreSlice(w[j:])
			sum = sum.Add(e)
		}
		if full < n {
			e := k.exp(loadF32Part(w[full:]).Sub(mx)).Masked(archsimd.Mask32x16FromBits(uint16(0xFFFF >> (16 - (n - full)))))
			e.StoreSlicePart(w[full:])
			sum = sum.Add(e)
		}
		sum = red.sum(sum)
		out := p[row*s+lo : row*s+hi+1]
		for j := 0; j < full; j += 16 {
			loadF32(w[j:]).Div(sum).StoreSlice(out[j:])
		}
		if full < n {
			loadF32Part(w[full:]).Div(sum).StoreSlicePart(out[full:])
		}
	}
	archsimd.ClearAVXUpperBits()
	return noKey, true
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
