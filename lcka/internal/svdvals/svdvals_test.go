package svdvals

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/grampanel"

	"github.com/layersim/layersim/lcka/internal/densetest"
)

func random(rng *rand.Rand, m, n int, scale func(j int) float64) *mat.Dense {
	a := mat.NewDense(m, n, nil)
	for i := range m {
		for j := range n {
			a.Set(i, j, rng.NormFloat64()*scale(j))
		}
	}
	return a
}

// TestAgainstGonum: every singular value within 1e-13·‖A‖₂·max(m, n) of
// mat.SVD's, on square, tall, wide, rank-deficient, graded and tiny or huge
// matrices.
func TestAgainstGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	one := func(int) float64 { return 1 }
	lowRank := func(m, n, r int) *mat.Dense {
		var p mat.Dense
		p.Mul(random(rng, m, r, one), random(rng, r, n, one))
		return &p
	}
	cases := map[string]*mat.Dense{
		"1×1":             mat.NewDense(1, 1, []float64{-3}),
		"1×5":             random(rng, 1, 5, one),
		"5×1":             random(rng, 5, 1, one),
		"9×9":             random(rng, 9, 9, one),
		"square 120":      random(rng, 120, 120, one),
		"square 399":      random(rng, 399, 399, one),
		"tall 420×300":    random(rng, 420, 300, one),
		"tall 150×37":     random(rng, 150, 37, one),
		"wide 37×150":     random(rng, 37, 150, one),
		"tall 208×199":    random(rng, 208, 199, one),
		"wide 199×208":    random(rng, 199, 208, one),
		"rank 4 of 60×50": lowRank(60, 50, 4),
		"graded":          random(rng, 80, 80, func(j int) float64 { return math.Pow(10, -float64(j)/6) }),
		"tiny":            random(rng, 30, 20, func(int) float64 { return 1e-200 }),
		// A first column whose squares are subnormal next to the others',
		// and one that is itself subnormal.
		"subnormal column": random(rng, 40, 30, func(j int) float64 {
			if j == 0 {
				return 1e-310
			}
			return 1
		}),
		"tiny column": random(rng, 40, 30, func(j int) float64 {
			if j == 0 {
				return 1e-159
			}
			return 1
		}),
		"huge": random(rng, 30, 20, func(int) float64 { return 1e200 }),
		// Every entry subnormal: 1/peak would overflow.
		"subnormal": random(rng, 30, 20, func(int) float64 { return 1e-310 }),
		"zeros":     mat.NewDense(6, 4, nil),
		"identity": func() *mat.Dense {
			a := mat.NewDense(17, 17, nil)
			for i := range 17 {
				a.Set(i, i, 1)
			}
			return a
		}(),
		"orthogonal rows": func() *mat.Dense {
			var qr mat.QR
			qr.Factorize(random(rng, 40, 40, one))
			var q mat.Dense
			qr.QTo(&q)
			return mat.DenseCopyOf(q.Slice(0, 25, 0, 40))
		}(),
	}
	eachReduction(t, func(t *testing.T) {
		for name, a := range cases {
			t.Run(name, func(t *testing.T) { checkValues(t, a) })
		}
	})
}

// eachReduction runs f with the bidiagonal reduction column by column, by
// panels of the default width, by wider ones (16 columns from 112 on), and
// by narrow panels: of 4 columns from 12 columns on (several from 16), and
// of 1 from 9.
func eachReduction(t *testing.T, f func(t *testing.T)) {
	width, from := panelWidth, blockedFrom
	t.Cleanup(func() { panelWidth, blockedFrom = width, from })
	for _, c := range []struct {
		name        string
		width, from int
	}{
		{"columns", width, 1 << 30},
		{"panels", width, from},
		{"panels of 16", 16, 96},
		{"panels of 4", 4, 8},
		{"panels of 1", 1, 8},
	} {
		panelWidth, blockedFrom = c.width, c.from
		t.Run(c.name, f)
	}
}

// checkValues: Values(a) as mat.SVD's singular values, each within
// 1e-13·‖A‖₂·max(m, n).
func checkValues(t *testing.T, a *mat.Dense) {
	m, n := a.Dims()
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDNone) {
		t.Fatal("gonum failed")
	}
	want := svd.Values(nil)
	got, err := Values(slices.Clone(a.RawMatrix().Data), m, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d values, gonum %d", len(got), len(want))
	}
	tol := 1e-13 * float64(max(m, n)) * want[0]
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol {
			t.Errorf("σ%d = %.17g, gonum %.17g", i, got[i], want[i])
		}
	}
}

// TestPadding: zero columns and rows appended to a matrix stay zero
// through the reduction, so that its bidiagonal form is the matrix's
// followed by zeros (which Values relies on when it pads the width to a
// multiple of eight), and the bidiagonal's singular values are the
// matrix's.
func TestPadding(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, c := range []struct{ m, n, mp, np int }{{5, 3, 8, 8}, {199, 199, 200, 200}, {208, 197, 208, 200}, {130, 129, 136, 136}} {
		a := random(rng, c.m, c.n, func(int) float64 { return 0.01 })
		p := make([]float64, c.mp*c.np)
		for i := range c.m {
			for j := range c.n {
				p[i*c.np+j] = a.At(i, j)
			}
		}
		d, e := make([]float64, c.np), make([]float64, c.np)
		bidiagonalize(p, c.mp, c.np, d, e)
		for k := c.n; k < c.np; k++ {
			if d[k] != 0 || e[k-1] != 0 {
				t.Fatalf("%+v: d[%d] = %g, e[%d] = %g, want 0", c, k, d[k], k-1, e[k-1])
			}
		}
		var svd mat.SVD
		if !svd.Factorize(a, mat.SVDNone) {
			t.Fatal("gonum's SVD failed")
		}
		want := svd.Values(nil)
		got := make([]float64, c.n)
		var impl gonum.Implementation
		if info := impl.Dlasq1(c.n, d[:c.n], e[:c.n], make([]float64, 4*c.n)); info != 0 {
			t.Fatal(info)
		}
		copy(got, d[:c.n])
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-13*want[0] {
				t.Fatalf("%+v: σ%d = %g, gonum %g", c, i, got[i], want[i])
			}
		}
	}
}

// TestRankUpdate: the trailing update (on grampanel's tile kernel where
// the CPU has it) against gonum's Dgemm, for blocks smaller than a 12×16
// tile, of whole tiles and with partial tiles at both edges, and inner
// dimensions from 1 to past the reductions' 32; and the same with the
// kernel turned off.
func TestRankUpdate(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	vec := func(n int) []float64 { return densetest.Normals(rng, n) }
	for _, host := range []bool{true, false} {
		was := grampanel.SetHost(host)
		for _, rows := range []int{1, 5, 12, 13, 40} {
			for _, cols := range []int{1, 8, 16, 17, 41} {
				for _, k := range []int{1, 6, 32, 33} {
					const lda = 50
					ldp, ldq := rows+3, cols+2
					a, p, q := vec((rows-1)*lda+cols), vec((k-1)*ldp+rows), vec((k-1)*ldq+cols)
					a2 := slices.Clone(a)
					rankUpdate(a, lda, rows, cols, p, ldp, q, ldq, k)
					rankUpdateGo(a2, lda, rows, cols, p, ldp, q, ldq, k)
					for i := range a {
						if math.Abs(a[i]-a2[i]) > 1e-13 {
							t.Fatalf("host %v, %d×%d, k = %d, value %d: %v, Dgemm %v", host, rows, cols, k, i, a[i], a2[i])
						}
					}
				}
			}
		}
		grampanel.SetHost(was)
	}
}

func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		a    []float64
		m, n int
	}{{nil, 0, 0}, {[]float64{1, 2, 3}, 2, 2}, {[]float64{math.NaN()}, 1, 1}, {[]float64{1, math.Inf(-1)}, 1, 2}} {
		if _, err := Values(c.a, c.m, c.n); err == nil {
			t.Errorf("%v (%d×%d): no error", c.a, c.m, c.n)
		}
	}
}

func BenchmarkValues(b *testing.B) {
	for _, n := range []int{200, 399} {
		rng := rand.New(rand.NewPCG(5, uint64(n)))
		a := random(rng, n, n, func(int) float64 { return 1 })
		buf := make([]float64, n*n)
		b.Run(fmt.Sprintf("svdvals/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				copy(buf, a.RawMatrix().Data)
				if _, err := Values(buf, n, n); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("gonum/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				var svd mat.SVD
				if !svd.Factorize(a, mat.SVDNone) {
					b.Fatal("failed")
				}
			}
		})
	}
}

// TestLeftVectors checks LeftVectors and Thin (checkLeftVectors) on square,
// wide, rank-deficient, graded and zero matrices.
func TestLeftVectors(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	one := func(int) float64 { return 1 }
	var lowRank mat.Dense
	lowRank.Mul(random(rng, 30, 3, one), random(rng, 3, 45, one))
	cases := map[string]*mat.Dense{
		"1×1":           mat.NewDense(1, 1, []float64{-2}),
		"1×6":           random(rng, 1, 6, one),
		"2×2":           random(rng, 2, 2, one),
		"square 90":     random(rng, 90, 90, one),
		"wide 40×130":   random(rng, 40, 130, one),
		"rank 3, 30×45": &lowRank,
		"graded":        random(rng, 50, 60, func(j int) float64 { return math.Pow(10, -float64(j)/10) }),
		"zeros":         mat.NewDense(3, 5, nil),
		"layer 40×300":  random(rng, 40, 300, one),
		"subnormal":     random(rng, 20, 30, func(int) float64 { return 1e-310 }),
		"square 260":    random(rng, 260, 260, one),
	}
	for _, f := range []struct {
		name string
		fn   func(a []float64, m, n int) ([]float64, []float64, error)
	}{{"LeftVectors", LeftVectors}, {"Thin", Thin}} {
		eachReduction(t, func(t *testing.T) {
			for name, a := range cases {
				t.Run(f.name+"/"+name, func(t *testing.T) { checkLeftVectors(t, a, f.fn) })
			}
		})
		if _, _, err := f.fn(make([]float64, 6), 3, 2); err == nil {
			t.Errorf("%s of a tall matrix: no error", f.name)
		}
	}
}

// checkLeftVectors: fn's values as mat.SVD's; its vectors orthonormal,
// each with ‖Aᵀuᵢ‖ = σᵢ and AAᵀuᵢ = σᵢ²uᵢ, and equal to gonum's up to sign
// where the values are well apart.
func checkLeftVectors(t *testing.T, a *mat.Dense, fn func(a []float64, m, n int) ([]float64, []float64, error)) {
	m, n := a.Dims()
	values, ut, err := fn(slices.Clone(a.RawMatrix().Data), m, n)
	if err != nil {
		t.Fatal(err)
	}
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThinU) {
		t.Fatal("gonum failed")
	}
	want := svd.Values(nil)
	var gu mat.Dense
	svd.UTo(&gu)
	norm := max(want[0], 1e-300)
	tol := 1e-13 * float64(n) * norm
	u := mat.NewDense(m, m, ut)
	var uut mat.Dense
	uut.Mul(u, u.T())
	for i := range m {
		if math.Abs(values[i]-want[i]) > tol {
			t.Errorf("σ%d = %.17g, gonum %.17g", i, values[i], want[i])
		}
		for j := range m {
			w := 0.0
			if i == j {
				w = 1
			}
			if math.Abs(uut.At(i, j)-w) > 1e-13*float64(n) {
				t.Fatalf("uᵢ·uⱼ (%d, %d) = %g", i, j, uut.At(i, j))
			}
		}
		ui := mat.NewVecDense(m, ut[i*m:(i+1)*m])
		var atu mat.VecDense
		atu.MulVec(a.T(), ui)
		if math.Abs(atu.Norm(2)-values[i]) > tol {
			t.Errorf("‖Aᵀu%d‖ = %g, σ = %g", i, atu.Norm(2), values[i])
		}
		var aatu mat.VecDense
		aatu.MulVec(a, &atu)
		for r := range m {
			if math.Abs(aatu.AtVec(r)-values[i]*values[i]*ui.AtVec(r)) > tol*norm {
				t.Fatalf("AAᵀu%d − σ²u%d at %d: %g", i, i, r, aatu.AtVec(r)-values[i]*values[i]*ui.AtVec(r))
			}
		}
		if want[i] > 1e-6*norm {
			sameUpToSign(t, i, want, ut[i*m:(i+1)*m], &gu)
		}
	}
}

// sameUpToSign checks that the vector ui is ±(column i of gonum's u) where
// σᵢ is well apart from its neighbours in values (descending), and does
// nothing elsewhere: within a cluster any basis is right.
func sameUpToSign(t *testing.T, i int, values, ui []float64, u *mat.Dense) {
	t.Helper()
	gap := 1e-6 * values[0]
	if i > 0 && values[i-1]-values[i] <= gap || i < len(values)-1 && values[i]-values[i+1] <= gap {
		return
	}
	dot := 0.0
	for r, v := range ui {
		dot += v * u.At(r, i)
	}
	if math.Abs(math.Abs(dot)-1) > 1e-9 {
		t.Errorf("u%d·gonum's = %.15g, want ±1", i, dot)
	}
}

// TestWhereverInMemory: the values depend on the matrix alone, not on
// where it lies (the kernels align their vectors to cache lines, so the
// reductions copy a matrix that does not start on one): the same matrix
// at each of eight offsets gives the same values to the bit, through
// Values, ValuesPair and LeftVectors.
func TestWhereverInMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, c := range [][2]int{{200, 200}, {203, 197}, {37, 150}, {120, 120}} {
		m, n := c[0], c[1]
		x := densetest.Normals(rng, m*n)
		at := func(off int) []float64 {
			buf := make([]float64, m*n+off)
			copy(buf[off:], x)
			return buf[off:]
		}
		var first, firstVecs []float64
		for off := range 8 {
			got, err := Values(at(off), m, n)
			if err != nil {
				t.Fatal(err)
			}
			pa, pb, err := ValuesPair(at(off), m, n, at(7-off), m, n)
			if err != nil {
				t.Fatal(err)
			}
			var vecs []float64
			if m <= n {
				if _, vecs, err = LeftVectors(at(off), m, n); err != nil {
					t.Fatal(err)
				}
			}
			if off == 0 {
				first, firstVecs = got, vecs
			}
			for what, v := range map[string][]float64{"Values": got, "ValuesPair's first": pa, "ValuesPair's second": pb} {
				if !slices.Equal(v, first) {
					t.Fatalf("%d×%d at offset %d: %s differ from offset 0's", m, n, off, what)
				}
			}
			if !slices.Equal(vecs, firstVecs) {
				t.Fatalf("%d×%d at offset %d: LeftVectors differ from offset 0's", m, n, off)
			}
		}
	}
}
