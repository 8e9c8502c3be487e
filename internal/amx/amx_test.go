package amx

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/layersim/layersim/internal/testenv"
)

// requireAMX skips the test when the kernels cannot run here, except under
// CI on a CPU that lists AMX: there a false Available() is a failure (a
// kernel, seccomp or container setting took AMX away), not a reason to pass.
func requireAMX(t testing.TB) {
	t.Helper()
	err := availability()
	if err == nil {
		return
	}
	if testenv.InCI() && testenv.CPUListsAMX() {
		t.Fatalf("CI=true and /proc/cpuinfo lists amx_tile and amx_bf16, but Available() is false: %v", err)
	}
	t.Skipf("AMX not available: %v", err)
}

// TestRequireAMX runs a child test whose Available() is forced to false:
// without CI it must skip, with CI=true on a CPU that lists AMX it must fail.
func TestRequireAMX(t *testing.T) {
	if os.Getenv("AMX_TEST_CHILD") == "1" {
		availability = func() error { return errors.New("forced off by the test") }
		requireAMX(t)
		return
	}
	if !testenv.CPUListsAMX() {
		t.Skip("/proc/cpuinfo lists no AMX: the CI branch cannot be exercised here")
	}
	for _, tc := range []struct {
		ci   string
		fail bool
		want string
	}{
		{"", false, "SKIP"},
		{"true", true, "but Available() is false"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRequireAMX$", "-test.v")
		cmd.Env = append(os.Environ(), "AMX_TEST_CHILD=1", "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if (err != nil) != tc.fail || !strings.Contains(string(out), tc.want) {
			t.Errorf("CI=%q: err %v, output:\n%s", tc.ci, err, out)
		}
	}
}

func bf16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// toBF16 rounds to nearest even (no NaNs in these tests).
func toBF16(f float32) uint16 {
	b := math.Float32bits(f)
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// randBF16 returns n normally distributed bfloat16 values.
func randBF16(r *rand.Rand, n int) []uint16 {
	out := make([]uint16, n)
	for i := range out {
		out[i] = toBF16(float32(r.NormFloat64()))
	}
	return out
}

// tolerance bounds |c - ref| / Σₖ|aₖ·wₖ| for MatMul's results against the
// float64 reference on the same bfloat16 inputs: 4 float32 ulps of 1
// (4·2⁻²³ ≈ 4.8e-7).
//
// Why this bound: a product of two bfloat16 is exact in float32, so all the
// error comes from the float32 additions, and each rounds by at most half
// an ulp of the running sum. Measured against Σ|a·w| rather than |c| the
// bound does not blow up under cancellation, and for inputs of random sign
// the partial sums stay far below Σ|a·w|, so the accumulated error stays at
// about one ulp whatever K is (the lab measured at most 1.6e-7 over 72 M
// entries; a plain sequential float32 loop reaches 2.3e-7 on the same data).
// A real mistake is far larger: one lost product is about 1/K of Σ|a·w|
// (3.5e-4 at K = 2880), a wrong column or row is of order 1.
const tolerance = 4.0 / (1 << 23)

// refCheck compares the given rows of c [m, n] with a float64 reference of
// a [m, k] · w [n, k]ᵀ and returns the worst |c - ref| / Σ|a·w|.
func refCheck(t *testing.T, c []float32, a, w []uint16, m, n, k int, rows []int) float64 {
	t.Helper()
	wf := make([]float64, n*k)
	for i, v := range w {
		wf[i] = float64(bf16ToF32(v))
	}
	af := make([]float64, k)
	worst := 0.0
	bad := 0
	for _, i := range rows {
		for j := range af {
			af[j] = float64(bf16ToF32(a[i*k+j]))
		}
		for j := 0; j < n; j++ {
			var sum, scale float64
			for kk, x := range wf[j*k : j*k+k] {
				p := af[kk] * x
				sum += p
				scale += math.Abs(p)
			}
			got := float64(c[i*n+j])
			d := math.Abs(got - sum)
			if scale == 0 {
				if got != 0 {
					d = math.Inf(1)
				}
			} else {
				d /= scale
			}
			if !(d <= tolerance) { // NaN fails too
				if bad++; bad <= 5 {
					t.Errorf("c[%d, %d] = %g, want %g (error %.3g of Σ|a·w| = %g)", i, j, got, sum, d, scale)
				}
			}
			if !(d <= worst) {
				worst = d
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d wrong entries in all", bad)
	}
	return worst
}

// rowsToCheck returns all rows of a small product, else a sample that keeps
// the float64 reference near 1e8 multiply-adds: the first and last rows,
// both sides of the 16- and 32-row tile boundaries, and random rows.
func rowsToCheck(r *rand.Rand, m, n, k int) []int {
	budget := max(1, 100_000_000/(n*k))
	if m <= budget {
		rows := make([]int, m)
		for i := range rows {
			rows[i] = i
		}
		return rows
	}
	rows := []int{0, 15, 16, 31, 32, m - 1}
	for len(rows) < max(budget, 8) {
		rows = append(rows, r.IntN(m))
	}
	for i := range rows {
		rows[i] = min(rows[i], m-1)
	}
	return rows
}

func TestMatMulShapes(t *testing.T) {
	requireAMX(t)
	Ms := []int{1, 17, 64, 1000}
	Ks := []int{32, 33, 64, 2048, 2880}
	Ns := []int{1, 33, 2048}
	if testing.Short() {
		Ms, Ks = []int{1, 17, 64}, []int{32, 33, 2048}
	}
	worst := 0.0
	for _, k := range Ks {
		for _, n := range Ns {
			r := rand.New(rand.NewPCG(uint64(n), uint64(k)))
			w := randBF16(r, n*k)
			pw, err := PackWeight(w, n, k)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range Ms {
				t.Run(fmt.Sprintf("M=%d,K=%d,N=%d", m, k, n), func(t *testing.T) {
					a := randBF16(r, m*k)
					c := make([]float32, m*n)
					for i := range c {
						c[i] = float32(math.NaN()) // must all be overwritten
					}
					workers := 1 + (m+n+k)%2
					if err := pw.MatMul(c, a, m, workers); err != nil {
						t.Fatal(err)
					}
					e := refCheck(t, c, a, w, m, n, k, rowsToCheck(r, m, n, k))
					worst = max(worst, e)
				})
			}
		}
	}
	t.Logf("worst error relative to Σ|a·w|: %.3g (tolerance %.3g)", worst, tolerance)
}

// TestMatMulExact uses small integers, whose products and sums are exact in
// float32, so every entry must equal the reference bit for bit: any
// misplaced, lost or doubled element shows.
func TestMatMulExact(t *testing.T) {
	requireAMX(t)
	for _, s := range []struct{ m, n, k int }{
		{1, 1, 1}, {1, 33, 33}, {17, 1, 31}, {31, 47, 95}, {33, 65, 4097}, {64, 300, 100}, {100, 257, 2049},
	} {
		t.Run(fmt.Sprintf("M=%d,K=%d,N=%d", s.m, s.k, s.n), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(s.m), uint64(s.k)))
			small := func(n int) []uint16 {
				v := make([]uint16, n)
				for i := range v {
					v[i] = toBF16(float32(r.IntN(7) - 3))
				}
				return v
			}
			a, w := small(s.m*s.k), small(s.n*s.k)
			pw, err := PackWeight(w, s.n, s.k)
			if err != nil {
				t.Fatal(err)
			}
			c := make([]float32, s.m*s.n)
			if err := pw.MatMul(c, a, s.m, 2); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < s.m; i++ {
				for j := 0; j < s.n; j++ {
					var want float32
					for kk := 0; kk < s.k; kk++ {
						want += bf16ToF32(a[i*s.k+kk]) * bf16ToF32(w[j*s.k+kk])
					}
					if c[i*s.n+j] != want {
						t.Fatalf("c[%d, %d] = %g, want %g", i, j, c[i*s.n+j], want)
					}
				}
			}
		})
	}
}

// TestDenormalsFlushed pins down what the package documents: TDPBF16PS
// treats denormal inputs as zero and flushes denormal results to zero.
func TestDenormalsFlushed(t *testing.T) {
	requireAMX(t)
	one := toBF16(1)
	tiny := toBF16(0x1p-70) // normal; tiny² = 2⁻¹⁴⁰ is a float32 denormal
	const denormal = 0x0001 // smallest positive bfloat16 denormal
	for _, tc := range []struct {
		name string
		a, w uint16
	}{
		{"denormal input", denormal, one},
		{"denormal product", tiny, tiny},
	} {
		pw, err := PackWeight([]uint16{tc.w}, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		c := []float32{1}
		if err := pw.MatMul(c, []uint16{tc.a}, 1, 1); err != nil {
			t.Fatal(err)
		}
		if c[0] != 0 {
			t.Errorf("%s: got %g, want 0 (flushed)", tc.name, c[0])
		}
	}
}

// TestScratchReuse runs a product whose A is all infinities, then one with
// a shorter K on the scratch space the pool hands back: the K padding of the
// packed A must be cleared again, or Inf·0 = NaN leaks into the result.
func TestScratchReuse(t *testing.T) {
	requireAMX(t)
	const m, n = 40, 40
	inf := toBF16(float32(math.Inf(1)))
	for round := range 3 {
		long, err := PackWeight(slices.Repeat([]uint16{toBF16(1)}, n*64), n, 64)
		if err != nil {
			t.Fatal(err)
		}
		c := make([]float32, m*n)
		if err := long.MatMul(c, slices.Repeat([]uint16{inf}, m*64), m, 1); err != nil {
			t.Fatal(err)
		}
		if !math.IsInf(float64(c[0]), 1) || !math.IsInf(float64(c[m*n-1]), 1) {
			t.Fatalf("Inf·1 summed: c[0] = %g, c[last] = %g, want +Inf", c[0], c[m*n-1])
		}
		const k = 33
		r := rand.New(rand.NewPCG(uint64(round), 1))
		a, w := randBF16(r, m*k), randBF16(r, n*k)
		short, err := PackWeight(w, n, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := short.MatMul(c, a, m, 1); err != nil {
			t.Fatal(err)
		}
		refCheck(t, c, a, w, m, n, k, rowsToCheck(r, m, n, k))
	}
}

func TestBadSizes(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    []uint16
		n, k int
	}{
		{"n=0", nil, 0, 4},
		{"k=0", nil, 4, 0},
		{"negative", make([]uint16, 4), -2, -2},
		{"short", make([]uint16, 7), 2, 4},
		{"long", make([]uint16, 9), 2, 4},
		{"huge", make([]uint16, 4), math.MaxInt, math.MaxInt},
		{"over maxDim", nil, 1, maxDim + 1},
	} {
		if _, err := PackWeight(tc.w, tc.n, tc.k); err == nil {
			t.Errorf("PackWeight %s: no error", tc.name)
		}
	}

	var zero Weight
	if err := zero.MatMul(nil, nil, 0, 1); err == nil {
		t.Error("MatMul on a zero Weight: no error")
	}
	var nilW *Weight
	if err := nilW.MatMul(nil, nil, 0, 1); err == nil {
		t.Error("MatMul on a nil Weight: no error")
	}

	requireAMX(t)
	const n, k = 3, 5
	pw, err := PackWeight(make([]uint16, n*k), n, k)
	if err != nil {
		t.Fatal(err)
	}
	if pw.N() != n || pw.K() != k || pw.Bytes() < 32*32*2 {
		t.Errorf("N, K, Bytes = %d, %d, %d", pw.N(), pw.K(), pw.Bytes())
	}
	for _, tc := range []struct {
		name       string
		c          []float32
		a          []uint16
		m, workers int
	}{
		{"short c", make([]float32, 2*n-1), make([]uint16, 2*k), 2, 1},
		{"long c", make([]float32, 2*n+1), make([]uint16, 2*k), 2, 1},
		{"short a", make([]float32, 2*n), make([]uint16, 2*k-1), 2, 1},
		{"long a", make([]float32, 2*n), make([]uint16, 2*k+1), 2, 1},
		{"negative m", nil, nil, -1, 1},
		{"huge m", nil, nil, math.MaxInt, 1},
		{"workers=0", make([]float32, 2*n), make([]uint16, 2*k), 2, 0},
		{"nil slices", nil, nil, 2, 1},
	} {
		if err := pw.MatMul(tc.c, tc.a, tc.m, tc.workers); err == nil {
			t.Errorf("MatMul %s: no error", tc.name)
		}
	}
	if err := pw.MatMul(nil, nil, 0, 1); err != nil {
		t.Errorf("MatMul with m=0: %v", err)
	}
}

// TestUnavailable checks that PackWeight refuses when the kernels cannot
// run (forced off here, so that it runs on every CPU).
func TestUnavailable(t *testing.T) {
	saved := availability
	availability = func() error { return errors.New("forced off by the test") }
	defer func() { availability = saved }()
	if Available() {
		t.Error("Available() with the probe forced off")
	}
	if _, err := PackWeight(make([]uint16, 4), 2, 2); err == nil {
		t.Error("PackWeight succeeded without AMX")
	}
}

// TestDeterministic checks that the result does not depend on workers nor
// on other goroutines using the same Weight at the same time: each C entry
// is summed in the same order whichever goroutine computes it.
func TestDeterministic(t *testing.T) {
	requireAMX(t)
	const m, n, k = 100, 300, 2100 // edges in M, N and K, and two K blocks
	r := rand.New(rand.NewPCG(7, 8))
	w := randBF16(r, n*k)
	pw, err := PackWeight(w, n, k)
	if err != nil {
		t.Fatal(err)
	}
	as := [][]uint16{randBF16(r, m*k), randBF16(r, (m/3)*k)}
	want := make([][]float32, len(as))
	for i, a := range as {
		want[i] = make([]float32, len(a)/k*n)
		if err := pw.MatMul(want[i], a, len(a)/k, 1); err != nil {
			t.Fatal(err)
		}
	}
	for _, workers := range []int{2, 3, 64} {
		c := make([]float32, m*n)
		if err := pw.MatMul(c, as[0], m, workers); err != nil {
			t.Fatal(err)
		}
		if !sameBits(c, want[0]) {
			t.Errorf("workers=%d differs from workers=1", workers)
		}
	}

	const goroutines, rounds = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range rounds {
				which := (g + i) % len(as)
				a := as[which]
				c := make([]float32, len(a)/k*n)
				if err := pw.MatMul(c, a, len(a)/k, 1+g%2); err != nil {
					errs <- err
					return
				}
				if !sameBits(c, want[which]) {
					errs <- fmt.Errorf("goroutine %d round %d: result differs", g, i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// sameBits reports whether x and y hold the same float32 bit patterns.
func sameBits(x, y []float32) bool {
	return slices.EqualFunc(x, y, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) })
}

// BenchmarkMatMul runs the Llama-3.2-1B linear layers at M = 1024 tokens:
// the MLP's gate/up (N×K = 8192×2048) and down (2048×8192) projections,
// the query and output projections (2048×2048) and the key and value
// projections (512×2048). A is bfloat16 and packed on every call, as in
// use; W is packed once, outside the timing.
func BenchmarkMatMul(b *testing.B) {
	requireAMX(b)
	const m = 1024
	for _, s := range []struct{ n, k int }{{8192, 2048}, {2048, 2048}, {2048, 8192}, {512, 2048}} {
		r := rand.New(rand.NewPCG(uint64(s.n), uint64(s.k)))
		w := randBF16(r, s.n*s.k)
		a := randBF16(r, m*s.k)
		c := make([]float32, m*s.n)
		pw, err := PackWeight(w, s.n, s.k)
		if err != nil {
			b.Fatal(err)
		}
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("N=%d,K=%d/workers=%d", s.n, s.k, workers), func(b *testing.B) {
				// One call outside the timing fills the scratch pool and
				// faults in fresh pages: the figures are for steady use.
				if err := pw.MatMul(c, a, m, workers); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if err := pw.MatMul(c, a, m, workers); err != nil {
						b.Fatal(err)
					}
				}
				flop := 2 * float64(m) * float64(s.n) * float64(s.k) * float64(b.N)
				b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
