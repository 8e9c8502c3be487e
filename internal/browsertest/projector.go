package browsertest

// The 3D projector of package plots used as a person uses it, on any page
// that shows one (report.html, the exported Analysis notebook): real input
// events (mouse moves, clicks, drags and wheel turns dispatched by the
// browser's input domain at screen coordinates), never calls of the page's
// handlers. The page is only read: where its points are on the screen,
// what the tooltip and the panel show, the view the chart reports.

import (
	"context"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/layersim/layersim/lcka/study"
)

// Projector is a page with one projector for DriveProjector.
type Projector struct {
	URL     string         // the page
	Metrics *study.Metrics // what the projector was drawn from
	Dir     string         // where the screenshots go
	Name    string         // the screenshots' prefix: Name-projector.png, Name-hover.png, …
}

// projectorJS is evaluated in the page to read (never to drive) the
// projector. screenOf(i) is where point i is drawn, in CSS pixels of the
// viewport: ECharts' convertToPixel does not cover ECharts GL's grid3D, so
// the point goes through the grid's data-to-world mapping and the camera's
// view and projection matrices, as ECharts GL itself projects its axis ends.
const projectorJS = `
window.__ls = (function () {
  var el = document.querySelector('.layersim-projector');
  function cs() { return el.layersim.chart.getModel().getComponent('grid3D').coordinateSystem; }
  function points() { return JSON.parse(el.querySelector('script.layersim-data').textContent).data.points; }
  function screenOf(i) {
    var c = cs(), gl = c.viewGL, cam = gl.camera, p = c.dataToPoint(points()[i].xyz);
    var v = [p[0], p[1], p[2], 1], m = cam.viewMatrix.array, q = cam.projectionMatrix.array;
    function mul(a, x) { var o = [0, 0, 0, 0]; for (var r = 0; r < 4; r++) for (var k = 0; k < 4; k++) o[r] += a[k * 4 + r] * x[k]; return o; }
    var clip = mul(q, mul(m, v)), vp = gl.viewport, h = gl.layer.renderer.getHeight();
    var nx = clip[0] / clip[3], ny = clip[1] / clip[3];
    var box = el.layersim.chart.getDom().getBoundingClientRect();
    return {x: box.left + vp.x + (nx + 1) / 2 * vp.width, y: box.top + h - (vp.y + (ny + 1) / 2 * vp.height), depth: clip[2] / clip[3]};
  }
  // Every tooltip the chart shows, in order, recorded as it appears.
  var shown = [];
  new MutationObserver(function () {
    var t = tooltip();
    if (t && t !== shown[shown.length - 1]) shown.push(t);
  }).observe(el.layersim.chart.getDom(), {attributes: true, childList: true, subtree: true, characterData: true});
  function tipDiv() {
    var divs = el.layersim.chart.getDom().querySelectorAll('div');
    for (var i = 0; i < divs.length; i++) {
      var s = divs[i].style;
      if (s.zIndex === '9999999' && s.display !== 'none' && s.visibility !== 'hidden' && s.opacity !== '0') return divs[i];
    }
    return null;
  }
  function tooltip() { var d = tipDiv(); return d ? d.innerHTML : ''; }
  function tipBox() { var d = tipDiv(); if (!d) return [0, 0, 0, 0]; var b = d.getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; }
  function panel() {
    var o = {};
    el.querySelectorAll('td[data-stat]').forEach(function (td) {
      var k = td.getAttribute('data-stat');
      o[k] = td.hasAttribute('data-value') ? +td.getAttribute('data-value') : td.textContent;
    });
    return o;
  }
  function view() { var v = el.layersim.chart.getOption().grid3D[0].viewControl; return {alpha: v.alpha, beta: v.beta, distance: v.distance}; }
  function highlighted() {
    var s = el.layersim.chart.getOption().series.filter(function (s) { return s && s.id === 'hl'; })[0];
    return s ? s.data.map(function (d) { return d.value || d; }) : [];
  }
  function canvasBox() { var b = el.querySelector('.layersim-canvas').getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; }
  return {screenOf: screenOf, tooltip: tooltip, tipBox: tipBox, shown: function () { return shown; }, panel: panel, view: view, highlighted: highlighted, canvasBox: canvasBox, n: function () { return points().length; }};
})();
true`

type screenPoint struct{ X, Y, Depth float64 }

type view struct{ Alpha, Beta, Distance float64 }

// mouseMoves moves the mouse to (x, y) in steps from (fx, fy), as a hand
// does, holding the left button when drag is set.
func mouseMoves(fx, fy, x, y float64, steps int, drag bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for s := 1; s <= steps; s++ {
			p := input.DispatchMouseEventParams{Type: chromedp.MouseMoved,
				X: fx + (x-fx)*float64(s)/float64(steps), Y: fy + (y-fy)*float64(s)/float64(steps)}
			if drag {
				p.Button, p.Buttons = input.MouseButtonLeft, 1
			}
			if _, err := cdp.Call(ctx, t, input.DispatchMouseEvent, p); err != nil {
				return err
			}
			time.Sleep(15 * time.Millisecond)
		}
		return nil
	})
}

// around is the square of side 2h centred on p.
func around(p screenPoint, h int) image.Rectangle {
	x, y := int(math.Round(p.X)), int(math.Round(p.Y))
	return image.Rect(x-h, y-h, x+h, y+h)
}

// DriveProjector opens p.URL in the browser of ctx (see Start) and uses the
// page's projector by hand: hover the point that stands farthest from the
// others (the tooltip's model, language, layer, coordinates and the pair's
// CKA and distance; the partner in the other language highlighted), leave
// it for empty space (highlight and tooltip gone, the picture as before),
// hover it again; toggle the second model and the second language (the
// panel's counts, means, medians and language-axis correlation against
// p.Metrics); rotate by dragging, zoom with the wheel, reset (the first
// view and picture again). Screenshots of each state go to p.Dir and their
// pixels are checked. It needs two languages and at least two models.
func DriveProjector(t testing.TB, ctx context.Context, p Projector) {
	t.Helper()
	m := p.Metrics
	if len(m.Models) < 2 || len(m.Languages) != 2 || len(m.Joint.Rows) != len(m.Joint.XYZ) {
		t.Fatalf("DriveProjector needs two languages and at least two models, with a coordinate per joint row: %d models, languages %q, %d rows, %d coordinates",
			len(m.Models), m.Languages, len(m.Joint.Rows), len(m.Joint.XYZ))
	}
	shot := func(state string) image.Image {
		t.Helper()
		return Screenshot(t, ctx, filepath.Join(p.Dir, p.Name+"-"+state+".png"))
	}
	Run(t, ctx, "open "+p.URL,
		chromedp.Navigate(p.URL),
		chromedp.WaitVisible(chromedp.CSS(`.layersim-projector[data-layersim-state="drawn"]`)),
		chromedp.ScrollIntoView(chromedp.CSS(`.layersim-projector`)),
		chromedp.Sleep(1500*time.Millisecond), // ECharts GL's first frames
	)
	Eval[bool](t, ctx, projectorJS)
	if n := Eval[int](t, ctx, `__ls.n()`); n != len(m.Joint.Rows) {
		t.Fatalf("the projector shows %d points, the metrics have %d joint rows", n, len(m.Joint.Rows))
	}
	cb := Eval[[4]float64](t, ctx, `__ls.canvasBox()`)
	chart := image.Rect(int(cb[0]), int(cb[1]), int(cb[0]+cb[2]), int(cb[1]+cb[3]))
	t.Logf("projector canvas at %v", chart)

	// The chart as drawn: in view, not blank, many colours.
	before := shot("projector")
	if !chart.In(before.Bounds()) {
		t.Fatalf("the projector's canvas %v is not wholly in the %v screenshot", chart, before.Bounds())
	}
	if d, ink := ColourStats(before, chart); d < 40 || ink < chart.Dx()*chart.Dy()/50 {
		t.Fatalf("projector canvas: %d colours, %d inked pixels of %d: blank or flat", d, ink, chart.Dx()*chart.Dy())
	}

	// Where every point is; hover the one farthest from all others (no
	// other point can cover it) that has a partner in the other language.
	n := len(m.Joint.Rows)
	pts := make([]screenPoint, n)
	for i := range pts {
		pts[i] = Eval[screenPoint](t, ctx, "__ls.screenOf("+strconv.Itoa(i)+")")
	}
	partnerOf := func(i int) int {
		for j, q := range m.Joint.Rows {
			if q.Model == m.Joint.Rows[i].Model && q.Layer == m.Joint.Rows[i].Layer && q.Lang != m.Joint.Rows[i].Lang {
				return j
			}
		}
		return -1
	}
	best, bestGap := -1, 0.0
	for i, p := range pts {
		if partnerOf(i) < 0 || !image.Pt(int(p.X), int(p.Y)).In(chart.Inset(20)) {
			continue
		}
		gap := math.Inf(1)
		for j, q := range pts {
			if j != i {
				gap = math.Min(gap, math.Hypot(p.X-q.X, p.Y-q.Y))
			}
		}
		if gap > bestGap {
			best, bestGap = i, gap
		}
	}
	if best < 0 || bestGap < 6 {
		t.Fatalf("no point stands apart on the screen (best %d, %.1f px from the next)", best, bestGap)
	}
	pt, partner := pts[best], partnerOf(best)
	t.Logf("hovering point %d (%+v) at %.0f,%.0f, %.1f px from the next; partner %d", best, m.Joint.Rows[best], pt.X, pt.Y, bestGap, partner)
	// The hand comes from below right and stops on the point (whole CSS
	// pixels, as a mouse reports them). The tooltips are read as the page
	// shows them.
	x, y := math.Round(pt.X), math.Round(pt.Y)
	Run(t, ctx, "hover", mouseMoves(x+60, y+60, x, y, 12, false), chromedp.Sleep(300*time.Millisecond))
	shown := Eval[[]string](t, ctx, `__ls.shown()`)
	if len(shown) == 0 {
		t.Fatalf("hovering point %d at %.0f,%.0f showed no tooltip", best, x, y)
	}
	// The tooltip last shown, and the one still shown while the mouse
	// rests on the point, both read.
	tips := map[string]string{"last shown": shown[len(shown)-1], "still shown": Eval[string](t, ctx, `__ls.tooltip()`)}
	row := m.Joint.Rows[best]
	var pair *study.Pair
	for k := range m.Pairs {
		if m.Pairs[k].Model == row.Model {
			pair = &m.Pairs[k]
		}
	}
	if pair == nil {
		t.Fatalf("no pair statistics for %s in the metrics", row.Model)
	}
	k := row.Layer - firstLayer(m, row.Model)
	if k < 0 || k >= len(pair.CKAPerLayer) || k >= len(pair.D3PerLayer) {
		t.Fatalf("layer %d of %s: no per-layer CKA or distance at index %d", row.Layer, row.Model, k)
	}
	other := m.Joint.Rows[partner].Lang
	f4 := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
	xyz := m.Joint.XYZ[best]
	for _, want := range []string{"<b>" + row.Model + "</b> · " + row.Lang + " · layer " + strconv.Itoa(row.Layer),
		"x " + f4(xyz[0]) + ", y " + f4(xyz[1]) + ", z " + f4(xyz[2]),
		"pair with " + other + ": CKA <b>" + f4(pair.CKAPerLayer[k]) + "</b>, distance <b>" + f4(pair.D3PerLayer[k]) + "</b>"} {
		for which, tip := range tips {
			if !strings.Contains(tip, want) {
				t.Errorf("tooltip %s, the mouse on point %d: %q lacks %q", which, best, tip, want)
			}
		}
	}
	hl := Eval[[][3]float64](t, ctx, `__ls.highlighted()`)
	if len(hl) != 1 || hl[0] != m.Joint.XYZ[partner] {
		t.Errorf("highlighted %v, want the partner %d at %v", hl, partner, m.Joint.XYZ[partner])
	}
	tb := Eval[[4]float64](t, ctx, `__ls.tipBox()`)
	hovered := shot("hover")
	// The tooltip painted: its box differs from the picture before.
	tipRect := image.Rect(int(tb[0])+2, int(tb[1])+2, int(tb[0]+tb[2])-2, int(tb[1]+tb[3])-2)
	if c, a := Changed(before, hovered, tipRect), tipRect.Dx()*tipRect.Dy(); tipRect.Empty() || c < a/10 {
		t.Errorf("the tooltip's box %v: %d of %d pixels changed on hover, want ≥ 10%%: not painted", tipRect, c, a)
	} else {
		t.Logf("the tooltip's box %v: %d of %d pixels changed on hover", tipRect, c, a)
	}
	if c := Changed(before, hovered, around(pts[partner], 14)); c < 40 {
		t.Errorf("around the partner at %.0f,%.0f only %d pixels changed on hover: no highlight drawn", pts[partner].X, pts[partner].Y, c)
	}
	// Leaving the point for empty space (ECharts GL sends no mouseout
	// then): the ring, the bold link and the tooltip go away, and the
	// picture around the partner is the unhighlighted one again.
	Run(t, ctx, "leave", mouseMoves(x, y, cb[0]+5, cb[1]+5, 4, false), chromedp.Sleep(800*time.Millisecond))
	if hl := Eval[[][3]float64](t, ctx, `__ls.highlighted()`); len(hl) != 0 {
		t.Errorf("after the mouse left point %d for empty space, still highlighted: %v", best, hl)
	}
	if now := Eval[string](t, ctx, `__ls.tooltip()`); now != "" {
		t.Errorf("after the mouse left point %d for empty space, the tooltip still shows %q", best, now)
	}
	left := shot("left")
	for _, q := range []struct {
		what string
		r    image.Rectangle
	}{{"the partner", around(pts[partner], 14)}, {"the hovered point", around(pt, 14)}} {
		c, h := Changed(before, left, q.r), Changed(before, hovered, q.r)
		t.Logf("around %s: %d pixels changed on hover, %d differ after the mouse left", q.what, h, c)
		if c > 4 {
			t.Errorf("after the mouse left, %d pixels around %s differ from the picture before the hover (%d changed on hover)", c, q.what, h)
		}
	}
	if c, all := Changed(before, left, chart), chart.Dx()*chart.Dy(); c > all/200 {
		t.Errorf("after the mouse left, %d of %d pixels of the chart differ from the picture before the hover", c, all)
	}
	// Back on the same point (ECharts GL then sends a mousemove, no
	// mouseover): the highlight returns.
	Run(t, ctx, "hover again", mouseMoves(cb[0]+5, cb[1]+5, x, y, 12, false), chromedp.Sleep(300*time.Millisecond))
	if hl := Eval[[][3]float64](t, ctx, `__ls.highlighted()`); len(hl) != 1 || hl[0] != m.Joint.XYZ[partner] {
		t.Errorf("hovering point %d again: highlighted %v, want the partner at %v", best, hl, m.Joint.XYZ[partner])
	}
	Run(t, ctx, "leave again", mouseMoves(x, y, cb[0]+5, cb[1]+5, 4, false), chromedp.Sleep(300*time.Millisecond))
	if hl := Eval[[][3]float64](t, ctx, `__ls.highlighted()`); len(hl) != 0 {
		t.Errorf("after leaving point %d a second time, still highlighted: %v", best, hl)
	}

	// Toggles, clicked: the panel against the metrics.
	hideModel, hideLang := m.Models[1].ID, m.Languages[1]
	all := map[string]bool{}
	for _, mo := range m.Models {
		all[mo.ID] = true
	}
	without := map[string]bool{}
	for id := range all {
		without[id] = id != hideModel
	}
	langs := map[string]bool{m.Languages[0]: true, hideLang: true}
	check := func(name string, models, ls map[string]bool) {
		t.Helper()
		got := Eval[map[string]any](t, ctx, `__ls.panel()`)
		CheckPanel(t, name, got, ExpectPanel(m, models, ls))
		pts := 0
		for _, q := range m.Joint.Rows {
			if models[q.Model] && ls[q.Lang] {
				pts++
			}
		}
		if g, _ := got["points"].(float64); int(g) != pts {
			t.Errorf("%s: panel shows %v points, want %d", name, got["points"], pts)
		}
	}
	check("all", all, langs)
	click := func(sel string) {
		t.Helper()
		Run(t, ctx, "click "+sel, chromedp.Click(chromedp.CSS(`.layersim-projector `+sel)), chromedp.Sleep(300*time.Millisecond))
	}
	click(`[data-model="` + hideModel + `"]`)
	check("without "+hideModel, without, langs)
	click(`[data-lang="` + hideLang + `"]`)
	check("without "+hideModel+" and "+hideLang, without, map[string]bool{m.Languages[0]: true})
	toggled := shot("toggled")
	if c := Changed(before, toggled, chart); c < 500 {
		t.Errorf("hiding a model and a language changed %d pixels of the chart", c)
	}
	click(`[data-lang="` + hideLang + `"]`)
	click(`[data-model="` + hideModel + `"]`)
	check("all again", all, langs)

	// Rotate: drag across the canvas with the left button.
	v0 := Eval[view](t, ctx, `__ls.view()`)
	cx, cy := cb[0]+cb[2]/2, cb[1]+cb[3]/2
	Run(t, ctx, "drag",
		mouseMoves(cx-100, cy, cx-100, cy, 1, false),
		chromedp.MouseEvent(chromedp.MousePressed, cx-100, cy, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		mouseMoves(cx-100, cy, cx+80, cy+40, 12, true),
		chromedp.MouseEvent(chromedp.MouseReleased, cx+80, cy+40, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.Sleep(500*time.Millisecond))
	v1 := Eval[view](t, ctx, `__ls.view()`)
	p1 := Eval[screenPoint](t, ctx, "__ls.screenOf("+strconv.Itoa(best)+")")
	rotated := shot("rotated")
	if v1.Beta == v0.Beta && v1.Alpha == v0.Alpha {
		t.Errorf("dragging left the view at %+v", v1)
	}
	if math.Hypot(p1.X-pt.X, p1.Y-pt.Y) < 5 {
		t.Errorf("after the drag point %d is still at %.0f,%.0f", best, p1.X, p1.Y)
	}
	if c := Changed(before, rotated, chart); c < 1000 {
		t.Errorf("rotating changed %d pixels of the chart", c)
	}

	// Zoom: the wheel, turned towards the screen, brings the camera nearer.
	wheel := func(p *input.DispatchMouseEventParams) { p.DeltaX, p.DeltaY = 1e-9, -120 }
	for range 5 {
		Run(t, ctx, "wheel", chromedp.MouseEvent(chromedp.MouseWheel, cx, cy, wheel), chromedp.Sleep(50*time.Millisecond))
	}
	time.Sleep(2 * time.Second) // the zoom eases out
	v2 := Eval[view](t, ctx, `__ls.view()`)
	if !(v2.Distance < v1.Distance) {
		t.Errorf("zooming in: camera distance %g, was %g", v2.Distance, v1.Distance)
	}
	if cb2 := Eval[[4]float64](t, ctx, `__ls.canvasBox()`); cb2 != cb {
		t.Errorf("the wheel moved the page: the canvas is at %v, was at %v", cb2, cb)
	}
	zoomed := shot("zoomed")
	if c := Changed(rotated, zoomed, chart); c < 1000 {
		t.Errorf("zooming changed %d pixels of the chart", c)
	}

	// Reset: the first view, the points where they were, the same picture.
	click(`[data-action="reset"]`)
	time.Sleep(500 * time.Millisecond)
	v3 := Eval[view](t, ctx, `__ls.view()`)
	if math.Abs(v3.Alpha-v0.Alpha) > 0.01 || math.Abs(v3.Beta-v0.Beta) > 0.01 || math.Abs(v3.Distance-v0.Distance) > 0.001*v0.Distance {
		t.Errorf("after reset the view is %+v, want %+v", v3, v0)
	}
	p3 := Eval[screenPoint](t, ctx, "__ls.screenOf("+strconv.Itoa(best)+")")
	if math.Hypot(p3.X-pt.X, p3.Y-pt.Y) > 1 {
		t.Errorf("after reset point %d is at %.1f,%.1f, was %.1f,%.1f", best, p3.X, p3.Y, pt.X, pt.Y)
	}
	reset := shot("reset")
	if c, all := Changed(before, reset, chart), chart.Dx()*chart.Dy(); c > all/100 {
		t.Errorf("after reset %d of %d pixels differ from the first picture", c, all)
	}
	t.Logf("views: first %+v, rotated %+v, zoomed %+v, reset %+v; screenshots %s-*.png in %s", v0, v1, v2, v3, p.Name, p.Dir)
}

// firstLayer is the first layer number of a model in the joint rows.
func firstLayer(m *study.Metrics, model string) int {
	for _, r := range m.Joint.Rows {
		if r.Model == model {
			return r.Layer
		}
	}
	panic(fmt.Sprintf("no rows of %s", model)) // unreachable: row is one of them
}

// PanelStats is what the projector's panel should show for the visible
// models and languages.
type PanelStats struct {
	Pairs                                int
	CKAMean, CKAMedian, D3Mean, D3Median float64
	// Axis is Pearson's r between the language-axis coordinate of the
	// visible points and their language (+1 for the first, −1 otherwise).
	Axis float64
}

// ExpectPanel computes the panel's statistics from the metrics alone: the
// per-layer CKA and 3D distance of the visible models' pairs whose two
// languages are visible, and the language-axis correlation of the visible
// points. An undefined statistic (nothing visible, one language) is NaN.
func ExpectPanel(m *study.Metrics, models, langs map[string]bool) PanelStats {
	var ck, ds []float64
	for _, p := range m.Pairs {
		if models[p.Model] && langs[p.LangA] && langs[p.LangB] {
			ck = append(ck, p.CKAPerLayer...)
			ds = append(ds, p.D3PerLayer...)
		}
	}
	s := PanelStats{Pairs: len(ck), CKAMean: mean(ck), CKAMedian: median(ck), D3Mean: mean(ds), D3Median: median(ds)}
	var x, y []float64
	for i, r := range m.Joint.Rows {
		if models[r.Model] && langs[r.Lang] {
			x = append(x, m.Joint.XYZ[i][m.LanguageAxis.Component])
			y = append(y, map[bool]float64{true: 1, false: -1}[r.Lang == m.Languages[0]])
		}
	}
	s.Axis = pearson(x, y)
	return s
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	h := len(s) / 2
	if len(s)%2 == 1 {
		return s[h]
	}
	return (s[h-1] + s[h]) / 2
}

// pearson is Pearson's r, NaN where either variable is constant.
func pearson(x, y []float64) float64 {
	mx, my := mean(x), mean(y)
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	if !(sxx > 0) || !(syy > 0) {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// CheckPanel compares the panel as read from the page with the expected
// statistics. The page computes in float64 like Go, in another order:
// 1e-12 tolerance; an undefined statistic shows a dash.
func CheckPanel(t testing.TB, name string, got map[string]any, want PanelStats) {
	t.Helper()
	num := func(k string) float64 {
		v, ok := got[k].(float64)
		if !ok {
			return math.NaN()
		}
		return v
	}
	if g := num("pairs"); g != float64(want.Pairs) {
		t.Errorf("%s: panel shows %v pairs, want %d", name, got["pairs"], want.Pairs)
	}
	for _, c := range []struct {
		key  string
		want float64
	}{{"cka_mean", want.CKAMean}, {"cka_median", want.CKAMedian}, {"d3_mean", want.D3Mean}, {"d3_median", want.D3Median}, {"axis_corr", want.Axis}} {
		if math.IsNaN(c.want) {
			if s, _ := got[c.key].(string); s != "\u2014" {
				t.Errorf("%s: %s shows %v, want a dash (undefined)", name, c.key, got[c.key])
			}
			continue
		}
		if g := num(c.key); !(math.Abs(g-c.want) <= 1e-12) {
			t.Errorf("%s: %s = %v, want %v", name, c.key, got[c.key], c.want)
		}
	}
}
