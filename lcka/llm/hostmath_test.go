package llm

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/layersim/layersim/internal/amx"
	"github.com/layersim/layersim/internal/testenv"
)

// The host steps' AVX-512 bodies against their scalar bodies on the same
// random inputs, at lengths that exercise full vectors, masked tails and
// rows shorter than a vector: equal bit for bit where both do the same
// float32 operations in the same order (addition, bias, RoPE), within one
// bfloat16 step where they differ in summation order or exp (RMSNorm,
// SiLU, softmax).

func randBF16s(r *rand.Rand, n int, scale float64) []uint16 {
	out := make([]uint16, n)
	for i := range out {
		out[i] = toBF16(float32(r.NormFloat64() * scale))
	}
	return out
}

func bf16Values(r *rand.Rand, n int, scale float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = roundF32(float32(r.NormFloat64() * scale))
	}
	return out
}

// bf16Steps is how many bfloat16 values lie between a and b.
func bf16Steps(a, b uint16) int {
	ord := func(h uint16) int {
		if h&0x8000 != 0 {
			return -int(h & 0x7FFF)
		}
		return int(h)
	}
	d := ord(a) - ord(b)
	if d < 0 {
		d = -d
	}
	return d
}

func checkSteps(t *testing.T, name string, got, want []uint16, maxSteps int) {
	t.Helper()
	worst, at := 0, -1
	for i := range want {
		if d := bf16Steps(got[i], want[i]); d > worst {
			worst, at = d, i
		}
	}
	if worst > maxSteps {
		t.Errorf("%s: element %d is %#04x (%g), scalar %#04x (%g): %d bfloat16 steps apart, want ≤ %d",
			name, at, got[at], bf16(got[at]), want[at], bf16(want[at]), worst, maxSteps)
	}
}

var hostLengths = []int{1, 7, 15, 16, 17, 24, 33, 64, 100, 2048}

// requireVectorized skips where the AVX-512 bodies cannot run (the scalar
// bodies run there, and are what these tests compare with); on a CPU that
// lists AVX-512 a build without them fails under CI (testenv.Missing):
// CI must build with GOEXPERIMENT=simd.
func requireVectorized(t *testing.T) {
	t.Helper()
	if hostVectorized() {
		return
	}
	if testenv.CPUListsFlags("avx512f", "avx512bw") {
		testenv.Missing(t, "the CPU has AVX-512 but this build has no AVX-512 bodies (build with GOEXPERIMENT=simd)")
		return
	}
	t.Skip("no AVX-512 on this CPU: the scalar bodies run, and are what this test compares with")
}

func TestHostRMSNorm(t *testing.T) {
	requireVectorized(t)
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range hostLengths {
		const rows = 5
		x := randBF16s(r, rows*n, 3)
		w := bf16Values(r, n, 1)
		got, want := make([]uint16, rows*n), make([]uint16, rows*n)
		rmsNormRows(got, x, w, 1e-5)
		rmsNormScalar(want, x, w, 1e-5)
		checkSteps(t, "rmsNorm", got, want, 1)
	}
}

func TestHostExactSteps(t *testing.T) {
	requireVectorized(t)
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range hostLengths {
		a, b := randBF16s(r, 3*n, 2), randBF16s(r, 3*n, 0.01)
		got, want := make([]uint16, 3*n), make([]uint16, 3*n)
		addRows(got, a, b)
		addScalar(want, a, b)
		checkSteps(t, "add", got, want, 0)

		src, bias := bf16Values(r, 3*n, 4), bf16Values(r, n, 1)
		for i := range src {
			src[i] *= 1 + float32(r.Float64())/256 // not a bfloat16 value
		}
		biasRound(got, src, bias)
		biasRoundScalar(want, src, bias)
		checkSteps(t, "biasRound", got, want, 0)

		if n%2 == 0 {
			half := n / 2
			cos, sin := bf16Values(r, half, 1), bf16Values(r, half, 1)
			x := randBF16s(r, 3*n, 2)
			vx, sx := slices.Clone(x), slices.Clone(x)
			ropeRows(vx, cos, sin)
			ropeScalar(sx, cos, sin)
			checkSteps(t, "rope", vx, sx, 0)
		}
	}
}

func TestHostSiLU(t *testing.T) {
	requireVectorized(t)
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range hostLengths {
		g, u := randBF16s(r, n, 4), randBF16s(r, n, 1)
		got, want := make([]uint16, n), make([]uint16, n)
		siluMul(got, g, u)
		siluMulScalar(want, g, u)
		checkSteps(t, "siluMul", got, want, 1)
	}
	// Far tails: σ(g) → 0 and 1.
	g := []uint16{toBF16(-120), toBF16(-90), toBF16(-20), toBF16(20), toBF16(90), toBF16(120)}
	u := []uint16{toBF16(1), toBF16(1), toBF16(1), toBF16(1), toBF16(1), toBF16(1)}
	got, want := make([]uint16, len(g)), make([]uint16, len(g))
	siluMul(got, g, u)
	siluMulScalar(want, g, u)
	checkSteps(t, "siluMul tails", got, want, 1)
}

func TestHostSoftmax(t *testing.T) {
	requireVectorized(t)
	r := rand.New(rand.NewPCG(7, 8))
	for _, s := range hostLengths {
		keyOK := make([]float32, s)
		for j := range keyOK {
			if r.IntN(5) > 0 {
				keyOK[j] = 1
			}
		}
		windows := [][2]int{{0, s - 1}, {s / 3, s - 1}, {0, s / 2}, {s / 2, s / 2}, {s - 1, s - 1}}
		raw := make([]float32, len(windows)*s)
		for j := range raw {
			raw[j] = float32(r.NormFloat64() * 30)
		}
		window := func(row int) (lo, hi int) { return windows[row][0], windows[row][1] }
		got := make([]uint16, len(raw))
		softmaxRows(got, slices.Clone(raw), s, 0.125, window, keyOK)
		for row, win := range windows {
			want := make([]uint16, s)
			ref := slices.Clone(raw[row*s : (row+1)*s])
			allowed := softmaxWindow(ref, scoreScale{bf16: true, c: 0.125}, win[0], win[1], keyOK)
			if !allowed {
				for j := range ref {
					ref[j] = 1 / float32(s)
				}
			}
			roundToBFloat16(want, ref)
			gotRow := got[row*s : (row+1)*s]
			checkSteps(t, "softmax", gotRow, want, 1)
			var sum float64
			for j, p := range gotRow {
				if p != 0 && allowed && (j < win[0] || j > win[1] || keyOK[j] == 0) {
					t.Fatalf("S=%d window %v: masked key %d has probability %g", s, win, j, bf16(p))
				}
				sum += float64(bf16(p))
			}
			if math.Abs(sum-1) > 0.02 {
				t.Errorf("S=%d window %v: probabilities sum to %g", s, win, sum)
			}
		}
	}
}

// TestHostSoftmaxNoKey: a query with no allowed key gets 1/S on every key,
// as the masked softmax of the one-graph pass gives; the other rows are
// untouched by it.
func TestHostSoftmaxNoKey(t *testing.T) {
	for _, s := range []int{1, 5, 16, 40} {
		keyOK := make([]float32, s)
		keyOK[s-1] = 1
		p := make([]uint16, 2*s)
		// Row 0 sees only key 0 (masked): no key; row 1 sees every key.
		softmaxRows(p, make([]float32, 2*s), s, 0.5, func(row int) (int, int) { return 0, row * (s - 1) }, keyOK)
		if s == 1 {
			if want := toBF16(1); p[0] != want || p[1] != want {
				t.Fatalf("S=1: p = %v, want 1, 1", p)
			}
			continue
		}
		for j, v := range p[:s] {
			if want := toBF16(1 / float32(s)); v != want {
				t.Fatalf("S=%d: p[0, %d] = %g, want %g", s, j, bf16(v), bf16(want))
			}
		}
		for j, v := range p[s:] {
			want := uint16(0)
			if j == s-1 {
				want = toBF16(1)
			}
			if v != want {
				t.Fatalf("S=%d: p[1, %d] = %g, want %g", s, j, bf16(v), bf16(want))
			}
		}
	}
}

// The float32 steps' AVX-512 bodies against the scalar ones, and the
// vector split against amx.SplitBFloat16 (bit for bit).
func TestHostFloat32Steps(t *testing.T) {
	requireVectorized(t)
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range hostLengths {
		f := func(scale float64) []float32 {
			out := make([]float32, 3*n)
			for i := range out {
				out[i] = float32(r.NormFloat64() * scale)
			}
			return out
		}
		a, b := f(2), f(1)
		got, want := make([]float32, 3*n), make([]float32, 3*n)
		add32(got, a, b)
		for i := range want {
			want[i] = a[i] + b[i]
		}
		if !slices.Equal(got, want) {
			t.Errorf("n=%d: add32 differs from scalar addition", n)
		}
		siluMul32(got, a, b)
		siluMul32Scalar(want, a, b)
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > 4e-7*math.Abs(float64(want[i]))+1e-30 {
				t.Fatalf("n=%d: siluMul32[%d] = %g, scalar %g", n, i, got[i], want[i])
			}
		}
		if n%2 == 0 {
			cos, sin := f(1)[:n/2], f(1)[:n/2]
			vx, sx := slices.Clone(a), slices.Clone(a)
			rope32Rows(vx, cos, sin)
			half := n / 2
			for r0 := 0; r0+n <= len(sx); r0 += n {
				for j := range half {
					p, q := sx[r0+j], sx[r0+half+j]
					sx[r0+j], sx[r0+half+j] = p*cos[j]-q*sin[j], q*cos[j]+p*sin[j]
				}
			}
			if !slices.Equal(vx, sx) {
				t.Errorf("n=%d: rope32Rows differs from the scalar rotation", n)
			}
		}
		x := append(f(1e-3), 0, float32(math.Inf(1)), float32(math.Inf(-1)), 1e-30, -3e30)
		h1, m1, l1 := make([]uint16, len(x)), make([]uint16, len(x)), make([]uint16, len(x))
		h2, m2, l2 := make([]uint16, len(x)), make([]uint16, len(x)), make([]uint16, len(x))
		splitBF16x3(h1, m1, l1, x)
		amx.SplitBFloat16(h2, m2, l2, x)
		if !slices.Equal(h1, h2) || !slices.Equal(m1, m2) || !slices.Equal(l1, l2) {
			t.Errorf("n=%d: the vector split differs from amx.SplitBFloat16", n)
		}
	}
}

func TestHostSoftmax32(t *testing.T) {
	requireVectorized(t)
	r := rand.New(rand.NewPCG(11, 12))
	for _, s := range hostLengths {
		keyOK := make([]float32, s)
		for j := range keyOK {
			if r.IntN(5) > 0 {
				keyOK[j] = 1
			}
		}
		windows := [][2]int{{0, s - 1}, {s / 3, s - 1}, {0, s / 2}, {s / 2, s / 2}}
		raw := make([]float32, len(windows)*s)
		for j := range raw {
			raw[j] = float32(r.NormFloat64() * 20)
		}
		window := func(row int) (lo, hi int) { return windows[row][0], windows[row][1] }
		got := make([]float32, len(raw))
		softmax32Rows(got, slices.Clone(raw), s, 8, window, keyOK)
		for row, win := range windows {
			want := slices.Clone(raw[row*s : (row+1)*s])
			if !softmaxWindow(want, scoreScale{c: 8}, win[0], win[1], keyOK) {
				for j := range want {
					want[j] = 1 / float32(s)
				}
			}
			for j := range want {
				if d := math.Abs(float64(got[row*s+j] - want[j])); d > 1e-6*float64(want[j])+1e-12 {
					t.Fatalf("S=%d row %d key %d: %g, scalar %g", s, row, j, got[row*s+j], want[j])
				}
			}
		}
	}
}
