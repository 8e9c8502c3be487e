// Package notebooks holds the study's notebooks (Implementation.ipynb,
// Analysis.ipynb) for the GoNB kernel, and the test that runs them.
package notebooks

// TestNotebooks executes both notebooks with Jupyter and the GoNB kernel
// that scripts/gonb-setup registers, on copies in a temporary folder (so the
// built-in default runs from scratch and nothing is written here), and
// checks the outputs of their key cells. Subtest nbconvert executes
// Analysis with nbconvert, exports it to HTML and opens it in headless
// Chromium to check that the charts draw and that the 3D projector shows
// points of every model, then uses that projector by hand (hover, toggles
// with the panel checked, rotate, zoom, reset); subtest server (server_test.go) runs Analysis in a
// live Jupyter Notebook server through the browser. It is skipped, with a
// message, when Jupyter, the kernel or Chromium is missing, and in -short
// mode. Set LAYERSIM_NOTEBOOK_OUT to a folder to keep the executed
// notebooks, the HTML and the screenshots there.

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
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
	"github.com/layersim/layersim/internal/simdrt"
	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/study"
	"github.com/layersim/layersim/plots"

	"github.com/layersim/layersim/internal/testenv"
)

// notebook is the part of the .ipynb format (nbformat 4) the test reads.
type notebook struct {
	Cells []struct {
		CellType string    `json:"cell_type"`
		Source   multiline `json:"source"`
		Metadata struct {
			Tags []string `json:"tags"`
		} `json:"metadata"`
		Outputs []output `json:"outputs"`
	} `json:"cells"`
	Metadata struct {
		Kernelspec struct {
			Name string `json:"name"`
		} `json:"kernelspec"`
	} `json:"metadata"`
}

type output struct {
	OutputType string               `json:"output_type"`
	Name       string               `json:"name"` // stream: stdout or stderr
	Text       multiline            `json:"text"`
	Data       map[string]multiline `json:"data"`
	EName      string               `json:"ename"`
	EValue     string               `json:"evalue"`
}

// multiline is a string that nbformat stores as a string or a list of lines.
type multiline string

func (m *multiline) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*m = multiline(s)
		return nil
	}
	var lines []string
	if err := json.Unmarshal(b, &lines); err != nil {
		return err
	}
	*m = multiline(strings.Join(lines, ""))
	return nil
}

// cellOutput is what one tagged code cell showed.
type cellOutput struct {
	stdout, stderr string
	html           []string
	errors         []string
}

// tables returns the cell's tables (HTML outputs that are a gonb table,
// possibly followed by a list of notes).
func (c cellOutput) tables(t *testing.T) []table {
	t.Helper()
	var out []table
	for _, h := range c.html {
		if !strings.HasPrefix(h, `<table class="layersim-table"`) {
			continue
		}
		end := strings.Index(h, "</table>") + len("</table>")
		var tb table
		if err := xml.Unmarshal([]byte(h[:end]), &tb); err != nil {
			t.Fatalf("table does not parse: %v\n%s", err, h)
		}
		out = append(out, tb)
	}
	return out
}

// table is a parsed gonb table.
type table struct {
	Caption string   `xml:"caption"`
	Head    []string `xml:"thead>tr>th"`
	Rows    []struct {
		Cells []string `xml:"td"`
	} `xml:"tbody>tr"`
}

// column returns the cells of the column named name.
func (tb table) column(t *testing.T, name string) []string {
	t.Helper()
	for j, h := range tb.Head {
		if h == name {
			var col []string
			for _, r := range tb.Rows {
				col = append(col, r.Cells[j])
			}
			return col
		}
	}
	t.Fatalf("table %q has no column %q (columns %q)", tb.Caption, name, tb.Head)
	return nil
}

var chartRe = regexp.MustCompile(`<div class="layersim-chart layersim-(\w+)" id="`)

// charts returns the kinds of the plots charts the cell displayed.
func (c cellOutput) charts() []string {
	var kinds []string
	for _, h := range c.html {
		if m := chartRe.FindStringSubmatch(h); m != nil {
			kinds = append(kinds, m[1])
		}
	}
	return kinds
}

// progressDone reports whether the cell shows a finished progress bar.
func (c cellOutput) progressDone() bool {
	for _, h := range c.html {
		if strings.HasPrefix(h, `<div class="layersim-progress"`) && strings.Contains(h, `aria-valuenow="100.0"`) && strings.Contains(h, "done in") {
			return true
		}
	}
	return false
}

// readNotebook reads an executed notebook and returns its code cells'
// outputs by tag, failing on untagged code cells, error outputs, GoNB's
// error reports and anything written to stderr.
func readNotebook(t *testing.T, path string) map[string]cellOutput {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb notebook
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if nb.Metadata.Kernelspec.Name != "gonb" {
		t.Errorf("%s: kernel %q, want gonb", path, nb.Metadata.Kernelspec.Name)
	}
	out := map[string]cellOutput{}
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		if len(c.Metadata.Tags) != 1 {
			t.Fatalf("%s: code cell %d has tags %q, want one", path, i, c.Metadata.Tags)
		}
		tag := c.Metadata.Tags[0]
		var co cellOutput
		for _, o := range c.Outputs {
			switch o.OutputType {
			case "stream":
				if o.Name == "stderr" {
					co.stderr += string(o.Text)
				} else {
					co.stdout += string(o.Text)
				}
			case "display_data", "execute_result":
				h := string(o.Data["text/html"])
				if strings.Contains(h, "gonb-err") {
					co.errors = append(co.errors, "GoNB error report")
				}
				co.html = append(co.html, h)
			case "error":
				co.errors = append(co.errors, o.EName+": "+o.EValue)
			}
		}
		if len(co.errors) > 0 || co.stderr != "" {
			t.Errorf("%s, cell %q: errors %q, stderr %q", filepath.Base(path), tag, co.errors, co.stderr)
		}
		out[tag] = co
	}
	return out
}

// jupyterSetup finds jupyter and checks that the GoNB kernel is registered
// for this checkout; it skips the test when either is missing.
func jupyterSetup(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped in -short mode: executes the notebooks with Jupyter (minutes)")
	}
	jupyter, err := exec.LookPath("jupyter")
	if err != nil {
		testenv.Missing(t, "jupyter is not installed (scripts/gonb-setup installs it and the GoNB kernel)")
	}
	out, err := exec.Command(jupyter, "kernelspec", "list", "--json").Output()
	if err != nil {
		testenv.Missing(t, "jupyter kernelspec list failed (%v); run scripts/gonb-setup", err)
	}
	var specs struct {
		Kernelspecs map[string]struct {
			Spec struct {
				Argv []string          `json:"argv"`
				Env  map[string]string `json:"env"`
			} `json:"spec"`
		} `json:"kernelspecs"`
	}
	if err := json.Unmarshal(out, &specs); err != nil {
		t.Fatalf("jupyter kernelspec list: %v", err)
	}
	gonb, ok := specs.Kernelspecs["gonb"]
	if !ok {
		testenv.Missing(t, "the GoNB kernel is not registered; run scripts/gonb-setup")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	want := "-go_work=" + root
	found := false
	for _, a := range gonb.Spec.Argv {
		found = found || a == want
	}
	if !found {
		t.Fatalf("the GoNB kernel is not registered for this checkout (argv %q lacks %s): run scripts/gonb-setup here", gonb.Spec.Argv, want)
	}
	if gonb.Spec.Env["GOEXPERIMENT"] != "simd" {
		t.Errorf("the GoNB kernel does not build with GOEXPERIMENT=simd (env %v): run scripts/gonb-setup", gonb.Spec.Env)
	}
	if gonb.Spec.Env["GODEBUG"] != simdrt.Setting {
		t.Errorf("the GoNB kernel does not run cells with GODEBUG=%s (env %v): run scripts/gonb-setup", simdrt.Setting, gonb.Spec.Env)
	}
	return jupyter
}

// run runs a command in dir, failing with the tail of its output.
func run(t *testing.T, dir string, timeout time.Duration, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, cellError(buf.String()))
	}
	t.Logf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), time.Since(start).Round(time.Second))
}

// cellError picks nbclient's report of the failed cell out of nbconvert's
// output (which also holds the kernel's log), or its tail.
func cellError(s string) string {
	if i := strings.Index(s, "CellExecutionError"); i >= 0 {
		return s[i:]
	}
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}

// outDir returns LAYERSIM_NOTEBOOK_OUT if set, else a temporary folder.
func outDir(t *testing.T) string {
	if d := os.Getenv("LAYERSIM_NOTEBOOK_OUT"); d != "" {
		d, err := filepath.Abs(d)
		if err == nil {
			err = os.MkdirAll(d, 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestNotebooks(t *testing.T) {
	jupyter := jupyterSetup(t)
	dir := outDir(t)
	for _, f := range []string{"out", "Implementation.ipynb", "Analysis.ipynb"} {
		if err := os.RemoveAll(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	execute := func(t *testing.T, name string) map[string]cellOutput {
		copyFile(t, name, filepath.Join(dir, name))
		run(t, dir, 15*time.Minute, jupyter, "nbconvert", "--to", "notebook", "--execute", "--inplace",
			"--ExecutePreprocessor.timeout=900", name)
		return readNotebook(t, filepath.Join(dir, name))
	}

	impl := execute(t, "Implementation.ipynb")
	checkImplementation(t, impl)
	if t.Failed() {
		return
	}
	t.Run("nbconvert", func(t *testing.T) {
		analysis := execute(t, "Analysis.ipynb")
		checkAnalysis(t, analysis)
		if t.Failed() {
			return
		}
		run(t, dir, 5*time.Minute, jupyter, "nbconvert", "--to", "html", "Analysis.ipynb")
		checkPage(t, filepath.Join(dir, "Analysis.html"))
		if t.Failed() {
			return
		}
		driveProjector(t, dir)
	})
	t.Run("server", func(t *testing.T) {
		testServer(t, jupyter, filepath.Join(dir, "out", "artifacts"))
	})
}

// wantCells fails unless every tag has a cell.
func wantCells(t *testing.T, nb map[string]cellOutput, tags ...string) {
	t.Helper()
	for _, tag := range tags {
		if _, ok := nb[tag]; !ok {
			t.Fatalf("no code cell tagged %q", tag)
		}
	}
}

// oneTable returns the only table of a cell whose caption starts with prefix.
func oneTable(t *testing.T, c cellOutput, prefix string) table {
	t.Helper()
	var found []table
	for _, tb := range c.tables(t) {
		if strings.HasPrefix(tb.Caption, prefix) {
			found = append(found, tb)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d tables captioned %q…, want 1", len(found), prefix)
	}
	return found[0]
}

func wantColumn(t *testing.T, tb table, name string, want ...string) {
	t.Helper()
	if got := tb.column(t, name); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("table %q, column %q = %q, want %q", tb.Caption, name, got, want)
	}
}

func wantCharts(t *testing.T, c cellOutput, tag string, want ...string) {
	t.Helper()
	if got := c.charts(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("cell %q shows charts %q, want %q", tag, got, want)
	}
}

// The built-in default: the tiny models (4 and 6 layers, hidden 128 and 192)
// on the 132 built-in English–Hindi prompts.
func checkImplementation(t *testing.T, nb map[string]cellOutput) {
	wantCells(t, nb, "config", "models", "data", "batching", "extract", "artifacts")

	models := oneTable(t, nb["models"], "Models")
	wantColumn(t, models, "slug", "tiny-a", "tiny-b")
	wantColumn(t, models, "layers", "4", "6")
	wantColumn(t, models, "hidden", "128", "192")

	if !strings.Contains(nb["data"].stdout, "builtin: 132 items in en, hi") {
		t.Errorf("data cell printed %q", nb["data"].stdout)
	}
	tokens := oneTable(t, nb["data"], "Tokens per text")
	wantColumn(t, tokens, "texts", "132", "132", "132", "132")

	batches := oneTable(t, nb["batching"], "Batches of 16")
	wantColumn(t, batches, "batches", "9", "9") // ⌈132/16⌉

	if !nb["extract"].progressDone() {
		t.Errorf("the extraction cell shows no finished progress bar")
	}
	ex := oneTable(t, nb["extract"], "Extraction")
	wantColumn(t, ex, "computed", "132", "132", "132", "132")
	wantColumn(t, ex, "skipped", "false", "false", "false", "false")

	sets := oneTable(t, nb["artifacts"], "Activation sets")
	wantColumn(t, sets, "slug", "tiny-a", "tiny-a", "tiny-b", "tiny-b")
	wantColumn(t, sets, "language", "en", "hi", "en", "hi")
	wantColumn(t, sets, "layers", "4", "4", "6", "6")
	wantColumn(t, sets, "N", "132", "132", "132", "132")
	wantColumn(t, sets, "D", "128", "128", "192", "192")
}

func checkAnalysis(t *testing.T, nb map[string]cellOutput) {
	wantCells(t, nb, "setup", "sanity", "signatures", "analyze", "heatmaps", "embedding", "distances",
		"procrustes", "projector", "bootstrap", "permutation", "rsa", "measures", "main-measure", "summary")

	if !strings.Contains(nb["sanity"].stdout, "2 models × 2 languages, N = 132 prompts in every set") {
		t.Errorf("sanity cell printed %q", nb["sanity"].stdout)
	}
	sanity := oneTable(t, nb["sanity"], "Activation sets")
	wantColumn(t, sanity, "layers", "4", "4", "6", "6")
	wantColumn(t, sanity, "expected", "4", "4", "6", "6")
	wantColumn(t, sanity, "non-finite", "0", "0", "0", "0")

	// Signature dot products equal direct CKA (the cell itself fails above
	// 1e-9); layers 1, L/2 and L of each model.
	sig := oneTable(t, nb["signatures"], "Layer k in en and hi")
	wantColumn(t, sig, "layer k", "1", "2", "4", "1", "3", "6")
	for _, d := range sig.column(t, "difference") {
		if v, err := strconv.ParseFloat(d, 64); err != nil || v > 1e-9 {
			t.Errorf("signature dot against CKA: difference %s", d)
		}
	}
	wantCharts(t, nb["signatures"], "signatures", "heatmap")

	if !nb["analyze"].progressDone() {
		t.Errorf("the analysis cell shows no finished progress bar")
	}
	wantCharts(t, nb["heatmaps"], "heatmaps", "heatmap", "heatmap", "heatmap", "heatmap")
	if !regexp.MustCompile(`language axis: coordinate [123], r = `).MatchString(nb["embedding"].stdout) {
		t.Errorf("embedding cell printed %q", nb["embedding"].stdout)
	}
	oneTable(t, nb["embedding"], "Joint embedding of 20 layers")
	oneTable(t, nb["embedding"], "r on coordinate")

	wantColumn(t, oneTable(t, nb["distances"], "3D distance"), "pairs", "4", "6")
	wantCharts(t, nb["distances"], "distances", "echarts")

	// The cell itself fails when the residual from the stacks differs from
	// metrics.json; here both columns must be in [0, 1] and agree.
	pr := oneTable(t, nb["procrustes"], "Orthogonal Procrustes")
	a, b := pr.column(t, "rel"), pr.column(t, "rel (stacks)")
	for i := range a {
		v, err := strconv.ParseFloat(a[i], 64)
		if err != nil || v < 0 || v > 1 || a[i] != b[i] {
			t.Errorf("Procrustes rel %s, from the stacks %s", a[i], b[i])
		}
	}

	wantCharts(t, nb["projector"], "projector", "projector")
	boot := oneTable(t, nb["bootstrap"], "Mean cross-lingual CKA with its 95% bootstrap interval")
	wantColumn(t, boot, "contains the observed mean", "yes", "yes")
	wantColumn(t, boot, "prompts", "132", "132")
	perm := oneTable(t, nb["permutation"], "Permutation test")
	for _, p := range perm.column(t, "p") {
		if v, err := strconv.ParseFloat(p, 64); err != nil || v <= 0 || v > 1 {
			t.Errorf("permutation p-value %q", p)
		}
	}
	rsa := oneTable(t, nb["rsa"], "Cross-lingual CKA and RSA")
	for _, v := range rsa.column(t, "mean RSA") {
		if f, err := strconv.ParseFloat(v, 64); err != nil || math.Abs(f) > 1 {
			t.Errorf("mean RSA %q", v)
		}
	}
	wantCharts(t, nb["rsa"], "rsa", "echarts", "heatmap")
	meas := oneTable(t, nb["measures"], "Other measures")
	wantColumn(t, meas, "measure", "mutual-knn:10", "mutual-knn:10", "svcca", "svcca", "shape:1", "shape:1")
	wantCharts(t, nb["measures"], "measures", "echarts", "echarts", "echarts", "echarts", "echarts", "echarts")
	checkMainMeasure(t, nb["main-measure"])
	oneTable(t, nb["summary"], "Cross-lingual results (n = 132 prompts")
	wantCharts(t, nb["summary"], "summary", "echarts")
	if !strings.Contains(nb["summary"].stdout, "report: out/analysis/report.html") {
		t.Errorf("summary cell printed %q", nb["summary"].stdout)
	}
}

// checkMainMeasure checks the cell that runs the study with the shape
// distance in CKA's place. The cell itself fails when the study's θ of a
// layer differs from shape.Procrustes on the activations by more than 1e-9;
// here the table must say so, hold angles, intervals around them and
// p-values, and the cell must show a cross-lingual heatmap per model.
func checkMainMeasure(t *testing.T, c cellOutput) {
	t.Helper()
	if !c.progressDone() {
		t.Errorf("the cell of the study with shape:1 shows no finished progress bar")
	}
	tab := oneTable(t, c, "The study with shape:1 in CKA's place")
	wantColumn(t, tab, "languages", "en–hi", "en–hi")
	num := func(col string) []float64 {
		var vs []float64
		for _, s := range tab.column(t, col) {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Errorf("column %q: %q is not a number", col, s)
			}
			vs = append(vs, v)
		}
		return vs
	}
	thetas := num("mean θ (rad)")
	for i, ci := range tab.column(t, "95% interval") {
		var lo, hi float64
		if _, err := fmt.Sscanf(ci, "[%g, %g]", &lo, &hi); err != nil || !(lo <= thetas[i] && thetas[i] <= hi) {
			t.Errorf("θ %g, interval %q", thetas[i], ci)
		}
	}
	for _, v := range thetas {
		if !(v > 0 && v < math.Pi/2) {
			t.Errorf("mean θ %g rad, want in (0, π/2)", v)
		}
	}
	for _, v := range num("p") {
		if !(v > 0 && v <= 1) {
			t.Errorf("p-value %g", v)
		}
	}
	for _, v := range num("r(θ, CKA) over layers") {
		if !(v >= -1 && v <= 1) {
			t.Errorf("correlation %g", v)
		}
	}
	for _, v := range num("largest |θ − direct|") {
		if !(v <= 1e-9) {
			t.Errorf("θ against shape.Procrustes: %g", v)
		}
	}
	wantCharts(t, c, "main-measure", "heatmap", "heatmap")
	if !strings.Contains(c.stdout, "report: out/analysis-shape/report.html") {
		t.Errorf("the cell printed %q", c.stdout)
	}
}

// pageScript, appended to the exported page, runs after the charts have
// been set up: it hides every cell but the one of the 3D projector, so that
// the projector is in view at the top of the screenshot, and records where
// its drawing area is. (Scrolling the page to it instead leaves headless
// Chromium's screenshot blank.)
const pageScript = `<script>
(function () {
  var el = document.querySelector('.layersim-projector');
  if (!el) { document.body.setAttribute('data-projector', 'none'); return; }
  var cell = el.closest('.jp-Cell') || el.closest('.cell');
  document.querySelectorAll('.jp-Cell, .cell').forEach(function (c) { if (c !== cell) c.style.display = 'none'; });
  window.scrollTo(0, 0);
  requestAnimationFrame(function () {
    var r = el.querySelector('.layersim-canvas').getBoundingClientRect();
    document.body.setAttribute('data-projector', JSON.stringify([r.left, r.top, r.right, r.bottom]));
  });
})();
</script>`

var (
	stateRe     = regexp.MustCompile(`data-layersim-state="([a-z]+)"`)
	projectorRe = regexp.MustCompile(`data-projector="([^"]*)"`)
)

// checkPage opens the exported Analysis page in headless Chromium: every
// chart must have drawn, and the 3D projector's drawing area must hold
// many pixels of each model's colour (the points and the lines between
// them, in either language's shade).
func checkPage(t *testing.T, page string) {
	bin := browsertest.Chromium(t, "for the page check; scripts/gonb-setup installs Debian's chromium")
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.LastIndex(b, []byte("</body>"))
	if i < 0 {
		t.Fatalf("%s has no </body>", page)
	}
	checked := strings.TrimSuffix(page, ".html") + ".checked.html"
	if err := os.WriteFile(checked, append(append(append([]byte(nil), b[:i]...), pageScript...), b[i:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := strings.TrimSuffix(page, ".html") + ".png"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
		"--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--hide-scrollbars", "--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000",
		"--window-size=1400,1000", "--dump-dom", "--screenshot="+shot, "file://"+checked)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.Bytes()[max(0, stderr.Len()-3000):])
	}

	drawn := 0
	for _, m := range stateRe.FindAllSubmatch(dom, -1) {
		if string(m[1]) != "drawn" {
			t.Errorf("a chart is %q, not drawn", m[1])
		}
		drawn++
	}
	// signatures 1, heatmaps 4, distances 1, projector 1, rsa 2, measures 6,
	// main-measure 2, summary 1.
	if drawn != 18 {
		t.Errorf("%d charts drawn on the page, want 18", drawn)
	}
	m := projectorRe.FindSubmatch(dom)
	if m == nil {
		t.Fatal("the page script did not run")
	}
	var rect [4]float64
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(m[1]), "&quot;", `"`)), &rect); err != nil {
		t.Fatalf("projector position %q: %v", m[1], err)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	area := image.Rect(int(rect[0]), int(rect[1]), int(rect[2]), int(rect[3])).Intersect(img.Bounds())
	if area.Dx() < 300 || area.Dy() < 300 {
		t.Fatalf("the projector's drawing area %v is not in view in the %v screenshot", area, img.Bounds())
	}
	// The models' colours, in the order of Metrics.Models, and the darker
	// shade of the second language.
	for i := range 2 {
		c := rgb(t, plots.ModelColor(i))
		n := browsertest.Near(img, area, c, 45) + browsertest.Near(img, area, mix(c, 0.2), 45)
		t.Logf("model %d: %d pixels of its colour in the projector (%v of %v)", i, n, area, img.Bounds())
		if n < 150 {
			t.Errorf("model %d: %d pixels of its colour in the projector, want ≥ 150 (see %s)", i, n, shot)
		}
	}
	// And not a blank or uniform area: at least 2% of it differs from the
	// most common colour.
	if frac := 1 - dominantShare(img, area); frac < 0.02 {
		t.Errorf("the projector area is nearly uniform (%.1f%% of pixels differ from the background)", 100*frac)
	}
}

// mix darkens a colour towards black by t.
func mix(c [3]float64, t float64) [3]float64 {
	return [3]float64{c[0] * (1 - t), c[1] * (1 - t), c[2] * (1 - t)}
}

// dominantShare returns the share of the pixels of r that have its most
// common colour.
func dominantShare(img image.Image, r image.Rectangle) float64 {
	count := map[[3]uint32]int{}
	best := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			k := [3]uint32{cr >> 8, cg >> 8, cb >> 8}
			count[k]++
			best = max(best, count[k])
		}
	}
	return float64(best) / float64(r.Dx()*r.Dy())
}

// driveProjector opens the exported Analysis.html in dir in headless
// Chromium and uses its projector as a person does
// (browsertest.DriveProjector). The panel and the tooltip are compared
// with metrics computed here from the artifacts the notebook analysed
// (dir/out/artifacts), with the options of its analysis cell
// (analysisOptions in the setup cell) less the resampling statistics and
// RSA, which the projector does not show.
func driveProjector(t *testing.T, dir string) {
	bin := browsertest.Chromium(t, "for the projector; scripts/gonb-setup installs Debian's chromium")
	res, err := study.Analyze(study.Options{
		Artifacts:    filepath.Join(dir, "out", "artifacts"),
		Langs:        []string{"en", "hi"},
		Split:        "test",
		Measure:      cka.MeasureStandardized,
		RSA:          "none",
		Bootstrap:    -1,
		Permutations: -1,
		Seed:         1,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.Start(t, bin, 4*time.Minute)
	browsertest.DriveProjector(t, ctx, browsertest.Projector{
		URL: "file://" + filepath.Join(dir, "Analysis.html"), Metrics: &res.Metrics, Dir: dir, Name: "Analysis"})
}
