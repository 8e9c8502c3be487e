package plots

// The projector with many languages (Global-MMLU has 42), the subspace
// page's projectors on one scale and the language heatmap's title under
// its slider, in headless Chromium.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/layersim/layersim/internal/browsertest"
	"github.com/layersim/layersim/lcka/study"
)

// globalMMLU lists the 42 languages of Global-MMLU (and Global-MMLU-Lite's
// full set of language codes), as the study names them.
var globalMMLU = []string{"am", "ar", "bn", "cs", "de", "el", "en", "es", "fa", "fil", "fr", "ha", "he", "hi", "id", "ig",
	"it", "ja", "ko", "ky", "lt", "mg", "ms", "ne", "nl", "ny", "pl", "pt", "ro", "ru", "si", "sn", "so", "sr", "sv", "sw",
	"te", "tr", "uk", "vi", "yo", "zh"}

// manyLangMetrics returns the metrics of a joint embedding of two models
// (3 and 2 layers) in the given languages, at random coordinates, with a
// pair per layer between the first language and each other one.
func manyLangMetrics(langs []string) *study.Metrics {
	rng := rand.New(rand.NewPCG(uint64(len(langs)), 15))
	m := &study.Metrics{N: 10, Languages: langs, Measure: "cka-standardized",
		Models: []study.Model{{ID: "org/alpha", Slug: "alpha", Layers: 3}, {ID: "org/beta", Slug: "beta", Layers: 2}},
		Joint:  study.Joint{Method: "classical MDS", Explained: []float64{0.5, 0.3, 0.1}}}
	for _, mo := range m.Models {
		for _, l := range langs {
			for k := range mo.Layers {
				m.Joint.Rows = append(m.Joint.Rows, study.Row{Model: mo.ID, Lang: l, Layer: k})
				m.Joint.XYZ = append(m.Joint.XYZ, [3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()})
			}
		}
		for _, l := range langs[1:] {
			p := study.Pair{Model: mo.ID, LangA: langs[0], LangB: l, Count: mo.Layers}
			for range mo.Layers {
				p.CKAPerLayer = append(p.CKAPerLayer, rng.Float64())
				p.D3PerLayer = append(p.D3PerLayer, rng.Float64())
			}
			m.Pairs = append(m.Pairs, p)
		}
	}
	return m
}

// cielab returns the CIE 1976 L*a*b* coordinates (D65 white) of a colour
// given as #rrggbb: IEC 61966-2-1's sRGB decoding, its matrix to XYZ, then
// CIE 15's L*a*b*.
func cielab(t testing.TB, hex string) [3]float64 {
	t.Helper()
	if len(hex) != 7 || hex[0] != '#' {
		t.Fatalf("colour %q is not #rrggbb", hex)
	}
	c := hexRGB(hex)
	var lin [3]float64
	for i, v := range c {
		v /= 255
		if v <= 0.04045 {
			lin[i] = v / 12.92
		} else {
			lin[i] = math.Pow((v+0.055)/1.055, 2.4)
		}
	}
	xyz := [3]float64{
		(0.4124564*lin[0] + 0.3575761*lin[1] + 0.1804375*lin[2]) / 0.95047,
		0.2126729*lin[0] + 0.7151522*lin[1] + 0.0721750*lin[2],
		(0.0193339*lin[0] + 0.1191920*lin[1] + 0.9503041*lin[2]) / 1.08883,
	}
	for i, v := range xyz {
		if d := 6.0 / 29; v > d*d*d {
			xyz[i] = math.Cbrt(v)
		} else {
			xyz[i] = v/(3*d*d) + 4.0/29
		}
	}
	return [3]float64{116*xyz[1] - 16, 500 * (xyz[0] - xyz[1]), 200 * (xyz[1] - xyz[2])}
}

func deltaE(a, b [3]float64) float64 {
	return math.Sqrt(sq(a[0]-b[0]) + sq(a[1]-b[1]) + sq(a[2]-b[2]))
}

// TestCIELAB checks cielab against testdata/cielab.py, a numpy
// computation of the same standards (its output, to four decimals); the
// primaries' values agree with those Bruce Lindbloom's colour calculator
// (brucelindbloom.com) tabulates for sRGB under D65.
func TestCIELAB(t *testing.T) {
	for _, tc := range []struct {
		hex  string
		want [3]float64
	}{
		{"#ffffff", [3]float64{100, 0, 0}},
		{"#000000", [3]float64{0, 0, 0}},
		{"#ff0000", [3]float64{53.2408, 80.0925, 67.2032}},
		{"#00ff00", [3]float64{87.7347, -86.1827, 83.1793}},
		{"#0000ff", [3]float64{32.2970, 79.1875, -107.8602}},
		{"#808080", [3]float64{53.5850, 0, 0}},
		{"#bc6459", [3]float64{52.4310, 34.1333, 22.1360}},
	} {
		got := cielab(t, tc.hex)
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-3 {
				t.Errorf("%s: Lab %.4f, want %.4f", tc.hex, got, tc.want)
				break
			}
		}
	}
}

// TestProjectorBoundsPayload: a projector of one joint embedding has no
// bounds in its payload (the study's report is as before); a subspace
// page's projectors all carry the one box of every point they show.
func TestProjectorBoundsPayload(t *testing.T) {
	c := chartOK(t)(Projector(manyLangMetrics([]string{"en", "hi"})))
	b, err := json.Marshal(c.payload)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"bounds"`) {
		t.Errorf("a single projector's payload has bounds: %.300s", b)
	}
	f := subspaceFile(t)
	ps, err := SubspaceProjectors(f)
	if err != nil {
		t.Fatal(err)
	}
	var want ProjectorBounds
	for k := range 3 {
		want.Min[k], want.Max[k] = math.Inf(1), math.Inf(-1)
	}
	own := map[[6]float64]bool{} // each map's own ranges
	for i, em := range f.After {
		if em.R == 0 {
			continue
		}
		for _, xyz := range [][][3]float64{f.Before.XYZ, f.After[i].XYZ} {
			var r [6]float64
			for k := range 3 {
				r[k], r[3+k] = math.Inf(1), math.Inf(-1)
			}
			for _, p := range xyz {
				for k, v := range p {
					want.Min[k], want.Max[k] = math.Min(want.Min[k], v), math.Max(want.Max[k], v)
					r[k], r[3+k] = math.Min(r[k], v), math.Max(r[3+k], v)
				}
			}
			own[r] = true
		}
	}
	if len(own) < 2 {
		t.Fatalf("the maps before and after span the same ranges %v: nothing to share", own)
	}
	if len(ps) != 3 {
		t.Fatalf("%d projectors, want 3", len(ps))
	}
	for i, c := range ps {
		d := c.payload.Data.(*ProjectorData)
		if d.Bounds == nil || *d.Bounds != want {
			t.Errorf("projector %d: bounds %+v, want %+v", i, d.Bounds, want)
		}
	}
}

// openCharts opens page in Chromium, scrolls every chart into view until
// all are drawn, and fails the test when one is not (or fails).
func openCharts(t *testing.T, ctx context.Context, page string, want int) {
	t.Helper()
	browsertest.Run(t, ctx, "open", chromedp.Navigate("file://"+page))
	states := `Array.from(document.querySelectorAll('.layersim-chart')).map(function (e) { return e.getAttribute('data-layersim-state') || ''; }).join(',')`
	all := strings.TrimSuffix(strings.Repeat("drawn,", want), ",")
	var got string
	for range 300 {
		browsertest.Eval[bool](t, ctx, `(function () { document.querySelectorAll('.layersim-chart').forEach(function (e) { e.scrollIntoView(); }); return true; })()`)
		if got = browsertest.Eval[string](t, ctx, states); got == all || strings.Contains(got, "error") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got != all {
		t.Fatalf("chart states %q, want %q", got, all)
	}
}

// projectorKeys is what the page shows of the projector's languages: the
// colour mode chosen, the language toggles with the colour of their
// swatches, and per drawn scatter series (model, language) its symbol and
// the colours of its points.
type projectorKeys struct {
	Mode    string
	Toggles []struct {
		Lang, Swatch string
		Shown        bool
	}
	Series []struct {
		ID, Symbol string
		Colors     []string
	}
}

const readKeys = `(function () {
  var el = document.querySelector('.layersim-projector');
  var out = {mode: el.querySelector('[data-control="color"]').value, toggles: [], series: []};
  el.querySelectorAll('[data-lang]').forEach(function (b) {
    var sw = b.querySelector('.layersim-swatch');
    out.toggles.push({lang: b.getAttribute('data-lang'), swatch: sw ? sw.style.backgroundColor : '',
      shown: !!sw && getComputedStyle(sw).display !== 'none'});
  });
  el.layersim.chart.getOption().series.forEach(function (s) {
    if (s && /^p:/.test(s.id)) out.series.push({id: s.id, symbol: s.symbol, colors: s.data.map(function (d) { return d.itemStyle.color; })});
  });
  return JSON.stringify(out);
})()`

// TestChromiumProjectorManyLanguages draws projectors of 12 and 42
// languages: every language has a toggle; the page colours by language by
// default, each language's points and toggle in one colour, the colours
// pairwise at least ΔE*ab 20 apart; in the model × language mode no
// model's languages share a symbol and a colour.
//
// ΔE*ab ≈ 2.3 is a just noticeable difference between large patches side
// by side; small marks scattered in 3D need many times that (Szafir 2018,
// "Modeling color difference for visualization design"), so 20 asks for
// colours told apart at a glance. The palette reaches about 27 at 42
// languages and 48 at 12.
func TestChromiumProjectorManyLanguages(t *testing.T) {
	bin := findChromium(t)
	dir := outDir(t)
	ctx := browsertest.Start(t, bin, 4*time.Minute)
	for _, n := range []int{12, 42} {
		langs := globalMMLU[:n]
		m := manyLangMetrics(langs)
		page := filepath.Join(dir, "projector-"+strconv.Itoa(n)+"-languages.html")
		if err := os.WriteFile(page, []byte(render(t, chartOK(t)(Projector(m)))), 0o644); err != nil {
			t.Fatal(err)
		}
		openCharts(t, ctx, page, 1)
		var k projectorKeys
		if err := json.Unmarshal([]byte(browsertest.Eval[string](t, ctx, readKeys)), &k); err != nil {
			t.Fatal(err)
		}
		if k.Mode != "lang" {
			t.Errorf("%d languages: colour mode %q, want lang", n, k.Mode)
		}
		var toggles []string
		for _, tg := range k.Toggles {
			toggles = append(toggles, tg.Lang)
		}
		if !reflect.DeepEqual(toggles, langs) {
			t.Fatalf("%d languages: toggles %v, want %v", n, toggles, langs)
		}
		colour := make([]string, n) // per language
		for _, s := range k.Series {
			var mi, li int
			if _, err := fmt.Sscanf(s.ID, "p:%d:%d", &mi, &li); err != nil {
				t.Fatal(err)
			}
			for _, c := range s.Colors {
				if colour[li] == "" {
					colour[li] = c
				}
				if c != colour[li] {
					t.Errorf("%d languages: %s has points in %s and %s", n, langs[li], colour[li], c)
				}
			}
			if want := []string{"circle", "triangle"}[mi]; s.Symbol != want {
				t.Errorf("%d languages: series %s has symbol %s, want the model's %s", n, s.ID, s.Symbol, want)
			}
		}
		labs := make([][3]float64, n)
		for li, c := range colour {
			if c == "" {
				t.Fatalf("%d languages: no points of %s drawn", n, langs[li])
			}
			labs[li] = cielab(t, c)
			tg := k.Toggles[li]
			if !tg.Shown || cssHex(tg.Swatch) != c {
				t.Errorf("%d languages: toggle of %s shows swatch %q (shown %v), its points are %s", n, langs[li], tg.Swatch, tg.Shown, c)
			}
		}
		minDE, pair := math.Inf(1), [2]int{}
		for i := range labs {
			for j := range i {
				if d := deltaE(labs[i], labs[j]); d < minDE {
					minDE, pair = d, [2]int{j, i}
				}
			}
		}
		t.Logf("%d languages: smallest ΔE*ab %.1f, between %s (%s) and %s (%s)", n, minDE,
			langs[pair[0]], colour[pair[0]], langs[pair[1]], colour[pair[1]])
		if minDE < 20 {
			t.Errorf("%d languages: %s and %s are ΔE*ab %.1f apart, want ≥ 20", n, langs[pair[0]], langs[pair[1]], minDE)
		}

		// The model × language mode: symbol and shade never repeat
		// within a model.
		browsertest.Eval[bool](t, ctx, `(function () { var s = document.querySelector('[data-control="color"]'); s.value = 'model-lang'; s.dispatchEvent(new Event('change')); return true; })()`)
		k = projectorKeys{}
		if err := json.Unmarshal([]byte(browsertest.Eval[string](t, ctx, readKeys)), &k); err != nil {
			t.Fatal(err)
		}
		seen := map[[3]string]string{}
		for _, s := range k.Series {
			var mi, li int
			if _, err := fmt.Sscanf(s.ID, "p:%d:%d", &mi, &li); err != nil {
				t.Fatal(err)
			}
			key := [3]string{strconv.Itoa(mi), s.Symbol, s.Colors[0]}
			if other, dup := seen[key]; dup {
				t.Errorf("%d languages, model × language: %s and %s of model %d share symbol %s and colour %s", n, other, langs[li], mi, s.Symbol, s.Colors[0])
			}
			seen[key] = langs[li]
			if tg := k.Toggles[li]; tg.Shown {
				t.Errorf("%d languages, model × language: toggle of %s still shows a language colour", n, langs[li])
			}
		}
		if len(seen) != 2*n {
			t.Errorf("%d languages, model × language: %d series, want %d", n, len(seen), 2*n)
		}
	}
}

// TestChromiumProjectorTwoLanguages: with two languages the projector
// keeps its model × language colours, with the language mode on offer.
func TestChromiumProjectorTwoLanguages(t *testing.T) {
	bin := findChromium(t)
	dir := outDir(t)
	ctx := browsertest.Start(t, bin, 2*time.Minute)
	page := filepath.Join(dir, "projector-2-languages.html")
	if err := os.WriteFile(page, []byte(render(t, chartOK(t)(Projector(manyLangMetrics([]string{"en", "hi"}))))), 0o644); err != nil {
		t.Fatal(err)
	}
	openCharts(t, ctx, page, 1)
	var k projectorKeys
	if err := json.Unmarshal([]byte(browsertest.Eval[string](t, ctx, readKeys)), &k); err != nil {
		t.Fatal(err)
	}
	if k.Mode != "model-lang" {
		t.Errorf("colour mode %q, want model-lang", k.Mode)
	}
	for _, s := range k.Series {
		var mi, li int
		if _, err := fmt.Sscanf(s.ID, "p:%d:%d", &mi, &li); err != nil {
			t.Fatal(err)
		}
		want := ModelColor(mi)
		if li == 1 {
			want = mix(want, "#000000", 0.2)
		}
		if s.Colors[0] != want || s.Symbol != []string{"circle", "triangle"}[li] {
			t.Errorf("series %s: %s %s, want %s %s", s.ID, s.Symbol, s.Colors[0], []string{"circle", "triangle"}[li], want)
		}
	}
	opts := browsertest.Eval[string](t, ctx, `Array.from(document.querySelectorAll('[data-control="color"] option')).map(function (o) { return o.value; }).join(',')`)
	if opts != "model-lang,lang,depth" {
		t.Errorf("colour modes %q", opts)
	}
}

// TestChromiumSubspaceScale opens the subspace page: its projectors (before
// and after each removal) have the same axis ranges and box, which hold
// every point of every projector.
func TestChromiumSubspaceScale(t *testing.T) {
	bin := findChromium(t)
	dir := outDir(t)
	f := subspaceFile(t)
	page := filepath.Join(dir, "subspace-scale.html")
	if err := WriteSubspace(f, page); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.Start(t, bin, 3*time.Minute)
	openCharts(t, ctx, page, 4)
	var got []struct {
		Axes [3][2]float64
		Box  [3]float64
	}
	js := `JSON.stringify(Array.from(document.querySelectorAll('.layersim-projector')).map(function (e) {
  var o = e.layersim.chart.getOption(), g = o.grid3D[0];
  return {axes: [o.xAxis3D[0], o.yAxis3D[0], o.zAxis3D[0]].map(function (a) { return [a.min, a.max]; }), box: [g.boxWidth, g.boxDepth, g.boxHeight]};
}))`
	if err := json.Unmarshal([]byte(browsertest.Eval[string](t, ctx, js)), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d projectors drawn, want 3", len(got))
	}
	for i, g := range got {
		if g != got[0] {
			t.Errorf("projector %d: axes %v, box %v; the first: %v, %v", i, g.Axes, g.Box, got[0].Axes, got[0].Box)
		}
	}
	for _, em := range append(f.After, f.Before) {
		for _, p := range em.XYZ {
			for k, v := range p {
				if v < got[0].Axes[k][0] || v > got[0].Axes[k][1] {
					t.Errorf("r = %d: coordinate %d = %g outside the axis %v", em.R, k, v, got[0].Axes[k])
				}
			}
		}
	}
}

// TestChromiumLanguageSliderTitle moves a language heatmap's slider: the
// title above the chart names the layer shown, and "mean" again at the
// slider's start.
func TestChromiumLanguageSliderTitle(t *testing.T) {
	bin := findChromium(t)
	_, m := multiLangResults(t)
	lm := m.LanguageMatrices[0]
	dir := outDir(t)
	page := filepath.Join(dir, "language-slider-title.html")
	if err := os.WriteFile(page, []byte(render(t, chartOK(t)(LanguageHeatmap(lm, m.Measure, m.N)))), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.Start(t, bin, 2*time.Minute)
	openCharts(t, ctx, page, 1)
	title := `document.querySelector('.layersim-heatmap .layersim-title').textContent`
	move := func(i int) string {
		browsertest.Eval[bool](t, ctx, `(function () { document.querySelector('.layersim-heatmap').layersim.chart.dispatchAction({type: 'timelineChange', currentIndex: `+strconv.Itoa(i)+`}); return true; })()`)
		return browsertest.Eval[string](t, ctx, title)
	}
	if got, want := browsertest.Eval[string](t, ctx, title), "mean cross-lingual CKA per language pair, "+lm.Model; got != want {
		t.Errorf("title at first %q, want %q", got, want)
	}
	for _, tc := range []struct {
		index int
		want  string
	}{
		{2, "cross-lingual CKA at layer 2 per language pair, " + lm.Model},
		{len(lm.CKAPerLayer), "cross-lingual CKA at layer " + strconv.Itoa(len(lm.CKAPerLayer)) + " per language pair, " + lm.Model},
		{0, "mean cross-lingual CKA per language pair, " + lm.Model},
	} {
		if got := move(tc.index); got != tc.want {
			t.Errorf("slider at %d: title %q, want %q", tc.index, got, tc.want)
		}
	}
}

// render returns the chart as a standalone page.
func render(t testing.TB, c *Chart) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// cssHex returns a CSS colour as the page reports it, rgb(r, g, b), as
// #rrggbb ("" when it is not one).
func cssHex(css string) string {
	var r, g, b int
	if _, err := fmt.Sscanf(css, "rgb(%d, %d, %d)", &r, &g, &b); err != nil {
		return ""
	}
	return fmt.Sprintf("#%02x%02x%02x", r, g, b)
}
