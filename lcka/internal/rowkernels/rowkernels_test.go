package rowkernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/layersim/layersim/lcka/internal/densetest"
)

// TestKernels: the vector kernels equal the scalar loops (to fused
// multiply-add rounding) at every width around their blocks of eight, row
// counts around their blocks of four and every start within a cache line
// (the masked head before the whole vectors), and write nothing past w.
func TestKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vec := func(n int) []float64 { return densetest.Normals(rng, n) }
	near := func(what string, got, want []float64, tol float64) {
		t.Helper()
		for i := range got {
			if math.Abs(got[i]-want[i]) > tol {
				t.Fatalf("%s, %d: %v, scalar %v", what, i, got[i], want[i])
			}
		}
	}
	for n := 1; n <= 41; n++ {
		y, x := vec(n), vec(n)
		y2 := slices.Clone(y)
		Axpy(y, x, 0.37)
		AxpyGo(y2, x, 0.37)
		near(fmt.Sprintf("axpy n = %d", n), y, y2, 4e-15)
		// Rows that start anywhere in a cache line (off), with strides
		// that keep every row's alignment (48) and that do not (45); w
		// and its guard values past n.
		for rows := 1; rows <= 9; rows++ {
			for _, stride := range []int{45, 48} {
				for off := range 9 {
					a, v, wg, u := vec(off + (rows-1)*stride + n)[off:], vec(rows), vec(n+8), vec(n)
					w := wg[:n]
					wg2 := slices.Clone(wg)
					w2 := wg2[:n]
					Accumulate(w, a, stride, rows, v)
					AccumulateGo(w2, a, stride, rows, v)
					what := fmt.Sprintf("%d×%d, stride %d, offset %d", rows, n, stride, off)
					near("accumulate "+what, w, w2, 1e-14)
					if !slices.Equal(wg[n:], wg2[n:]) {
						t.Fatalf("accumulate %s: wrote past w", what)
					}
					got, want := make([]float64, rows), make([]float64, rows)
					Dots(got, a, stride, rows, u)
					DotsGo(want, a, stride, rows, u)
					near("dots "+what, got, want, 1e-13)
					for _, sigma := range []float64{0, 1.2} {
						a2 := slices.Clone(a)
						Update(a, stride, rows, w, u, v, 0.8, sigma)
						UpdateGo(a2, stride, rows, w, u, v, 0.8, sigma)
						near(fmt.Sprintf("update %s σ = %v", what, sigma), a, a2, 1e-12)
					}
				}
			}
		}
	}
}

// TestLoops: the Go loops against their definitions written out on a
// 3×4 block with a row stride of 5 (the values are small integers, so
// every sum is exact).
func TestLoops(t *testing.T) {
	a := []float64{1, 2, 3, 4, 99, 5, 6, 7, 8, 99, -1, 0, 2, 1}
	u := []float64{1, -1, 2, 0}
	out := make([]float64, 3)
	DotsGo(out, a, 5, 3, u)
	if want := []float64{1 - 2 + 6, 5 - 6 + 14, -1 + 4}; !slices.Equal(out, want) {
		t.Errorf("DotsGo = %v, want %v", out, want)
	}
	w := []float64{1, 1, 1, 1}
	AccumulateGo(w, a, 5, 3, []float64{1, 2, -1})
	if want := []float64{1 + 1 + 10 + 1, 1 + 2 + 12, 1 + 3 + 14 - 2, 1 + 4 + 16 - 1}; !slices.Equal(w, want) {
		t.Errorf("AccumulateGo = %v, want %v", w, want)
	}
	// One row: r = (1, 2, 3, 4) − 2·1·(1, 0, 0, 1) = (−1, 2, 3, 2), r·u = −1 − 2 + 6 = 3,
	// then r −= 0.5·3·u.
	r := []float64{1, 2, 3, 4}
	UpdateGo(r, 4, 1, []float64{1, 0, 0, 1}, u, []float64{1}, 2, 0.5)
	if want := []float64{-1 - 1.5, 2 + 1.5, 3 - 3, 2}; !slices.Equal(r, want) {
		t.Errorf("UpdateGo = %v, want %v", r, want)
	}
}

// TestMagnitude: the kernel's largest magnitude and finiteness equal the
// Go loop's and the plain definition's, with the extreme value and a NaN
// or ±Inf at every position of lengths around the vector width.
func TestMagnitude(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := 1; n <= 41; n++ {
		for at := range n {
			for _, special := range []float64{-1e300, 0x1p-1074, -0.0, math.NaN(), math.Inf(1), math.Inf(-1)} {
				a := make([]float64, n)
				for i := range a {
					a[i] = rng.NormFloat64()
				}
				a[at] = special
				want, finite := 0.0, true
				for _, v := range a {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						finite = false
					}
					want = math.Max(want, math.Abs(v))
				}
				for name, f := range map[string]func([]float64) (float64, bool){"kernel": Magnitude, "Go": MagnitudeGo} {
					got, ok := f(a)
					if ok != finite || finite && got != want {
						t.Fatalf("%s, n = %d, %v at %d: %v, finite %v; want %v, %v", name, n, special, at, got, ok, want, finite)
					}
				}
			}
		}
	}
}

// TestReflector: (I − τvvᵀ)·x = β·e₁ with v₀ = 1, |β| = ‖x‖, and τ = 0
// with v = e₁ where x's rest is zero or below the normal numbers, for
// vectors of every length around the kernels' blocks, of ordinary, tiny
// (squares underflowing) and huge-exponent-free entries.
func TestReflector(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for n := 1; n <= 40; n++ {
		for _, scale := range []float64{1, 1e-160, 1e-300} {
			x := densetest.Normals(rng, n)
			for i := range x {
				x[i] *= scale
			}
			if n > 2 {
				x[0] = 0
			}
			v := slices.Clone(x)
			beta, tau := Reflector(v)
			norm := 0.0
			for _, xi := range x {
				norm = math.Hypot(norm, xi)
			}
			if v[0] != 1 {
				t.Fatalf("n %d, scale %g: v₀ = %g", n, scale, v[0])
			}
			if n == 1 {
				if tau != 0 || beta != x[0] {
					t.Fatalf("n 1: β %g, τ %g", beta, tau)
				}
				continue
			}
			if math.Abs(math.Abs(beta)-norm) > 1e-14*norm {
				t.Fatalf("n %d, scale %g: |β| = %g, ‖x‖ = %g", n, scale, math.Abs(beta), norm)
			}
			// (I − τvvᵀ)x = x − τ(v·x)v.
			vx := 0.0
			for i := range x {
				vx += v[i] * x[i]
			}
			for i := range x {
				got := x[i] - tau*vx*v[i]
				want := 0.0
				if i == 0 {
					want = beta
				}
				if math.Abs(got-want) > 1e-14*norm {
					t.Fatalf("n %d, scale %g: entry %d of Hx = %g, want %g", n, scale, i, got, want)
				}
			}
		}
	}
	for _, x := range [][]float64{{3, 0, 0}, {-2, 1e-320, 0}} {
		v := slices.Clone(x)
		beta, tau := Reflector(v)
		if tau != 0 || beta != x[0] || v[0] != 1 || v[1] != 0 || v[2] != 0 {
			t.Errorf("%v: β %g, τ %g, v %v, want β = x₀, τ = 0, v = e₁", x, beta, tau, v)
		}
	}
}

// TestAligned: Aligned's slices start at a 64-byte boundary, are zero and
// have the length asked for; IsAligned tells the offsets apart.
func TestAligned(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 100, 5000} {
		s := Aligned(n)
		if len(s) != n || cap(s) != n || !IsAligned(s) {
			t.Fatalf("Aligned(%d): len %d, cap %d, aligned %v", n, len(s), cap(s), IsAligned(s))
		}
		for _, v := range s {
			if v != 0 {
				t.Fatalf("Aligned(%d) holds %g", n, v)
			}
		}
		if n > 1 && IsAligned(s[1:]) {
			t.Fatalf("Aligned(%d)[1:] reported aligned", n)
		}
	}
}
