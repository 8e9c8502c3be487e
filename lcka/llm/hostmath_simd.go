//go:build goexperiment.simd && amd64

package llm

import (
	"math"
	"simd/archsimd"
)

// AVX-512 bodies of hostmath.go's steps. Each reports false, having done
// nothing, on a CPU without AVX-512. Rows whose length is not a multiple
// of 16 end with masked loads and stores (the SlicePart forms), so no
// scalar float code runs between vector instructions; every body ends with
// VZEROUPPER (archsimd.ClearAVXUpperBits: see roundBlocksAVX512).

// vbf holds the constants of the bfloat16 conversions.
type vbf struct {
	sixteen, one, half, exp, top archsimd.Uint32x16
}

func newVBF() vbf {
	return vbf{
		sixteen: archsimd.BroadcastUint32x16(16),
		one:     archsimd.BroadcastUint32x16(1),
		half:    archsimd.BroadcastUint32x16(0x7FFF),
		exp:     archsimd.BroadcastUint32x16(0x7F800000),
		top:     archsimd.BroadcastUint32x16(0xFFFF0000),
	}
}

// widen converts 16 bfloat16 to float32 (exact).
func (c *vbf) widen(h archsimd.Uint16x16) archsimd.Float32x16 {
	return h.ExtendToUint32().ShiftLeft(c.sixteen).AsFloat32x16()
}

// roundBits returns the float32 bits of v rounded to bfloat16 (low half
// not yet cleared), as toBF16 rounds.
func (c *vbf) roundBits(v archsimd.Float32x16) archsimd.Uint32x16 {
	bits := v.AsUint32x16()
	rounded := bits.Add(c.half).Add(bits.ShiftRight(c.sixteen).And(c.one))
	return bits.Merge(rounded, bits.And(c.exp).Equal(c.exp))
}

// round is v rounded to bfloat16, as float32.
func (c *vbf) round(v archsimd.Float32x16) archsimd.Float32x16 {
	return c.roundBits(v).And(c.top).AsFloat32x16()
}

// narrow is v rounded to bfloat16.
func (c *vbf) narrow(v archsimd.Float32x16) archsimd.Uint16x16 {
	return c.roundBits(v).ShiftRight(c.sixteen).TruncateToUint16()
}

// loadBF and loadF32 load 16 values, or fewer, zero-filled, at the end of
// s (a masked load, which Go does not inline: the loops below use it for
// their last partial vector only, through loadBFPart and loadF32Part).
func loadBF(s []uint16) archsimd.Uint16x16 { return archsimd.LoadUint16x16((*[16]uint16)(s[:16])) }

func loadF32(s []float32) archsimd.Float32x16 {
	return archsimd.LoadFloat32x16((*[16]float32)(s[:16]))
}

func loadBFPart(s []uint16) archsimd.Uint16x16 { return archsimd.LoadUint16x16SlicePart(s) }

func loadF32Part(s []float32) archsimd.Float32x16 { return archsimd.LoadFloat32x16SlicePart(s) }

// vexp holds the constants of expV.
type vexp struct {
	lo, hi, log2e, c1, c2, one archsimd.Float32x16
	p                          [6]archsimd.Float32x16
}

func newVExp() vexp {
	b := archsimd.BroadcastFloat32x16
	return vexp{
		lo: b(-103.9), hi: b(100), log2e: b(math.Log2E), c1: b(-0.693359375), c2: b(2.12194440e-4), one: b(1),
		p: [6]archsimd.Float32x16{b(1.9875691500e-4), b(1.3981999507e-3), b(8.3334519073e-3),
			b(4.1665795894e-2), b(1.6666665459e-1), b(5.0000001201e-1)},
	}
}

// exp is e^x for float32 lanes to about 2 ulp: x = n·ln2 + r with n an
// integer (ln2 split in two constants so that r is exact), e^r by the
// degree-7 polynomial of Cephes' expf, scaled by 2^n (VSCALEFPS). Inputs
// are clamped to [−103.9, 100]: below, the result is 0 (a float32
// subnormal at most); above 88.73 it overflows to +Inf, as expf does.
func (k *vexp) exp(x archsimd.Float32x16) archsimd.Float32x16 {
	x = x.Max(k.lo).Min(k.hi)
	n := x.Mul(k.log2e).RoundToEvenScaled(0)
	r := n.MulAdd(k.c1, x)
	r = n.MulAdd(k.c2, r)
	p := k.p[0].MulAdd(r, k.p[1])
	p = p.MulAdd(r, k.p[2])
	p = p.MulAdd(r, k.p[3])
	p = p.MulAdd(r, k.p[4])
	p = p.MulAdd(r, k.p[5])
	y := p.MulAdd(r.Mul(r), r.Add(k.one))
	return y.Scale(n)
}

// Indices for horizontal reductions: lane i takes lane i^s.
var xorIdx = func() (t [4][16]uint32) {
	for k, s := range []uint32{8, 4, 2, 1} {
		for i := range uint32(16) {
			t[k][i] = i ^ s
		}
	}
	return t
}()

// vred holds the permutations of the horizontal reductions.
type vred [4]archsimd.Uint32x16

func newVRed() vred {
	var r vred
	for k := range r {
		r[k] = archsimd.LoadUint32x16(&xorIdx[k])
	}
	return r
}

// sum returns v's lanes' sum in every lane.
func (r *vred) sum(v archsimd.Float32x16) archsimd.Float32x16 {
	for _, idx := range r {
		v = v.Add(v.Permute(idx))
	}
	return v
}

// max returns v's lanes' maximum in every lane.
func (r *vred) max(v archsimd.Float32x16) archsimd.Float32x16 {
	for _, idx := range r {
		v = v.Max(v.Permute(idx))
	}
	return v
}

func rmsNormAVX512(dst, x []uint16, w []float32, eps float32) bool {
	if !archsimd.X86.AVX512() {
		return false
	}
	n := len(w)
	full := n / 16 * 16
	c, red := newVBF(), newVRed()
	epsV := archsimd.BroadcastFloat32x16(eps)
	nV := archsimd.BroadcastFloat32x16(float32(n))
	one := archsimd.BroadcastFloat32x16(1)
	for r := 0; r+n <= len(x); r += n {
		row, out := x[r:r+n], dst[r:r+n]
		var acc archsimd.Float32x16
		for j := 0; j < full; j += 16 {
			v := c.widen(loadBF(row[j:]))
			acc = v.MulAdd(v, acc)
		}
		if full < n {
			v := c.widen(loadBFPart(row[full:]))
			acc = v.MulAdd(v, acc)
		}
		inv := one.Div(red.sum(acc).Div(nV).Add(epsV).Sqrt())
		for j := 0; j < full; j += 16 {
			v := c.round(c.widen(loadBF(row[j:])).Mul(inv))
			c.narrow(v.Mul(loadF32(w[j:]))).StoreSlice(out[j:])
		}
		if full < n {
			v := c.round(c.widen(loadBFPart(row[full:])).Mul(inv))
			c.narrow(v.Mul(loadF32Part(w[full:]))).StoreSlicePart(out[full:])
		}
	}
	archsimd.ClearAVXUpperBits()
	return true
}

func addAVX512(dst, a, b []uint16) bool {
	if !archsimd.X86.AVX512() {
		return false
	}
	c := newVBF()
	n := len(dst)
	full := n / 16 * 16
	for i := 0; i < full; i += 16 {
		c.narrow(c.widen(loadBF(a[i:])).Add(c.widen(loadBF(b[i:])))).StoreSlice(dst[i:])
	}
	if full < n {
		c.narrow(c.widen(loadBFPart(a[full:n])).Add(c.widen(loadBFPart(b[full:n])))).StoreSlicePart(dst[full:])
	}
	archsimd.ClearAVXUpperBits()
	return true
}

func biasRoundAVX512(dst []uint16, src, bias []float32) bool {
	if !archsimd.X86.AVX512() {
		return false
	}
	c, n := newVBF(), len(bias)
	full := n / 16 * 16
	for r := 0; r+n <= len(src); r += n {
		row, out := src[r:r+n], dst[r:r+n]
		for j := 0; j < full; j += 16 {
			c.narrow(loadF32(row[j:]).Add(loadF32(bias[j:]))).StoreSlice(out[j:])
		}
		if full < n {
			c.narrow(loadF32Part(row[full:]).Add(loadF32Part(bias[full:]))).StoreSlicePart(out[full:])
		}
	}
	archsimd.ClearAVXUpperBits()
	return true
}

func siluMulAVX512(dst, g, u []uint16) bool {
	if !archsimd.X86.AVX512() {
		return false
	}
	c, k := newVBF(), newVExp()
	var zero archsimd.Float32x16
	silu := func(gh, uh archsimd.Uint16x16) archsimd.Uint16x16 {
		x := c.widen(gh)
		sig := k.one.Div(k.one.Add(k.exp(zero.Sub(x))))
		return c.narrow(c.round(x.Mul(sig)).Mul(c.widen(uh)))
	}
	n := len(dst)
	full := n / 16 * 16
	for i := 0; i < full; i += 16 {
		silu(loadBF(g[i:]), loadBF(u[i:])).StoreSlice(dst[i:])
	}
	if full < n {
		silu(loadBFPart(g[full:n]), loadBFPart(u[full:n])).StoreSlicePart(dst[full:])
	}
	archsimd.ClearAVXUpperBits()
	return true
}

func ropeAVX512(x []uint16, cos, sin []float32) bool {
	if !archsimd.X86.AVX512() {
		return false
	}
	c, half := newVBF(), len(cos)
	full := half / 16 * 16
	rot := func(a, b archsimd.Uint16x16, cv, sv archsimd.Float32x16) (o1, o2 archsimd.Uint16x16) {
		av, bv := c.widen(a), c.widen(b)
		o1 = c.narrow(c.round(av.Mul(cv)).Sub(c.round(bv.Mul(sv))))
		o2 = c.narrow(c.round(bv.Mul(cv)).Add(c.round(av.Mul(sv))))
		return o1, o2
	}
	for r := 0; r+2*half <= len(x); r += 2 * half {
		x1, x2 := x[r:r+half], x[r+half:r+2*half]
		for j := 0; j < full; j += 16 {
			o1, o2 := rot(loadBF(x1[j:]), loadBF(x2[j:]), loadF32(cos[j:]), loadF32(sin[j:]))
			o1.StoreSlice(x1[j:])
			o2.StoreSlice(x2[j:])
		}
		if full < half {
			o1, o2 := rot(loadBFPart(x1[full:]), loadBFPart(x2[full:]), loadF32Part(cos[full:]), loadF32Part(sin[full:]))
			o1.StoreSlicePart(x1[full:])
			o2.StoreSlicePart(x2[full:])
		}
	}
	archsimd.ClearAVXUpperBits()
	return true
}

// softmaxAVX512 is softmaxInPlace's body; it appends to noKey the rows
// with no allowed key.
func softmaxAVX512(raw []float32, s int, sc scoreScale, window func(row int) (lo, hi int), keyOK []float32, noKey []int) ([]int, bool) {
	if !archsimd.X86.AVX512() {
		return noKey, false
	}
	c, k, red := newVBF(), newVExp(), newVRed()
	cV := archsimd.BroadcastFloat32x16(sc.c)
	masked := archsimd.BroadcastFloat32x16(-math.MaxFloat32)
	var zero archsimd.Float32x16
	for row := 0; row*s < len(raw); row++ {
		lo, hi := window(row)
		w, ok := raw[row*s+lo:row*s+hi+1], keyOK[lo:hi+1]
		n := len(w)
		full := n / 16 * 16
		mx := masked
		var seen uint16
		scaled := func(v, okv archsimd.Float32x16) archsimd.Float32x16 {
			allow := okv.NotEqual(zero)
			seen |= allow.ToBits()
			if sc.bf16 {
				v = c.round(c.round(v).Mul(cV))
			} else {
				v = v.Div(cV)
			}
			v = v.Merge(masked, allow)
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
		for j := 0; j < full; j += 16 {
			loadF32(w[j:]).Div(sum).StoreSlice(w[j:])
		}
		if full < n {
			loadF32Part(w[full:]).Div(sum).StoreSlicePart(w[full:])
		}
		clear(raw[row*s : row*s+lo])
		clear(raw[row*s+hi+1 : (row+1)*s])
	}
	archsimd.ClearAVXUpperBits()
	return noKey, true
}

// hostVectorized reports whether hostmath.go's steps run their AVX-512
// bodies.
func hostVectorized() bool { return archsimd.X86.AVX512() }
