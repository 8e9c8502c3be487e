package plots

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/study"
)

func TestReport(t *testing.T) {
	needAssets(t)
	dir := synthResults(t)
	r := loadSynth(t)
	m := &r.Metrics
	var b strings.Builder
	if err := Report(dir, &b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	checkOffline(t, page)
	checkGuard(t, page, true)
	if n := strings.Count(page, "LayersimPlots = (function"); n != 1 {
		t.Errorf("runtime inlined %d times", n)
	}
	text := html.UnescapeString(stripBundles(t, page))

	// Tables: every model and every pair, with the numbers as metrics.json has them.
	for _, mo := range m.Models {
		row := fmt.Sprintf(`<tr><td class="t">%s</td><td class="t">%s</td><td>%d</td><td class="t">%s</td></tr>`, mo.ID, mo.Slug, mo.Layers, mo.TokenSummary(m.Languages))
		if !strings.Contains(text, row) {
			t.Errorf("models table lacks %s", row)
		}
	}
	for _, p := range m.Pairs {
		row := fmt.Sprintf(`<tr><td class="t">%s</td><td class="t">%s–%s</td><td>%d</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>[%.4f, %.4f]</td><td>%s</td><td>%d</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td></tr>`,
			p.Model, p.LangA, p.LangB, p.Count, p.CKAMean, p.CKAMedian, p.CKAMin, p.CKACI95[0], p.CKACI95[1], pString(p.PermP), p.StatsN,
			*p.RSAMeanOverAll, p.D3Mean, p.D3Median, *p.D3Std, p.D3Max, *p.ProcrustesRes, *p.ProcrustesRel)
		if !strings.Contains(text, row) {
			t.Errorf("pairs table lacks\n%s", row)
		}
		null := fmt.Sprintf(`<tr><td class="t">%s</td><td class="t">%s–%s</td><td>%s</td><td>%.4f</td><td>%.4f</td><td>%.2f</td></tr>`,
			p.Model, p.LangA, p.LangB, pString(p.PermP), *p.PermNullMean, *p.PermNullSD, *p.CKACalibrated)
		if !strings.Contains(text, null) {
			t.Errorf("permutation null table lacks\n%s", null)
		}
	}
	ax := m.LanguageAxis
	for _, want := range []string{
		fmt.Sprintf(`<tr><th class="t">axis</th><td>dim %d</td></tr>`, ax.Component+1),
		fmt.Sprintf(`<tr><th class="t">r overall</th><td>%.4f</td></tr>`, ax.CorrOverall),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("language axis table lacks %s", want)
		}
	}
	for model, r := range ax.CorrPerModel {
		if want := fmt.Sprintf(`<tr><th class="t">r within %s</th><td>%.4f</td></tr>`, model, r); !strings.Contains(text, want) {
			t.Errorf("language axis table lacks %s", want)
		}
	}
	for _, note := range m.Notes {
		if !strings.Contains(text, "<li>"+note+"</li>") {
			t.Errorf("notes lack %q", note)
		}
	}

	// Charts: one projector, two curve charts, a histogram for all models and
	// one per model, every heatmap file; ids unique.
	kinds := map[string]int{}
	titles := map[string]bool{}
	ids := map[string]bool{}
	var projector ProjectorData
	for _, e := range chartsIn(t, page) {
		var p struct {
			Kind string          `json:"kind"`
			Data json.RawMessage `json:"data"`
		}
		decodePayload(t, e, &p)
		kinds[p.Kind]++
		if ids[e.id] {
			t.Errorf("id %s repeated", e.id)
		}
		ids[e.id] = true
		if p.Kind == "projector" {
			if err := json.Unmarshal(p.Data, &projector); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, m := range dataTitleRe.FindAllStringSubmatch(text, -1) {
		titles[m[1]] = true
	}
	want := map[string]int{"projector": 1, "lines": 2 + len(m.Depth), "histogram": 1 + len(m.Models), "heatmap": len(r.Heatmaps) + len(m.LanguageMatrices)}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d %s charts, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "heatmaps", "*.json"))
	if len(files) != len(r.Heatmaps) || len(files) == 0 {
		t.Errorf("%d heatmap files, %d heatmaps loaded", len(files), len(r.Heatmaps))
	}
	for _, h := range r.Heatmaps {
		if !titles[h.Title] {
			t.Errorf("no chart titled %q", h.Title)
		}
	}
	for _, mo := range m.Models {
		if !titles[fmt.Sprintf("Distance in 3D between layer k in two languages, %s (%d layer pairs)", mo.ID, mo.Layers)] {
			t.Errorf("no distance histogram for %s", mo.ID)
		}
	}
	if len(projector.Points) != len(m.Joint.Rows) || len(projector.Models) != len(m.Models) {
		t.Errorf("projector with %d points and %d models", len(projector.Points), len(projector.Models))
	}
}

func TestWriteReport(t *testing.T) {
	needAssets(t)
	src := synthResults(t)
	// A copy of the results, so that the report lands in a folder of its own.
	dir := t.TempDir()
	copyTree(t, src, dir)
	out := filepath.Join(dir, "report.html")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(dir, ""); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "<!DOCTYPE html>") {
		t.Errorf("report starts %.40q", b)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	// A report elsewhere; and failures leave no file.
	other := filepath.Join(t.TempDir(), "r.html")
	if err := WriteReport(dir, other); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "none.html")
	if err := WriteReport(t.TempDir(), missing); err == nil || !strings.Contains(err.Error(), "metrics.json") {
		t.Errorf("empty folder: error %v", err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a failed report left %s", missing)
	}
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLoadResultsErrors(t *testing.T) {
	src := synthResults(t)
	metrics, err := os.ReadFile(filepath.Join(src, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m study.Metrics
	if err := json.Unmarshal(metrics, &m); err != nil {
		t.Fatal(err)
	}
	m.Joint.XYZ = append(m.Joint.XYZ, [3]float64{1, 2, 3})
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	extraPoint := string(b)
	for _, tc := range []struct {
		name    string
		metrics string
		heatmap string // written as heatmaps/bad.json when set
		want    string
	}{
		{"not json", "{", "", "unexpected EOF"},
		{"trailing", string(metrics) + "{}", "", "trailing data"},
		{"no models", `{"languages":["en"],"models":[]}`, "", "no models"},
		{"no languages", `{"models":[{"id":"m","slug":"m","layers":1}]}`, "", "no languages"},
		{"wrong type", `{"n":"many"}`, "", "cannot unmarshal"},
		{"xyz", extraPoint, "", "coordinates"},
		{"bad heatmap", string(metrics), `{"matrix":[[1,2]],"x_labels":["a"],"y_labels":["b"]}`, "1 x labels"},
		{"heatmap not json", string(metrics), `[`, "bad.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "metrics.json"), []byte(tc.metrics), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.heatmap != "" {
				os.MkdirAll(filepath.Join(dir, "heatmaps"), 0o755)
				if err := os.WriteFile(filepath.Join(dir, "heatmaps", "bad.json"), []byte(tc.heatmap), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := LoadResults(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	// No heatmaps folder: fine.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "metrics.json"), metrics, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := LoadResults(dir)
	if err != nil || len(r.Heatmaps) != 0 {
		t.Errorf("without heatmaps: %v, %d heatmaps", err, len(r.Heatmaps))
	}
}

// TestReportNoPairs: a study of one language has no pairs and no language
// axis; the report still has the tables and the projector.
func TestReportNoPairs(t *testing.T) {
	needAssets(t)
	m := study.Metrics{N: 4, Languages: []string{"en"}, Split: "test", Measure: "cka",
		Models: []study.Model{{ID: "org/solo", Slug: "solo", Layers: 3}},
		Joint: study.Joint{Method: "uncentered",
			Rows: []study.Row{{Lang: "en", Model: "org/solo", Layer: 1}, {Lang: "en", Model: "org/solo", Layer: 2}, {Lang: "en", Model: "org/solo", Layer: 3}},
			XYZ:  [][3]float64{{0, 0, 0}, {1, 0, 0}, {1, 1, 0}}},
		Notes: []string{"language axis needs exactly two languages, got 1"}}
	dir := t.TempDir()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "metrics.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := Report(dir, &out); err != nil {
		t.Fatal(err)
	}
	text := html.UnescapeString(out.String())
	for _, want := range []string{`<td class="t">org/solo</td>`, `no pairs`, "<li>" + m.Notes[0] + "</li>"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(text, `id="language-axis"`) {
		t.Error("a language axis section without an axis")
	}
	kinds := map[string]int{}
	for _, e := range chartsIn(t, out.String()) {
		kinds[e.kind]++
	}
	if kinds["projector"] != 1 || len(kinds) != 1 {
		t.Errorf("charts %v, want the projector only", kinds)
	}
}
