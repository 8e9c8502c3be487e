package robust

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/cka"
)

// fixture is testdata/robust_ref.json (gen_robust.py): the inputs and the
// numpy reference values.
type fixture struct {
	N, D, Layers int
	Quantile     float64
	Langs        []string
	States       map[string]map[string][][]float64 // root → lang → layer → n·d values
	Texts        map[string]map[string][]string
	Ref          struct {
		Languages map[string]struct {
			AB       []float64   `json:"ab"`
			MapA     [][]float64 `json:"map_a"`
			MapB     [][]float64 `json:"map_b"`
			Movement struct {
				Pairs           int
				Corr            float64
				MaxAbs, MeanAbs float64
				MaxAt           [2]int
			}
		}
		CrossA        []float64 `json:"cross_a"`
		CrossB        []float64 `json:"cross_b"`
		LengthMatched map[string]struct {
			Rows             []int
			RatioLo, RatioHi float64
			MedianRatio      float64
			MeanLength       [2]float64
			SubsetMeanLength [2]float64
			Matched          []float64
			RowsQ10          []int
		} `json:"length_matched"`
	}
}

func (f *fixture) UnmarshalJSON(b []byte) error {
	// snake_case keys onto the fields above.
	type plain fixture
	s := strings.NewReplacer(`"max_abs"`, `"MaxAbs"`, `"mean_abs"`, `"MeanAbs"`, `"max_at"`, `"MaxAt"`,
		`"ratio_lo"`, `"RatioLo"`, `"ratio_hi"`, `"RatioHi"`, `"median_ratio"`, `"MedianRatio"`,
		`"subset_mean_length"`, `"SubsetMeanLength"`, `"mean_length"`, `"MeanLength"`, `"rows_q10"`, `"RowsQ10"`).Replace(string(b))
	return json.Unmarshal([]byte(s), (*plain)(f))
}

func loadFixture(t *testing.T) *fixture {
	t.Helper()
	b, err := os.ReadFile("testdata/robust_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

func toMatrix(v []float64, n, d int) artifacts.Matrix {
	m := artifacts.Matrix{Rows: n, Cols: d, Data: make([]float32, len(v))}
	for i, x := range v {
		m.Data[i] = float32(x) // exact: the values are float32s
	}
	return m
}

// writeSet writes one set of model slug (id) in root.
func writeSet(t *testing.T, root, slug, id, lang string, layers []artifacts.Matrix, texts []string) {
	t.Helper()
	meta := artifacts.Meta{ModelID: id, NumLayers: len(layers), Dtype: "float32", TextsCount: len(texts), Subset: "synthetic"}
	if err := artifacts.Write(root, meta, slug, lang, "test", layers, texts); err != nil {
		t.Fatal(err)
	}
}

// fixtureRoots writes the fixture's two roots (model "m", id "org/m").
func fixtureRoots(t *testing.T, f *fixture) (string, string) {
	dir := t.TempDir()
	roots := map[string]string{"a": filepath.Join(dir, "a"), "b": filepath.Join(dir, "b")}
	for r, root := range roots {
		for _, lang := range f.Langs {
			var layers []artifacts.Matrix
			for _, v := range f.States[r][lang] {
				layers = append(layers, toMatrix(v, f.N, f.D))
			}
			writeSet(t, root, "m", "org/m", lang, layers, f.Texts[r][lang])
		}
	}
	return roots["a"], roots["b"]
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func checkClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", what, len(got), len(want))
		return
	}
	for i := range got {
		if !near(got[i], want[i], tol) {
			t.Errorf("%s[%d] = %.9g, want %.9g (numpy)", what, i, got[i], want[i])
		}
	}
}

// ckaTol: AllPairs sums in float32 within chunks, numpy in float64.
const ckaTol = 2e-6

func TestCompareAgainstNumpy(t *testing.T) {
	f := loadFixture(t)
	a, b := fixtureRoots(t, f)
	rep, err := Compare(a, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Models) != 1 || rep.Quantile != f.Quantile || rep.Measure != "cka-standardized" || !strings.HasPrefix(rep.LengthUnit, "characters") {
		t.Fatalf("report: %+v", rep)
	}
	m := rep.Models[0]
	if m.Slug != "m" || m.ID != "org/m" || m.N != f.N || !slices.Equal(m.Layers, []int{1, 2, 3}) {
		t.Fatalf("model: %+v", m)
	}
	for li, lang := range f.Langs {
		ref, got := f.Ref.Languages[lang], m.Languages[li]
		if got.Lang != lang || got.SameTexts {
			t.Errorf("%s: lang %q, same texts %v", lang, got.Lang, got.SameTexts)
		}
		checkClose(t, lang+" ab", got.AB, ref.AB, ckaTol)
		for i := range f.Layers {
			checkClose(t, lang+" map_a row", got.MapA[i], ref.MapA[i], ckaTol)
			checkClose(t, lang+" map_b row", got.MapB[i], ref.MapB[i], ckaTol)
			for j := range f.Layers {
				if got.MapDiff[i][j] != got.MapB[i][j]-got.MapA[i][j] {
					t.Errorf("%s map_diff[%d][%d]", lang, i, j)
				}
			}
		}
		mv, rm := got.Movement, ref.Movement
		if mv.Pairs != rm.Pairs || mv.Corr == nil || !near(*mv.Corr, rm.Corr, 1e-5) || !near(mv.MaxAbs, rm.MaxAbs, ckaTol) ||
			!near(mv.MeanAbs, rm.MeanAbs, ckaTol) || mv.MaxAt != rm.MaxAt {
			t.Errorf("%s movement %+v (corr %v), want %+v", lang, mv, mv.Corr, rm)
		}
	}
	checkClose(t, "cross_a", m.CrossA, f.Ref.CrossA, ckaTol)
	checkClose(t, "cross_b", m.CrossB, f.Ref.CrossB, ckaTol)
	for k := range m.CrossDiff {
		if m.CrossDiff[k] != m.CrossB[k]-m.CrossA[k] {
			t.Errorf("cross_diff[%d]", k)
		}
	}
	for r, root := range []string{"a", "b"} {
		ref, got := f.Ref.LengthMatched[root], m.LengthMatched[r]
		if got.Root != root || !slices.Equal(got.Rows, ref.Rows) || got.N != len(ref.Rows) || got.Of != f.N {
			t.Errorf("root %s: rows %v (n %d of %d), want %v", root, got.Rows, got.N, got.Of, ref.Rows)
		}
		for _, c := range []struct {
			what      string
			got, want float64
		}{
			{"ratio_lo", got.RatioLo, ref.RatioLo}, {"ratio_hi", got.RatioHi, ref.RatioHi}, {"median_ratio", got.MedianRatio, ref.MedianRatio},
			{"mean_length[0]", got.MeanLength[0], ref.MeanLength[0]}, {"mean_length[1]", got.MeanLength[1], ref.MeanLength[1]},
			{"subset_mean_length[0]", got.SubsetMeanLength[0], ref.SubsetMeanLength[0]}, {"subset_mean_length[1]", got.SubsetMeanLength[1], ref.SubsetMeanLength[1]},
		} {
			if !near(c.got, c.want, 1e-12*math.Abs(c.want)) {
				t.Errorf("root %s %s = %.15g, want %.15g", root, c.what, c.got, c.want)
			}
		}
		checkClose(t, "root "+root+" matched", got.Matched, ref.Matched, ckaTol)
		checkClose(t, "root "+root+" whole", got.Whole, map[string][]float64{"a": f.Ref.CrossA, "b": f.Ref.CrossB}[root], ckaTol)
		for k := range got.Diff {
			if got.Diff[k] != got.Matched[k]-got.Whole[k] {
				t.Errorf("root %s diff[%d]", root, k)
			}
		}
		// Another quantile: the selection alone.
		var l0, l1 []int
		for i := range f.N {
			l0 = append(l0, len([]rune(f.Texts[root]["en"][i])))
			l1 = append(l1, len([]rune(f.Texts[root]["hi"][i])))
		}
		sel, err := LengthMatched(l0, l1, 0.1)
		if err != nil || !slices.Equal(sel.Rows, ref.RowsQ10) {
			t.Errorf("root %s q = 0.1: %v, %v; want %v", root, sel, err, ref.RowsQ10)
		}
	}
}

// TestCompareDirectCKA checks the numbers against cka.Standardized (float64,
// one pair at a time) on the same matrices, the subset curve on the subset's
// rows of both languages: the rows stay paired.
func TestCompareDirectCKA(t *testing.T) {
	f := loadFixture(t)
	a, b := fixtureRoots(t, f)
	rep, err := Compare(a, b, Options{Quantile: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Models[0]
	dense := func(root, lang string, k int) *mat.Dense {
		return cka.Matrix(toMatrix(f.States[root][lang][k], f.N, f.D)).Dense()
	}
	direct := func(x, y mat.Matrix) float64 {
		v, err := cka.Standardized(x, y)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for k := range f.Layers {
		for li, lang := range f.Langs {
			if v := direct(dense("a", lang, k), dense("b", lang, k)); !near(m.Languages[li].AB[k], v, ckaTol) {
				t.Errorf("%s layer %d: A vs B %.9g, cka.Standardized %.9g", lang, k+1, m.Languages[li].AB[k], v)
			}
		}
		for r, root := range []string{"a", "b"} {
			lm := m.LengthMatched[r]
			sub := func(x *mat.Dense) *mat.Dense {
				out := mat.NewDense(len(lm.Rows), f.D, nil)
				for i, row := range lm.Rows {
					out.SetRow(i, x.RawRowView(row))
				}
				return out
			}
			if v := direct(sub(dense(root, "en", k)), sub(dense(root, "hi", k))); !near(lm.Matched[k], v, ckaTol) {
				t.Errorf("root %s layer %d: matched %.9g, cka.Standardized on rows %v %.9g", root, k+1, lm.Matched[k], lm.Rows, v)
			}
		}
	}
	// A negative quantile keeps every question: the subset curve is the whole one.
	rep, err = Compare(a, b, Options{Quantile: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, lm := range rep.Models[0].LengthMatched {
		if lm.N != f.N {
			t.Errorf("q < 0 kept %d of %d", lm.N, f.N)
		}
		checkClose(t, "all rows", lm.Matched, lm.Whole, 1e-6)
	}
}

// TestIdenticalRoots: a root against itself gives CKA 1 per layer, a map
// that does not move and no change of the cross-lingual curve.
func TestIdenticalRoots(t *testing.T) {
	f := loadFixture(t)
	a, _ := fixtureRoots(t, f)
	rep, err := Compare(a, a, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Models[0]
	for _, lg := range m.Languages {
		for k, v := range lg.AB {
			if !near(v, 1, 1e-6) {
				t.Errorf("%s layer %d: A vs A = %.9g", lg.Lang, k+1, v)
			}
		}
		if !lg.SameTexts || lg.Movement.MaxAbs > 1e-6 || lg.Movement.MeanAbs > 1e-6 || lg.Movement.Corr == nil || !near(*lg.Movement.Corr, 1, 1e-6) {
			t.Errorf("%s: same texts %v, movement %+v", lg.Lang, lg.SameTexts, lg.Movement)
		}
	}
	for k, d := range m.CrossDiff {
		if math.Abs(d) > 1e-6 {
			t.Errorf("cross diff layer %d: %g", k+1, d)
		}
	}
	if !slices.Equal(m.LengthMatched[0].Rows, m.LengthMatched[1].Rows) {
		t.Errorf("subsets differ: %v, %v", m.LengthMatched[0].Rows, m.LengthMatched[1].Rows)
	}
	if len(rep.Notes) != 2 || !strings.Contains(rep.Notes[0], "same texts") {
		t.Errorf("notes %q", rep.Notes)
	}
}

func TestMapMovement(t *testing.T) {
	one := [][]float64{{1}}
	mv, err := MapMovement(one, one, []int{7})
	if err != nil || mv.Pairs != 0 || mv.Corr != nil || mv.MaxAbs != 0 {
		t.Errorf("one layer: %+v, %v", mv, err)
	}
	two := [][]float64{{1, 0.4}, {0.4, 1}}
	mv, err = MapMovement(two, [][]float64{{1, 0.1}, {0.1, 1}}, []int{1, 2})
	if err != nil || mv.Pairs != 1 || mv.Corr != nil || !near(mv.MaxAbs, 0.3, 1e-15) || mv.MaxAt != [2]int{1, 2} {
		t.Errorf("two layers: %+v, %v", mv, err)
	}
	// A reversed triangle: r = −1; the diagonal does not count.
	x := [][]float64{{1, 0.2, 0.4}, {0.2, 1, 0.6}, {0.4, 0.6, 1}}
	y := [][]float64{{0, 0.6, 0.4}, {0.6, 0, 0.2}, {0.4, 0.2, 0}}
	mv, err = MapMovement(x, y, []int{1, 2, 3})
	if err != nil || mv.Corr == nil || !near(*mv.Corr, -1, 1e-12) || !near(mv.MeanAbs, 0.8/3, 1e-15) || !near(mv.MaxAbs, 0.4, 1e-15) || mv.MaxAt != [2]int{1, 2} {
		t.Errorf("reversed: %+v, %v", mv, err)
	}
	for _, bad := range []struct {
		a, b [][]float64
		l    []int
	}{
		{x, two, []int{1, 2, 3}},
		{x, x, []int{1, 2}},
		{x, [][]float64{{1, 0.2, 0.4}, {0.2, 1}, {0.4, 0.6, 1}}, []int{1, 2, 3}},
		{x, [][]float64{{1, math.NaN(), 0.4}, {0.2, 1, 0.6}, {0.4, 0.6, 1}}, []int{1, 2, 3}},
	} {
		if _, err := MapMovement(bad.a, bad.b, bad.l); err == nil {
			t.Errorf("MapMovement(%v, %v, %v): no error", bad.a, bad.b, bad.l)
		}
	}
}

// TestLengthMatchedProperties: the rows are ascending and in range, a row
// is kept exactly when its ratio lies within the bounds (in both
// languages at once: one row index), q = 0 keeps all, and the size is
// about (1 − 2q)n.
func TestLengthMatchedProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		n := 4 + rng.IntN(200)
		l0, l1 := make([]int, n), make([]int, n)
		for i := range n {
			l0[i] = 1 + rng.IntN(300)
			l1[i] = max(1, int(float64(l0[i])*(0.5+2*rng.Float64())))
		}
		q := rng.Float64() * 0.4
		sel, err := LengthMatched(l0, l1, q)
		if err != nil {
			// Only a too-small subset may fail.
			if !strings.Contains(err.Error(), "lower q") {
				t.Fatalf("trial %d: %v", trial, err)
			}
			continue
		}
		if !slices.IsSorted(sel.Rows) || sel.N != len(sel.Rows) || sel.Of != n {
			t.Fatalf("trial %d: %+v", trial, sel)
		}
		kept := map[int]bool{}
		for _, i := range sel.Rows {
			kept[i] = true
		}
		lo, hi := math.Log(sel.RatioLo), math.Log(sel.RatioHi)
		for i := range n {
			r := math.Log(float64(l1[i]) / float64(l0[i]))
			if in := r >= lo-1e-12 && r <= hi+1e-12; in != kept[i] && math.Abs(r-lo) > 1e-12 && math.Abs(r-hi) > 1e-12 {
				t.Errorf("trial %d row %d: ratio %g, bounds [%g, %g], kept %v", trial, i, r, lo, hi, kept[i])
			}
		}
		// At least the values strictly inside the quantiles: ⌈(1−2q)(n−1)⌉ − 1 or more.
		if min := int(math.Ceil((1-2*q)*float64(n-1))) - 1; sel.N < min {
			t.Errorf("trial %d: n %d, q %.3f: %d kept, want ≥ %d", trial, n, q, sel.N, min)
		}
		all, err := LengthMatched(l0, l1, 0)
		if err != nil || all.N != n {
			t.Errorf("trial %d: q = 0 kept %v, %v", trial, all, err)
		}
	}
	for _, bad := range []struct {
		l0, l1 []int
		q      float64
	}{
		{[]int{1, 2, 3, 4}, []int{1, 2, 3}, 0.25},
		{[]int{1, 2, 3, 4}, []int{1, 0, 3, 4}, 0.25},
		{[]int{1, 2, 3}, []int{1, 2, 3}, 0.25},
		{[]int{1, 2, 3, 4}, []int{1, 2, 3, 4}, 0.5},
		{[]int{1, 2, 3, 4}, []int{1, 2, 3, 4}, math.NaN()},
		{[]int{1, 2, 3, 4, 5}, []int{2, 3, 5, 7, 11}, 0.49},
	} {
		if _, err := LengthMatched(bad.l0, bad.l1, bad.q); err == nil {
			t.Errorf("LengthMatched(%v, %v, %g): no error", bad.l0, bad.l1, bad.q)
		}
	}
}

// TestCompareErrors: roots that do not hold the same models and questions.
func TestCompareErrors(t *testing.T) {
	f := loadFixture(t)
	layers := func(root string, lang string, rows int) []artifacts.Matrix {
		var out []artifacts.Matrix
		for _, v := range f.States[root][lang] {
			out = append(out, toMatrix(v[:rows*f.D], rows, f.D))
		}
		return out
	}
	good, _ := fixtureRoots(t, f)
	mk := func(edit func(root string)) string {
		root := filepath.Join(t.TempDir(), "r")
		edit(root)
		return root
	}
	both := func(root, slug, id string, rows int, texts map[string][]string) {
		for _, lang := range f.Langs {
			writeSet(t, root, slug, id, lang, layers("b", lang, rows), texts[lang][:rows])
		}
	}
	otherTexts := map[string][]string{}
	for _, lang := range f.Langs {
		otherTexts[lang] = slices.Clone(f.Texts["b"][lang])
	}
	otherTexts["hi"][5] = "कोई और प्रश्न"
	for _, tc := range []struct {
		name string
		b    string
		opt  Options
		want string
	}{
		{"other model id", mk(func(r string) { both(r, "m", "org/other", f.N, f.Texts["b"]) }), Options{}, `different models: m/en in root B is "org/other"`},
		{"other model folder", mk(func(r string) { both(r, "x", "org/m", f.N, f.Texts["b"]) }), Options{}, "the roots hold different models"},
		{"fewer questions", mk(func(r string) { both(r, "m", "org/m", f.N-2, f.Texts["b"]) }), Options{}, "different questions: m/en in root B has 28 rows"},
		{"other question", mk(func(r string) { both(r, "m", "org/m", f.N, otherTexts) }), Options{}, "different questions: m/hi row 5"},
		{"missing language", mk(func(r string) {
			writeSet(t, r, "m", "org/m", "en", layers("b", "en", f.N), f.Texts["b"]["en"])
		}), Options{}, "has no hi activations of m"},
		{"missing language, named", good, Options{Langs: []string{"en", "fr"}}, "has no fr activations of m"},
		{"fewer layers", mk(func(r string) {
			for _, lang := range f.Langs {
				writeSet(t, r, "m", "org/m", lang, layers("b", lang, f.N)[:2], f.Texts["b"][lang])
			}
		}), Options{}, "has 2 layers"},
		{"no texts", mk(func(r string) {
			for _, lang := range f.Langs {
				writeSet(t, r, "m", "org/m", lang, layers("b", lang, f.N), nil)
			}
		}), Options{}, "reading texts"},
		{"one language", good, Options{Langs: []string{"en"}}, "want two different languages"},
		{"same language", good, Options{Langs: []string{"en", "en"}}, "want two different languages"},
		{"quantile", good, Options{Quantile: 0.5}, "want q in [0, 0.5)"},
		{"measure", good, Options{Measure: cka.Measure(9)}, "unknown measure"},
		{"no root", filepath.Join(t.TempDir(), "none"), Options{}, "root B"},
		{"named model missing", good, Options{Models: []string{"zz"}}, "has no en activations of zz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compare(good, tc.b, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want one containing %q", err, tc.want)
			}
		})
	}
	// The other question passes when the check is skipped.
	b := mk(func(r string) { both(r, "m", "org/m", f.N, otherTexts) })
	if _, err := Compare(good, b, Options{SkipTextCheck: true}); err != nil {
		t.Errorf("SkipTextCheck: %v", err)
	}
}

// TestCompareLength: Options.Length replaces the character count.
func TestCompareLength(t *testing.T) {
	f := loadFixture(t)
	a, b := fixtureRoots(t, f)
	words := func(s string) (int, error) { return len(strings.Fields(s)), nil }
	rep, err := Compare(a, b, Options{Length: words, LengthUnit: "words"})
	if err != nil {
		t.Fatal(err)
	}
	var l0, l1 []int
	for i := range f.N {
		x, _ := words(f.Texts["a"]["en"][i])
		y, _ := words(f.Texts["a"]["hi"][i])
		l0, l1 = append(l0, x), append(l1, y)
	}
	want, err := LengthMatched(l0, l1, DefaultQuantile)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Models[0].LengthMatched[0]; rep.LengthUnit != "words" || !slices.Equal(got.Rows, want.Rows) {
		t.Errorf("unit %q, rows %v; want %v", rep.LengthUnit, got.Rows, want.Rows)
	}
}
