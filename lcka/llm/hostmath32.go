package llm

import (
	"fmt"
	"math"
	"sync"

	"github.com/layersim/layersim/internal/amx"
	"github.com/layersim/layersim/lcka/internal/parallel"
)

// The element-wise steps of a float32 block on the host (amxhost.go): what
// the one-graph pass computes in float32 (Model.rmsNorm, applyRotary,
// attention, swiglu), with AVX-512 bodies in hostmath32_simd.go that agree
// with these scalar ones to float32 rounding (exp and summation order).

// rmsNorm32Rows sets each row of dst [rows, n] to RMSNorm of x's row in
// float32: the mean of squares accumulated in float64, r = 1/sqrt(mean +
// eps) in float64 rounded to float32, then (x·r)·w in float32.
func rmsNorm32Rows(dst, x, w []float32, eps float64) {
	n := len(w)
	for r := 0; r+n <= len(x); r += n {
		row, out := x[r:r+n], dst[r:r+n]
		var sum float64
		for _, v := range row {
			sum += float64(v) * float64(v)
		}
		inv := float32(1 / math.Sqrt(sum/float64(n)+eps))
		if !scaleMul32AVX512(out, row, w, inv) {
			for j, v := range row {
				out[j] = v * inv * w[j]
			}
		}
	}
}

// add32 sets dst to a + b; dst may be a or b.
func add32(dst, a, b []float32) {
	if !add32AVX512(dst, a, b) {
		for i := range dst {
			dst[i] = a[i] + b[i]
		}
	}
}

// addBias32 adds bias to each row of dst [rows, len(bias)].
func addBias32(dst, bias []float32) {
	n := len(bias)
	for r := 0; r+n <= len(dst); r += n {
		add32(dst[r:r+n], dst[r:r+n], bias)
	}
}

// siluMul32 sets dst to (g·σ(g))·u in float32; dst may be g or u.
func siluMul32(dst, g, u []float32) {
	if !siluMul32AVX512(dst, g, u) {
		siluMul32Scalar(dst, g, u)
	}
}

func siluMul32Scalar(dst, g, u []float32) {
	for i := range dst {
		x := g[i]
		dst[i] = x * (1 / (1 + float32(math.Exp(float64(-x))))) * u[i]
	}
}

// rope32Rows applies rotary embedding in place to x [heads, d] with cos
// and sin (the first d/2 values of the [d] tables): x'[j] = x[j]·cos[j] −
// x[j+d/2]·sin[j], x'[j+d/2] = x[j+d/2]·cos[j] + x[j]·sin[j], each product
// rounded before the sum, as the graph computes them.
func rope32Rows(x, cos, sin []float32) {
	if rope32AVX512(x, cos, sin) {
		return
	}
	half := len(cos)
	for r := 0; r+2*half <= len(x); r += 2 * half {
		x1, x2 := x[r:r+half], x[r+half:r+2*half]
		for j := range half {
			a, b := x1[j], x2[j]
			x1[j] = a*cos[j] - b*sin[j]
			x2[j] = b*cos[j] + a*sin[j]
		}
	}
}

// softmax32Rows is softmaxRows in float32: s = raw / div (div = sqrt(D)),
// then softmaxInPlace; p not rounded.
func softmax32Rows(p, raw []float32, s int, div float32, window func(row int) (lo, hi int), keyOK []float32) {
	softmaxInPlace(raw, s, scoreScale{c: div}, window, keyOK)
	copy(p, raw)
}

// splitBF16x3 is amx.SplitBFloat16 with an AVX-512 body: x's three
// bfloat16 parts.
func splitBF16x3(hi, mid, lo []uint16, x []float32) {
	if !splitAVX512(hi, mid, lo, x) {
		amx.SplitBFloat16(hi, mid, lo, x)
	}
}

// packSplit packs a float32 weight w [n, k] for the AMX kernel as its three
// bfloat16 parts, split with AVX-512.
func packSplit(w []float32, n, k int) (*splitLinear, error) {
	if n < 1 || k < 1 || len(w) != n*k {
		return nil, fmt.Errorf("llm: a %d×%d weight of %d values", n, k, len(w))
	}
	hi, mid, lo := make([]uint16, len(w)), make([]uint16, len(w)), make([]uint16, len(w))
	splitBF16x3(hi, mid, lo, w)
	sw, err := amx.PackSplitParts(hi, mid, lo, n, k)
	if err != nil {
		return nil, err
	}
	return &splitLinear{w: sw}, nil
}

// splitLinear is a float32 weight on the AMX kernel (amx.SplitWeight) whose
// MatMul splits its input with AVX-512.
type splitLinear struct{ w *amx.SplitWeight }

// splitParts holds the three parts of the inputs of splitLinear.MatMul:
// one pool for all weights, so that the buffers, as large as the largest
// input, are made once and reused (one pool per weight kept a set per
// weight: 7 GB more for a 1B model).
var splitParts sync.Pool // *[3][]uint16

func (s *splitLinear) N() int { return s.w.N() }
func (s *splitLinear) K() int { return s.w.K() }

func (s *splitLinear) MatMul(c, a []float32, m, workers int) error {
	parts, _ := splitParts.Get().(*[3][]uint16)
	if parts == nil {
		parts = new([3][]uint16)
	}
	defer splitParts.Put(parts)
	for i := range parts {
		grow(&parts[i], len(a))
	}
	k := s.w.K()
	rows := len(a) / max(1, k)
	n := min(workers, rows)
	parallel.For(n, n, func(i int) {
		a0, a1 := rows*i/n*k, rows*(i+1)/n*k
		splitBF16x3(parts[0][a0:a1], parts[1][a0:a1], parts[2][a0:a1], a[a0:a1])
	})
	return s.w.MatMulParts(c, parts[0], parts[1], parts[2], m, workers)
}
