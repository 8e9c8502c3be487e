package plots

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/study"
)

// fragmentOf renders c without the ECharts bundles (they are not needed to
// check the data) and returns the one chart in it.
func fragmentOf(t *testing.T, c *Chart) (string, embedded) {
	t.Helper()
	html, err := c.fragment(newID(c.kind), false)
	if err != nil {
		t.Fatal(err)
	}
	cs := chartsIn(t, html)
	if len(cs) != 1 {
		t.Fatalf("%d charts in the fragment, want 1:\n%.300s", len(cs), html)
	}
	return html, cs[0]
}

// echartsOption is the part of an ECharts option the tests read back.
type echartsOption struct {
	XAxis []struct {
		Type string   `json:"type"`
		Data []string `json:"data"`
		Name string   `json:"name"`
	} `json:"xAxis"`
	YAxis []struct {
		Data []string `json:"data"`
		Name string   `json:"name"`
	} `json:"yAxis"`
	VisualMap []struct {
		Min float64 `json:"min"`
		Max float64 `json:"max"`
	} `json:"visualMap"`
	Series []struct {
		Name  string `json:"name"`
		Type  string `json:"type"`
		Stack string `json:"stack"`
		Data  []struct {
			Value json.RawMessage `json:"value"`
		} `json:"data"`
	} `json:"series"`
}

func TestHeatmapData(t *testing.T) {
	r := loadSynth(t)
	seen := map[string]int{}
	for _, h := range r.Heatmaps {
		seen[metricName(h.Metric)+" "+h.Info.Kind]++
		t.Run(h.File, func(t *testing.T) {
			_, e := fragmentOf(t, chartOK(t)(Heatmap(h)))
			var p struct {
				Kind   string        `json:"kind"`
				Option echartsOption `json:"option"`
				Meta   heatmapMeta   `json:"meta"`
			}
			decodePayload(t, e, &p)
			if p.Kind != "heatmap" || e.kind != "heatmap" {
				t.Fatalf("kind %q / %q", p.Kind, e.kind)
			}
			o := p.Option
			if !reflect.DeepEqual(o.XAxis[0].Data, h.XLabels) || !reflect.DeepEqual(o.YAxis[0].Data, h.YLabels) {
				t.Errorf("axes %v × %v, want %v × %v", o.XAxis[0].Data, o.YAxis[0].Data, h.XLabels, h.YLabels)
			}
			if o.XAxis[0].Name != h.ModelB+" · "+h.Info.LangB || o.YAxis[0].Name != h.ModelA+" · "+h.Info.LangA {
				t.Errorf("axis names %q, %q", o.XAxis[0].Name, o.YAxis[0].Name)
			}
			if len(o.Series) != 1 || o.Series[0].Type != "heatmap" {
				t.Fatalf("series %s", briefJSON(o.Series))
			}
			rows, cols := len(h.Matrix), len(h.Matrix[0])
			if len(o.Series[0].Data) != rows*cols {
				t.Fatalf("%d cells, want %d", len(o.Series[0].Data), rows*cols)
			}
			got := make([][]float64, rows)
			for i := range got {
				got[i] = make([]float64, cols)
				for j := range got[i] {
					got[i][j] = math.NaN()
				}
			}
			for _, d := range o.Series[0].Data {
				var v [3]float64
				if err := json.Unmarshal(d.Value, &v); err != nil {
					t.Fatal(err)
				}
				j, i := int(v[0]), int(v[1])
				got[i][j] = v[2]
			}
			// JSON carries float64 exactly: the cells must be the same bits.
			if !reflect.DeepEqual(got, h.Matrix) {
				t.Errorf("matrix read back differs:\n got %v\nwant %v", got, h.Matrix)
			}
			vm := o.VisualMap[0]
			for _, row := range h.Matrix {
				for _, v := range row {
					if v < vm.Min-1e-6 || v > vm.Max+1e-6 {
						t.Errorf("value %g outside the colour scale [%g, %g]", v, vm.Min, vm.Max)
					}
				}
			}
			if p.Meta.Kind != h.Info.Kind || p.Meta.Metric != metricName(h.Metric) {
				t.Errorf("meta %+v", p.Meta)
			}
		})
	}
	// The synthetic study has every kind for both metrics.
	for _, k := range []string{"CKA within-model", "CKA cross-lingual", "CKA cross-model", "RSA within-model", "RSA cross-lingual", "RSA cross-model"} {
		if seen[k] == 0 {
			t.Errorf("no %s heatmap in the synthetic results (%v)", k, seen)
		}
	}
}

func TestHeatmapErrors(t *testing.T) {
	ok := study.Heatmap{Matrix: [][]float64{{1, 0.5}, {0.5, 1}}, XLabels: []string{"L1", "L2"}, YLabels: []string{"L1", "L2"}, Metric: "cka"}
	for _, tc := range []struct {
		name string
		edit func(*study.Heatmap)
		want string
	}{
		{"empty", func(h *study.Heatmap) { h.Matrix = nil }, "empty matrix"},
		{"ragged", func(h *study.Heatmap) { h.Matrix = [][]float64{{1, 0.5}, {0.5}} }, "row 1 has 1 values"},
		{"labels", func(h *study.Heatmap) { h.XLabels = []string{"L1"} }, "1 x labels"},
		{"nan", func(h *study.Heatmap) { h.Matrix = [][]float64{{1, math.NaN()}, {0.5, 1}} }, "is NaN"},
		{"inf", func(h *study.Heatmap) { h.Matrix = [][]float64{{1, 0.5}, {math.Inf(1), 1}} }, "is +Inf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := ok
			tc.edit(&h)
			_, err := Heatmap(h)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := Heatmap(ok); err != nil {
		t.Errorf("valid heatmap: %v", err)
	}
}

// TestHeatmapScale checks the colour scale: [0, 1] unless values fall outside.
func TestHeatmapScale(t *testing.T) {
	for _, tc := range []struct {
		m      [][]float64
		lo, hi float64
	}{
		{[][]float64{{1, 0.5}, {0.5, 1}}, 0, 1},
		{[][]float64{{1, -0.123}, {-0.123, 1}}, -0.13, 1},
		{[][]float64{{1.004, 0.2}, {0.2, 1}}, 0, 1.01},
	} {
		h := study.Heatmap{Matrix: tc.m, XLabels: []string{"a", "b"}, YLabels: []string{"a", "b"}, Metric: "rsa-spearman:correlation"}
		_, e := fragmentOf(t, chartOK(t)(Heatmap(h)))
		var p struct {
			Option echartsOption `json:"option"`
		}
		decodePayload(t, e, &p)
		vm := p.Option.VisualMap[0]
		if math.Abs(vm.Min-tc.lo) > 1e-6 || math.Abs(vm.Max-tc.hi) > 1e-6 {
			t.Errorf("%v: scale [%g, %g], want [%g, %g]", tc.m, vm.Min, vm.Max, tc.lo, tc.hi)
		}
	}
}

func TestProjectorData(t *testing.T) {
	r := loadSynth(t)
	m := &r.Metrics
	_, e := fragmentOf(t, chartOK(t)(Projector(m)))
	var p struct {
		Kind string        `json:"kind"`
		Data ProjectorData `json:"data"`
	}
	decodePayload(t, e, &p)
	d := p.Data
	if p.Kind != "projector" || !reflect.DeepEqual(d.Languages, m.Languages) || len(d.Models) != len(m.Models) {
		t.Fatalf("kind %q, languages %v, %d models", p.Kind, d.Languages, len(d.Models))
	}
	for i, mo := range m.Models {
		if d.Models[i].ID != mo.ID || d.Models[i].Layers != mo.Layers || d.Models[i].Color != ModelColor(i) {
			t.Errorf("model %d: %+v, want %+v", i, d.Models[i], mo)
		}
	}
	if len(d.Points) != len(m.Joint.Rows) {
		t.Fatalf("%d points, want %d", len(d.Points), len(m.Joint.Rows))
	}
	lastDepth := map[[2]int]float64{}
	for i, pt := range d.Points {
		row := m.Joint.Rows[i]
		if d.Models[pt.Model].ID != row.Model || d.Languages[pt.Lang] != row.Lang || pt.Layer != row.Layer || pt.XYZ != m.Joint.XYZ[i] {
			t.Errorf("point %d: %+v, want row %+v at %v", i, pt, row, m.Joint.XYZ[i])
		}
		key := [2]int{pt.Model, pt.Lang}
		prev, ok := lastDepth[key]
		if pt.Depth < 0 || pt.Depth > 1 || (ok && pt.Depth <= prev) || (!ok && pt.Depth != 0) {
			t.Errorf("point %d: depth %g after %g", i, pt.Depth, prev)
		}
		lastDepth[key] = pt.Depth
	}
	for key, dep := range lastDepth {
		if dep != 1 {
			t.Errorf("model %d language %d: last depth %g, want 1", key[0], key[1], dep)
		}
	}
	n := 0
	for _, pr := range m.Pairs {
		n += pr.Count
	}
	if len(d.Pairs) != n {
		t.Fatalf("%d pair links, want %d", len(d.Pairs), n)
	}
	k := 0
	for _, pr := range m.Pairs {
		for layer := 0; layer < pr.Count; layer, k = layer+1, k+1 {
			q := d.Pairs[k]
			a, b := d.Points[q.A], d.Points[q.B]
			if d.Models[q.Model].ID != pr.Model || d.Languages[a.Lang] != pr.LangA || d.Languages[b.Lang] != pr.LangB || a.Layer != b.Layer {
				t.Errorf("link %d joins %+v and %+v for pair %s %s–%s", k, a, b, pr.Model, pr.LangA, pr.LangB)
			}
			if q.CKA != pr.CKAPerLayer[layer] || q.D3 != pr.D3PerLayer[layer] {
				t.Errorf("link %d: CKA %g distance %g, want %g %g", k, q.CKA, q.D3, pr.CKAPerLayer[layer], pr.D3PerLayer[layer])
			}
			// The distance must be that of the two points drawn.
			dist := math.Sqrt(sq(a.XYZ[0]-b.XYZ[0]) + sq(a.XYZ[1]-b.XYZ[1]) + sq(a.XYZ[2]-b.XYZ[2]))
			if math.Abs(dist-q.D3) > 1e-12 {
				t.Errorf("link %d: distance %g between the points, %g in the metrics", k, dist, q.D3)
			}
		}
	}
	if d.Axis == nil || d.Axis.Component != m.LanguageAxis.Component || d.Axis.CorrOverall != m.LanguageAxis.CorrOverall || d.Axis.LabelLang != 0 {
		t.Errorf("axis %+v, metrics %+v", d.Axis, m.LanguageAxis)
	}
}

func sq(x float64) float64 { return x * x }

func TestProjectorErrors(t *testing.T) {
	base := loadSynth(t).Metrics
	for _, tc := range []struct {
		name string
		edit func(*study.Metrics)
		want string
	}{
		{"no points", func(m *study.Metrics) { m.Joint.Rows, m.Joint.XYZ = nil, nil }, "no points"},
		{"xyz", func(m *study.Metrics) { m.Joint.XYZ = m.Joint.XYZ[1:] }, "coordinates"},
		{"model", func(m *study.Metrics) { m.Joint.Rows[0].Model = "nobody" }, `model "nobody"`},
		{"lang", func(m *study.Metrics) { m.Joint.Rows[0].Lang = "fr" }, `language "fr"`},
		{"pair layers", func(m *study.Metrics) { m.Pairs[0].CKAPerLayer = m.Pairs[0].CKAPerLayer[1:] }, "CKA and"},
		{"pair model", func(m *study.Metrics) { m.Pairs[0].Model = "x" }, "unknown model"},
		{"axis", func(m *study.Metrics) { m.LanguageAxis.Component = 3 }, "component 3"},
		{"nan", func(m *study.Metrics) { m.Joint.XYZ[2][1] = math.NaN() }, "NaN"},
		{"dup model", func(m *study.Metrics) { m.Models[1].ID = m.Models[0].ID }, "listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := cloneMetrics(t, &base)
			tc.edit(m)
			_, err := Projector(m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := Projector(nil); err == nil {
		t.Error("nil metrics accepted")
	}
}

// cloneMetrics deep-copies metrics through JSON (NaN-free input).
func cloneMetrics(t testing.TB, m *study.Metrics) *study.Metrics {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var c study.Metrics
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func TestBins(t *testing.T) {
	for _, tc := range []struct {
		v      []float64
		edges  []float64
		counts []int
	}{
		// n = 8: ⌈log₂ 8⌉ + 1 = 4 bins over [0, 7].
		{[]float64{0, 1, 2, 3, 4, 5, 6, 7}, []float64{0, 1.75, 3.5, 5.25, 7}, []int{2, 2, 2, 2}},
		// n = 5: 4 bins over [1, 3]; 1.5 is an edge and goes up, 3 (the
		// maximum) into the closed last bin.
		{[]float64{1, 1.5, 1.5, 2.9, 3}, []float64{1, 1.5, 2, 2.5, 3}, []int{1, 2, 0, 2}},
		// All equal: one bin.
		{[]float64{0.25, 0.25, 0.25}, []float64{0.25, 0.25}, []int{3}},
		// One value.
		{[]float64{2}, []float64{2, 2}, []int{1}},
	} {
		edges := binEdges(tc.v)
		if !reflect.DeepEqual(edges, tc.edges) {
			t.Errorf("%v: edges %v, want %v", tc.v, edges, tc.edges)
			continue
		}
		if counts := binCounts(tc.v, edges); !reflect.DeepEqual(counts, tc.counts) {
			t.Errorf("%v: counts %v, want %v", tc.v, counts, tc.counts)
		}
	}
	// Outside the edges: not counted.
	if c := binCounts([]float64{-1, 0.5, 2}, []float64{0, 1}); !reflect.DeepEqual(c, []int{1}) {
		t.Errorf("counts %v, want [1]", c)
	}
}

func TestDistanceHistogram(t *testing.T) {
	r := loadSynth(t)
	m := &r.Metrics
	var all []float64
	for _, p := range m.Pairs {
		all = append(all, p.D3PerLayer...)
	}
	sort.Float64s(all)
	for _, model := range append([]string{""}, m.Models[0].ID, m.Models[1].ID, m.Models[2].ID) {
		t.Run("model="+model, func(t *testing.T) {
			c := chartOK(t)(DistanceHistogram(m, model))
			_, e := fragmentOf(t, c)
			var p struct {
				Option echartsOption `json:"option"`
				Meta   histogramMeta `json:"meta"`
			}
			decodePayload(t, e, &p)
			edges := p.Meta.Edges
			k := int(math.Ceil(math.Log2(float64(len(all))))) + 1
			if len(edges) != k+1 || edges[0] != all[0] || edges[k] != all[len(all)-1] {
				t.Fatalf("edges %v: want %d bins over [%g, %g]", edges, k, all[0], all[len(all)-1])
			}
			wantSeries := 1
			if model == "" {
				wantSeries = len(m.Models)
			}
			if len(p.Option.Series) != wantSeries || len(p.Option.XAxis[0].Data) != k {
				t.Fatalf("%d series, %d categories", len(p.Option.Series), len(p.Option.XAxis[0].Data))
			}
			total := 0
			for _, s := range p.Option.Series {
				// Count this model's distances bin by bin, by linear search.
				want := make([]int, k)
				for _, pr := range m.Pairs {
					if pr.Model != s.Name {
						continue
					}
					for _, d := range pr.D3PerLayer {
						for b := 0; b < k; b++ {
							if d >= edges[b] && (d < edges[b+1] || b == k-1 && d <= edges[b+1]) {
								want[b]++
								break
							}
						}
					}
				}
				for b, v := range s.Data {
					var got int
					if err := json.Unmarshal(v.Value, &got); err != nil {
						t.Fatal(err)
					}
					total += got
					if got != want[b] {
						t.Errorf("%s bin %d: %d, want %d", s.Name, b, got, want[b])
					}
				}
				if s.Stack != "pairs" {
					t.Errorf("series %s not stacked", s.Name)
				}
			}
			n := len(all)
			if model != "" {
				n = 0
				for _, pr := range m.Pairs {
					if pr.Model == model {
						n += len(pr.D3PerLayer)
					}
				}
			}
			if total != n {
				t.Errorf("counts add up to %d, want %d", total, n)
			}
		})
	}
	if _, err := DistanceHistogram(m, "no/such-model"); err == nil {
		t.Error("unknown model accepted")
	}
}

func TestCurves(t *testing.T) {
	r := loadSynth(t)
	m := &r.Metrics
	read := func(c *Chart) map[string][][2]float64 {
		_, e := fragmentOf(t, c)
		var p struct {
			Option echartsOption `json:"option"`
		}
		decodePayload(t, e, &p)
		out := map[string][][2]float64{}
		for _, s := range p.Option.Series {
			if s.Type != "line" {
				t.Errorf("series %s is %q", s.Name, s.Type)
			}
			for _, d := range s.Data {
				var v [2]float64
				if err := json.Unmarshal(d.Value, &v); err != nil {
					t.Fatal(err)
				}
				out[s.Name] = append(out[s.Name], v)
			}
		}
		return out
	}
	layersOf := func(model, lang string) []int {
		var out []int
		for _, row := range m.Joint.Rows {
			if row.Model == model && row.Lang == lang {
				out = append(out, row.Layer)
			}
		}
		return out
	}
	cross := read(chartOK(t)(CrossLingualCurves(m)))
	last := read(chartOK(t)(LastLayerCurves(m)))
	if len(cross) != 2*len(m.Pairs) || len(last) != 2*len(m.Pairs) {
		t.Fatalf("%d cross-lingual and %d last-layer series for %d pairs", len(cross), len(last), len(m.Pairs))
	}
	check := func(name string, got [][2]float64, layers []int, want []float64) {
		if len(got) != len(want) {
			t.Errorf("%s: %d points, want %d", name, len(got), len(want))
			return
		}
		for k := range want {
			if got[k][0] != float64(layers[k]) || got[k][1] != want[k] {
				t.Errorf("%s point %d: %v, want [%d %g]", name, k, got[k], layers[k], want[k])
			}
		}
	}
	for _, p := range m.Pairs {
		base := p.Model + " " + p.LangA + "–" + p.LangB
		check(base+" CKA", cross[base+" CKA"], layersOf(p.Model, p.LangA), p.CKAPerLayer)
		check(base+" RSA", cross[base+" RSA"], layersOf(p.Model, p.LangA), p.RSAPerLayer)
		check(p.Model+" "+p.LangA, last[p.Model+" "+p.LangA], layersOf(p.Model, p.LangA), p.CKALastLayer)
		check(p.Model+" "+p.LangB, last[p.Model+" "+p.LangB], layersOf(p.Model, p.LangB), p.CKALastLayerB)
		// Identity: the last layer's CKA with itself is 1.
		for _, lang := range []string{p.LangA, p.LangB} {
			c := last[p.Model+" "+lang]
			if v := c[len(c)-1][1]; math.Abs(v-1) > 1e-6 {
				t.Errorf("%s %s: CKA of the last layer to itself %g", p.Model, lang, v)
			}
		}
	}
}

var idRe = regexp.MustCompile(`\bid="([^"]+)"`)

func TestSnippet(t *testing.T) {
	needAssets(t)
	r := loadSynth(t)
	c := chartOK(t)(Heatmap(r.Heatmaps[0]))
	s1, err := c.Snippet()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := c.Snippet()
	if err != nil {
		t.Fatal(err)
	}
	e1, e2 := chartsIn(t, s1), chartsIn(t, s2)
	if len(e1) != 1 || len(e2) != 1 {
		t.Fatalf("%d and %d charts in the snippets", len(e1), len(e2))
	}
	if e1[0].id == e2[0].id {
		t.Errorf("two snippets share the id %s", e1[0].id)
	}
	for _, pair := range [][2]any{{s1, e1[0]}, {s2, e2[0]}} {
		s, e := pair[0].(string), pair[1].(embedded)
		if e.attr != e.id {
			t.Errorf("data attribute %q, id %q", e.attr, e.id)
		}
		if m := mountRe.FindAllStringSubmatch(s, -1); len(m) != 1 || m[0][1] != e.id {
			t.Errorf("mount calls %v, want one for %s", m, e.id)
		}
		if !reflect.DeepEqual(e.payload, e1[0].payload) {
			t.Error("the two snippets carry different data")
		}
		checkOffline(t, s)
		checkGuard(t, s, false)
	}
	p := chartOK(t)(Projector(&r.Metrics))
	s3, err := p.Snippet()
	if err != nil {
		t.Fatal(err)
	}
	checkOffline(t, s3)
	checkGuard(t, s3, true)
	// One page with all three: every element id unique.
	ids := map[string]int{}
	for _, m := range idRe.FindAllStringSubmatch(stripBundles(t, s1+s2+s3), -1) {
		ids[m[1]]++
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %s appears %d times", id, n)
		}
	}
	if len(ids) != 3 {
		t.Errorf("%d ids, want 3: %v", len(ids), ids)
	}
}

// stripBundles removes the inlined ECharts bundles (third-party code, whose
// strings mention ids and CSS imports) from a page.
func stripBundles(t *testing.T, html string) string {
	t.Helper()
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	html = strings.ReplaceAll(html, string(a.echarts), "/*echarts*/")
	return strings.ReplaceAll(html, string(a.gl), "/*echarts-gl*/")
}

// checkOffline fails if the HTML, less the bundles, could load anything from
// the network.
func checkOffline(t *testing.T, html string) {
	t.Helper()
	html = stripBundles(t, html)
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script[^>]*\bsrc=`),
		regexp.MustCompile(`(?i)<link\b`),
		regexp.MustCompile(`(?i)<img\b[^>]*\bsrc="?https?:`),
		regexp.MustCompile(`(?i)@import`),
		regexp.MustCompile(`(?i)url\(\s*['"]?https?:`),
	} {
		if loc := re.FindStringIndex(html); loc != nil {
			t.Errorf("network reference %q", html[loc[0]:min(loc[1]+60, len(html))])
		}
	}
}

// checkGuard checks that each bundle runs with define hidden, once per page.
func checkGuard(t *testing.T, html string, gl bool) {
	t.Helper()
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	bundles := []struct {
		name string
		code []byte
		want bool
	}{{"echarts", a.echarts, true}, {"echarts-gl", a.gl, gl}}
	for _, b := range bundles {
		at := strings.Index(html, string(b.code[:200]))
		if !b.want {
			if at >= 0 {
				t.Errorf("%s inlined where it is not needed", b.name)
			}
			continue
		}
		if at < 0 {
			t.Errorf("%s not inlined", b.name)
			continue
		}
		before := html[:at]
		open := strings.LastIndex(before, "<script>")
		head := before[open:]
		if !strings.Contains(head, "window.define = undefined") || !strings.Contains(head, "var __layersimDefine = window.define") {
			t.Errorf("%s: define not hidden before the bundle: %q", b.name, head)
		}
		if !strings.Contains(head, "if (") {
			t.Errorf("%s: no load-once guard: %q", b.name, head)
		}
		after := html[at+len(b.code):]
		if end := strings.Index(after, "</script>"); end < 0 || !strings.Contains(after[:end], "window.define = __layersimDefine") {
			t.Errorf("%s: define not restored after the bundle", b.name)
		}
	}
}

func TestRender(t *testing.T) {
	needAssets(t)
	r := loadSynth(t)
	var b strings.Builder
	if err := chartOK(t)(Projector(&r.Metrics)).Render(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, "<title>Joint 3D embedding of all layers</title>") {
		t.Errorf("page starts %.200q", page)
	}
	if cs := chartsIn(t, page); len(cs) != 1 || cs[0].kind != "projector" {
		t.Errorf("charts %v", cs)
	}
	checkOffline(t, page)
	checkGuard(t, page, true)
}

// TestPayloadEscaping checks that text from the results cannot end the
// script element that carries the data.
func TestPayloadEscaping(t *testing.T) {
	evil := `</script><script>alert(1)</script><!--`
	h := study.Heatmap{Matrix: [][]float64{{1}}, XLabels: []string{evil}, YLabels: []string{"L1"}, Title: evil, Metric: "cka"}
	html, e := fragmentOf(t, chartOK(t)(Heatmap(h)))
	if strings.Count(html, "<script") != 2 || strings.Count(html, "</script>") != 2 {
		t.Errorf("the label broke out of its element:\n%s", html)
	}
	var p struct {
		Option echartsOption `json:"option"`
	}
	decodePayload(t, e, &p)
	if p.Option.XAxis[0].Data[0] != evil {
		t.Errorf("label read back as %q", p.Option.XAxis[0].Data[0])
	}
	if got := string(inlineSafe([]byte(`a="</script>";b="<!--"`))); got != `a="<\/script>";b="<\!--"` {
		t.Errorf("inlineSafe: %s", got)
	}
}

func TestAssetsMissing(t *testing.T) {
	t.Setenv(JSDirEnv, t.TempDir())
	assetsMu.Lock()
	saved := assetsCached
	assetsCached = nil
	assetsMu.Unlock()
	defer func() {
		assetsMu.Lock()
		assetsCached = saved
		assetsMu.Unlock()
	}()
	_, err := (&Chart{kind: "echarts"}).Snippet()
	if err == nil || !strings.Contains(err.Error(), "scripts/setup") || !strings.Contains(err.Error(), JSDirEnv) {
		t.Errorf("error %v, want one that says to run scripts/setup", err)
	}
	// A folder with the two bundles side by side is accepted.
	dir := os.Getenv(JSDirEnv)
	for _, f := range []string{"echarts.min.js", "echarts-gl.min.js"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("/* "+f+" */"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, err := loadAssets()
	if err != nil || string(a.echarts) != "/* echarts.min.js */" || string(a.gl) != "/* echarts-gl.min.js */" {
		t.Errorf("assets %v, %v", a, err)
	}
}
