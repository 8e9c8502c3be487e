package rsa

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/densetest"
	"github.com/layersim/layersim/lcka/internal/grampanel/grampaneltest"
)

// ref is testdata/ref.json, written by testdata/gen_ref.py from numpy 1.24.2
// and scipy 1.10.1 (Debian bookworm); see the script for how each value was
// computed.
type ref struct {
	Provenance string `json:"provenance"`
	Cases      []struct {
		Name string      `json:"name"`
		X    [][]float64 `json:"x"`
		Y    [][]float64 `json:"y"`
		RDMs map[string]struct {
			X        []float64          `json:"x"`
			Y        []float64          `json:"y"`
			Scores   map[string]float64 `json:"scores"`
			Pipeline bool               `json:"pipeline"`
		} `json:"rdms"`
	} `json:"cases"`
	Vectors []struct {
		A         []float64 `json:"a"`
		B         []float64 `json:"b"`
		Spearman  float64   `json:"spearman"`
		Pearson   float64   `json:"pearson"`
		TauA      float64   `json:"kendall-tau-a"`
		Numerator int64     `json:"kendall-numerator"`
	} `json:"vectors"`
	AllPairs struct {
		Reps     [][][]float64          `json:"reps"`
		Expected map[string][][]float64 `json:"expected"`
	} `json:"allpairs"`
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
	if len(r.Cases) == 0 || len(r.Vectors) == 0 || len(r.AllPairs.Reps) == 0 {
		t.Fatal("testdata/ref.json is incomplete")
	}
	return &r
}

// symOf builds an RDM from its condensed upper triangle.
func symOf(v []float64) *mat.SymDense {
	n := int(math.Round((1 + math.Sqrt(1+8*float64(len(v)))) / 2))
	s := mat.NewSymDense(n, nil)
	k := 0
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			s.SetSym(i, j, v[k])
			k++
		}
	}
	return s
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*max(1, math.Abs(b)) }

// The tolerance for agreement with scipy on the same numbers: a few ulps of
// accumulated rounding.
const tolRef = 1e-12

func TestRDMAgainstScipy(t *testing.T) {
	r := loadRef(t)
	for _, c := range r.Cases {
		for name, want := range c.RDMs {
			dis, err := ParseDissimilarity(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range []struct {
				x    [][]float64
				want []float64
			}{{c.X, want.X}, {c.Y, want.Y}} {
				got, err := RDM(densetest.FromRows(in.x), dis)
				if err != nil {
					t.Fatalf("%s/%s: %v", c.Name, name, err)
				}
				n := got.SymmetricDim()
				k := 0
				for i := 0; i < n; i++ {
					if got.At(i, i) != 0 {
						t.Errorf("%s/%s: diagonal %d is %v", c.Name, name, i, got.At(i, i))
					}
					for j := i + 1; j < n; j++ {
						if !near(got.At(i, j), in.want[k], tolRef) {
							t.Errorf("%s/%s: RDM(%d,%d) = %v, pdist %v", c.Name, name, i, j, got.At(i, j), in.want[k])
						}
						k++
					}
				}
			}
		}
	}
}

func TestCompareAgainstScipy(t *testing.T) {
	r := loadRef(t)
	for _, c := range r.Cases {
		for disName, rd := range c.RDMs {
			dis, _ := ParseDissimilarity(disName)
			for cmpName, want := range rd.Scores {
				cmp, err := ParseComparison(cmpName)
				if err != nil {
					t.Fatal(err)
				}
				// On scipy's own RDMs: checks the comparison alone.
				got, err := CompareRDMs(symOf(rd.X), symOf(rd.Y), cmp)
				if err != nil {
					t.Fatal(err)
				}
				if !near(got, want, tolRef) {
					t.Errorf("%s %s:%s on pdist RDMs: got %.17g, scipy %.17g", c.Name, cmpName, disName, got, want)
				}
				if !rd.Pipeline {
					continue
				}
				got, err = Compare(densetest.FromRows(c.X), densetest.FromRows(c.Y), dis, cmp)
				if err != nil {
					t.Fatal(err)
				}
				if !near(got, want, tolRef) {
					t.Errorf("%s %s:%s: Compare = %.17g, scipy %.17g", c.Name, cmpName, disName, got, want)
				}
			}
		}
	}
}

func TestVectorsAgainstScipy(t *testing.T) {
	r := loadRef(t)
	for k, v := range r.Vectors {
		for _, tc := range []struct {
			cmp  Comparison
			want float64
		}{{Spearman, v.Spearman}, {Pearson, v.Pearson}, {KendallTauA, v.TauA}} {
			got, err := correlate(v.A, v.B, tc.cmp)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tc.want, tolRef) {
				t.Errorf("vector %d %v: got %.17g, scipy %.17g", k, tc.cmp, got, tc.want)
			}
		}
		m := int64(len(v.A))
		tau, _ := correlate(v.A, v.B, KendallTauA)
		if num := int64(math.Round(tau * float64(m*(m-1)/2))); num != v.Numerator {
			t.Errorf("vector %d: tau-a numerator %d, scipy-checked %d", k, num, v.Numerator)
		}
	}
}

func TestAllPairsAgainstScipy(t *testing.T) { grampaneltest.Both(t, testAllPairsAgainstScipy) }

func testAllPairsAgainstScipy(t *testing.T) {
	r := loadRef(t)
	reps := make([]mat.Matrix, len(r.AllPairs.Reps))
	for i, x := range r.AllPairs.Reps {
		reps[i] = densetest.FromRows(x)
	}
	if len(r.AllPairs.Expected) != 9 {
		t.Fatalf("want 9 methods in the fixture, have %d", len(r.AllPairs.Expected))
	}
	for name, want := range r.AllPairs.Expected {
		m, err := ParseMethod(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := AllPairs(reps, m.Dissimilarity, m.Comparison)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			for j := range want[i] {
				if !near(got.At(i, j), want[i][j], tolRef) {
					t.Errorf("%s (%d,%d): got %.17g, scipy %.17g", name, i, j, got.At(i, j), want[i][j])
				}
			}
		}
	}
}

// correlate compares two plain vectors.
func correlate(a, b []float64, c Comparison) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("length mismatch")
	}
	pa, err := prepare("a", a, c, nil)
	if err != nil {
		return 0, err
	}
	pb, err := prepare("b", b, c, nil)
	if err != nil {
		return 0, err
	}
	return compare(pa, pb, c, nil), nil
}

// naiveTauANumerator is the O(m²) definition Σ_{i<j} sign(a_i−a_j)·sign(b_i−b_j).
func naiveTauANumerator(a, b []float64) int64 {
	sign := func(x float64) int64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	}
	var s int64
	for i := range a {
		for j := i + 1; j < len(a); j++ {
			s += sign(a[i]-a[j]) * sign(b[i]-b[j])
		}
	}
	return s
}

func TestTauAMatchesNaive(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ m, levels int }{
		{3, 2}, {5, 2}, {17, 3}, {64, 4}, {200, 10}, {500, 1 << 30}, {1000, 7}, {3000, 50},
	} {
		a, b := make([]float64, tc.m), make([]float64, tc.m)
		for i := range a {
			a[i] = float64(rnd.IntN(tc.levels))
			if rnd.IntN(3) == 0 {
				b[i] = a[i]
			} else {
				b[i] = float64(rnd.IntN(tc.levels))
			}
		}
		if tc.levels == 2 { // make sure neither is constant
			a[0], a[1], b[0], b[1] = 0, 1, 1, 0
		}
		got, err := correlate(a, b, KendallTauA)
		if err != nil {
			t.Fatal(err)
		}
		n0 := float64(tc.m * (tc.m - 1) / 2)
		if want := float64(naiveTauANumerator(a, b)) / n0; got != want {
			t.Errorf("m=%d levels=%d: tau-a %.17g, naive %.17g", tc.m, tc.levels, got, want)
		}
	}
}

func TestInversions(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, m := range []int{0, 1, 2, 3, 7, 8, 9, 100, 257} {
		s := make([]int32, m)
		for i := range s {
			s[i] = int32(rnd.IntN(5))
		}
		var want int64
		for i := range s {
			for j := i + 1; j < m; j++ {
				if s[i] > s[j] {
					want++
				}
			}
		}
		if got := inversions(s, make([]int32, m)); got != want {
			t.Errorf("m=%d: %d inversions, want %d", m, got, want)
		}
	}
}

var (
	allDissimilarities = []Dissimilarity{Cosine, Correlation, Euclidean}
	allComparisons     = []Comparison{Spearman, Pearson, KendallTauA}
)

// TestInvariance checks that RSA with cosine or Euclidean RDMs does not
// change under isotropic scaling and orthogonal transforms of the features
// (and, for Euclidean, translations), and that the correlation dissimilarity
// does not change under per-row affine maps x_i ↦ a·x_i + b_i, a > 0.
func TestInvariance(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	n, d := 15, 8
	x := densetest.Normal(rnd, n, d)
	y := densetest.Normal(rnd, n, 11)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			y.Set(i, j, y.At(i, j)+x.At(i, j))
		}
	}

	var rot mat.Dense
	rot.Mul(x, densetest.Orthogonal(rnd, d))
	rot.Scale(3.7, &rot)
	shifted := mat.DenseCopyOf(&rot)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			shifted.Set(i, j, shifted.At(i, j)+float64(j)-2.5)
		}
	}
	rowAffine := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			rowAffine.Set(i, j, 0.3*x.At(i, j)+float64(i))
		}
	}
	for _, tc := range []struct {
		dis  Dissimilarity
		copy *mat.Dense
	}{
		{Cosine, &rot}, {Euclidean, &rot}, {Euclidean, shifted}, {Correlation, rowAffine},
	} {
		for _, c := range allComparisons {
			self, err := Compare(x, tc.copy, tc.dis, c)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(self-1) > 1e-12 {
				t.Errorf("%v/%v: similarity to a transformed copy %.17g, want 1", c, tc.dis, self)
			}
			want, err := Compare(x, y, tc.dis, c)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Compare(tc.copy, y, tc.dis, c)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-want) > 1e-12 || math.Abs(want) < 0.05 {
				t.Errorf("%v/%v: transformed %.17g, original %.17g", c, tc.dis, got, want)
			}
			back, _ := Compare(y, x, tc.dis, c)
			if back != want {
				t.Errorf("%v/%v: not symmetric: %.17g vs %.17g", c, tc.dis, back, want)
			}
		}
	}
}

func TestAllPairsMatchesCompare(t *testing.T) { grampaneltest.Both(t, testAllPairsMatchesCompare) }

func testAllPairsMatchesCompare(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	n := 40
	base := densetest.Normal(rnd, n, 6)
	var reps []mat.Matrix
	for l, d := range []int{6, 9, 4, 12, 7} {
		var x mat.Dense
		x.Mul(base, densetest.Normal(rnd, 6, d))
		x.Add(&x, densetest.Normal(rnd, n, d))
		if l == 3 { // integer-valued layer: ties in every RDM
			x.Apply(func(_, _ int, v float64) float64 { return math.Round(v) }, &x)
		}
		reps = append(reps, &x)
	}
	for _, dis := range allDissimilarities {
		for _, c := range allComparisons {
			all, err := AllPairs(reps, dis, c)
			if err != nil {
				t.Fatal(err)
			}
			for i := range reps {
				self, err := Compare(reps[i], reps[i], dis, c)
				if err != nil {
					t.Fatal(err)
				}
				if d := all.At(i, i); (c != KendallTauA && d != 1) || math.Abs(d-self) > 1e-13 {
					t.Errorf("%v/%v: diagonal %d = %v, Compare with itself %v", c, dis, i, d, self)
				}
				if c == KendallTauA && (i == 3) != (self < 1) {
					t.Errorf("%v/%v: τ_a of layer %d with itself is %v; want < 1 exactly for the layer with ties", c, dis, i, self)
				}
				for j := i + 1; j < len(reps); j++ {
					want, err := Compare(reps[i], reps[j], dis, c)
					if err != nil {
						t.Fatal(err)
					}
					if got := all.At(i, j); math.Abs(got-want) > 1e-13 {
						t.Errorf("%v/%v (%d,%d): AllPairs %.17g, Compare %.17g", c, dis, i, j, got, want)
					}
				}
			}
		}
	}
}

// TestKendallLarge runs τ_a on an RDM pair with m = 7140 through AllPairs and
// checks it against the O(m²) definition.
func TestKendallLarge(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 10))
	n := 120
	x := densetest.Normal(rnd, n, 5)
	y := mat.DenseCopyOf(x)
	y.Apply(func(_, _ int, v float64) float64 { return math.Round(2*v + rnd.NormFloat64()) }, y)
	all, err := AllPairs([]mat.Matrix{x, y}, Euclidean, KendallTauA)
	if err != nil {
		t.Fatal(err)
	}
	rx, _ := RDM(x, Euclidean)
	ry, _ := RDM(y, Euclidean)
	vx, _ := upperOf("x", rx)
	vy, _ := upperOf("y", ry)
	m := len(vx)
	want := float64(naiveTauANumerator(vx, vy)) / float64(m*(m-1)/2)
	if got := all.At(0, 1); got != want {
		t.Errorf("tau-a %.17g, naive %.17g", got, want)
	}
}

func TestErrors(t *testing.T) {
	rnd := rand.New(rand.NewPCG(11, 12))
	x := densetest.Normal(rnd, 6, 4)
	y := densetest.Normal(rnd, 6, 3)
	withAt := func(m *mat.Dense, i, j int, v float64) *mat.Dense {
		c := mat.DenseCopyOf(m)
		c.Set(i, j, v)
		return c
	}
	zeroRow := mat.DenseCopyOf(x)
	zeroRow.SetRow(2, []float64{0, 0, 0, 0})
	constRow := mat.DenseCopyOf(x)
	constRow.SetRow(4, []float64{0.1, 0.1, 0.1, 0.1})
	// Rows that are orthonormal (cosine RDM all 1) and equidistant
	// (squared Euclidean RDM all 2).
	simplex := mat.NewDense(4, 4, nil)
	for i := 0; i < 4; i++ {
		simplex.Set(i, i, 1)
	}
	for _, tc := range []struct {
		name string
		x, y mat.Matrix
		dis  Dissimilarity
		c    Comparison
		want string
	}{
		{"n mismatch", x, densetest.Normal(rnd, 5, 4), Cosine, Spearman, "x has 6 samples (rows) and y has 5"},
		{"n too small", x.Slice(0, 2, 0, 4), y.Slice(0, 2, 0, 3), Cosine, Spearman, "RSA needs n ≥ 3"},
		{"NaN in x", withAt(x, 1, 2, math.NaN()), y, Cosine, Spearman, "x has non-finite value NaN at row 1, column 2"},
		{"Inf in y", x, withAt(y, 5, 0, math.Inf(-1)), Euclidean, Pearson, "y has non-finite value -Inf at row 5, column 0"},
		{"zero row", zeroRow, y, Cosine, Pearson, "row 2 of x is zero"},
		{"nil y", x, nil, Correlation, Spearman, "y is nil"},
		{"constant row", x, constRow.Slice(0, 6, 0, 3), Correlation, Spearman, "row 4 of y is constant"},
		{"constant cosine RDM", simplex, simplex, Cosine, Spearman, "RDM of x is constant"},
		{"constant euclidean RDM", densetest.Normal(rnd, 4, 2), simplex, Euclidean, KendallTauA, "RDM of y is constant"},
		{"overflow", withAt(x, 0, 0, 1e200), y, Euclidean, Pearson, "overflow"},
		{"bad dissimilarity", x, y, 0, Spearman, "invalid dissimilarity"},
		{"bad comparison", x, y, Cosine, 7, "invalid comparison"},
		{"empty", &mat.Dense{}, y, Cosine, Spearman, "x is empty"},
	} {
		got, err := Compare(tc.x, tc.y, tc.dis, tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Compare = %v, %v; want error containing %q", tc.name, got, err, tc.want)
		}
	}

	for _, tc := range []struct {
		name string
		reps []mat.Matrix
		want string
	}{
		{"none", nil, "no representations"},
		{"n mismatch", []mat.Matrix{x, y, densetest.Normal(rnd, 7, 3)}, "reps[2] has 7 samples"},
		{"NaN", []mat.Matrix{x, y, withAt(y, 3, 1, math.NaN())}, "reps[2] has non-finite value NaN at row 3, column 1"},
		{"n too small", []mat.Matrix{x.Slice(0, 2, 0, 4)}, "reps[0] has 2 samples"},
		{"constant RDM", []mat.Matrix{simplex, densetest.Normal(rnd, 4, 2)}, "RDM of reps[0] is constant"},
	} {
		for _, c := range allComparisons {
			if _, err := AllPairs(tc.reps, Cosine, c); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("AllPairs %s %v: error %v, want one containing %q", tc.name, c, err, tc.want)
			}
		}
	}

	a, _ := RDM(x, Cosine)
	b, _ := RDM(densetest.Normal(rnd, 5, 2), Cosine)
	if _, err := CompareRDMs(a, b, Spearman); err == nil || !strings.Contains(err.Error(), "must match") {
		t.Errorf("CompareRDMs size mismatch: error %v", err)
	}
	bad := mat.NewSymDense(4, nil)
	bad.SetSym(0, 3, math.Inf(1))
	if _, err := CompareRDMs(bad, bad, Pearson); err == nil || !strings.Contains(err.Error(), "RDM a has non-finite value +Inf at (0, 3)") {
		t.Errorf("CompareRDMs Inf: error %v", err)
	}
	if _, err := RDM(x.Slice(0, 1, 0, 4), Euclidean); err == nil || !strings.Contains(err.Error(), "at least 2 samples") {
		t.Errorf("RDM of one row: error %v", err)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Method
		ok   bool
	}{
		{"rsa-spearman:cosine", Method{Cosine, Spearman}, true},
		{"rsa-pearson:correlation", Method{Correlation, Pearson}, true},
		{"rsa-kendall-tau-a:euclidean", Method{Euclidean, KendallTauA}, true},
		{"rsa-spearman", Method{}, false},
		{"spearman:cosine", Method{}, false},
		{"rsa-spearman:cosine:x", Method{}, false},
		{"rsa-kendall:cosine", Method{}, false},
		{"RSA-SPEARMAN:COSINE", Method{}, false},
		{"", Method{}, false},
	} {
		got, err := ParseMethod(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseMethod(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok && got.String() != tc.in {
			t.Errorf("ParseMethod(%q).String() = %q", tc.in, got.String())
		}
	}
	if c, err := ParseComparison("rsa-pearson"); err != nil || c != Pearson {
		t.Errorf(`ParseComparison("rsa-pearson") = %v, %v`, c, err)
	}
	if d, err := ParseDissimilarity("euclidean"); err != nil || d != Euclidean {
		t.Errorf(`ParseDissimilarity("euclidean") = %v, %v`, d, err)
	}
}

func FuzzParseMethod(f *testing.F) {
	for _, s := range []string{"rsa-spearman:cosine", "rsa-kendall-tau-a:euclidean", "rsa-pearson:", ":", "rsa-", "rsa-rsa-spearman:cosine", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMethod(s)
		if err != nil {
			if m != (Method{}) {
				t.Errorf("ParseMethod(%q) failed but returned %v", s, m)
			}
			return
		}
		if !m.Comparison.valid() || !m.Dissimilarity.valid() {
			t.Fatalf("ParseMethod(%q) = invalid %v", s, m)
		}
		if m.String() != s {
			t.Errorf("ParseMethod(%q).String() = %q", s, m.String())
		}
	})
}

func FuzzParseComparison(f *testing.F) {
	for _, s := range []string{"spearman", "rsa-pearson", "kendall-tau-a", "rsa-", "Spearman"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseComparison(s)
		if err != nil {
			return
		}
		if !c.valid() || (s != c.String() && s != "rsa-"+c.String()) {
			t.Errorf("ParseComparison(%q) = %v", s, c)
		}
		if back, err := ParseComparison(c.String()); err != nil || back != c {
			t.Errorf("round trip of %v: %v, %v", c, back, err)
		}
	})
}

func FuzzParseDissimilarity(f *testing.F) {
	for _, s := range []string{"cosine", "correlation", "euclidean", "cos", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDissimilarity(s)
		if err != nil {
			return
		}
		if !d.valid() || s != d.String() {
			t.Errorf("ParseDissimilarity(%q) = %v", s, d)
		}
	})
}

// FuzzTauA checks the O(m log m) τ_a against the O(m²) definition on
// vectors built from the fuzzer's bytes (small alphabets, so many ties).
func FuzzTauA(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5})
	f.Add([]byte{1, 1, 1, 2, 2, 2, 3, 3, 3, 0})
	f.Add([]byte{7, 0, 7, 0, 7, 1, 9, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		m := len(data) / 2
		if m < 3 {
			return
		}
		a, b := make([]float64, m), make([]float64, m)
		for i := 0; i < m; i++ {
			a[i], b[i] = float64(data[i]%8), float64(data[m+i]%8)
		}
		got, err := correlate(a, b, KendallTauA)
		if err != nil {
			if !strings.Contains(err.Error(), "constant") {
				t.Fatal(err)
			}
			return
		}
		want := float64(naiveTauANumerator(a, b)) / float64(m*(m-1)/2)
		if got != want {
			t.Errorf("tau-a %.17g, naive %.17g for %v, %v", got, want, a, b)
		}
	})
}

func benchReps(n, d, L int) []mat.Matrix {
	rnd := rand.New(rand.NewPCG(13, 14))
	reps := make([]mat.Matrix, L)
	for i := range reps {
		reps[i] = densetest.Normal(rnd, n, d)
	}
	return reps
}

func BenchmarkAllPairs(b *testing.B) {
	reps := benchReps(400, 256, 8)
	for _, c := range allComparisons {
		b.Run(c.String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := AllPairs(reps, Cosine, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
