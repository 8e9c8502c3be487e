package procrustes

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/densetest"
)

// ref is testdata/ref.json, written by testdata/gen_ref.py from numpy 1.24.2
// and scipy 1.10.1 (Debian bookworm): each value is ‖AR − B‖ for the rotation
// R from scipy.linalg.orthogonal_procrustes.
type ref struct {
	Distance []struct {
		Name string      `json:"name"`
		X    [][]float64 `json:"x"`
		Y    [][]float64 `json:"y"`
		D2   float64     `json:"d2"`
	} `json:"distance"`
	Residual []struct {
		Name  string      `json:"name"`
		A     [][]float64 `json:"a"`
		B     [][]float64 `json:"b"`
		GramA [][]float64 `json:"gram_a"`
		GramB [][]float64 `json:"gram_b"`
		Res   float64     `json:"res"`
		Rel   float64     `json:"rel"`
	} `json:"residual"`
}

func loadRef(t *testing.T) *ref {
	t.Helper()
	b, err := os.ReadFile("testdata/ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var r ref
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Distance) == 0 || len(r.Residual) == 0 {
		t.Fatal("testdata/ref.json is incomplete")
	}
	return &r
}

func symOf(rows [][]float64) *mat.SymDense {
	s := mat.NewSymDense(len(rows), nil)
	for i := range rows {
		for j := i; j < len(rows); j++ {
			s.SetSym(i, j, rows[i][j])
		}
	}
	return s
}

// Tolerances. d² and res² are sums of O(1) terms with rounding of a few
// ulps; res itself is the square root of a difference and is compared with
// a relative tolerance.
const (
	tolSquared = 1e-12
	tolRes     = 1e-10
)

func TestDistanceAgainstScipy(t *testing.T) {
	for _, c := range loadRef(t).Distance {
		x, y := densetest.FromRows(c.X), densetest.FromRows(c.Y)
		got, err := Distance(x, y)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if math.Abs(got-c.D2) > tolSquared {
			t.Errorf("%s: d² = %.17g, scipy %.17g", c.Name, got, c.D2)
		}
		// Both routes, whichever Distance picked.
		xn, _ := normalize("x", x)
		yn, _ := normalize("y", y)
		for route, f := range map[string]func(x, y *mat.Dense) (float64, error){"direct": nuclearNormDirect, "grams": nuclearNormGrams} {
			nuc, err := f(xn, yn)
			if err != nil {
				t.Fatal(err)
			}
			if d2 := 2 - 2*nuc; math.Abs(d2-c.D2) > tolSquared {
				t.Errorf("%s, %s route: d² = %.17g, scipy %.17g", c.Name, route, d2, c.D2)
			}
		}
	}
}

func TestResidualAgainstScipy(t *testing.T) {
	for _, c := range loadRef(t).Residual {
		res, rel, err := Residual(densetest.FromRows(c.A), densetest.FromRows(c.B))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if math.Abs(res-c.Res) > tolRes*c.Res || math.Abs(rel-c.Rel) > tolRes*c.Rel {
			t.Errorf("%s: Residual = %.17g, %.17g; scipy %.17g, %.17g", c.Name, res, rel, c.Res, c.Rel)
		}
		// From numpy's Grams.
		res, rel, err = ResidualFromGrams(symOf(c.GramA), symOf(c.GramB))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if math.Abs(res-c.Res) > tolRes*c.Res || math.Abs(rel-c.Rel) > tolRes*c.Rel {
			t.Errorf("%s: ResidualFromGrams = %.17g, %.17g; scipy %.17g, %.17g", c.Name, res, rel, c.Res, c.Rel)
		}
	}
}

// transformed returns s·x·Q + 1·tᵀ for a random orthogonal Q and offsets t.
func transformed(rnd *rand.Rand, x *mat.Dense, s float64) *mat.Dense {
	n, d := x.Dims()
	var y mat.Dense
	y.Mul(x, densetest.Orthogonal(rnd, d))
	y.Scale(s, &y)
	for j := 0; j < d; j++ {
		t := 10 * rnd.NormFloat64()
		for i := 0; i < n; i++ {
			y.Set(i, j, y.At(i, j)+t)
		}
	}
	return &y
}

func TestDistanceIdentities(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ n, d int }{{12, 4}, {9, 9}, {5, 80}, {30, 200}} {
		x := densetest.Normal(rnd, tc.n, tc.d)
		for _, s := range []float64{1, 0.01, 250} {
			y := transformed(rnd, x, s)
			got, err := Distance(x, y)
			if err != nil {
				t.Fatal(err)
			}
			if got > 1e-12 {
				t.Errorf("n=%d d=%d: d²(X, %g·XQ + t) = %g, want 0", tc.n, tc.d, s, got)
			}
		}
		// With a narrower copy: X padded by zero columns is X up to rotation.
		wide := mat.NewDense(tc.n, tc.d+3, nil)
		wide.Slice(0, tc.n, 0, tc.d).(*mat.Dense).Copy(x)
		if got, err := Distance(x, transformed(rnd, wide, 2)); err != nil || got > 1e-12 {
			t.Errorf("n=%d d=%d: d²(X, [X 0]Q) = %g, %v; want 0", tc.n, tc.d, got, err)
		}
	}
	// Two samples: after centring both representations are ±v/2 for one
	// vector v, equal up to rotation and scale.
	if got, err := Distance(densetest.Normal(rnd, 2, 3), densetest.Normal(rnd, 2, 7)); err != nil || got > 1e-14 {
		t.Errorf("n=2: d² = %g, %v; want 0", got, err)
	}
}

func TestDistanceSymmetricAndBounded(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct{ n, dx, dy int }{{10, 3, 3}, {10, 3, 20}, {6, 50, 40}, {40, 8, 300}} {
		x, y := densetest.Normal(rnd, tc.n, tc.dx), densetest.Normal(rnd, tc.n, tc.dy)
		xy, err := Distance(x, y)
		if err != nil {
			t.Fatal(err)
		}
		yx, err := Distance(y, x)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(xy-yx) > 1e-14 || xy <= 0 || xy > 2 {
			t.Errorf("%+v: d²(x,y) = %.17g, d²(y,x) = %.17g; want equal, in (0, 2]", tc, xy, yx)
		}
	}
}

// TestRoutesAgree compares the direct and Gram routes of the nuclear norm
// on shapes where each, or neither, would be chosen, including rank-deficient
// inputs (d_x < n < d_y, and centred inputs of rank n−1).
func TestRoutesAgree(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		n, dx, dy int
		grams     bool // the route useGrams must pick
	}{
		{50, 5, 5, false}, {20, 20, 20, false}, {8, 100, 100, true}, {10, 3, 200, false}, {6, 500, 30, true}, {40, 400, 600, true},
	} {
		if got := useGrams(tc.n, tc.dx, tc.dy); got != tc.grams {
			t.Errorf("%+v: useGrams = %v", tc, got)
		}
		x, _ := normalize("x", densetest.Normal(rnd, tc.n, tc.dx))
		y, _ := normalize("y", densetest.Normal(rnd, tc.n, tc.dy))
		direct, err := nuclearNormDirect(x, y)
		if err != nil {
			t.Fatal(err)
		}
		grams, err := nuclearNormGrams(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(direct-grams) > 1e-12 {
			t.Errorf("%+v: ‖XᵀY‖_* direct %.17g, via Grams %.17g", tc, direct, grams)
		}
	}
}

func TestResidualIdentities(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))

	// Via Grams equals via the explicit SVD of AᵀB (small p).
	for _, tc := range []struct{ l, p int }{{3, 5}, {6, 6}, {8, 4}, {5, 30}} {
		a, b := densetest.Normal(rnd, tc.l, tc.p), densetest.Normal(rnd, tc.l, tc.p)
		var atb mat.Dense
		atb.Mul(a.T(), b)
		var svd mat.SVD
		if !svd.Factorize(&atb, mat.SVDNone) {
			t.Fatal("SVD failed")
		}
		var nuc float64
		for _, s := range svd.Values(nil) {
			nuc += s
		}
		na, nb := mat.Norm(a, 2), mat.Norm(b, 2)
		want := math.Sqrt(na*na + nb*nb - 2*nuc)

		var ga, gb mat.SymDense
		ga.SymOuterK(1, a)
		gb.SymOuterK(1, b)
		viaGrams, rel, err := ResidualFromGrams(&ga, &gb)
		if err != nil {
			t.Fatal(err)
		}
		direct, _, err := Residual(a, b)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(viaGrams-want) > tolRes*want || math.Abs(direct-want) > tolRes*want {
			t.Errorf("%+v: ResidualFromGrams %.17g, Residual %.17g, SVD of AᵀB %.17g", tc, viaGrams, direct, want)
		}
		if wantRel := want / math.Sqrt(na*na+nb*nb); math.Abs(rel-wantRel) > tolRes*wantRel {
			t.Errorf("%+v: rel %.17g, want %.17g", tc, rel, wantRel)
		}
	}

	// B = AQ: the residual vanishes, up to √ε·‖A‖ (cancellation in res²).
	for _, tc := range []struct{ l, p int }{{4, 6}, {5, 300}} {
		a := densetest.Normal(rnd, tc.l, tc.p)
		var b mat.Dense
		b.Mul(a, densetest.Orthogonal(rnd, tc.p))
		res, rel, err := Residual(a, &b)
		if err != nil {
			t.Fatal(err)
		}
		if rel > 1e-7 || res > 1e-7*mat.Norm(a, 2) {
			t.Errorf("%+v: residual of A and AQ = %g (rel %g), want 0", tc, res, rel)
		}
	}

	// One row: min_R ‖aR − b‖ = |‖a‖ − ‖b‖|.
	a, b := densetest.Normal(rnd, 1, 7), densetest.Normal(rnd, 1, 7)
	b.Scale(3, b)
	res, _, err := Residual(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if want := math.Abs(mat.Norm(a, 2) - mat.Norm(b, 2)); math.Abs(res-want) > 1e-7*want {
		t.Errorf("one row: residual %.17g, want |‖a‖ − ‖b‖| = %.17g", res, want)
	}

	// A zero: res = ‖B‖, rel = 1.
	res, rel, err := Residual(mat.NewDense(3, 4, nil), densetest.Normal(rnd, 3, 4))
	if err != nil || rel != 1 || res <= 0 {
		t.Errorf("zero a: res %v, rel %v, %v; want rel 1", res, rel, err)
	}
}

// residualQR computes the residual without Grams and without a p×p matrix:
// the thin QR factorization [Aᵀ Bᵀ] = Q [R₁ R₂] gives A = R₁ᵀQᵀ, B = R₂ᵀQᵀ,
// so AᵀB = Q R₁R₂ᵀ Qᵀ has the singular values of the 2L×2L matrix R₁R₂ᵀ.
func residualQR(t *testing.T, a, b *mat.Dense) (res2, total float64) {
	l, p := a.Dims()
	s := mat.NewDense(p, 2*l, nil)
	s.Slice(0, p, 0, l).(*mat.Dense).Copy(a.T())
	s.Slice(0, p, l, 2*l).(*mat.Dense).Copy(b.T())
	var qr mat.QR
	qr.Factorize(s)
	var r mat.Dense
	qr.RTo(&r)
	top := r.Slice(0, 2*l, 0, 2*l).(*mat.Dense)
	r1, r2 := top.Slice(0, 2*l, 0, l), top.Slice(0, 2*l, l, 2*l)
	var m mat.Dense
	m.Mul(r1, r2.T())
	var svd mat.SVD
	if !svd.Factorize(&m, mat.SVDNone) {
		t.Fatal("SVD failed")
	}
	var nuc float64
	for _, v := range svd.Values(nil) {
		nuc += v
	}
	n1, n2 := mat.Norm(r1, 2), mat.Norm(r2, 2)
	total = n1*n1 + n2*n2
	return total - 2*nuc, total
}

// TestResidualLargeP uses p far above L, where Residual takes the Gram
// route, and checks res² against residualQR (no Grams, no p×p matrix) to
// 1e-12·(‖A‖² + ‖B‖²).
func TestResidualLargeP(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 10))
	l, p := 4, 20000
	if !useGrams(l, p, p) {
		t.Fatal("Gram route not chosen for large p")
	}
	a := densetest.Normal(rnd, l, p)
	// B = A Q + E for a signed permutation Q (orthogonal, not formed).
	perm := rnd.Perm(p)
	for _, noise := range []float64{0.01, 0.5, 3} {
		b := mat.NewDense(l, p, nil)
		for i := 0; i < l; i++ {
			for j := 0; j < p; j++ {
				b.Set(i, perm[j], -a.At(i, j)+noise*rnd.NormFloat64())
			}
		}
		res, rel, err := Residual(a, b)
		if err != nil {
			t.Fatal(err)
		}
		want2, total := residualQR(t, a, b)
		if math.Abs(res*res-want2) > 1e-12*total || math.Abs(rel*rel-want2/total) > 1e-12 {
			t.Errorf("noise %g: res² = %.17g, via QR %.17g (‖A‖²+‖B‖² = %g)", noise, res*res, want2, total)
		}
	}
}

func TestErrors(t *testing.T) {
	rnd := rand.New(rand.NewPCG(11, 12))
	x, y := densetest.Normal(rnd, 5, 3), densetest.Normal(rnd, 5, 4)
	withAt := func(m *mat.Dense, i, j int, v float64) *mat.Dense {
		c := mat.DenseCopyOf(m)
		c.Set(i, j, v)
		return c
	}
	constant := mat.NewDense(5, 3, nil)
	for i := 0; i < 5; i++ {
		constant.SetRow(i, []float64{1, -2, 3})
	}
	for _, tc := range []struct {
		name string
		x, y mat.Matrix
		want string
	}{
		{"n mismatch", x, densetest.Normal(rnd, 6, 4), "x has 5 samples (rows) and y has 6"},
		{"n too small", x.Slice(0, 1, 0, 3), y.Slice(0, 1, 0, 4), "needs at least 2"},
		{"NaN in x", withAt(x, 2, 1, math.NaN()), y, "x has non-finite value NaN at row 2, column 1"},
		{"Inf in y", x, withAt(y, 4, 3, math.Inf(1)), "y has non-finite value +Inf at row 4, column 3"},
		{"constant x", constant, y, "x has zero variance"},
		{"constant y", x, constant, "y has zero variance"},
		{"nil y", x, nil, "y is nil"},
		{"empty x", &mat.Dense{}, y, "x is empty"},
		{"overflow", withAt(withAt(withAt(x, 0, 0, 1.7e308), 1, 0, 1.7e308), 2, 0, -1.7e308), y, "overflow while centring x"},
	} {
		if got, err := Distance(tc.x, tc.y); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Distance %s: %v, %v; want error containing %q", tc.name, got, err, tc.want)
		}
	}

	for _, tc := range []struct {
		name string
		a, b mat.Matrix
		want string
	}{
		{"rows mismatch", x, densetest.Normal(rnd, 4, 3), "a has 5 rows and b has 4"},
		{"NaN in b", x, withAt(x, 0, 2, math.NaN()), "b has non-finite value NaN at row 0, column 2"},
		{"both zero", mat.NewDense(2, 3, nil), mat.NewDense(2, 5, nil), "both zero"},
		{"overflow", withAt(x, 0, 0, 1e200), x, "overflow"},
		{"nil a", nil, x, "a is nil"},
	} {
		if res, rel, err := Residual(tc.a, tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Residual %s: %v, %v, %v; want error containing %q", tc.name, res, rel, err, tc.want)
		}
	}

	var g mat.SymDense
	g.SymOuterK(1, x)
	notPSD := mat.NewSymDense(2, []float64{1, 2, 2, 1}) // eigenvalues 3, −1
	nanGram := mat.NewSymDense(5, nil)
	nanGram.CopySym(&g)
	nanGram.SetSym(1, 3, math.NaN())
	for _, tc := range []struct {
		name   string
		ga, gb mat.Symmetric
		want   string
	}{
		{"size mismatch", &g, mat.NewSymDense(4, nil), "gA is 5×5 and gB is 4×4"},
		{"NaN", &g, nanGram, "gB has non-finite value NaN at (1, 3)"},
		{"not PSD", notPSD, notPSD, "gA is not a Gram matrix"},
		{"both zero", mat.NewSymDense(3, nil), mat.NewSymDense(3, nil), "both zero"},
		{"nil", nil, &g, "gA is nil"},
	} {
		if res, rel, err := ResidualFromGrams(tc.ga, tc.gb); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ResidualFromGrams %s: %v, %v, %v; want error containing %q", tc.name, res, rel, err, tc.want)
		}
	}
}

func BenchmarkDistance(b *testing.B) {
	rnd := rand.New(rand.NewPCG(13, 14))
	for _, tc := range []struct {
		name  string
		n, d  int
		route func(x, y *mat.Dense) (float64, error)
	}{
		{"n400-d1024/direct", 400, 1024, nuclearNormDirect},
		{"n400-d1024/grams", 400, 1024, nuclearNormGrams},
	} {
		x, _ := normalize("x", densetest.Normal(rnd, tc.n, tc.d))
		y, _ := normalize("y", densetest.Normal(rnd, tc.n, tc.d))
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := tc.route(x, y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
