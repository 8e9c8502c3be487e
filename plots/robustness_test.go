package plots

import (
	"bytes"
	"html"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/layersim/layersim/internal/browsertest"
	"github.com/layersim/layersim/lcka/robust"
)

// robustReport is a small hand-made comparison of one 3-layer model.
func robustReport() *robust.Report {
	corr := 0.9
	mapA := [][]float64{{1, 0.8, 0.5}, {0.8, 1, 0.7}, {0.5, 0.7, 1}}
	mapB := [][]float64{{1, 0.7, 0.3}, {0.7, 1, 0.6}, {0.3, 0.6, 1}}
	diff := make([][]float64, 3)
	for i := range diff {
		diff[i] = make([]float64, 3)
		for j := range diff[i] {
			diff[i][j] = mapB[i][j] - mapA[i][j]
		}
	}
	lang := func(l string) robust.Language {
		return robust.Language{Lang: l, AB: []float64{0.9, 0.8, 0.6}, ABMean: 0.7667, MapA: mapA, MapB: mapB, MapDiff: diff,
			Movement: robust.Movement{Pairs: 3, Corr: &corr, MaxAbs: 0.2, MeanAbs: 0.1333, MaxAt: [2]int{1, 3}}}
	}
	sel := robust.Selection{N: 10, Of: 20, RatioLo: 1.1, RatioHi: 1.5, MedianRatio: 1.3}
	return &robust.Report{RootA: "/a", RootB: "/b", Langs: [2]string{"en", "hi"}, Split: "test", Measure: "cka-standardized",
		LengthUnit: "characters", Quantile: 0.25,
		Models: []robust.Model{{Slug: "tiny-a", ID: "org/tiny-a", N: 20, Layers: []int{1, 2, 3},
			Languages: []robust.Language{lang("en"), lang("hi")},
			CrossA:    []float64{0.5, 0.6, 0.7}, CrossB: []float64{0.4, 0.5, 0.6}, CrossDiff: []float64{-0.1, -0.1, -0.1},
			LengthMatched: [2]robust.LengthMatch{
				{Root: "a", Selection: sel, Whole: []float64{0.5, 0.6, 0.7}, Matched: []float64{0.55, 0.62, 0.71}},
				{Root: "b", Selection: sel, Whole: []float64{0.4, 0.5, 0.6}, Matched: []float64{0.42, 0.5, 0.58}},
			}}},
	}
}

func TestRobustnessCharts(t *testing.T) {
	rep := robustReport()
	cs, err := RobustnessCharts(rep, rep.Models[0])
	if err != nil {
		t.Fatal(err)
	}
	// A vs B, cross-lingual, two map differences, length-matched.
	if len(cs) != 5 || cs[2].kind != "heatmap" || cs[3].kind != "heatmap" || !strings.Contains(cs[4].Title, "length-matched") {
		t.Fatalf("%d charts", len(cs))
	}
	// The difference map's scale is symmetric about 0 and spans the values.
	var p struct {
		Option struct {
			VisualMap []struct{ Min, Max, Precision float64 } `json:"visualMap"`
			Series    []struct{ Data []struct{ Value [3]float64 } }
		}
	}
	_, e := fragmentOf(t, cs[2])
	decodePayload(t, e, &p)
	if len(p.Option.VisualMap) != 1 || p.Option.VisualMap[0].Min != -0.2 || p.Option.VisualMap[0].Max != 0.2 || p.Option.VisualMap[0].Precision != 2 {
		t.Errorf("visual map %+v", p.Option.VisualMap)
	}
	if d := p.Option.Series[0].Data; len(d) != 9 || math.Abs(d[2].Value[2]-(-0.2)) > 1e-12 || d[2].Value[0] != 2 || d[2].Value[1] != 0 {
		t.Errorf("cells %+v", d)
	}
	// Length-matched: the whole and the subset curve for each format.
	var lines struct {
		Option struct {
			Series []struct{ Name string }
		}
	}
	_, e = fragmentOf(t, cs[4])
	decodePayload(t, e, &lines)
	var names []string
	for _, s := range lines.Option.Series {
		names = append(names, s.Name)
	}
	if strings.Join(names, "|") != "A: all 20|A: matched 10|B: all 20|B: matched 10" {
		t.Errorf("series %q", names)
	}

	// Bad values are errors.
	bad := robustReport()
	bad.Models[0].Languages[1].MapDiff[0][1] = math.NaN()
	if _, err := RobustnessCharts(bad, bad.Models[0]); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN map: %v", err)
	}
	bad = robustReport()
	bad.Models[0].CrossB = bad.Models[0].CrossB[:2]
	if _, err := RobustnessCharts(bad, bad.Models[0]); err == nil {
		t.Error("short curve: no error")
	}
	if _, err := RobustnessCharts(nil, robust.Model{}); err == nil {
		t.Error("nil report: no error")
	}
}

func TestRobustnessPage(t *testing.T) {
	needAssets(t)
	rep := robustReport()
	var b bytes.Buffer
	if err := Robustness(rep, &b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if got := len(chartsIn(t, page)); got != 5 {
		t.Errorf("%d charts in the page, want 5", got)
	}
	for _, want := range []string{`<h2 id="tiny-a">tiny-a`, "/a", "/b", "0.7667", "0.9000", "10 of 20", "1.100–1.500", "0.250 and 0.750 quantiles", "<td>1, 3</td>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestRobustnessBaseline: a root with a subsampling baseline gets a chart
// of its length-matched curve against the random subsets' mean and 2.5/97.5%
// band, the values of the report, and a line on the page naming the layers
// outside the band; a root without one gets neither.
func TestRobustnessBaseline(t *testing.T) {
	rep := robustReport()
	rep.Models[0].LengthMatched[0].Baseline = &robust.Baseline{Subsets: 20, Size: 10, Seed: 3,
		Mean: []float64{0.5, 0.61, 0.69}, Lo: []float64{0.46, 0.57, 0.66}, Hi: []float64{0.54, 0.65, 0.72}, Outside: []int{1}}
	cs, err := RobustnessCharts(rep, rep.Models[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 6 || !strings.Contains(cs[5].Title, "format A, cross-lingual CKA (en–hi) on the 10 length-matched questions against 20 random subsets of 10") {
		t.Fatalf("%d charts, the last %q", len(cs), cs[len(cs)-1].Title)
	}
	var lines struct {
		Option struct {
			Series []struct {
				Name string
				Data []struct{ Value []float64 }
			}
		}
	}
	_, e := fragmentOf(t, cs[5])
	decodePayload(t, e, &lines)
	b, lm := rep.Models[0].LengthMatched[0].Baseline, rep.Models[0].LengthMatched[0]
	want := map[string][]float64{"length-matched": lm.Matched, "random subsets, mean": b.Mean, "random subsets, 2.5%": b.Lo, "random subsets, 97.5%": b.Hi}
	if len(lines.Option.Series) != 4 {
		t.Fatalf("%d lines", len(lines.Option.Series))
	}
	for _, s := range lines.Option.Series {
		w, ok := want[s.Name]
		if !ok || len(s.Data) != 3 {
			t.Fatalf("line %q with %d points", s.Name, len(s.Data))
		}
		for k, d := range s.Data {
			if d.Value[0] != float64(k+1) || d.Value[1] != w[k] {
				t.Errorf("%s point %d: %v, want [%d %v]", s.Name, k, d.Value, k+1, w[k])
			}
		}
	}
	needAssets(t)
	var page bytes.Buffer
	if err := Robustness(rep, &page); err != nil {
		t.Fatal(err)
	}
	if got := len(chartsIn(t, page.String())); got != 6 {
		t.Errorf("%d charts in the page, want 6", got)
	}
	text := html.UnescapeString(page.String())
	for _, want := range []string{"Format A: a smaller sample moves CKA by itself; on 20 random subsets of 10 questions (seed 3",
		"averages 0.6000 over layers, against 0.6267 on the length-matched ones", "outside the subsets' 2.5–97.5% band: 1."} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(text, "Format B: a smaller sample") {
		t.Error("a baseline line for format B, which has none")
	}
}

// TestBrowserRobustness opens the page in Chromium, scrolls through it and
// checks that every chart draws, the difference heatmap with its nine cells.
func TestBrowserRobustness(t *testing.T) {
	bin := findChromium(t)
	page := filepath.Join(outDir(t), "robustness.html")
	if err := WriteRobustness(robustReport(), page); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.Start(t, bin, 2*time.Minute)
	browsertest.Run(t, ctx, "open", chromedp.Navigate("file://"+page))
	states := `Array.from(document.querySelectorAll('.layersim-chart')).map(function (e) { return e.getAttribute('data-layersim-state') || ''; }).join(',')`
	var got string
	for range 100 {
		browsertest.Eval[bool](t, ctx, `(function () { document.querySelectorAll('.layersim-chart').forEach(function (e) { e.scrollIntoView(); }); return true; })()`)
		if got = browsertest.Eval[string](t, ctx, states); got == "drawn,drawn,drawn,drawn,drawn" || strings.Contains(got, "error") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got != "drawn,drawn,drawn,drawn,drawn" {
		t.Fatalf("chart states %q", got)
	}
	cells := browsertest.Eval[int](t, ctx, `document.querySelectorAll('.layersim-heatmap')[0].layersim.chart.getOption().series[0].data.length`)
	if cells != 9 {
		t.Errorf("difference heatmap has %d cells, want 9", cells)
	}
}
