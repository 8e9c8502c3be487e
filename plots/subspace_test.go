package plots

import (
	"fmt"
	"github.com/layersim/layersim/internal/describe"
	"html"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/subspace"
)

// subspaceFile computes the joint embedding of three synthetic layers in
// two languages that differ by a per-prompt offset along one direction,
// before and after removing r = 0, 1 and 2 directions.
func subspaceFile(t *testing.T) *subspace.EmbeddingFile {
	t.Helper()
	const n, d, layers = 30, 8, 3
	rng := rand.New(rand.NewPCG(2, 3))
	var ls subspace.LayerSlice
	for k := 0; k < layers; k++ {
		a := mat.NewDense(n, d, nil)
		b := mat.NewDense(n, d, nil)
		c := make([]float64, d)
		for j := range c {
			c[j] = rng.NormFloat64() / math.Sqrt(d)
		}
		for i := 0; i < n; i++ {
			u := 5 * rng.NormFloat64()
			for j := 0; j < d; j++ {
				x := rng.NormFloat64() + float64(k)*a.At(i, (j+1)%d)
				a.Set(i, j, x)
				b.Set(i, j, x+u*c[j]+0.2*rng.NormFloat64())
			}
		}
		ls.A, ls.B = append(ls.A, a), append(ls.B, b)
	}
	j, err := subspace.JointEmbedding(ls, []int{0, 1, 2}, subspace.JointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := j.File(subspace.EmbeddingFile{Model: "tiny", ModelID: "org/tiny", Langs: [2]string{"en", "hi"}, Split: "test",
		Measure: "cka-standardized", Method: "uncentered", N: n, Layers: []int{1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestSubspacePage: the page holds the projector before the removal and
// one per r > 0 (their points are the file's coordinates, their pairs its
// CKA and distances), the separation curve and the tables.
func TestSubspacePage(t *testing.T) {
	needAssets(t)
	f := subspaceFile(t)
	var b strings.Builder
	if err := Subspace(f, &b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	var projectors []ProjectorData
	var lines int
	for _, e := range chartsIn(t, page) {
		switch e.kind {
		case "projector":
			var p struct {
				Data ProjectorData `json:"data"`
			}
			decodePayload(t, e, &p)
			projectors = append(projectors, p.Data)
		case "echarts":
			var p struct {
				Option struct {
					Series []struct {
						Name string `json:"name"`
					} `json:"series"`
				} `json:"option"`
			}
			decodePayload(t, e, &p)
			var names []string
			for _, s := range p.Option.Series {
				names = append(names, s.Name)
			}
			if !reflect.DeepEqual(names, []string{"before", "r = 0", "r = 1", "r = 2"}) {
				t.Errorf("separation curves %v", names)
			}
			lines++
		}
	}
	if len(projectors) != 3 || lines != 1 {
		t.Fatalf("%d projectors (want before, r = 1, r = 2) and %d line charts", len(projectors), lines)
	}
	for i, em := range []subspace.EmbeddingMap{f.Before, f.After[1], f.After[2]} {
		p := projectors[i]
		if len(p.Points) != 6 || len(p.Pairs) != 3 || !reflect.DeepEqual(p.Languages, []string{"en", "hi"}) || p.Axis == nil {
			t.Fatalf("projector %d: %s", i, briefJSON(p))
		}
		for k, pt := range p.Points {
			if pt.XYZ != em.XYZ[k] || pt.Lang != k/3 || pt.Layer != k%3+1 {
				t.Errorf("projector %d point %d: %+v, file %v", i, k, pt, em.XYZ[k])
			}
		}
		for k, q := range p.Pairs {
			if q.A != k || q.B != 3+k || q.CKA != em.CKA[k] || q.D3 != em.PairDistance[k] {
				t.Errorf("projector %d pair %d: %+v", i, k, q)
			}
		}
	}
	text := html.UnescapeString(page)
	for _, want := range []string{
		"tiny: before the removal",
		"tiny: 1 direction(s) removed, rotated onto the embedding before",
		"tiny: 2 direction(s) removed",
		fmt.Sprintf("<tr><td class=\"t\">r = 1</td><td>%.4f</td><td>%.4f</td><td>%.4f</td></tr>", describe.Mean(f.After[1].CKA), f.After[1].MeanPairDistance, f.After[1].Eta2),
		fmt.Sprintf("<tr><td class=\"t\">none (before)</td><td>%.4f</td><td>%.4f</td><td>%.4f</td></tr>", describe.Mean(f.Before.CKA), f.Before.MeanPairDistance, f.Before.Eta2),
		fmt.Sprintf("<tr><td class=\"t\">2</td><td>%.4f</td><td>%.4f</td>", f.Before.PairDistance[1], f.After[0].PairDistance[1]),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// The offset is one direction: removing it brings the languages together.
	if f.After[1].MeanPairDistance > 0.5*f.Before.MeanPairDistance {
		t.Errorf("mean pair distance %.4f before, %.4f after r = 1", f.Before.MeanPairDistance, f.After[1].MeanPairDistance)
	}
}

func TestSubspacePageErrors(t *testing.T) {
	f := subspaceFile(t)
	for _, tc := range []struct {
		name string
		edit func(*subspace.EmbeddingFile)
		want string
	}{
		{"same languages", func(f *subspace.EmbeddingFile) { f.Langs[1] = "en" }, "two different"},
		{"no layers", func(f *subspace.EmbeddingFile) { f.Layers = nil }, "no layers"},
		{"short map", func(f *subspace.EmbeddingFile) { f.After[1].XYZ = f.After[1].XYZ[:5] }, "after r = 1: 5 points"},
		{"nan", func(f *subspace.EmbeddingFile) { f.Before.Eta2 = math.NaN() }, "before: value NaN"},
	} {
		g := *f
		g.After = append([]subspace.EmbeddingMap(nil), f.After...)
		tc.edit(&g)
		var b strings.Builder
		if err := Subspace(&g, &b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	if err := Subspace(nil, &strings.Builder{}); err == nil {
		t.Error("nil file: no error")
	}
}

// TestChromiumSubspace opens the page: every chart draws, none fails.
func TestChromiumSubspace(t *testing.T) {
	bin := findChromium(t)
	dir := outDir(t)
	p := filepath.Join(dir, "subspace_embedding.html")
	if err := WriteSubspace(subspaceFile(t), p); err != nil {
		t.Fatal(err)
	}
	dom, _ := open(t, bin, p, filepath.Join(dir, "subspace_embedding.png"))
	count := map[string]int{}
	for _, s := range states(dom) {
		count[s]++
	}
	if count["error"] > 0 || count["drawn"] != 4 {
		t.Errorf("chart states %v; want 4 drawn (the curve and three projectors)", count)
	}
}
