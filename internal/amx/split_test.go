package amx

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSplitBFloat16 checks that the three parts add up to x: within 2⁻²⁴
// of |x| (one float32 rounding) for values across the float32 range of
// activations and weights, and the special values kept whole.
func TestSplitBFloat16(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	var x []float32
	for range 100000 {
		x = append(x, float32(r.NormFloat64()*math.Pow(10, r.Float64()*40-20)))
	}
	x = append(x, 0, float32(math.Copysign(0, -1)), 1, -1, 3.14159265, math.MaxFloat32/2, 1e-30)
	hi, mid, lo := make([]uint16, len(x)), make([]uint16, len(x)), make([]uint16, len(x))
	SplitBFloat16(hi, mid, lo, x)
	for i, v := range x {
		sum := float64(widenBF16(hi[i])) + float64(widenBF16(mid[i])) + float64(widenBF16(lo[i]))
		if d := math.Abs(sum - float64(v)); d > math.Abs(float64(v))*0x1p-24 {
			t.Fatalf("x = %g: parts %g + %g + %g = %g, off by %g", v, widenBF16(hi[i]), widenBF16(mid[i]), widenBF16(lo[i]), sum, d)
		}
	}
	special := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	SplitBFloat16(hi[:3], mid[:3], lo[:3], special)
	for i, v := range special {
		if h := widenBF16(hi[i]); !(h == v || math.IsNaN(float64(h)) && math.IsNaN(float64(v))) || mid[i] != 0 || lo[i] != 0 {
			t.Errorf("%g: parts %#04x %#04x %#04x", v, hi[i], mid[i], lo[i])
		}
	}
}

// TestSplitMatMul compares the six-product float32 MatMul with a float64
// product of the same float32 inputs, next to a plain float32 product's
// error (sums in order): the split product must be as close (within twice
// the plain float32 error, and 1e-6 of the sum of |a||w|), at shapes with
// edges in every direction.
func TestSplitMatMul(t *testing.T) {
	requireAMX(t)
	r := rand.New(rand.NewPCG(2, 2))
	for _, s := range []struct{ m, n, k int }{{1, 1, 1}, {33, 17, 70}, {64, 96, 2048}, {100, 40, 300}} {
		a, w := make([]float32, s.m*s.k), make([]float32, s.n*s.k)
		for i := range a {
			a[i] = float32(r.NormFloat64())
		}
		for i := range w {
			w[i] = float32(r.NormFloat64() * 0.05)
		}
		sw, err := PackSplitWeight(w, s.n, s.k)
		if err != nil {
			t.Fatal(err)
		}
		c := make([]float32, s.m*s.n)
		if err := sw.MatMul(c, a, s.m, 2); err != nil {
			t.Fatal(err)
		}
		var worst, worstPlain float64
		for i := range s.m {
			for j := range s.n {
				var ref, abs float64
				var plain float32
				for k := range s.k {
					p := float64(a[i*s.k+k]) * float64(w[j*s.k+k])
					ref += p
					abs += math.Abs(p)
					plain += a[i*s.k+k] * w[j*s.k+k]
				}
				e := math.Abs(float64(c[i*s.n+j])-ref) / abs
				worst = max(worst, e)
				worstPlain = max(worstPlain, math.Abs(float64(plain)-ref)/abs)
			}
		}
		if worst > 2*worstPlain+1e-7 || worst > 1e-6 {
			t.Errorf("%d×%d×%d: relative error %.3g of Σ|a||w|, a float32 product's %.3g", s.m, s.n, s.k, worst, worstPlain)
		}
		t.Logf("%d×%d×%d: relative error %.3g of Σ|a||w|, a float32 product's %.3g", s.m, s.n, s.k, worst, worstPlain)
	}
}

// TestMatMulAdd checks that MatMulAdd adds to c what MatMul sets.
func TestMatMulAdd(t *testing.T) {
	requireAMX(t)
	r := rand.New(rand.NewPCG(3, 3))
	const m, n, k = 40, 50, 3000 // K blocks, edges
	a, w := randBF16(r, m*k), randBF16(r, n*k)
	pw, err := PackWeight(w, n, k)
	if err != nil {
		t.Fatal(err)
	}
	prod := make([]float32, m*n)
	if err := pw.MatMul(prod, a, m, 2); err != nil {
		t.Fatal(err)
	}
	c := make([]float32, m*n)
	for i := range c {
		c[i] = float32(i%7) - 3
	}
	start := append([]float32(nil), c...)
	if err := pw.MatMulAdd(c, a, m, 2); err != nil {
		t.Fatal(err)
	}
	for i := range c {
		want := start[i] + prod[i]
		if d := math.Abs(float64(c[i] - want)); d > 1e-4*(1+math.Abs(float64(want))) {
			t.Fatalf("c[%d] = %g, want %g + %g = %g", i, c[i], start[i], prod[i], want)
		}
	}
}
