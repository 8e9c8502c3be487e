package plots

// Tests that open the charts in headless Chromium (Debian's chromium
// package, which scripts/setup installs). They are skipped, with a message,
// when Chromium or the npm-installed ECharts bundles are missing. Set
// LAYERSIM_SCREENSHOT_DIR to keep the pages and screenshots for a look.

import (
	"context"
	"encoding/json"
	"html"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/layersim/layersim/internal/browsertest"
	"github.com/layersim/layersim/lcka/study"

	"github.com/layersim/layersim/internal/testenv"
)

func findChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped in -short mode: opens headless Chromium")
	}
	needAssets(t)
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "no chromium on PATH (scripts/setup installs Debian's chromium)")
	return ""
}

// outDir is where pages and screenshots go: LAYERSIM_SCREENSHOT_DIR if set.
func outDir(t *testing.T) string {
	if d := os.Getenv("LAYERSIM_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// chromium runs headless Chromium on a page with a fresh profile, without
// network and with software WebGL, and returns its standard output. The
// charts draw while the page loads, so no virtual time budget is given (with
// one, runs that both dump the DOM and take a screenshot sometimes hang).
// Runs take 5 to 20 seconds, mostly Chromium starting; the tests run one at
// a time so that a loaded two-core machine does not stretch them further.
func chromium(t *testing.T, bin, page string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
		"--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--hide-scrollbars", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+page)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, tail(stderr.String(), 2000))
	}
	return string(out)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// open loads a page once and returns its DOM after the scripts ran and a
// screenshot of its first 1200×900 pixels, saved as pngPath.
func open(t *testing.T, bin, page, pngPath string) (string, image.Image) {
	t.Helper()
	dom := chromium(t, bin, page, "--dump-dom", "--screenshot="+pngPath, "--window-size=1200,900")
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return dom, img
}

// writePage writes an HTML page made of the given body parts.
func writePage(t *testing.T, dir, name string, head string, parts ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	body := "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">" + head + "</head><body style=\"margin:8px;background:#fff\">\n" +
		strings.Join(parts, "\n") + "\n</body></html>\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// countNear counts the pixels of img inside r within a Euclidean RGB distance
// tol of colour hex.
func countNear(img image.Image, r image.Rectangle, hex string, tol float64) int {
	want := hexRGB(hex)
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			d := math.Sqrt(sq(float64(cr>>8)-want[0]) + sq(float64(cg>>8)-want[1]) + sq(float64(cb>>8)-want[2]))
			if d <= tol {
				n++
			}
		}
	}
	return n
}

func hexRGB(h string) [3]float64 {
	v, _ := strconv.ParseUint(strings.TrimPrefix(h, "#"), 16, 32)
	return [3]float64{float64(v >> 16 & 255), float64(v >> 8 & 255), float64(v & 255)}
}

var (
	stateRe = regexp.MustCompile(`data-layersim-chart="([^"]+)"[^>]*data-layersim-state="([a-z]+)"|data-layersim-state="([a-z]+)"[^>]*data-layersim-chart="([^"]+)"`)
	attrRe  = func(name string) *regexp.Regexp { return regexp.MustCompile(`\b` + name + `="([^"]*)"`) }
)

// states returns the drawing state of each chart element in a dumped DOM.
func states(dom string) []string {
	var out []string
	for _, m := range stateRe.FindAllStringSubmatch(dom, -1) {
		out = append(out, m[2]+m[3])
	}
	return out
}

// bodyJSON decodes the JSON that a test script left in a body attribute.
func bodyJSON(t *testing.T, dom, name string, v any) {
	t.Helper()
	m := attrRe(name).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the page set no %s attribute; DOM:\n%s", name, tail(dom, 3000))
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), v); err != nil {
		t.Fatalf("%s: %v: %s", name, err, m[1])
	}
}

// panelScript records, under data-snap-NAME on <body>, what the projector's
// panel shows: each statistic's full-precision value (or its text).
const panelScript = `<script>
var el = document.querySelector('.layersim-projector');
function snap(name) {
  var o = {};
  el.querySelectorAll('td[data-stat]').forEach(function (td) {
    var k = td.getAttribute('data-stat');
    o[k] = td.hasAttribute('data-value') ? +td.getAttribute('data-value') : td.textContent;
  });
  document.body.setAttribute('data-snap-' + name, JSON.stringify(o));
}
function click(sel) { el.querySelector(sel).click(); }
</script>`

// TestChromiumProjector draws the projector and checks the picture (points of
// every model's colour in the canvas), the panel against statistics computed
// here and, with one model left, against the study's own per-model numbers,
// the toggles, the tooltip and the highlighted partner.
func TestChromiumProjector(t *testing.T) {
	bin := findChromium(t)
	r := loadSynth(t)
	m := &r.Metrics
	dir := outDir(t)
	c := chartOK(t)(Projector(m))
	alpha, beta, gamma := m.Models[0].ID, m.Models[1].ID, m.Models[2].ID
	snippet, err := c.Snippet()
	if err != nil {
		t.Fatal(err)
	}
	// Interactions, recorded into attributes of <body>; at the end all is
	// shown again, with point 8's partner highlighted, for the screenshot.
	script := `<script>
snap('all');
click('[data-model="` + beta + `"]'); snap('no-beta');
click('[data-model="` + gamma + `"]'); snap('alpha');
click('[data-lang="hi"]'); snap('alpha-en');
click('[data-lang="hi"]'); click('[data-model="` + beta + `"]'); click('[data-model="` + gamma + `"]');
click('[data-toggle="links"]'); click('[data-toggle="depth"]'); click('[data-action="reset"]');
var h = el.layersim, kinds = {}, pressed = el.querySelectorAll('[aria-pressed="false"]').length;
h.chart.getOption().series.forEach(function (s) { if (s) kinds[s.type] = (kinds[s.type] || 0) + 1; });
var sel = el.querySelector('[data-control="color"]');
sel.value = 'depth'; sel.dispatchEvent(new Event('change'));
var depthColors = h.chart.getOption().series.filter(function (s) { return s && s.id === 'p:0:0'; })[0].data.map(function (d) { return d.itemStyle.color; });
sel.value = 'model-lang'; sel.dispatchEvent(new Event('change'));
click('[data-toggle="links"]'); click('[data-toggle="depth"]');
h.highlight(8);
var hl = h.chart.getOption().series.filter(function (s) { return s && s.id === 'hl'; })[0];
document.body.setAttribute('data-after', JSON.stringify({series: kinds, tip: h.tooltip(8),
  partners: hl.data.map(function (d) { return d.value; }), pressed: pressed, depthColors: depthColors}));
</script>`
	p := writePage(t, dir, "projector.html", "", snippet, panelScript, script)
	shot := filepath.Join(dir, "projector.png")
	dom, img := open(t, bin, p, shot)

	// The picture: each model's colour (either language's shade) covers
	// many pixels of the canvas. The canvas starts below the controls
	// (whose swatches are excluded) and leaves the panel on the right.
	canvas := image.Rect(0, 70, 930, 680)
	for i, mo := range m.Models {
		base := ModelColor(i)
		n := countNear(img, canvas, base, 45) + countNear(img, canvas, mix(base, "#000000", 0.2), 45)
		t.Logf("%s (%s): %d pixels", mo.ID, base, n)
		if n < 150 {
			t.Errorf("model %s: %d pixels of its colour in the canvas, want ≥ 150 (see %s)", mo.ID, n, shot)
		}
	}
	if st := states(dom); len(st) != 1 || st[0] != "drawn" {
		t.Fatalf("chart states %v, want [drawn]", st)
	}
	all := map[string]bool{alpha: true, beta: true, gamma: true}
	both := map[string]bool{"en": true, "hi": true}
	for _, tc := range []struct {
		snap   string
		models map[string]bool
		langs  map[string]bool
	}{
		{"all", all, both},
		{"no-beta", map[string]bool{alpha: true, gamma: true}, both},
		{"alpha", map[string]bool{alpha: true}, both},
		{"alpha-en", map[string]bool{alpha: true}, map[string]bool{"en": true}},
	} {
		var got map[string]any
		bodyJSON(t, dom, "data-snap-"+tc.snap, &got)
		browsertest.CheckPanel(t, tc.snap, got, browsertest.ExpectPanel(m, tc.models, tc.langs))
		if tc.snap == "all" {
			// With everything visible the panel's r is the study's.
			if g := got["axis_corr"].(float64); math.Abs(g-m.LanguageAxis.CorrOverall) > 1e-12 {
				t.Errorf("all: axis r %g, study %g", g, m.LanguageAxis.CorrOverall)
			}
		}
		if tc.snap == "alpha" {
			// One model left: the study's own numbers for it.
			pr := m.Pairs[0]
			want := browsertest.PanelStats{Pairs: pr.Count, CKAMean: pr.CKAMean, CKAMedian: pr.CKAMedian, D3Mean: pr.D3Mean, D3Median: pr.D3Median, Axis: m.LanguageAxis.CorrPerModel[alpha]}
			browsertest.CheckPanel(t, "alpha (study values)", got, want)
		}
	}
	var after struct {
		Series   map[string]int `json:"series"`
		Tip      string         `json:"tip"`
		Partners [][3]float64   `json:"partners"`
		Pressed  int            `json:"pressed"`
		Depth    []string       `json:"depthColors"`
	}
	bodyJSON(t, dom, "data-after", &after)
	// Links and depth lines off: one scatter per model and language plus
	// the highlight; no lines.
	if after.Series["scatter3D"] != 2*len(m.Models)+1 || after.Series["line3D"] != 0 || after.Pressed != 2 {
		t.Errorf("after toggling lines off: series %v, %d buttons off", after.Series, after.Pressed)
	}
	// Coloured by depth, the first model's English layers run from the
	// first colour of the scale to the last.
	if n := m.Models[0].Layers; len(after.Depth) != n || after.Depth[0] != viridis[0] || after.Depth[n-1] != viridis[len(viridis)-1] {
		t.Errorf("depth colours %v, want %d from %s to %s", after.Depth, n, viridis[0], viridis[len(viridis)-1])
	}
	// Point 8 is a layer of the first model in Hindi (6 English layers come
	// first): its partner is the same layer in English.
	pt := m.Joint.Rows[8]
	partner := -1
	for i, r := range m.Joint.Rows {
		if r.Model == pt.Model && r.Layer == pt.Layer && r.Lang != pt.Lang {
			partner = i
		}
	}
	if len(after.Partners) != 1 || after.Partners[0] != m.Joint.XYZ[partner] {
		t.Errorf("highlighted %v, want the partner at %v", after.Partners, m.Joint.XYZ[partner])
	}
	k := pt.Layer - m.Joint.Rows[0].Layer
	pr := m.Pairs[0]
	tip := html.UnescapeString(after.Tip)
	for _, want := range []string{pt.Model, " · " + pt.Lang + " · layer " + strconv.Itoa(pt.Layer),
		"x " + strconv.FormatFloat(m.Joint.XYZ[8][0], 'f', 4, 64), "z " + strconv.FormatFloat(m.Joint.XYZ[8][2], 'f', 4, 64),
		"pair with en: CKA <b>" + strconv.FormatFloat(pr.CKAPerLayer[k], 'f', 4, 64) + "</b>, distance <b>" + strconv.FormatFloat(pr.D3PerLayer[k], 'f', 4, 64)} {
		if !strings.Contains(tip, want) {
			t.Errorf("tooltip %q lacks %q", tip, want)
		}
	}
}

// TestChromiumRequireJS loads the snippets into a page where RequireJS's
// define (with define.amd) exists, as in Jupyter Notebook 6 and nbconvert
// pages, inserting one snippet twice: every chart must draw, ECharts must end
// up on window, and define must be left as it was and never called.
func TestChromiumRequireJS(t *testing.T) {
	bin := findChromium(t)
	r := loadSynth(t)
	dir := outDir(t)
	var h study.Heatmap
	for _, x := range r.Heatmaps {
		if x.Info.Kind == "within-model" && len(x.Matrix) == 6 {
			h = x
			break
		}
	}
	heat, err := chartOK(t)(Heatmap(h)).Snippet()
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
	for _, c := range []*Chart{chartOK(t)(Projector(&r.Metrics)), chartOK(t)(DistanceHistogram(&r.Metrics, "")), chartOK(t)(CrossLingualCurves(&r.Metrics))} {
		s, err := c.Snippet()
		if err != nil {
			t.Fatal(err)
		}
		extra = append(extra, s)
	}
	stub := `<script>var define = function () { window.__amdCalls = (window.__amdCalls || 0) + 1; }; define.amd = {}; window.__stub = define;</script>`
	// Also the tooltips that the page adds to the options: heatmap cell
	// (column 1, row 0), histogram bin 0, a curve's value.
	check := `<script>
function tip(sel) { return document.querySelector(sel).layersim.chart.getOption().tooltip[0]; }
var hist = document.querySelector('.layersim-echarts[data-layersim-state="drawn"]');
document.body.setAttribute('data-check', JSON.stringify({
  echarts: !!(window.echarts && window.echarts.version), gl: window.__layersimEchartsGL === window.echarts,
  amdCalls: window.__amdCalls || 0, defineKept: window.define === window.__stub && !!define.amd,
  heatTip: tip('.layersim-heatmap').formatter({value: [1, 0, 0.123456]}),
  histTip: hist.layersim.chart.getOption().tooltip[0].formatter([{dataIndex: 0, value: 3, seriesName: 'm1', marker: ''}, {dataIndex: 0, value: 2, seriesName: 'm2', marker: ''}]),
  lineTip: document.querySelectorAll('.layersim-echarts')[1].layersim.chart.getOption().tooltip[0].valueFormatter([2, 0.987654321])}));
</script>`
	// Jupyter Notebook 6 inserts outputs with jQuery, which runs each script
	// as a new element in <head> (document.currentScript is then outside the
	// fragment): the heatmap once more, that way.
	snippetJSON, _ := json.Marshal(heat)
	jquery := `<div id="jq"></div><script>
(function () {
  var host = document.getElementById('jq');
  host.innerHTML = ` + string(snippetJSON) + `;
  host.querySelectorAll('script').forEach(function (old) {
    if (old.type && old.type !== 'text/javascript') return;
    var s = document.createElement('script');
    s.text = old.textContent;
    document.head.appendChild(s).parentNode.removeChild(s);
  });
})();
</script>`
	p := writePage(t, dir, "requirejs.html", stub, append(append([]string{heat, heat}, extra...), jquery, check)...)
	shot := filepath.Join(dir, "requirejs.png")
	dom, img := open(t, bin, p, shot)
	st := states(dom)
	if len(st) != 6 {
		t.Fatalf("%d charts in the page, want 6", len(st))
	}
	for i, s := range st {
		if s != "drawn" {
			t.Errorf("chart %d: state %q", i, s)
		}
	}
	var got struct {
		Echarts, GL, DefineKept   bool
		AmdCalls                  int
		HeatTip, HistTip, LineTip string
	}
	bodyJSON(t, dom, "data-check", &got)
	if !got.Echarts || !got.GL || !got.DefineKept || got.AmdCalls != 0 {
		t.Errorf("under RequireJS: %+v", got)
	}
	wantHeat := h.Info.LangA + " <b>" + h.YLabels[0] + "</b> × " + h.ModelB + " · " + h.Info.LangB + " <b>" + h.XLabels[1] + "</b><br>CKA = <b>0.1235</b>"
	if !strings.Contains(got.HeatTip, wantHeat) {
		t.Errorf("heatmap tooltip %q lacks %q", got.HeatTip, wantHeat)
	}
	edges := binEdges(allDistances(&r.Metrics))
	wantHist := "distance " + strconv.FormatFloat(edges[0], 'f', 4, 64) + " to " + strconv.FormatFloat(edges[1], 'f', 4, 64) + "<br>m1: <b>3</b><br>m2: <b>2</b><br>all: <b>5</b>"
	if got.HistTip != wantHist || got.LineTip != "0.9877" {
		t.Errorf("tooltips %q and %q, want %q and 0.9877", got.HistTip, got.LineTip, wantHist)
	}

	// The picture: the heatmap's colours fill its 6×6 cells.
	n := 0
	for _, c := range viridis {
		n += countNear(img, img.Bounds(), c, 30)
	}
	t.Logf("viridis pixels: %d", n)
	if n < 20000 {
		t.Errorf("%d pixels of the colour scale, want ≥ 20000 (see %s)", n, shot)
	}
}

// TestChromiumReport opens the report: no chart fails, and those drawn
// eagerly (projector, curves) are drawn.
func TestChromiumReport(t *testing.T) {
	bin := findChromium(t)
	dir := outDir(t)
	p := filepath.Join(dir, "report.html")
	if err := WriteReport(synthResults(t), p); err != nil {
		t.Fatal(err)
	}
	dom, _ := open(t, bin, p, filepath.Join(dir, "report.png"))
	st := states(dom)
	count := map[string]int{}
	for _, s := range st {
		count[s]++
	}
	if count["error"] > 0 || count["drawn"] < 3 {
		t.Errorf("chart states %v", count)
	}
	if strings.Contains(dom, `<pre class="layersim-error">`) {
		t.Error("a chart reports a failure")
	}
}

func allDistances(m *study.Metrics) []float64 {
	var d []float64
	for _, p := range m.Pairs {
		d = append(d, p.D3PerLayer...)
	}
	return d
}

// mix blends two #rrggbb colours like the page's langColor.
func mix(a, b string, t float64) string {
	x, y := hexRGB(a), hexRGB(b)
	var out [3]int
	for i := range out {
		out[i] = int(math.Round(x[i] + (y[i]-x[i])*t))
	}
	return "#" + hex2(out[0]) + hex2(out[1]) + hex2(out[2])
}

func hex2(v int) string {
	s := strconv.FormatInt(int64(v), 16)
	if len(s) < 2 {
		return "0" + s
	}
	return s
}

// TestChromiumReportMeasure opens the report of a study whose measure is the
// shape distance shape:1: no chart fails, and the projector's tooltip and
// panel name shape:1, not CKA, and say that it is a distance.
func TestChromiumReportMeasure(t *testing.T) {
	bin := findChromium(t)
	dir := outDir(t)
	results := mainMeasureResults(t, "shape:1", "svcca")
	r, err := LoadResults(results)
	if err != nil {
		t.Fatal(err)
	}
	m := &r.Metrics
	var b strings.Builder
	if err := Report(results, &b); err != nil {
		t.Fatal(err)
	}
	// The first Hindi layer of the first pair's model: its pair is the
	// first layer in English.
	pr := m.Pairs[0]
	point := -1
	for i, row := range m.Joint.Rows {
		if point < 0 && row.Model == pr.Model && row.Lang == pr.LangB {
			point = i
		}
	}
	script := `<script>
var el = document.querySelector('.layersim-projector'), h = el.layersim;
document.body.setAttribute('data-after', JSON.stringify({tip: h.tooltip(` + strconv.Itoa(point) + `), panel: el.querySelector('.layersim-panel').innerHTML}));
</script>`
	page := b.String()
	end := strings.LastIndex(page, "</body>")
	page = page[:end] + script + "\n" + page[end:]
	p := filepath.Join(dir, "report-shape.html")
	if err := os.WriteFile(p, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, _ := open(t, bin, p, filepath.Join(dir, "report-shape.png"))
	count := map[string]int{}
	for _, s := range states(dom) {
		count[s]++
	}
	if count["error"] > 0 || count["drawn"] < 3 || strings.Contains(dom, `<pre class="layersim-error">`) {
		t.Errorf("chart states %v", count)
	}
	var after struct {
		Tip   string `json:"tip"`
		Panel string `json:"panel"`
	}
	bodyJSON(t, dom, "data-after", &after)
	tip, panel := html.UnescapeString(after.Tip), html.UnescapeString(after.Panel)
	if want := "pair with " + pr.LangA + ": shape:1 <b>" + strconv.FormatFloat(pr.CKAPerLayer[0], 'f', 4, 64) + "</b>"; !strings.Contains(tip, want) {
		t.Errorf("tooltip %q lacks %q", tip, want)
	}
	for _, want := range []string{"pair shape:1 mean", "pair shape:1 median", "shape:1 is a distance (radians, 0 for the same shape): lower is closer."} {
		if !strings.Contains(panel, want) {
			t.Errorf("panel lacks %q: %s", want, panel)
		}
	}
	if strings.Contains(tip+panel, "CKA") {
		t.Errorf("tooltip or panel names CKA: %s %s", tip, panel)
	}
}
