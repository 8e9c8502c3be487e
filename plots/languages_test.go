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

// sliderOption is the part of a language heatmap's option the per-layer
// slider adds.
type sliderOption struct {
	echartsOption
	Timeline struct {
		AxisType string   `json:"axisType"`
		Data     []string `json:"data"`
	} `json:"timeline"`
	Options []struct {
		Series []struct {
			Data []struct {
				Value [3]float64 `json:"value"`
			} `json:"data"`
		} `json:"series"`
	} `json:"options"`
}

// matrixOf reads the k × k matrix of heatmap cells (x, y, value).
func matrixOf(t *testing.T, k int, cells []struct {
	Value [3]float64 `json:"value"`
}) [][]float64 {
	t.Helper()
	if len(cells) != k*k {
		t.Fatalf("%d cells for %d languages", len(cells), k)
	}
	m := make([][]float64, k)
	for i := range m {
		m[i] = make([]float64, k)
	}
	for _, c := range cells {
		m[int(c.Value[1])][int(c.Value[0])] = c.Value[2]
	}
	return m
}

// TestLanguageHeatmapLayers: the slider's entries are "mean", then layers
// 1..L, each carrying that matrix cell for cell; the colour scale spans
// every layer's values; without per-layer values there is no slider.
func TestLanguageHeatmapLayers(t *testing.T) {
	langs := []string{"en", "fr", "de", "hi"}
	rng := rand.New(rand.NewPCG(4, 4))
	lm := study.LanguageMatrix{Model: "m", Languages: langs}
	mk := func() [][]float64 {
		m := make([][]float64, 4)
		for i := range m {
			m[i] = make([]float64, 4)
			m[i][i] = 1
		}
		for i := 0; i < 4; i++ {
			for j := i + 1; j < 4; j++ {
				m[i][j] = rng.Float64()
				m[j][i] = m[i][j]
			}
		}
		return m
	}
	for range 5 {
		lm.CKAPerLayer = append(lm.CKAPerLayer, mk())
	}
	lm.CKAPerLayer[3][0][2], lm.CKAPerLayer[3][2][0] = -0.234, -0.234 // below the mean's range
	lm.CKAMean = mk()
	c := chartOK(t)(LanguageHeatmap(lm, "cka-debiased", 20))
	var o sliderOption
	if err := json.Unmarshal(c.payload.Option, &o); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.Timeline.Data, []string{"mean", "1", "2", "3", "4", "5"}) || o.Timeline.AxisType != "category" || len(o.Options) != 6 {
		t.Fatalf("timeline %+v with %d options", o.Timeline, len(o.Options))
	}
	for k, opt := range o.Options {
		want := lm.CKAMean
		if k > 0 {
			want = lm.CKAPerLayer[k-1]
		}
		if got := matrixOf(t, 4, opt.Series[0].Data); !reflect.DeepEqual(got, want) {
			t.Errorf("slider entry %s: %v, want %v", o.Timeline.Data[k], got, want)
		}
	}
	if vm := o.VisualMap[0]; vm.Min != -0.24 || vm.Max != 1 {
		t.Errorf("colour scale [%g, %g], want [-0.24, 1]", vm.Min, vm.Max)
	}
	// The title of each slider entry, for the page to show above the chart.
	meta, err := json.Marshal(c.payload.Meta)
	if err != nil {
		t.Fatal(err)
	}
	var mt struct {
		Titles []string `json:"titles"`
		Kind   string   `json:"kind"`
	}
	if err := json.Unmarshal(meta, &mt); err != nil {
		t.Fatal(err)
	}
	wantTitles := []string{"mean cross-lingual CKA per language pair, m"}
	for k := 1; k <= 5; k++ {
		wantTitles = append(wantTitles, fmt.Sprintf("cross-lingual CKA at layer %d per language pair, m", k))
	}
	if !reflect.DeepEqual(mt.Titles, wantTitles) || mt.Kind != "languages" || c.Title != wantTitles[0] {
		t.Errorf("chart title %q, meta kind %q and titles %q, want %q", c.Title, mt.Kind, mt.Titles, wantTitles)
	}
	lm.CKAPerLayer = nil
	c = chartOK(t)(LanguageHeatmap(lm, "", 20))
	var plain map[string]any
	if err := json.Unmarshal(c.payload.Option, &plain); err != nil {
		t.Fatal(err)
	}
	if _, ok := plain["timeline"]; ok {
		t.Error("a slider without per-layer matrices")
	}
}

// TestReportFourLanguages: a report of two models in four languages shows
// every language: in the projector (each language's points and a pair per
// layer for each of the six language pairs, with the study's CKA and
// distances), and in each model's language heatmap, whose slider carries
// metrics.json's per-layer matrices.
func TestReportFourLanguages(t *testing.T) {
	needAssets(t)
	dir, m := multiLangResults(t)
	var b strings.Builder
	if err := Report(dir, &b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	var proj *ProjectorData
	sliders := map[string][][][]float64{} // per chart id: mean, then layers
	for _, e := range chartsIn(t, page) {
		switch e.kind {
		case "projector":
			var p struct {
				Data ProjectorData `json:"data"`
			}
			decodePayload(t, e, &p)
			proj = &p.Data
		case "heatmap":
			var p struct {
				Option sliderOption `json:"option"`
			}
			decodePayload(t, e, &p)
			if len(p.Option.YAxis) == 0 || !reflect.DeepEqual(p.Option.YAxis[0].Data, m.Languages) {
				continue
			}
			for _, o := range p.Option.Options {
				sliders[e.id] = append(sliders[e.id], matrixOf(t, len(m.Languages), o.Series[0].Data))
			}
		}
	}
	if proj == nil {
		t.Fatal("no projector")
	}
	if !reflect.DeepEqual(proj.Languages, m.Languages) {
		t.Errorf("projector languages %v, want %v", proj.Languages, m.Languages)
	}
	perLang := make([]int, len(m.Languages))
	for _, p := range proj.Points {
		perLang[p.Lang]++
	}
	layers := m.Models[0].Layers + m.Models[1].Layers
	for li, c := range perLang {
		if c != layers {
			t.Errorf("language %s has %d points in the projector, want %d", m.Languages[li], c, layers)
		}
	}
	pairCount := map[[2]int]int{}
	for _, q := range proj.Pairs {
		pairCount[[2]int{q.LangA, q.LangB}]++
		pa, pb := proj.Points[q.A], proj.Points[q.B]
		if pa.Lang != q.LangA || pb.Lang != q.LangB || pa.Layer != pb.Layer || pa.Model != pb.Model {
			t.Errorf("pair %+v joins %+v and %+v", q, pa, pb)
		}
	}
	if len(pairCount) != 6 {
		t.Errorf("%d language pairs in the projector, want 6: %v", len(pairCount), pairCount)
	}
	for k, c := range pairCount {
		if c != layers {
			t.Errorf("languages %v: %d layer pairs, want %d", k, c, layers)
		}
	}
	if len(m.LanguageMatrices) != 2 {
		t.Fatalf("%d language matrices", len(m.LanguageMatrices))
	}
	for _, lm := range m.LanguageMatrices {
		want := append([][][]float64{lm.CKAMean}, lm.CKAPerLayer...)
		found := false
		for _, got := range sliders {
			if reflect.DeepEqual(got, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no language heatmap whose slider carries the mean and its %d layers' matrices", lm.Model, len(lm.CKAPerLayer))
		}
	}
}

// TestChromiumLanguageSlider draws a four-language heatmap, moves its
// slider to layer 2 and reads back what the chart shows.
func TestChromiumLanguageSlider(t *testing.T) {
	bin := findChromium(t)
	_, m := multiLangResults(t)
	lm := m.LanguageMatrices[0]
	c := chartOK(t)(LanguageHeatmap(lm, m.Measure, m.N))
	snippet, err := c.Snippet()
	if err != nil {
		t.Fatal(err)
	}
	script := `<script>
var ch = document.querySelector('.layersim-heatmap').layersim.chart;
function cells() { return ch.getOption().series[0].data.map(function (d) { return d.value || d; }); }
var first = cells();
ch.dispatchAction({type: 'timelineChange', currentIndex: 2});
document.body.setAttribute('data-after', JSON.stringify({first: first, layer2: cells(), index: ch.getOption().timeline[0].currentIndex}));
</script>`
	dir := outDir(t)
	p := writePage(t, dir, "language-slider.html", "", snippet, script)
	dom, _ := open(t, bin, p, filepath.Join(dir, "language-slider.png"))
	if st := states(dom); len(st) != 1 || st[0] != "drawn" {
		t.Fatalf("chart states %v, want [drawn]", st)
	}
	var got struct {
		First, Layer2 [][3]float64
		Index         int
	}
	bodyJSON(t, dom, "data-after", &got)
	k := len(m.Languages)
	toMatrix := func(cells [][3]float64) [][]float64 {
		out := make([][]float64, k)
		for i := range out {
			out[i] = make([]float64, k)
		}
		for _, c := range cells {
			out[int(c[1])][int(c[0])] = c[2]
		}
		return out
	}
	if len(got.First) != k*k || !reflect.DeepEqual(toMatrix(got.First), lm.CKAMean) {
		t.Errorf("shown first %v, want the mean %v", got.First, lm.CKAMean)
	}
	if got.Index != 2 || len(got.Layer2) != k*k || !reflect.DeepEqual(toMatrix(got.Layer2), lm.CKAPerLayer[1]) {
		t.Errorf("after moving the slider to layer 2 (index %d): %v, want %v", got.Index, got.Layer2, lm.CKAPerLayer[1])
	}
}

// TestChromiumReportFourLanguages opens the four-language report: no chart
// fails, the projector is drawn, with a language toggle per language.
func TestChromiumReportFourLanguages(t *testing.T) {
	bin := findChromium(t)
	results, m := multiLangResults(t)
	dir := outDir(t)
	p := filepath.Join(dir, "report-4langs.html")
	if err := WriteReport(results, p); err != nil {
		t.Fatal(err)
	}
	dom, _ := open(t, bin, p, filepath.Join(dir, "report-4langs.png"))
	count := map[string]int{}
	for _, s := range states(dom) {
		count[s]++
	}
	if count["error"] > 0 || count["drawn"] < 3 || strings.Contains(dom, `<pre class="layersim-error">`) {
		t.Errorf("chart states %v", count)
	}
	for _, l := range m.Languages {
		if !strings.Contains(dom, `data-lang="`+l+`"`) {
			t.Errorf("the projector has no toggle for %s", l)
		}
	}
}
