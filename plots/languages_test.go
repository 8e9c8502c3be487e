package plots

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/study"
)

// multiLangResults writes a results folder of two synthetic models in four
// languages (a shared latent, a language-specific perturbation of each
// layer's map growing from en to hi) and returns it with its metrics.
func multiLangResults(t *testing.T) (string, *study.Metrics) {
	t.Helper()
	langs := []string{"en", "fr", "de", "hi"}
	root := t.TempDir()
	for mi, mo := range []struct {
		slug        string
		layers, dim int
	}{{"alpha-small", 4, 12}, {"beta-tiny", 3, 10}} {
		rng := rand.New(rand.NewPCG(uint64(mi+1), 21))
		const n = 30
		latent := make([]float64, n*5)
		for i := range latent {
			latent[i] = rng.NormFloat64()
		}
		shared := make([][]float64, mo.layers)
		for k := range shared {
			shared[k] = make([]float64, 5*mo.dim)
			for i := range shared[k] {
				shared[k][i] = rng.NormFloat64()
			}
		}
		for li, lang := range langs {
			var ms []artifacts.Matrix
			for k := 0; k < mo.layers; k++ {
				data := make([]float32, n*mo.dim)
				w := make([]float64, 5*mo.dim)
				for i := range w {
					w[i] = shared[k][i] + 0.5*float64(li)*rng.NormFloat64()
				}
				for i := 0; i < n; i++ {
					for j := 0; j < mo.dim; j++ {
						v := 0.0
						for q := 0; q < 5; q++ {
							v += latent[i*5+q] * w[q*mo.dim+j]
						}
						data[i*mo.dim+j] = float32(v + 0.4*rng.NormFloat64())
					}
				}
				ms = append(ms, artifacts.Matrix{Rows: n, Cols: mo.dim, Data: data})
			}
			meta := artifacts.Meta{ModelID: "org/" + mo.slug, NumLayers: mo.layers, Dtype: "float32", MaxLength: 128, TextsCount: n, Subset: "synthetic"}
			if err := artifacts.Write(root, meta, mo.slug, lang, "test", ms, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, err := study.Analyze(study.Options{Artifacts: root, Langs: langs, Bootstrap: 20, Permutations: 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "results")
	if err := study.Write(dir, res); err != nil {
		t.Fatal(err)
	}
	return dir, &res.Metrics
}

// TestReportLanguages: with four languages the report has one language ×
// language heatmap per model, carrying metrics.json's cka_mean exactly, and
// the discriminant table.
func TestReportLanguages(t *testing.T) {
	needAssets(t)
	dir, m := multiLangResults(t)
	if len(m.LanguageMatrices) != 2 || m.LanguageDiscriminant == nil {
		t.Fatalf("%d language matrices, discriminant %v", len(m.LanguageMatrices), m.LanguageDiscriminant)
	}
	var b strings.Builder
	if err := Report(dir, &b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	text := html.UnescapeString(stripBundles(t, page))
	if !strings.Contains(text, `<h2 id="language-matrices">Language × language CKA</h2>`) {
		t.Error("no language × language section")
	}
	byID := map[string][][]float64{} // the language heatmaps by chart id
	for _, e := range chartsIn(t, page) {
		var p struct {
			Kind   string        `json:"kind"`
			Option echartsOption `json:"option"`
		}
		decodePayload(t, e, &p)
		if p.Kind != "heatmap" || len(p.Option.YAxis) == 0 || !reflect.DeepEqual(p.Option.YAxis[0].Data, m.Languages) {
			continue
		}
		got := make([][]float64, len(m.Languages))
		for i := range got {
			got[i] = make([]float64, len(m.Languages))
		}
		for _, d := range p.Option.Series[0].Data {
			var v [3]float64
			if err := json.Unmarshal(d.Value, &v); err != nil {
				t.Fatal(err)
			}
			got[int(v[1])][int(v[0])] = v[2]
		}
		byID[e.id] = got
	}
	titles := map[string]bool{}
	for _, mm := range dataTitleRe.FindAllStringSubmatch(text, -1) {
		titles[mm[1]] = true
	}
	found := 0
	for _, lm := range m.LanguageMatrices {
		if !titles["mean cross-lingual CKA per language pair, "+lm.Model] {
			t.Errorf("no language heatmap for %s", lm.Model)
		}
		for _, got := range byID {
			if reflect.DeepEqual(got, lm.CKAMean) {
				found++
				break
			}
		}
	}
	if found != len(m.LanguageMatrices) {
		t.Errorf("%d of %d language matrices found cell for cell in the page", found, len(m.LanguageMatrices))
	}
	d := m.LanguageDiscriminant
	for j, v := range d.Directions {
		row := fmt.Sprintf(`<tr><td class="t">LD%d</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td>`, j+1, v[0], v[1], v[2], d.Ratio[j], d.Eta2[j])
		if !strings.Contains(text, row) {
			t.Errorf("discriminant table lacks %s", row)
		}
	}
	if len(d.Directions) != 3 {
		t.Errorf("%d discriminant directions for 4 languages in 3D, want 3", len(d.Directions))
	}
}

func TestLanguageHeatmapErrors(t *testing.T) {
	good := study.LanguageMatrix{Model: "m", Languages: []string{"en", "hi"}, CKAMean: [][]float64{{1, 0.5}, {0.5, 1}},
		CKAPerLayer: [][][]float64{{{1, 0.5}, {0.5, 1}}}}
	if _, err := LanguageHeatmap(good, "cka-standardized", 10); err != nil {
		t.Fatalf("good matrix: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*study.LanguageMatrix)
		want string
	}{
		{"no languages", func(l *study.LanguageMatrix) { l.Languages = nil }, "no languages"},
		{"short", func(l *study.LanguageMatrix) { l.CKAMean = l.CKAMean[:1] }, "1 rows for 2 languages"},
		{"ragged layer", func(l *study.LanguageMatrix) { l.CKAPerLayer = [][][]float64{{{1}, {0.5, 1}}} }, "row 0 has 1 values"},
		{"nan", func(l *study.LanguageMatrix) { l.CKAMean = [][]float64{{1, math.NaN()}, {0.5, 1}} }, "NaN"},
	} {
		l := good
		tc.edit(&l)
		if _, err := LanguageHeatmap(l, "", 10); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
