package llm

import (
	"math"
)

// The element-wise steps of a bfloat16 block on the host (amxhost.go), each
// computing what the graph of the one-graph pass computes: every bfloat16
// operation widens its operands to float32, computes there and rounds the
// result once (roundToBFloat16's rounding), as GoMLX's bfloat16 ops and
// torch's do; the parts transformers computes in float32 (RMSNorm's
// variance, the softmax, SiLU before its rounding) stay in float32.
//
// Each function has an AVX-512 body (hostmath_simd.go) and the scalar one
// here, which runs on other CPUs and builds and is the tests' reference.
// The two agree to float32 rounding: the vector bodies sum in 16 lanes and
// use their own exp (expAVX512), so a value can land one bfloat16 step
// apart where the float32 result sits at a rounding boundary.
//
// The vector bodies use no legacy-SSE instruction (no scalar float code:
// reductions stay in vector registers) and end with VZEROUPPER (see
// roundBlocksAVX512).

// bf16 widens a bfloat16 bit pattern to float32 (exact).
func bf16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// toBF16 rounds f to bfloat16 as roundToBFloat16 does.
func toBF16(f float32) uint16 {
	bits := math.Float32bits(f)
	if bits&0x7F800000 != 0x7F800000 {
		bits += 0x7FFF + (bits>>16)&1
	}
	return uint16(bits >> 16)
}

// roundF32 is f rounded to bfloat16 and widened back.
func roundF32(f float32) float32 { return bf16(toBF16(f)) }

// rmsNormRows sets each row of dst [rows, n] to transformers' bfloat16
// RMSNorm of the row of x: round(round(x·r)·w) with r = 1/sqrt(mean(x²) +
// eps) in float32, w widened (the weight, bfloat16 values).
func rmsNormRows(dst, x []uint16, w []float32, eps float32) {
	if !rmsNormAVX512(dst, x, w, eps) {
		rmsNormScalar(dst, x, w, eps)
	}
}

func rmsNormScalar(dst, x []uint16, w []float32, eps float32) {
	n := len(w)
	for r := 0; r+n <= len(x); r += n {
		row, out := x[r:r+n], dst[r:r+n]
		var sum float32
		for _, h := range row {
			v := bf16(h)
			sum += v * v
		}
		inv := rsqrt32(sum/float32(n) + eps)
		for j, h := range row {
			out[j] = toBF16(roundF32(bf16(h)*inv) * w[j])
		}
	}
}

// rsqrt32 is 1/sqrt(v) in float32.
func rsqrt32(v float32) float32 { return 1 / float32(math.Sqrt(float64(v))) }

// addRows sets dst to round(a + b), element by element; dst may be a or b.
func addRows(dst, a, b []uint16) {
	if !addAVX512(dst, a, b) {
		addScalar(dst, a, b)
	}
}

func addScalar(dst, a, b []uint16) {
	for i := range dst {
		dst[i] = toBF16(bf16(a[i]) + bf16(b[i]))
	}
}

// biasRound sets each row of dst [rows, len(bias)] to round(src + bias)
// (torch's addmm in bfloat16: the bias added to the float32 product, the
// sum rounded once); without bias it rounds src.
func biasRound(dst []uint16, src, bias []float32) {
	if bias == nil {
		roundToBFloat16(dst, src)
		return
	}
	if !biasRoundAVX512(dst, src, bias) {
		biasRoundScalar(dst, src, bias)
	}
}

func biasRoundScalar(dst []uint16, src, bias []float32) {
	n := len(bias)
	for r := 0; r+n <= len(src); r += n {
		for j, b := range bias {
			dst[r+j] = toBF16(src[r+j] + b)
		}
	}
}

// siluMul sets dst to round(round(silu(g))·u), SiLU in float32
// (g·σ(g)), as transformers' act_fn(gate)·up in bfloat16; dst may be g or u.
func siluMul(dst, g, u []uint16) {
	if !siluMulAVX512(dst, g, u) {
		siluMulScalar(dst, g, u)
	}
}

func siluMulScalar(dst, g, u []uint16) {
	for i := range dst {
		x := bf16(g[i])
		sig := 1 / (1 + float32(math.Exp(float64(-x))))
		dst[i] = toBF16(roundF32(x*sig) * bf16(u[i]))
	}
}

// ropeRows applies rotary embedding in place to the heads of one token,
// x [heads, d], with cos and sin of its position (the first d/2 values of
// the [d] tables, which repeat: bfloat16 values): for j < d/2,
//
//	x'[j]     = round(round(x[j]·cos[j]) − round(x[j+d/2]·sin[j]))
//	x'[j+d/2] = round(round(x[j+d/2]·cos[j]) + round(x[j]·sin[j]))
//
// transformers' q·cos + rotate_half(q)·sin, every op in bfloat16.
func ropeRows(x []uint16, cos, sin []float32) {
	if !ropeAVX512(x, cos, sin) {
		ropeScalar(x, cos, sin)
	}
}

func ropeScalar(x []uint16, cos, sin []float32) {
	half := len(cos)
	for r := 0; r+2*half <= len(x); r += 2 * half {
		x1, x2 := x[r:r+half], x[r+half:r+2*half]
		for j := range half {
			a, b := bf16(x1[j]), bf16(x2[j])
			x1[j] = toBF16(roundF32(a*cos[j]) - roundF32(b*sin[j]))
			x2[j] = toBF16(roundF32(b*cos[j]) + roundF32(a*sin[j]))
		}
	}
}

// softmaxRows sets each row of p [rows, S] to one query's attention
// probabilities in bfloat16 from its raw scores, the same row of raw
// [rows, S] (float32 products q·kᵀ, overwritten as scratch), as the
// one-graph pass in bfloat16: s = round(round(raw)·scale), then
// softmaxInPlace, then rounded.
func softmaxRows(p []uint16, raw []float32, s int, scale float32, window func(row int) (lo, hi int), keyOK []float32) {
	softmaxInPlace(raw, s, scoreScale{bf16: true, c: scale}, window, keyOK)
	roundToBFloat16(p, raw)
}

// scoreScale is how raw scores become the softmax's logits: in bfloat16
// round(round(v)·c) (transformers' (q·kᵀ)·scaling in the compute dtype),
// in float32 v / c (the graph's division by sqrt(D)).
type scoreScale struct {
	bf16 bool
	c    float32
}

func (sc scoreScale) apply(v float32) float32 {
	if sc.bf16 {
		return roundF32(roundF32(v) * sc.c)
	}
	return v / sc.c
}

// softmaxInPlace replaces each row of raw [rows, S] by its query's
// attention probabilities, in float32: the logits sc.apply(raw); keys j
// outside the row's window [lo, hi] or with keyOK[j] == 0 masked to
// −MaxFloat32; softmax in float32 (0 outside the window). A query with no
// allowed key (a left-padding one) gets 1/S on every key, as the masked
// softmax of the graph gives.
func softmaxInPlace(raw []float32, s int, sc scoreScale, window func(row int) (lo, hi int), keyOK []float32) {
	noKey, done := softmaxAVX512(raw, s, sc, window, keyOK, nil)
	if !done {
		for row := 0; row*s < len(raw); row++ {
			lo, hi := window(row)
			if !softmaxWindow(raw[row*s:(row+1)*s], sc, lo, hi, keyOK) {
				noKey = append(noKey, row)
			}
		}
	}
	for _, row := range noKey {
		for j := range s {
			raw[row*s+j] = 1 / float32(s)
		}
	}
}

// softmaxWindow is softmaxInPlace's scalar body for one row; it reports
// whether any key was allowed (when none is, the row is left to
// softmaxInPlace).
func softmaxWindow(raw []float32, sc scoreScale, lo, hi int, keyOK []float32) bool {
	mx := float32(-math.MaxFloat32)
	allowed := false
	for j := lo; j <= hi; j++ {
		if keyOK[j] == 0 {
			raw[j] = -math.MaxFloat32
			continue
		}
		raw[j] = sc.apply(raw[j])
		mx = max(mx, raw[j])
		allowed = true
	}
	if !allowed {
		return false
	}
	var sum float32
	for j := lo; j <= hi; j++ {
		e := float32(math.Exp(float64(raw[j] - mx)))
		raw[j] = e
		sum += e
	}
	for j := lo; j <= hi; j++ {
		raw[j] /= sum
	}
	clear(raw[:lo])
	clear(raw[hi+1:])
	return true
}
