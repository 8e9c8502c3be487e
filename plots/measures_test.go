package plots

import (
	"encoding/json"
	"html"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/study"
)

// extraResults writes a results folder of two synthetic models with three
// measures computed beside CKA.
func extraResults(t *testing.T) string {
	t.Helper()
	return extraResultsNull(t, 0)
}

// extraResultsNull is extraResults with the measures' permutation null over
// null shuffles (0: none).
func extraResultsNull(t *testing.T, null int) string {
	t.Helper()
	dir := t.TempDir()
	root := twoSynthModels(t, dir)
	extra, err := study.ParseExtraMeasures("mutual-knn:5,svcca,shape:0.5")
	if err != nil {
		t.Fatal(err)
	}
	res, err := study.Analyze(study.Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: 20, Permutations: 20, Seed: 3, ExtraMeasures: extra, ExtraMeasureNull: null})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "results")
	if err := study.Write(out, res); err != nil {
		t.Fatal(err)
	}
	return out
}

var titledChartRe = regexp.MustCompile(`<div class="layersim-title">([^<]*)</div><div class="layersim-canvas"[^>]*></div><script type="application/json" class="layersim-data">(.*?)</script>`)

// titledCharts maps each chart's title to its payload.
func titledCharts(t *testing.T, page string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range titledChartRe.FindAllStringSubmatch(page, -1) {
		title := html.UnescapeString(m[1])
		if _, dup := out[title]; dup {
			t.Fatalf("two charts titled %q", title)
		}
		out[title] = m[2]
	}
	return out
}

func report(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	if err := Report(dir, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestReportExtraMeasures: each measure computed beside CKA gets a section
// with its joint heatmap (filed there, not with CKA's) and a chart per model
// whose lines are its cross-lingual values and CKA's; without the measures
// the report is what it was: the same charts with the same data, no section
// and no summary row of theirs.
func TestReportExtraMeasures(t *testing.T) {
	needAssets(t)
	dir := extraResults(t)
	r, err := LoadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := &r.Metrics
	if len(m.ExtraMeasures) != 3 {
		t.Fatalf("%d extra measures", len(m.ExtraMeasures))
	}
	page := report(t, dir)
	text := html.UnescapeString(page)
	charts := titledCharts(t, page)
	if !strings.Contains(text, `<tr><th class="t">other measures</th><td>mutual-knn:5, svcca, shape:0.5</td></tr>`) {
		t.Error("the summary does not list the other measures")
	}
	if strings.Contains(text, `id="cka-other"`) {
		t.Error("a joint heatmap filed with CKA's")
	}
	var extraTitles []string
	for i, e := range m.ExtraMeasures {
		id := "measure-" + string(rune('1'+i))
		if !strings.Contains(text, `<h2 id="`+id+`">`+e.Name+`</h2>`) || !strings.Contains(text, `<a href="#`+id+`">`+e.Name+`</a>`) || !strings.Contains(text, e.Formula) {
			t.Errorf("%s: no section %s with its formula", e.Name, id)
		}
		var joint *study.Heatmap
		for _, h := range r.Heatmaps {
			if h.File == e.Heatmap {
				joint = &h
			}
		}
		if joint == nil {
			t.Fatalf("%s: heatmap %s not loaded", e.Name, e.Heatmap)
		}
		p, ok := charts[joint.Title]
		if !ok {
			t.Fatalf("%s: no chart titled %q", e.Name, joint.Title)
		}
		extraTitles = append(extraTitles, joint.Title)
		var hp struct {
			Meta struct {
				Metric  string   `json:"metric"`
				YLabels []string `json:"y_labels"`
			} `json:"meta"`
		}
		if err := json.Unmarshal([]byte(p), &hp); err != nil || hp.Meta.Metric != e.Name || len(hp.Meta.YLabels) != len(m.Joint.Rows) {
			t.Errorf("%s: joint heatmap payload metric %q, %d labels (%v)", e.Name, hp.Meta.Metric, len(hp.Meta.YLabels), err)
		}
		for _, mo := range m.Models {
			title := e.Name + " beside CKA, layer k across languages, " + mo.ID
			p, ok := charts[title]
			if !ok {
				t.Errorf("no chart titled %q", title)
				continue
			}
			extraTitles = append(extraTitles, title)
			var lp linePayload
			if err := json.Unmarshal([]byte(p), &lp); err != nil {
				t.Fatal(err)
			}
			var mp study.MeasurePair
			var cp study.Pair
			for _, q := range e.Pairs {
				if q.Model == mo.ID {
					mp = q
				}
			}
			for _, q := range m.Pairs {
				if q.Model == mo.ID {
					cp = q
				}
			}
			want := map[string][]float64{"en–hi " + e.Name: mp.PerLayer, "en–hi CKA": cp.CKAPerLayer}
			if len(lp.Option.Series) != 2 {
				t.Fatalf("%s: %d lines, want 2", title, len(lp.Option.Series))
			}
			for _, s := range lp.Option.Series {
				w := want[s.Name]
				if len(s.Data) != len(w) || len(w) != mo.Layers {
					t.Fatalf("%s: line %q has %d points, want %d", title, s.Name, len(s.Data), mo.Layers)
				}
				for k, d := range s.Data {
					if d.Value[0] != float64(k+1) || d.Value[1] != w[k] {
						t.Errorf("%s: line %q point %d = %v, want [%d %v]", title, s.Name, k, d.Value, k+1, w[k])
					}
				}
			}
		}
	}

	// The same results without the measures: their heatmap files removed,
	// extra_measures and their cost notes taken out of metrics.json.
	bare := t.TempDir()
	copyTree(t, dir, bare)
	var raw map[string]any
	b, err := os.ReadFile(filepath.Join(bare, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	delete(raw, "extra_measures")
	var notes []any
	for _, n := range raw["notes"].([]any) {
		if !strings.Contains(n.(string), "costs an SVD per pair") {
			notes = append(notes, n)
		}
	}
	raw["notes"] = notes
	if b, err = json.Marshal(raw); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bare, "metrics.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, e := range m.ExtraMeasures {
		if err := os.Remove(filepath.Join(bare, "heatmaps", e.Heatmap)); err != nil {
			t.Fatal(err)
		}
	}
	barePage := report(t, bare)
	bareText := html.UnescapeString(barePage)
	if strings.Contains(bareText, "other measures") || strings.Contains(bareText, `id="measure-`) {
		t.Error("a report without extra measures has their section or summary row")
	}
	bareCharts := titledCharts(t, barePage)
	for title, p := range bareCharts {
		if charts[title] != p {
			t.Errorf("chart %q differs with the extra measures", title)
		}
	}
	if len(charts) != len(bareCharts)+len(extraTitles) || len(extraTitles) != 3*(1+len(m.Models)) {
		t.Errorf("%d charts with the measures, %d without, %d of theirs", len(charts), len(bareCharts), len(extraTitles))
	}
	for _, title := range extraTitles {
		if _, ok := bareCharts[title]; ok {
			t.Errorf("chart %q without the measures", title)
		}
	}
	sections := regexp.MustCompile(`<h2 id="([^"]+)"`)
	var with, without []string
	for _, s := range sections.FindAllStringSubmatch(page, -1) {
		// Here the notes are all the measures' cost notes.
		if !strings.HasPrefix(s[1], "measure-") && s[1] != "notes" {
			with = append(with, s[1])
		}
	}
	for _, s := range sections.FindAllStringSubmatch(barePage, -1) {
		without = append(without, s[1])
	}
	if strings.Join(with, ",") != strings.Join(without, ",") {
		t.Errorf("sections besides the measures' %v, without them %v", with, without)
	}
}

func TestExtraMeasureCurvesErrors(t *testing.T) {
	m := &study.Metrics{Models: []study.Model{{ID: "org/a", Layers: 2}},
		Joint: study.Joint{Rows: []study.Row{{Lang: "en", Model: "org/a", Layer: 1}, {Lang: "en", Model: "org/a", Layer: 2}}}}
	for _, e := range []study.MeasureResult{
		{Name: "svcca", Pairs: []study.MeasurePair{{Model: "org/a", LangA: "en", LangB: "hi", PerLayer: []float64{0.5}}}},
		{Name: "svcca", Pairs: []study.MeasurePair{{Model: "org/b", LangA: "en", LangB: "hi", PerLayer: []float64{0.5, 0.5}}}},
		{Name: "svcca", Pairs: []study.MeasurePair{{Model: "org/a", LangA: "en", LangB: "hi", PerLayer: []float64{0.5, math.Inf(1)}}}},
	} {
		if _, err := ExtraMeasureCurves(m, e, "org/a"); err == nil {
			t.Errorf("%+v: no error", e.Pairs)
		}
	}
	if _, err := ExtraMeasureCurves(m, study.MeasureResult{Name: "svcca"}, "org/zz"); err == nil {
		t.Error("unknown model: no error")
	}
}

// TestReportExtraMeasureNull: with the permutation null, each measure's
// section says so and has, per model, a chart of the calibrated values per
// layer, one line per pair of languages, the values of metrics.json; the
// other charts are those of the report without the null.
func TestReportExtraMeasureNull(t *testing.T) {
	needAssets(t)
	dir := extraResultsNull(t, 15)
	r, err := LoadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := &r.Metrics
	page := report(t, dir)
	text := html.UnescapeString(page)
	charts := titledCharts(t, page)
	plain := titledCharts(t, report(t, extraResults(t)))
	for _, e := range m.ExtraMeasures {
		if !strings.Contains(text, "shuffled, 15 times (seed 3), the same shuffles for every layer") {
			t.Errorf("%s: the section does not describe the null", e.Name)
		}
		for _, mo := range m.Models {
			title := e.Name + " calibrated against its permutation null, layer k across languages, " + mo.ID
			p, ok := charts[title]
			if !ok {
				t.Errorf("no chart titled %q", title)
				continue
			}
			var lp linePayload
			if err := json.Unmarshal([]byte(p), &lp); err != nil {
				t.Fatal(err)
			}
			var want []float64
			for _, q := range e.Pairs {
				if q.Model == mo.ID {
					want = q.Null.PerLayerCalibrated
				}
			}
			if len(lp.Option.Series) != 1 || lp.Option.Series[0].Name != "en–hi calibrated" || len(lp.Option.Series[0].Data) != mo.Layers || len(want) != mo.Layers {
				t.Fatalf("%s: series %+v", title, lp.Option.Series)
			}
			for k, d := range lp.Option.Series[0].Data {
				if d.Value[0] != float64(k+1) || d.Value[1] != want[k] {
					t.Errorf("%s: point %d = %v, want [%d %v]", title, k, d.Value, k+1, want[k])
				}
			}
		}
	}
	if len(charts) != len(plain)+len(m.ExtraMeasures)*len(m.Models) {
		t.Errorf("%d charts with the null, %d without", len(charts), len(plain))
	}
	for title, p := range plain {
		if charts[title] != p {
			t.Errorf("chart %q differs with the null", title)
		}
	}
	// A null of the wrong length is refused.
	e := m.ExtraMeasures[0]
	e.Pairs = append([]study.MeasurePair(nil), e.Pairs...)
	nl := *e.Pairs[0].Null
	nl.PerLayerCalibrated = nl.PerLayerCalibrated[1:]
	e.Pairs[0].Null = &nl
	if _, err := ExtraMeasureCalibrated(m, e, e.Pairs[0].Model); err == nil || !strings.Contains(err.Error(), "a null of") {
		t.Errorf("short null: error %v", err)
	}
}

// linePayload is the part of a line chart's payload the tests read.
type linePayload struct {
	Option struct {
		Series []struct {
			Name string `json:"name"`
			Data []struct {
				Value []float64 `json:"value"`
			} `json:"data"`
		} `json:"series"`
	} `json:"option"`
}

// twoSynthModels writes the artifacts of two synthetic models under
// dir/artifacts, alpha-small (5 layers, related languages) and beta-tiny
// (3 layers, unrelated), 30 prompts each, and returns that root.
func twoSynthModels(t *testing.T, dir string) string {
	t.Helper()
	root := filepath.Join(dir, "artifacts")
	if err := synthModel(root, "alpha-small", 5, 16, 30, true, 7); err != nil {
		t.Fatal(err)
	}
	if err := synthModel(root, "beta-tiny", 3, 12, 30, false, 8); err != nil {
		t.Fatal(err)
	}
	return root
}
