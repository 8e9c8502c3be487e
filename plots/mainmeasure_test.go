package plots

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/study"
)

// mainMeasureResults writes the results folder of a study of two synthetic
// models whose measure is main (analyze --measure main), with also computed
// beside it (--also also), without bootstrap or permutations.
func mainMeasureResults(t *testing.T, main, also string) string {
	t.Helper()
	dir := t.TempDir()
	root := twoSynthModels(t, dir)
	e, err := study.ParseExtraMeasure(main)
	if err != nil {
		t.Fatal(err)
	}
	extra, err := study.ParseExtraMeasures(also)
	if err != nil {
		t.Fatal(err)
	}
	res, err := study.Analyze(study.Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, Seed: 3, Main: e, ExtraMeasures: extra})
	if err != nil {
		t.Fatal(err)
	}
	if m := res.Metrics; m.Measure != main || len(m.ExtraMeasures) != 1 || m.ExtraMeasures[0].Name != also {
		t.Fatalf("measure %q, extra measures %+v", m.Measure, m.ExtraMeasures)
	}
	out := filepath.Join(dir, "results")
	if err := study.Write(out, res); err != nil {
		t.Fatal(err)
	}
	return out
}

// sectionCharts maps each section of a report (by its id) to the titles of
// its charts.
func sectionCharts(page string) map[string][]string {
	out := map[string][]string{}
	parts := regexp.MustCompile(`<h2 id="([^"]+)">`).FindAllStringSubmatchIndex(page, -1)
	for i, p := range parts {
		end := len(page)
		if i+1 < len(parts) {
			end = parts[i+1][0]
		}
		id := page[p[2]:p[3]]
		for _, m := range dataTitleRe.FindAllStringSubmatch(page[p[1]:end], -1) {
			out[id] = append(out[id], html.UnescapeString(m[1]))
		}
	}
	return out
}

// TestReportMainMeasure: when the study's measure is not CKA, the report
// files its per-model heatmaps as the study's (sections named for it, not
// with the extra measures), the --also measure's joint heatmap in that
// measure's section, and names the measure, not CKA, in every chart (titles,
// series, axes, tooltips' metric and the projector's), table header and
// section; a distance says so. The CKA study is the reference: its report
// names CKA there.
func TestReportMainMeasure(t *testing.T) {
	needAssets(t)
	for _, tc := range []struct {
		name     string
		dir      func(t *testing.T) string
		measure  string // the short name the report uses
		distance bool
		also     string
	}{
		{"cka", extraResults, "CKA", false, "mutual-knn:5"},
		{"svcca", func(t *testing.T) string { return mainMeasureResults(t, "svcca", "mutual-knn:5") }, "svcca", false, "mutual-knn:5"},
		{"shape", func(t *testing.T) string { return mainMeasureResults(t, "shape:1", "svcca") }, "shape:1", true, "svcca"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir(t)
			r, err := LoadResults(dir)
			if err != nil {
				t.Fatal(err)
			}
			m := &r.Metrics
			if MeasureName(m) != tc.measure || MeasureIsDistance(m) != tc.distance {
				t.Fatalf("measure %q: name %q, distance %v", m.Measure, MeasureName(m), MeasureIsDistance(m))
			}
			// Filing: every heatmap of the study's measure with the study's,
			// the also measure's joint heatmap with it.
			var mainTitles, extraTitles []string
			var prefix string
			if tc.measure != "CKA" {
				prefix = strings.NewReplacer(":", "_").Replace(m.Measure) + "_"
			}
			for _, h := range r.Heatmaps {
				g := groupOf(m, h)
				switch {
				case h.Metric == m.Measure:
					if g != groupMain || !strings.HasPrefix(h.File, prefix) || h.Info.Kind == "joint" {
						t.Errorf("%s (%s, %s): group %d", h.File, h.Metric, h.Info.Kind, g)
					}
					mainTitles = append(mainTitles, h.Title)
				case h.Info.Kind == "joint":
					if g != groupExtra || !slices.ContainsFunc(m.ExtraMeasures, func(e study.MeasureResult) bool { return e.Heatmap == h.File && e.Name == h.Metric }) {
						t.Errorf("%s (%s): group %d", h.File, h.Metric, g)
					}
					if h.Metric == tc.also {
						extraTitles = append(extraTitles, h.Title)
					}
				default:
					if g != groupRSA || metricName(h.Metric) != "RSA" {
						t.Errorf("%s (%s): group %d", h.File, h.Metric, g)
					}
				}
			}
			// Per model en, hi and en–hi; across the two models en and hi.
			if len(mainTitles) != 3*2+2 || len(extraTitles) != 1 {
				t.Fatalf("%d heatmaps of %s (want 8), %d of %s", len(mainTitles), m.Measure, len(extraTitles), tc.also)
			}

			page := report(t, dir)
			sections := sectionCharts(page)
			id := sectionID(tc.measure)
			var filed []string
			for _, kind := range []string{"within-model", "cross-lingual", "cross-model"} {
				if len(sections[id+"-"+kind]) == 0 {
					t.Errorf("no section %s-%s", id, kind)
				}
				filed = append(filed, sections[id+"-"+kind]...)
			}
			slices.Sort(filed)
			slices.Sort(mainTitles)
			if !slices.Equal(filed, mainTitles) {
				t.Errorf("the study's heatmap sections hold %q, want %q", filed, mainTitles)
			}
			for sec := range sections {
				if sec == "other-heatmaps" || strings.HasSuffix(sec, "-other") || tc.measure != "CKA" && strings.HasPrefix(sec, "cka-") {
					t.Errorf("section %s", sec)
				}
			}
			var extraSec string
			for i, e := range m.ExtraMeasures {
				if e.Name == tc.also {
					extraSec = fmt.Sprintf("measure-%d", i+1)
				}
			}
			if got := sections[extraSec]; len(got) == 0 || got[0] != extraTitles[0] || slices.ContainsFunc(got, func(s string) bool { return slices.Contains(mainTitles, s) }) {
				t.Errorf("section %s holds %q, want %q first and none of the study's heatmaps", extraSec, got, extraTitles[0])
			}

			// Names: every chart title and payload names the measure; none
			// says CKA unless the measure is CKA.
			name := tc.measure
			axis := name
			if tc.distance {
				axis += " (distance, rad)"
			}
			titles := titledCharts(t, page)
			for title, p := range titles {
				if name != "CKA" && (strings.Contains(title, "CKA") || strings.Contains(p, "CKA")) {
					t.Errorf("chart %q names CKA: %.300s", title, p)
				}
			}
			for _, mo := range m.Models {
				for _, want := range []string{
					"mean cross-lingual " + name + " per language pair, " + mo.ID,
					tc.also + " beside " + name + ", layer k across languages, " + mo.ID,
				} {
					if _, ok := titles[want]; !ok {
						t.Errorf("no chart titled %q", want)
					}
				}
			}
			last, ok := titles[name+" of each layer to the last layer, per model and language"]
			if !ok || !strings.Contains(last, `"name":"`+axis+` to last layer"`) {
				t.Errorf("last-layer chart: %.400s", last)
			}
			for _, d := range m.Depth {
				title := fmt.Sprintf("%s %s–%s: cross-lingual %s along depth (no bootstrap: no change points)", d.Model, d.Langs[0], d.Langs[1], name)
				if name == "CKA" {
					title = fmt.Sprintf("%s %s–%s: cross-lingual CKA along depth, ", d.Model, d.Langs[0], d.Langs[1])
				}
				var lp struct {
					Option struct {
						Series []struct {
							Name string `json:"name"`
						} `json:"series"`
						YAxis []struct {
							Name string `json:"name"`
						} `json:"yAxis"`
					} `json:"option"`
				}
				found := false
				for tt, p := range titles {
					if strings.HasPrefix(tt, title) {
						found = true
						if err := json.Unmarshal([]byte(p), &lp); err != nil {
							t.Fatal(err)
						}
					}
				}
				if !found || len(lp.Option.YAxis) != 1 || lp.Option.YAxis[0].Name != axis || lp.Option.Series[0].Name != fmt.Sprintf("%s %s–%s %s", d.Model, d.Langs[0], d.Langs[1], name) {
					t.Errorf("depth chart %q: found %v, %+v", title, found, lp.Option)
				}
			}
			var cross linePayload
			for title, p := range titles {
				if strings.HasPrefix(title, "Cross-lingual") {
					if err := json.Unmarshal([]byte(p), &cross); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, p := range m.Pairs {
				want := fmt.Sprintf("%s %s–%s %s", p.Model, p.LangA, p.LangB, name)
				found := false
				for _, s := range cross.Option.Series {
					if s.Name == want && len(s.Data) == len(p.CKAPerLayer) {
						found = true
						for k, d := range s.Data {
							found = found && d.Value[1] == p.CKAPerLayer[k]
						}
					}
				}
				if !found {
					t.Errorf("cross-lingual chart: no line %q with the pair's values", want)
				}
			}
			for _, e := range chartsIn(t, page) {
				var p struct {
					Kind string `json:"kind"`
					Meta struct {
						Metric string `json:"metric"`
						Kind   string `json:"kind"`
					} `json:"meta"`
					Data struct {
						Measure  string `json:"measure"`
						Distance bool   `json:"distance"`
					} `json:"data"`
				}
				decodePayload(t, e, &p)
				switch {
				case p.Kind == "projector" && (p.Data.Measure != name || p.Data.Distance != tc.distance):
					t.Errorf("projector: measure %q, distance %v", p.Data.Measure, p.Data.Distance)
				case p.Kind == "heatmap" && p.Meta.Kind != "joint" && p.Meta.Metric != "RSA" && p.Meta.Metric != name:
					t.Errorf("heatmap of kind %s: metric %q, want %q", p.Meta.Kind, p.Meta.Metric, name)
				}
			}

			// Tables and text.
			text := html.UnescapeString(stripBundles(t, page))
			row, intro := `<tr><th class="t">CKA measure</th><td>`+m.Measure+`</td></tr>`, ""
			if name != "CKA" {
				row = `<tr><th class="t">measure</th><td>` + m.Measure
				if tc.distance {
					row += " (a distance, radians: lower is closer)"
				}
				row += "</td></tr>"
				intro = `<p class="sub">The study's measure is ` + name + ": " + m.MeasureFormula + ". It takes CKA's place throughout"
				if !strings.Contains(text, intro) {
					t.Errorf("no intro with the formula %q", m.MeasureFormula)
				}
				if strings.Contains(text, "lower is closer, and the embedding is placed from cos θ") != tc.distance {
					t.Errorf("distance %v: the intro says otherwise", tc.distance)
				}
			} else if strings.Contains(text, "It takes CKA's place") {
				t.Error("a CKA study's report says another measure took CKA's place")
			}
			header := fmt.Sprintf(`<th>%s mean</th><th>%[1]s median</th><th>%[1]s min</th><th>%[1]s 95%% CI</th>`, name)
			if tc.distance {
				header = strings.Replace(header, "mean", "mean (distance, rad)", 1)
			}
			for _, want := range []string{row, header,
				`<h2 id="language-matrices">Language × language ` + name + `</h2>`,
				"placed in 3D from the " + map[bool]string{false: "joint " + name + " matrix", true: "cosine of the joint " + name + " distance matrix"}[tc.distance],
				"Reported beside " + name + ": the embedding, the pairs table, the intervals and the depth maps are " + name + "'s.",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("the report lacks %q", want)
				}
			}
			for _, p := range m.Pairs {
				if want := fmt.Sprintf(`<td class="t">%s</td><td class="t">%s–%s</td><td>%d</td><td>%.4f</td><td>%.4f</td><td>%.4f</td>`, p.Model, p.LangA, p.LangB, p.Count, p.CKAMean, p.CKAMedian, p.CKAMin); !strings.Contains(text, want) {
					t.Errorf("pairs table lacks %s", want)
				}
			}
			if name != "CKA" {
				// Outside the intro that says which measure took CKA's
				// place, the notes and the scripts, no word of CKA.
				rest := strings.Replace(text, intro, "", 1)
				rest = regexp.MustCompile(`(?s)<script.*?</script>|<ul class="notes">.*?</ul>`).ReplaceAllString(rest, "")
				if i := strings.Index(rest, "CKA"); i >= 0 {
					t.Errorf("the report says CKA: …%s…", rest[max(0, i-200):min(len(rest), i+100)])
				}
			}
		})
	}
}

func TestMeasureName(t *testing.T) {
	for _, tc := range []struct {
		measure  string
		distance bool // Metrics.MeasureDistance
		name     string
		isDist   bool
		id       string
	}{
		{"", false, "CKA", false, "cka"},
		{"cka", false, "CKA", false, "cka"},
		{"cka-standardized", false, "CKA", false, "cka"},
		{"cka-debiased", false, "CKA", false, "cka"},
		{"cka-minibatch:64", false, "CKA", false, "cka"},
		{"cka-standardized-minibatch:8", false, "CKA", false, "cka"},
		{"svcca", false, "svcca", false, "svcca"},
		{"svcca:0.99", false, "svcca:0.99", false, "svcca-0-99"},
		{"pwcca", false, "pwcca", false, "pwcca"},
		{"mutual-knn:10", false, "mutual-knn:10", false, "mutual-knn-10"},
		{"cknna:10", false, "cknna:10", false, "cknna-10"},
		{"shape:1", true, "shape:1", true, "shape-1"},
		// Without measure_distance the name says it.
		{"shape:0.5", false, "shape:0.5", true, "shape-0-5"},
	} {
		m := &study.Metrics{Measure: tc.measure, MeasureDistance: tc.distance}
		name, dist := MeasureName(m), MeasureIsDistance(m)
		if name != tc.name || dist != tc.isDist || sectionID(name) != tc.id {
			t.Errorf("%q: name %q, distance %v, section %q; want %q, %v, %q", tc.measure, name, dist, sectionID(name), tc.name, tc.isDist, tc.id)
		}
	}
	if MeasureName(nil) != "CKA" || MeasureIsDistance(nil) {
		t.Error("nil metrics: not CKA, a similarity")
	}
}

// TestGroupOf: where the report files each heatmap, by the study's measure
// and its extra measures.
func TestGroupOf(t *testing.T) {
	extra := func(names ...string) []study.MeasureResult {
		var out []study.MeasureResult
		for i, n := range names {
			out = append(out, study.MeasureResult{Name: n, Heatmap: fmt.Sprintf("measure%d_%s.json", i+1, strings.ReplaceAll(n, ":", "_"))})
		}
		return out
	}
	svcca := &study.Metrics{Measure: "svcca", ExtraMeasures: extra("mutual-knn:5")}
	cka := &study.Metrics{Measure: "cka-standardized", ExtraMeasures: extra("mutual-knn:5", "svcca")}
	shape := &study.Metrics{Measure: "shape:1", MeasureDistance: true, ExtraMeasures: extra("svcca")}
	h := func(metric, kind, file string) study.Heatmap {
		return study.Heatmap{Metric: metric, Info: study.HeatmapInfo{Kind: kind}, File: file}
	}
	for _, tc := range []struct {
		what string
		m    *study.Metrics
		h    study.Heatmap
		want heatmapGroup
	}{
		{"svcca within a model", svcca, h("svcca", "within-model", "svcca_a_en__a_en.json"), groupMain},
		{"svcca across languages", svcca, h("svcca", "cross-lingual", "svcca_a_en__a_hi.json"), groupMain},
		{"svcca across models", svcca, h("svcca", "cross-model", "svcca_a_en__b_en.json"), groupMain},
		{"a joint svcca heatmap no measure lists", svcca, h("svcca", "joint", "measure2_svcca.json"), groupOther},
		{"the also measure's joint heatmap", svcca, h("mutual-knn:5", "joint", "measure1_mutual-knn_5.json"), groupExtra},
		{"a joint heatmap of the also measure's name in another file", svcca, h("mutual-knn:5", "joint", "renamed.json"), groupOther},
		{"the also measure's file", svcca, h("mutual-knn:5", "", "measure1_mutual-knn_5.json"), groupExtra},
		{"a per-model heatmap of the also measure", svcca, h("mutual-knn:5", "within-model", "mutual-knn_5_a_en__a_en.json"), groupOther},
		{"a CKA heatmap in an svcca study", svcca, h("cka-standardized", "within-model", "cka_a_en__a_en.json"), groupOther},
		{"RSA in an svcca study", svcca, h("rsa-spearman:correlation", "within-model", "rsa_a_en__a_en.json"), groupRSA},
		{"CKA", cka, h("cka-standardized", "within-model", "cka_a_en__a_en.json"), groupMain},
		{"another CKA variant", cka, h("cka", "cross-model", "cka_a_en__b_en.json"), groupMain},
		{"CKA of another kind", cka, h("cka-standardized", "joint", "cka_joint.json"), groupMain},
		{"svcca beside CKA", cka, h("svcca", "joint", "measure2_svcca.json"), groupExtra},
		{"svcca within a model beside CKA", cka, h("svcca", "within-model", "svcca_a_en__a_en.json"), groupOther},
		{"RSA beside CKA", cka, h("rsa-pearson:euclidean", "cross-lingual", "rsa_a_en__a_hi.json"), groupRSA},
		{"shape within a model", shape, h("shape:1", "within-model", "shape_1_a_en__a_en.json"), groupMain},
		{"shape of another alpha", shape, h("shape:0.5", "within-model", "shape_0.5_a_en__a_en.json"), groupOther},
		{"svcca beside shape", shape, h("svcca", "joint", "measure1_svcca.json"), groupExtra},
	} {
		if got := groupOf(tc.m, tc.h); got != tc.want {
			t.Errorf("%s: group %d, want %d", tc.what, got, tc.want)
		}
	}
}

// TestReportOtherHeatmaps: a heatmap of the results folder that is neither
// the study's measure's, RSA's nor an extra measure's joint one is shown in
// a section of its own, and the study's sections are what they were.
func TestReportOtherHeatmaps(t *testing.T) {
	needAssets(t)
	dir := mainMeasureResults(t, "svcca", "mutual-knn:5")
	before := sectionCharts(report(t, dir))
	stray := study.Heatmap{Matrix: [][]float64{{1, 0.5}, {0.5, 1}}, XLabels: []string{"L1", "L2"}, YLabels: []string{"L1", "L2"},
		Metric: "pwcca", Title: "PWCCA stray", ModelA: "org/alpha-small", ModelB: "org/alpha-small",
		Info: study.HeatmapInfo{LangA: "en", LangB: "en", Kind: "within-model"}}
	b, err := json.Marshal(stray)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "heatmaps", "pwcca_alpha-small_en__alpha-small_en.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	after := sectionCharts(report(t, dir))
	if got := after["other-heatmaps"]; len(got) != 1 || got[0] != stray.Title {
		t.Errorf("other heatmaps %q, want [%q]", got, stray.Title)
	}
	delete(after, "other-heatmaps")
	if !reflect.DeepEqual(after, before) || len(before["svcca-within-model"]) != 4 {
		t.Errorf("sections with the stray heatmap %v, without %v", after, before)
	}
}
