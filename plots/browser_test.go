package plots

// The projector of report.html used as a person uses it: headless Chromium
// driven through the DevTools protocol (chromedp), with real input events
// (mouse moves, clicks, drags and wheel turns dispatched by the browser's
// input domain at screen coordinates), never calls of the page's handlers.
// The page is only read: where its points are on the screen, what the
// tooltip and the panel show, the view the chart reports.

import (
	"context"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/layersim/layersim/internal/browsertest"
	"github.com/layersim/layersim/lcka/study"
)

// browser starts headless Chromium for a test of at most four minutes.
func browser(t *testing.T, bin string) context.Context {
	t.Helper()
	return browsertest.Start(t, bin, 4*time.Minute)
}

// run runs chromedp actions and fails the test on an error.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	browsertest.Run(t, ctx, what, actions...)
}

// pageJS is evaluated in the page to read (never to drive) the projector.
// screenOf(i) is where point i is drawn, in CSS pixels of the viewport:
// ECharts' convertToPixel does not cover ECharts GL's grid3D, so the point
// goes through the grid's data-to-world mapping and the camera's view and
// projection matrices, as ECharts GL itself projects its axis ends.
const pageJS = `
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
  function tooltip() {
    var divs = el.layersim.chart.getDom().querySelectorAll('div');
    for (var i = 0; i < divs.length; i++) {
      var s = divs[i].style;
      if (s.zIndex === '9999999' && s.display !== 'none' && s.visibility !== 'hidden' && s.opacity !== '0') return divs[i].innerHTML;
    }
    return '';
  }
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
  return {screenOf: screenOf, tooltip: tooltip, shown: function () { return shown; }, panel: panel, view: view, highlighted: highlighted, canvasBox: canvasBox, n: function () { return points().length; }};
})();
true`

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	return browsertest.Eval[T](t, ctx, expr)
}

// mouseAt dispatches one mouse event of the browser's input domain.
func mouseAt(typ input.DispatchMouseEventType, x, y float64, opts ...chromedp.MouseOption) chromedp.Action[chromedp.Void] {
	return chromedp.MouseEvent(typ, x, y, opts...)
}

type screenPoint struct{ X, Y, Depth float64 }

// mouse moves the mouse to (x, y) in steps from (fx, fy), as a hand does,
// holding the left button when drag is set.
func mouse(fx, fy, x, y float64, steps int, drag bool) chromedp.Action[chromedp.Void] {
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

var (
	screenshot  = browsertest.Screenshot
	colourStats = browsertest.ColourStats
	changed     = browsertest.Changed
)

// around is the square of side 2h centred on p.
func around(p screenPoint, h int) image.Rectangle {
	x, y := int(math.Round(p.X)), int(math.Round(p.Y))
	return image.Rect(x-h, y-h, x+h, y+h)
}

// TestBrowserReport opens report.html in Chromium and uses the projector by
// hand: hover a point (tooltip and highlighted partner), toggle a model and
// a language (the panel against metrics.json), rotate by dragging, zoom
// with the wheel, reset; screenshots of each state are checked pixel by
// pixel.
func TestBrowserReport(t *testing.T) {
	bin := findChromium(t)
	results := synthResults(t)
	r, err := LoadResults(results) // metrics.json as written by study.Write
	if err != nil {
		t.Fatal(err)
	}
	m := &r.Metrics
	dir := outDir(t)
	page := filepath.Join(dir, "report.html")
	if err := WriteReport(results, page); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t, bin)
	run(t, ctx, "open report.html",
		chromedp.Navigate("file://"+page),
		chromedp.WaitVisible(chromedp.CSS(`.layersim-projector[data-layersim-state="drawn"]`)),
		chromedp.ScrollIntoView(chromedp.CSS(`.layersim-projector`)),
		chromedp.Sleep(1500*time.Millisecond), // ECharts GL's first frames
	)
	eval[bool](t, ctx, pageJS)
	cb := eval[[4]float64](t, ctx, `__ls.canvasBox()`)
	chart := image.Rect(int(cb[0]), int(cb[1]), int(cb[0]+cb[2]), int(cb[1]+cb[3]))
	t.Logf("projector canvas at %v", chart)

	// The chart as drawn: not blank, many colours.
	before := screenshot(t, ctx, filepath.Join(dir, "report-projector.png"))
	if d, ink := colourStats(before, chart); d < 40 || ink < chart.Dx()*chart.Dy()/50 {
		t.Fatalf("projector canvas: %d colours, %d inked pixels of %d: blank or flat", d, ink, chart.Dx()*chart.Dy())
	}

	// Where every point is; hover the one farthest from all others (no
	// other point can cover it) that has a partner in the other language.
	n := len(m.Joint.Rows)
	pts := make([]screenPoint, n)
	for i := range pts {
		pts[i] = eval[screenPoint](t, ctx, "__ls.screenOf("+strconv.Itoa(i)+")")
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
	run(t, ctx, "hover", mouse(x+60, y+60, x, y, 12, false), chromedp.Sleep(300*time.Millisecond))
	shown := eval[[]string](t, ctx, `__ls.shown()`)
	if len(shown) == 0 {
		t.Fatalf("hovering point %d at %.0f,%.0f showed no tooltip", best, x, y)
	}
	tip := shown[len(shown)-1]
	if now := eval[string](t, ctx, `__ls.tooltip()`); now != tip {
		t.Logf("the tooltip did not stay: now %q", now)
	}
	row := m.Joint.Rows[best]
	var pair *study.Pair
	for k := range m.Pairs {
		if m.Pairs[k].Model == row.Model {
			pair = &m.Pairs[k]
		}
	}
	if pair == nil {
		t.Fatalf("no pair statistics for %s in metrics.json", row.Model)
	}
	k := row.Layer - firstLayer(m, row.Model)
	other := m.Joint.Rows[partner].Lang
	f4 := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
	xyz := m.Joint.XYZ[best]
	for _, want := range []string{"<b>" + row.Model + "</b> · " + row.Lang + " · layer " + strconv.Itoa(row.Layer),
		"x " + f4(xyz[0]) + ", y " + f4(xyz[1]) + ", z " + f4(xyz[2]),
		"pair with " + other + ": CKA <b>" + f4(pair.CKAPerLayer[k]) + "</b>, distance <b>" + f4(pair.D3PerLayer[k]) + "</b>"} {
		if !strings.Contains(tip, want) {
			t.Errorf("tooltip after hovering point %d: %q lacks %q", best, tip, want)
		}
	}
	hl := eval[[][3]float64](t, ctx, `__ls.highlighted()`)
	if len(hl) != 1 || hl[0] != m.Joint.XYZ[partner] {
		t.Errorf("highlighted %v, want the partner %d at %v", hl, partner, m.Joint.XYZ[partner])
	}
	hovered := screenshot(t, ctx, filepath.Join(dir, "report-hover.png"))
	if c := changed(before, hovered, around(pts[partner], 14)); c < 40 {
		t.Errorf("around the partner at %.0f,%.0f only %d pixels changed on hover: no highlight drawn", pts[partner].X, pts[partner].Y, c)
	}
	// Leaving the point for empty space (ECharts GL sends no mouseout
	// then): the ring, the bold link and the tooltip go away, and the
	// picture around the partner is the unhighlighted one again.
	run(t, ctx, "leave", mouse(x, y, cb[0]+5, cb[1]+5, 4, false), chromedp.Sleep(800*time.Millisecond))
	if hl := eval[[][3]float64](t, ctx, `__ls.highlighted()`); len(hl) != 0 {
		t.Errorf("after the mouse left point %d for empty space, still highlighted: %v", best, hl)
	}
	if now := eval[string](t, ctx, `__ls.tooltip()`); now != "" {
		t.Errorf("after the mouse left point %d for empty space, the tooltip still shows %q", best, now)
	}
	left := screenshot(t, ctx, filepath.Join(dir, "report-left.png"))
	for _, q := range []struct {
		what string
		r    image.Rectangle
	}{{"the partner", around(pts[partner], 14)}, {"the hovered point", around(pt, 14)}} {
		c, h := changed(before, left, q.r), changed(before, hovered, q.r)
		t.Logf("around %s: %d pixels changed on hover, %d differ after the mouse left", q.what, h, c)
		if c > 4 {
			t.Errorf("after the mouse left, %d pixels around %s differ from the picture before the hover (%d changed on hover)", c, q.what, h)
		}
	}
	if c, all := changed(before, left, chart), chart.Dx()*chart.Dy(); c > all/200 {
		t.Errorf("after the mouse left, %d of %d pixels of the chart differ from the picture before the hover", c, all)
	}
	// Back on the same point (ECharts GL then sends a mousemove, no
	// mouseover): the highlight returns.
	run(t, ctx, "hover again", mouse(cb[0]+5, cb[1]+5, x, y, 12, false), chromedp.Sleep(300*time.Millisecond))
	if hl := eval[[][3]float64](t, ctx, `__ls.highlighted()`); len(hl) != 1 || hl[0] != m.Joint.XYZ[partner] {
		t.Errorf("hovering point %d again: highlighted %v, want the partner at %v", best, hl, m.Joint.XYZ[partner])
	}
	run(t, ctx, "leave again", mouse(x, y, cb[0]+5, cb[1]+5, 4, false), chromedp.Sleep(300*time.Millisecond))
	if hl := eval[[][3]float64](t, ctx, `__ls.highlighted()`); len(hl) != 0 {
		t.Errorf("after leaving point %d a second time, still highlighted: %v", best, hl)
	}

	// Toggles, clicked: the panel against metrics.json.
	beta, gamma := m.Models[1].ID, m.Models[2].ID
	lang2 := m.Languages[1]
	all := map[string]bool{}
	for _, mo := range m.Models {
		all[mo.ID] = true
	}
	langs := map[string]bool{m.Languages[0]: true, lang2: true}
	check := func(name string, models, ls map[string]bool) {
		t.Helper()
		got := eval[map[string]any](t, ctx, `__ls.panel()`)
		checkPanel(t, name, got, expectPanel(m, models, ls))
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
		run(t, ctx, "click "+sel, chromedp.Click(chromedp.CSS(`.layersim-projector `+sel)), chromedp.Sleep(300*time.Millisecond))
	}
	click(`[data-model="` + beta + `"]`)
	noBeta := map[string]bool{m.Models[0].ID: true, gamma: true}
	check("without "+beta, noBeta, langs)
	click(`[data-lang="` + lang2 + `"]`)
	check("without "+beta+" and "+lang2, noBeta, map[string]bool{m.Languages[0]: true})
	toggled := screenshot(t, ctx, filepath.Join(dir, "report-toggled.png"))
	if c := changed(before, toggled, chart); c < 500 {
		t.Errorf("hiding a model and a language changed %d pixels of the chart", c)
	}
	click(`[data-lang="` + lang2 + `"]`)
	click(`[data-model="` + beta + `"]`)
	check("all again", all, langs)

	// Rotate: drag across the canvas with the left button.
	type view struct{ Alpha, Beta, Distance float64 }
	v0 := eval[view](t, ctx, `__ls.view()`)
	cx, cy := cb[0]+cb[2]/2, cb[1]+cb[3]/2
	run(t, ctx, "drag",
		mouse(cx-100, cy, cx-100, cy, 1, false),
		mouseAt(chromedp.MousePressed, cx-100, cy, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		mouse(cx-100, cy, cx+80, cy+40, 12, true),
		mouseAt(chromedp.MouseReleased, cx+80, cy+40, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.Sleep(500*time.Millisecond))
	v1 := eval[view](t, ctx, `__ls.view()`)
	p1 := eval[screenPoint](t, ctx, "__ls.screenOf("+strconv.Itoa(best)+")")
	rotated := screenshot(t, ctx, filepath.Join(dir, "report-rotated.png"))
	if v1.Beta == v0.Beta && v1.Alpha == v0.Alpha {
		t.Errorf("dragging left the view at %+v", v1)
	}
	if math.Hypot(p1.X-pt.X, p1.Y-pt.Y) < 5 {
		t.Errorf("after the drag point %d is still at %.0f,%.0f", best, p1.X, p1.Y)
	}
	if c := changed(before, rotated, chart); c < 1000 {
		t.Errorf("rotating changed %d pixels of the chart", c)
	}

	// Zoom: the wheel, turned towards the screen, brings the camera nearer.
	wheel := func(p *input.DispatchMouseEventParams) { p.DeltaX, p.DeltaY = 1e-9, -120 }
	for i := 0; i < 5; i++ {
		run(t, ctx, "wheel", mouseAt(chromedp.MouseWheel, cx, cy, wheel), chromedp.Sleep(50*time.Millisecond))
	}
	time.Sleep(2 * time.Second) // the zoom eases out
	v2 := eval[view](t, ctx, `__ls.view()`)
	if !(v2.Distance < v1.Distance) {
		t.Errorf("zooming in: camera distance %g, was %g", v2.Distance, v1.Distance)
	}
	zoomed := screenshot(t, ctx, filepath.Join(dir, "report-zoomed.png"))
	if c := changed(rotated, zoomed, chart); c < 1000 {
		t.Errorf("zooming changed %d pixels of the chart", c)
	}

	// Reset: the first view, the points where they were, the same picture.
	click(`[data-action="reset"]`)
	time.Sleep(500 * time.Millisecond)
	v3 := eval[view](t, ctx, `__ls.view()`)
	if math.Abs(v3.Alpha-v0.Alpha) > 0.01 || math.Abs(v3.Beta-v0.Beta) > 0.01 || math.Abs(v3.Distance-v0.Distance) > 0.001*v0.Distance {
		t.Errorf("after reset the view is %+v, want %+v", v3, v0)
	}
	p3 := eval[screenPoint](t, ctx, "__ls.screenOf("+strconv.Itoa(best)+")")
	if math.Hypot(p3.X-pt.X, p3.Y-pt.Y) > 1 {
		t.Errorf("after reset point %d is at %.1f,%.1f, was %.1f,%.1f", best, p3.X, p3.Y, pt.X, pt.Y)
	}
	reset := screenshot(t, ctx, filepath.Join(dir, "report-reset.png"))
	if c, all := changed(before, reset, chart), chart.Dx()*chart.Dy(); c > all/100 {
		t.Errorf("after reset %d of %d pixels differ from the first picture", c, all)
	}
	t.Logf("views: first %+v, rotated %+v, zoomed %+v, reset %+v; screenshots in %s", v0, v1, v2, v3, dir)
}

// firstLayer is the first layer number of a model in the joint rows.
func firstLayer(m *study.Metrics, model string) int {
	for _, r := range m.Joint.Rows {
		if r.Model == model {
			return r.Layer
		}
	}
	panic(fmt.Sprintf("no rows of %s", model))
}
