package plots

import (
	"encoding/json"
	"fmt"
	"html"
	"image"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/study"
)

// depthSeries is what TestDepthCurve reads back from a depth chart.
type depthSeries struct {
	Name string `json:"name"`
	Data []struct {
		Value [2]float64 `json:"value"`
	} `json:"data"`
	MarkLine *struct {
		Data []struct {
			Name  string  `json:"name"`
			XAxis float64 `json:"xAxis"`
		} `json:"data"`
	} `json:"markLine"`
}

// TestDepthCurve: the depth chart carries the depth map's CKA and interval
// bounds at its layers, and a vertical line at each change point's layer
// labelled with its effect; the report's layer-wise curves include one such
// chart per depth map.
func TestDepthCurve(t *testing.T) {
	r := loadSynth(t)
	m := &r.Metrics
	if len(m.Depth) != len(m.Pairs) || len(m.Depth) == 0 {
		t.Fatalf("%d depth maps for %d pairs", len(m.Depth), len(m.Pairs))
	}
	d := m.Depth[0]
	if d.Lo == nil || d.ChangePoints == nil {
		t.Fatalf("depth map without bootstrap: %+v", d)
	}
	// Two change points, whatever the synthetic data gave.
	d.ChangePoints = []study.ChangePoint{
		{Layer: d.Layers[1], Index: 1, Effect: -0.25, Gain: 0.1, Threshold: 0.01},
		{Layer: d.Layers[3], Index: 3, Effect: 0.125, Gain: 0.05, Threshold: 0.01},
	}
	c := chartOK(t)(DepthCurve(m, d))
	_, e := fragmentOf(t, c)
	type payload struct {
		Option struct {
			Series []depthSeries `json:"series"`
		} `json:"option"`
	}
	var p payload
	decodePayload(t, e, &p)
	name := fmt.Sprintf("%s %s–%s", d.Model, d.Langs[0], d.Langs[1])
	want := map[string][]float64{name + " CKA": d.CKA, "95% interval, low": d.Lo, "95% interval, high": d.Hi}
	if len(p.Option.Series) != 3 {
		t.Fatalf("%d series, want 3", len(p.Option.Series))
	}
	for _, s := range p.Option.Series {
		vals, ok := want[s.Name]
		if !ok || len(s.Data) != len(vals) {
			t.Errorf("series %q with %d points", s.Name, len(s.Data))
			continue
		}
		for k, v := range vals {
			if s.Data[k].Value != [2]float64{float64(d.Layers[k]), v} {
				t.Errorf("%s point %d: %v, want [%d %g]", s.Name, k, s.Data[k].Value, d.Layers[k], v)
			}
		}
		if s.Name != name+" CKA" {
			if s.MarkLine != nil {
				t.Errorf("%s has change-point lines", s.Name)
			}
			continue
		}
		if s.MarkLine == nil || len(s.MarkLine.Data) != 2 {
			t.Fatalf("CKA series marks: %+v", s.MarkLine)
		}
		for i, cp := range d.ChangePoints {
			got := s.MarkLine.Data[i]
			if label := fmt.Sprintf("layer %d: %+.3f", cp.Layer, cp.Effect); got.XAxis != float64(cp.Layer) || got.Name != label {
				t.Errorf("mark %d: %+v, want %q at %d", i, got, label, cp.Layer)
			}
		}
	}
	if !strings.HasSuffix(c.Title, ": cross-lingual CKA along depth, 2 change points") {
		t.Errorf("title %q lacks the count of change points", c.Title)
	}

	// Without a bootstrap: the curve alone.
	bare := study.Depth{Model: d.Model, Langs: d.Langs, Layers: d.Layers, CKA: d.CKA}
	c = chartOK(t)(DepthCurve(m, bare))
	_, e = fragmentOf(t, c)
	var q payload
	decodePayload(t, e, &q)
	if len(q.Option.Series) != 1 || q.Option.Series[0].MarkLine != nil || !strings.HasSuffix(c.Title, "(no bootstrap: no change points)") {
		t.Errorf("depth map without bootstrap: %d series, title %q", len(q.Option.Series), c.Title)
	}

	needAssets(t)
	var b strings.Builder
	if err := Report(synthResults(t), &b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	text := html.UnescapeString(stripBundles(t, page))
	if !strings.Contains(text, `<h2 id="curves">Layer-wise curves</h2>`) || !strings.Contains(text, "the others are the depth maps") {
		t.Error("no depth maps among the layer-wise curves")
	}
	for _, d := range m.Depth {
		title := fmt.Sprintf("%s %s–%s: cross-lingual CKA along depth, ", d.Model, d.Langs[0], d.Langs[1])
		if !strings.Contains(text, title) {
			t.Errorf("report lacks the chart %q", title)
		}
	}
}

// TestDepthErrors: a depth map that does not hang together is refused by
// DepthCurve and by ParseMetrics.
func TestDepthErrors(t *testing.T) {
	r := loadSynth(t)
	m := r.Metrics
	good := m.Depth[0]
	L := len(good.Layers)
	for _, tc := range []struct {
		name string
		edit func(d *study.Depth)
	}{
		{"short cka", func(d *study.Depth) { d.CKA = d.CKA[:L-1] }},
		{"low bound only", func(d *study.Depth) { d.Hi = nil }},
		{"short interval", func(d *study.Depth) { d.Lo = d.Lo[:1] }},
		{"change at the first layer", func(d *study.Depth) {
			d.ChangePoints = []study.ChangePoint{{Layer: d.Layers[0], Index: 0}}
		}},
		{"change past the end", func(d *study.Depth) { d.ChangePoints = []study.ChangePoint{{Layer: 99, Index: L}} }},
		{"change at the wrong layer", func(d *study.Depth) {
			d.ChangePoints = []study.ChangePoint{{Layer: d.Layers[1] + 1, Index: 1}}
		}},
	} {
		d := good
		d.CKA, d.Lo, d.Hi = append([]float64(nil), good.CKA...), append([]float64(nil), good.Lo...), append([]float64(nil), good.Hi...)
		tc.edit(&d)
		if _, err := DepthCurve(&m, d); err == nil {
			t.Errorf("%s: DepthCurve gave no error", tc.name)
		}
		mm := m
		mm.Depth = []study.Depth{d}
		b, err := json.Marshal(mm)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseMetrics(b); err == nil || !strings.Contains(err.Error(), "depth map") {
			t.Errorf("%s: ParseMetrics error %v", tc.name, err)
		}
	}
	unknown := good
	unknown.Model = "org/none"
	if _, err := DepthCurve(&m, unknown); err == nil {
		t.Error("unknown model: no error")
	}
}

// TestChromiumDepthCurve draws a depth chart with two change points in
// Chromium: it is drawn, the ECharts option in the page holds the CKA, both
// bounds and a vertical line per change point, and the model's colour
// covers many pixels.
func TestChromiumDepthCurve(t *testing.T) {
	bin := findChromium(t)
	r := loadSynth(t)
	m := &r.Metrics
	d := m.Depth[0]
	d.ChangePoints = []study.ChangePoint{
		{Layer: d.Layers[2], Index: 2, Effect: -0.2, Gain: 0.1, Threshold: 0.01},
		{Layer: d.Layers[4], Index: 4, Effect: 0.1, Gain: 0.05, Threshold: 0.01},
	}
	snippet, err := chartOK(t)(DepthCurve(m, d)).Snippet()
	if err != nil {
		t.Fatal(err)
	}
	script := `<script>
var el = document.querySelector('.layersim-echarts'), o = el.layersim.chart.getOption();
document.body.setAttribute('data-after', JSON.stringify({series: o.series.length,
  marks: o.series[0].markLine.data.map(function (d) { return d.xAxis; })}));
</script>`
	dir := outDir(t)
	shot := filepath.Join(dir, "depth.png")
	dom, img := open(t, bin, writePage(t, dir, "depth.html", "", snippet, script), shot)
	if st := states(dom); len(st) != 1 || st[0] != "drawn" {
		t.Fatalf("chart states %v, want [drawn]", st)
	}
	var after struct {
		Series int       `json:"series"`
		Marks  []float64 `json:"marks"`
	}
	bodyJSON(t, dom, "data-after", &after)
	if after.Series != 3 || len(after.Marks) != 2 || after.Marks[0] != float64(d.Layers[2]) || after.Marks[1] != float64(d.Layers[4]) {
		t.Errorf("in the page: %+v, want 3 series and lines at layers %d and %d", after, d.Layers[2], d.Layers[4])
	}
	mi := modelIndex(m, d.Model)
	if n := countNear(img, image.Rect(0, 0, 1200, 450), ModelColor(mi), 45); n < 300 {
		t.Errorf("%d pixels of the model's colour, want ≥ 300 (see %s)", n, shot)
	}
}
