package grampanel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/layersim/layersim/internal/testenv"
	"github.com/layersim/layersim/lcka/internal/densetest"
)

// TestSetHost turns the kernel off and on again.
func TestSetHost(t *testing.T) {
	requireHost(t)
	if was := SetHost(false); !was || Host() {
		t.Fatalf("SetHost(false): was %v, Host() = %v", was, Host())
	}
	if was := SetHost(true); was || !Host() {
		t.Fatalf("SetHost(true): was %v, Host() = %v", was, Host())
	}
}

// requireHost skips where the host kernel cannot run; on a CPU that lists
// AVX-512F, or AVX2 and FMA, it fails under CI instead (the kernel must run
// there).
func requireHost(t testing.TB) {
	t.Helper()
	if Host() {
		return
	}
	if testenv.CPUListsFlags("avx512f") || testenv.CPUListsFlags("avx2", "fma") {
		testenv.Missing(t, "/proc/cpuinfo lists AVX-512F or AVX2 and FMA but the host Gram kernel is off (golang.org/x/sys/cpu reports neither, or SetHost(false) leaked from another test)")
		return
	}
	t.Skip("neither AVX-512 nor AVX2 on this CPU: callers use the GoMLX panels")
}

// TestAVX2SameBits runs Full, Full64, MulTN64 and SubMulTN64 on the AVX2
// routines and on the AVX-512 ones: every entry gets the same fused
// multiply-adds in the same order (gen_kernels.go, tileAVX2), so the
// results must be the same bits. It needs a CPU with both; TestFull and the
// tests after it check whichever routines this CPU runs against float64
// loops.
func TestAVX2SameBits(t *testing.T) {
	requireHost(t)
	if !useAVX2(false) || !useAVX2(true) {
		if testenv.CPUListsFlags("avx512f") && testenv.CPUListsFlags("avx2", "fma") {
			testenv.Missing(t, "/proc/cpuinfo lists AVX-512F, AVX2 and FMA but the two sets of routines cannot both run")
			return
		}
		t.Skip("this CPU has one set of routines only: nothing to compare")
	}
	defer useAVX2(false)
	r := rand.New(rand.NewPCG(21, 22))
	type result struct {
		g32 []float32
		g64 []float64
		c   []float64
		sub []float64
	}
	const n, d = 245, 2*kc + 40
	x64 := densetest.Normals(r, n*d)
	x32 := make([]float32, len(x64))
	for i, v := range x64 {
		x32[i] = float32(v)
	}
	a, b := densetest.Normals(r, (kc+3)*31), densetest.Normals(r, (kc+3)*50)
	c0 := densetest.Normals(r, 30*47)
	run := func() (res result) {
		res.g32, res.g64 = make([]float32, n*n), make([]float64, n*n)
		res.c = make([]float64, 30*45)
		res.sub = slices.Clone(c0)
		for _, err := range []error{
			Full(res.g32, x32, n, d, 2),
			Full64(res.g64, x64, n, d, 2),
			MulTN64(res.c, a, 31, b, 50, kc+3, 30, 45, 2),
			SubMulTN64(res.sub, 47, a, 31, b, 50, kc+3, 30, 45),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		return res
	}
	useAVX2(false)
	want := run()
	useAVX2(true)
	got := run()
	if !slices.Equal(got.g32, want.g32) || !slices.Equal(got.g64, want.g64) || !slices.Equal(got.c, want.c) || !slices.Equal(got.sub, want.sub) {
		t.Error("the AVX2 routines' results differ from the AVX-512 ones'")
	}
}

// TestFull compares the host kernel with a float64 product of the same
// float32 rows (and the float64 kernel with it). The sizes cover row counts
// that are not multiples of the 12-row tiles, of the 32- (16-) column
// tiles or of the 16- (8-) row gathers, rows over 128, widths over one pass
// (kc) with a partial last pass, and the padded widths that avoid a
// multiple of 1 KB (n = 245 in float32, 110 in float64). The pools are
// filled with NaN first: the padding of a reused buffer must not leak into
// G. The bound is float32 accumulation: a few ulps of Σ|x_ik||x_jk|.
func TestFull(t *testing.T) {
	requireHost(t)
	r := rand.New(rand.NewPCG(3, 4))
	for range 2 {
		b32, b64 := make([]float32, 1<<20), make([]float64, 1<<20)
		for i := range b32 {
			b32[i], b64[i] = float32(math.NaN()), math.NaN()
		}
		putBuffer(b32)
		putBuffer(b64)
	}
	testFull(t, r, "float32", 1e-6, func(g []float64, x []float64, n, d, workers int) error {
		x32, g32 := make([]float32, len(x)), make([]float32, len(g))
		for i, v := range x {
			x32[i] = float32(v)
			x[i] = float64(x32[i]) // the reference sees the same inputs
		}
		for i := range g32 {
			g32[i] = float32(math.NaN()) // every entry must be written
		}
		err := Full(g32, x32, n, d, workers)
		for i, v := range g32 {
			g[i] = float64(v)
		}
		return err
	})
	// float64: every product exact to 2⁻⁵³ and sums of at most d terms.
	testFull(t, r, "float64", 1e-13, func(g []float64, x []float64, n, d, workers int) error {
		return Full64(g, x, n, d, workers)
	})
	for _, c := range []struct{ g, x, n, d int }{{4, 5, 2, 2}, {3, 4, 2, 2}, {0, 0, 0, 1}, {1, 0, 1, 0}} {
		if err := Full(make([]float32, c.g), make([]float32, c.x), c.n, c.d, 1); err == nil {
			t.Errorf("Full with %d and %d values for n=%d d=%d: no error", c.g, c.x, c.n, c.d)
		}
		if err := Full64(make([]float64, c.g), make([]float64, c.x), c.n, c.d, 1); err == nil {
			t.Errorf("Full64 with %d and %d values for n=%d d=%d: no error", c.g, c.x, c.n, c.d)
		}
	}
}

func testFull(t *testing.T, r *rand.Rand, name string, tol float64, full func(g, x []float64, n, d, workers int) error) {
	for _, c := range []struct{ n, d int }{{1, 1}, {1, 16}, {2, 3}, {5, 17}, {4, 16}, {7, 31}, {13, kc}, {9, kc + 1}, {16, 5}, {32, 33}, {48, 2*kc + 40}, {101, 2880}, {110, 33}, {129, 70}, {245, 37}} {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/n=%d/d=%d/workers=%d", name, c.n, c.d, workers), func(t *testing.T) {
				x := make([]float64, c.n*c.d)
				for i := range x {
					x[i] = r.NormFloat64() + 0.5
				}
				g := make([]float64, c.n*c.n)
				for i := range g {
					g[i] = math.NaN() // every entry must be written
				}
				if err := full(g, x, c.n, c.d, workers); err != nil {
					t.Fatal(err)
				}
				for i := range c.n {
					for j := range c.n {
						var want, abs float64
						for k := range c.d {
							p := float64(x[i*c.d+k]) * float64(x[j*c.d+k])
							want += p
							abs += math.Abs(p)
						}
						if got := g[i*c.n+j]; !(math.Abs(got-want) <= tol*abs) {
							t.Fatalf("G[%d,%d] = %g, want %g (Σ|x_ik x_jk| = %g)", i, j, got, want, abs)
						}
						if g[i*c.n+j] != g[j*c.n+i] {
							t.Fatalf("G[%d,%d] = %g but G[%d,%d] = %g", i, j, g[i*c.n+j], j, i, g[j*c.n+i])
						}
					}
				}
			})
		}
	}
}

// BenchmarkGram times one Gram matrix at the analysis workload's size (n =
// 400 prompts, d = 4096, the widest model) by the host kernel and by the
// GoMLX panels, both on GOMAXPROCS cores.
func BenchmarkGram(b *testing.B) {
	const n, d = 400, 4096
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	g := make([]float32, n*n)
	flops := float64(n) * float64(n) * float64(d) // the upper triangle's FMAs, twice
	b.Run("host", func(b *testing.B) {
		requireHost(b)
		for b.Loop() {
			if err := Full(g, x, n, d, 0); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("gomlx", func(b *testing.B) {
		backend, err := gobackend.New("")
		if err != nil {
			b.Fatal(err)
		}
		exec, err := NewExec(backend)
		if err != nil {
			b.Fatal(err)
		}
		defer exec.Finalize()
		h := Height(n)
		var args []any
		for s0 := 0; s0 < n; s0 += h {
			e := min(n, s0+h)
			t, _ := tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Float32, e-s0, d))
			tensors.MutableFlatData(t, func(flat []float32) { copy(flat, x[s0*d:e*d]) })
			args = append(args, t)
		}
		for b.Loop() {
			outs, err := exec.Exec(args...)
			if err != nil {
				b.Fatal(err)
			}
			if err := Mirror(g, outs, n); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// namedBackend is a backend that only reports its name, as String does.
type namedBackend struct {
	compute.Backend
	name string
}

func (b namedBackend) String() string { return b.name }

// TestHostFor: the host kernel serves the Go backend (and nil, meaning it),
// never another backend.
func TestHostFor(t *testing.T) {
	requireHost(t)
	goBackend, err := gobackend.New("")
	if err != nil {
		t.Fatal(err)
	}
	if !HostFor(goBackend) {
		t.Errorf("HostFor(%s) = false: the Go backend must use the host kernel", goBackend)
	}
	for _, c := range []struct {
		b    compute.Backend
		want bool
	}{{nil, true}, {namedBackend{name: "go"}, true}, {namedBackend{name: "xla"}, false}} {
		if got := HostFor(c.b); got != c.want {
			t.Errorf("HostFor(%v) = %v, want %v", c.b, got, c.want)
		}
	}
	defer SetHost(true)
	SetHost(false)
	if HostFor(nil) {
		t.Error("HostFor(nil) with the kernel turned off")
	}
}

// BenchmarkMulTN64: one pair's product in the shape metric at n = 400
// (Bₐᵀ·B_b, 399×400 by 400×399), on one goroutine.
func BenchmarkMulTN64(b *testing.B) {
	requireHost(b)
	const n, k = 400, 399
	r := rand.New(rand.NewPCG(7, 8))
	x, y, c := make([]float64, n*k), make([]float64, n*k), make([]float64, k*k)
	for i := range x {
		x[i], y[i] = r.NormFloat64(), r.NormFloat64()
	}
	for b.Loop() {
		if err := MulTN64(c, x, k, y, k, n, k, k, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(2*n*k*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// TestMulTN64 compares Aᵀ·B with a float64 loop of the same sums, for
// sizes below, at and above the 12×16 tiles, row strides wider than the
// rows, depths over one pass (kc) and one or two workers, and widths kb of
// whole tiles (C written in place, with and without a partial last row
// tile); bad sizes give errors.
func TestMulTN64(t *testing.T) {
	requireHost(t)
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct{ n, ka, kb, lda, ldb int }{
		{1, 1, 1, 1, 1}, {3, 5, 7, 5, 9}, {17, 12, 16, 12, 16}, {40, 13, 17, 20, 17}, {kc + 3, 30, 45, 31, 50}, {400, 97, 61, 97, 61},
		{40, 13, 32, 20, 40}, {kc + 3, 25, 48, 25, 48}, {5, 24, 16, 24, 16}, {300, 299, 64, 299, 80},
	} {
		for _, workers := range []int{1, 2} {
			a := densetest.Normals(r, (c.n-1)*c.lda+c.ka)
			b := densetest.Normals(r, (c.n-1)*c.ldb+c.kb)
			got := make([]float64, c.ka*c.kb)
			for i := range got {
				got[i] = math.NaN() // C's old values must not count
			}
			if err := MulTN64(got, a, c.lda, b, c.ldb, c.n, c.ka, c.kb, workers); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < c.ka; i++ {
				for j := 0; j < c.kb; j++ {
					var want, abs float64
					for k := 0; k < c.n; k++ {
						p := a[k*c.lda+i] * b[k*c.ldb+j]
						want += p
						abs += math.Abs(p)
					}
					if d := math.Abs(got[i*c.kb+j] - want); !(d <= 1e-13*abs) {
						t.Fatalf("%+v workers %d: C[%d,%d] = %.17g, want %.17g", c, workers, i, j, got[i*c.kb+j], want)
					}
				}
			}
		}
	}
	for _, c := range []struct{ lc, la, lda, lb, ldb, n, ka, kb int }{
		{7, 6, 2, 9, 3, 3, 2, 3}, // C too long
		{6, 5, 2, 9, 3, 3, 2, 3}, // A too short
		{6, 6, 1, 9, 3, 3, 2, 3}, // stride below the row
		{0, 0, 1, 0, 1, 0, 1, 1}, // no rows
	} {
		if err := MulTN64(make([]float64, c.lc), make([]float64, c.la), c.lda, make([]float64, c.lb), c.ldb, c.n, c.ka, c.kb, 1); err == nil {
			t.Errorf("MulTN64%+v: no error", c)
		}
	}
}

// TestSubMulTN64 compares C −= Aᵀ·B with a float64 loop, on blocks of
// C inside a wider matrix (whose other values must not change), for sizes
// below, at and past the 12×16 tiles and depths past one pass (kc); bad
// sizes give errors.
func TestSubMulTN64(t *testing.T) {
	requireHost(t)
	r := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct{ n, ka, kb, lda, ldb, ldc int }{
		{1, 1, 1, 1, 1, 1}, {32, 5, 7, 6, 9, 8}, {32, 12, 16, 12, 16, 16}, {32, 24, 32, 30, 40, 33},
		{33, 13, 17, 20, 17, 19}, {kc + 3, 40, 45, 41, 50, 47}, {32, 383, 383, 399, 399, 399},
	} {
		a := densetest.Normals(r, (c.n-1)*c.lda+c.ka)
		b := densetest.Normals(r, (c.n-1)*c.ldb+c.kb)
		cm := make([]float64, c.ka*c.ldc+3)
		for i := range cm {
			cm[i] = r.NormFloat64()
		}
		before := slices.Clone(cm)
		if err := SubMulTN64(cm, c.ldc, a, c.lda, b, c.ldb, c.n, c.ka, c.kb); err != nil {
			t.Fatal(err)
		}
		for i := range cm {
			row, col := i/c.ldc, i%c.ldc
			want, abs := before[i], math.Abs(before[i])
			if row < c.ka && col < c.kb {
				for k := 0; k < c.n; k++ {
					p := a[k*c.lda+row] * b[k*c.ldb+col]
					want -= p
					abs += math.Abs(p)
				}
			}
			if d := math.Abs(cm[i] - want); !(d <= 1e-13*abs) {
				t.Fatalf("%+v: C[%d,%d] = %.17g, want %.17g", c, row, col, cm[i], want)
			}
		}
	}
	for _, c := range []struct{ lc, ldc, la, lda, lb, ldb, n, ka, kb int }{
		{5, 3, 6, 2, 9, 3, 3, 2, 3}, // C too short
		{6, 3, 5, 2, 9, 3, 3, 2, 3}, // A too short
		{6, 2, 6, 2, 9, 3, 3, 2, 3}, // C's stride below the row
		{6, 3, 6, 2, 9, 3, 0, 2, 3}, // no rows
	} {
		if err := SubMulTN64(make([]float64, c.lc), c.ldc, make([]float64, c.la), c.lda, make([]float64, c.lb), c.ldb, c.n, c.ka, c.kb); err == nil {
			t.Errorf("SubMulTN64%+v: no error", c)
		}
	}
}

// TestGenerated: kernel_amd64.s is what gen_kernels.go writes.
func TestGenerated(t *testing.T) { testenv.Generated(t, "gen_kernels.go", "kernel_amd64.s") }
