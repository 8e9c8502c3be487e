package notebooks

// The Analysis notebook as a person uses it: a classic Jupyter Notebook 6
// server on 127.0.0.1 (random port, a token), the notebook opened in
// headless Chromium driven through the DevTools protocol (chromedp), all
// cells run from the Cell menu, and the live page read: every chart drawn
// on its canvas, the progress bar redrawn in place, the projector on a
// screenshot.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/layersim/layersim/internal/browsertest"
	"github.com/layersim/layersim/internal/testenv"
	"github.com/layersim/layersim/plots"
)

// server is a running Jupyter Notebook server.
type server struct {
	url, token string
}

// syncBuffer collects the server's log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer starts `jupyter notebook` serving dir on 127.0.0.1 with a
// free port and a random token, waits until it answers, and stops it (its
// kernels with it) when the test ends. Its configuration and runtime files
// go to temporary folders; notebooks it signs are remembered in memory only.
func startServer(t *testing.T, jupyter, dir string) *server {
	t.Helper()
	if out, err := exec.Command(jupyter, "notebook", "--version").CombinedOutput(); err != nil {
		testenv.Missing(t, "jupyter notebook (classic Notebook 6) does not run (%v: %s); scripts/gonb-setup installs it", err, bytes.TrimSpace(out))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		t.Fatal(err)
	}
	s := &server{url: "http://127.0.0.1:" + strconv.Itoa(port), token: hex.EncodeToString(tok)}

	cmd := exec.Command(jupyter, "notebook", "--no-browser", "--ip=127.0.0.1", "--port="+strconv.Itoa(port),
		"--NotebookApp.port_retries=0", "--NotebookApp.token="+s.token, "--NotebookApp.password=",
		"--NotebookApp.notebook_dir="+dir, "--NotebookNotary.db_file=:memory:")
	if os.Geteuid() == 0 { // as in containers
		cmd.Args = append(cmd.Args, "--allow-root")
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "JUPYTER_CONFIG_DIR="+t.TempDir(), "JUPYTER_RUNTIME_DIR="+t.TempDir())
	// Its own process group: the kernel and the programs of the cells are
	// stopped with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("jupyter notebook: %v", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		// Ask the server to shut down (it stops its kernels), then end
		// whatever of the group is left.
		req, _ := http.NewRequest("POST", s.url+"/api/shutdown", nil)
		req.Header.Set("Authorization", "token "+s.token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			t.Logf("the notebook server did not stop in 15 s; killing it")
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("notebook server log:\n%s", tail(log.String(), 6000))
		}
	})

	deadline := time.Now().Add(90 * time.Second)
	for {
		req, _ := http.NewRequest("GET", s.url+"/api/status", nil)
		req.Header.Set("Authorization", "token "+s.token)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-exited:
			t.Fatalf("jupyter notebook exited (%v):\n%s", waitErr, tail(log.String(), 4000))
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("jupyter notebook did not answer on %s in 90 s:\n%s", s.url, tail(log.String(), 4000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// copyTree copies the files under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// progressJS records, from before the cells run, every state of every
// progress bar of the page (gonb's bars carry their display id as DOM id):
// the states in order, the most elements with that id seen at once, and
// the cells (indices among the page's cells) they were seen in. Jupyter
// replaces the output element on each update, so each state is read from
// the element as it is added.
const progressJS = `
window.__lsProgress = (function () {
  var seen = {};
  function note(el) {
    if (!el.id) return;
    var r = seen[el.id] || (seen[el.id] = {states: [], most: 0, cells: []});
    var bar = el.querySelector('[role=progressbar]'), label = el.querySelector('.layersim-progress-label');
    var s = (bar && bar.getAttribute('aria-valuenow') || '?') + ' | ' + (label ? label.textContent : '');
    if (r.states[r.states.length - 1] !== s) r.states.push(s);
    if (!el.isConnected) return;
    r.most = Math.max(r.most, document.querySelectorAll('[id="' + el.id + '"]').length);
    var ci = Array.prototype.indexOf.call(document.querySelectorAll('#notebook-container > .cell'), el.closest('.cell'));
    if (r.cells.indexOf(ci) < 0) r.cells.push(ci);
  }
  new MutationObserver(function (records) {
    records.forEach(function (rec) {
      rec.addedNodes.forEach(function (n) {
        if (n.nodeType !== 1) return;
        if (n.classList.contains('layersim-progress')) note(n);
        n.querySelectorAll('.layersim-progress').forEach(note);
      });
    });
  }).observe(document.getElementById('notebook-container'), {childList: true, subtree: true});
  return function () { return seen; };
})();
true`

// runState is how far Run All has come.
const runStateJS = `(function () {
  var cells = Jupyter.notebook.get_cells().filter(function (c) { return c.cell_type === 'code'; });
  var errors = [];
  document.querySelectorAll('.output_error, .output_stderr').forEach(function (e) { errors.push(e.textContent.slice(0, 3000)); });
  document.querySelectorAll('.output_html').forEach(function (e) { if (e.innerHTML.indexOf('gonb-err') >= 0) errors.push(e.textContent.slice(0, 3000)); });
  return {cells: cells.length, done: cells.filter(function (c) { return typeof c.input_prompt_number === 'number'; }).length,
    running: cells.filter(function (c) { return c.input_prompt_number === '*'; }).length, errors: errors};
})()`

type runState struct {
	Cells, Done, Running int
	Errors               []string
}

// chartsJS reads every chart of the page: its kind, its drawing state, and
// the pixels of its canvases (copied onto a 2D canvas): how many there are
// and how many are drawn (not transparent, not near white).
const chartsJS = `(function () {
  var out = [];
  document.querySelectorAll('[data-layersim-state]').forEach(function (el) {
    var r = {kind: (el.className.match(/layersim-(heatmap|echarts|projector)/) || ['', '?'])[1], state: el.getAttribute('data-layersim-state'), canvases: 0, pixels: 0, inked: 0};
    el.querySelectorAll('canvas').forEach(function (c) {
      if (!c.width || !c.height) return;
      r.canvases++;
      var o = document.createElement('canvas');
      o.width = c.width; o.height = c.height;
      var g = o.getContext('2d');
      g.drawImage(c, 0, 0);
      var d = g.getImageData(0, 0, o.width, o.height).data;
      for (var i = 0; i < d.length; i += 4) {
        r.pixels++;
        if (d[i + 3] > 0 && (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235)) r.inked++;
      }
    });
    out.push(r);
  });
  return out;
})()`

type liveChart struct {
	Kind, State             string
	Canvases, Pixels, Inked int
}

// testServer runs Analysis.ipynb in a live Notebook server, through the
// browser, in a folder of its own holding a copy of the notebook and of the
// artifacts Implementation.ipynb wrote (artifacts).
func testServer(t *testing.T, jupyter, artifacts string) {
	bin := browsertest.Chromium(t, "scripts/gonb-setup installs Debian's chromium")
	out := outDir(t)
	dir := filepath.Join(out, "live")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	copyTree(t, artifacts, filepath.Join(dir, "out", "artifacts"))
	copyFile(t, "Analysis.ipynb", filepath.Join(dir, "Analysis.ipynb"))
	analyzeCell := cellIndex(t, "Analysis.ipynb", "analyze")

	srv := startServer(t, jupyter, dir)
	ctx := browsertest.Start(t, bin, 9*time.Minute)
	start := time.Now()
	browsertest.Run(t, ctx, "open Analysis.ipynb",
		chromedp.Navigate(srv.url+"/notebooks/Analysis.ipynb?token="+srv.token),
		chromedp.WaitVisible(chromedp.CSS(`#notebook-container .cell`)))
	waitFor(t, ctx, 2*time.Minute, "the kernel to start",
		`!!(window.Jupyter && Jupyter.notebook && Jupyter.notebook._fully_loaded && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected())`)
	browsertest.Eval[bool](t, ctx, progressJS)

	// Cell > Run All, clicked.
	browsertest.Run(t, ctx, "Cell > Run All",
		chromedp.Click(chromedp.CSS(`#celllink`)),
		chromedp.Click(chromedp.CSS(`#run_all_cells > a`)))
	var st runState
	for deadline := time.Now().Add(8 * time.Minute); ; {
		st = browsertest.Eval[runState](t, ctx, runStateJS)
		if len(st.Errors) > 0 {
			t.Fatalf("a cell failed in the live notebook (%d of %d cells done):\n%s", st.Done, st.Cells, strings.Join(st.Errors, "\n---\n"))
		}
		if st.Cells > 0 && st.Done == st.Cells {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Run All did not finish in 8 minutes: %+v", st)
		}
		time.Sleep(time.Second)
	}
	t.Logf("Run All in the live notebook: %d cells in %v", st.Cells, time.Since(start).Round(time.Second))

	// The charts, drawn in the live page: signatures 1, heatmaps 4,
	// distances 1, projector 1, rsa 2, measures 6, main-measure 2, summary 1,
	// each canvas with drawn pixels.
	time.Sleep(2 * time.Second) // ECharts GL's first frames
	charts := browsertest.Eval[[]liveChart](t, ctx, chartsJS)
	kinds := map[string]int{}
	for i, c := range charts {
		kinds[c.Kind]++
		if c.State != "drawn" || c.Canvases == 0 || c.Inked < 500 || c.Inked*200 < c.Pixels {
			t.Errorf("chart %d (%s) in the live page: %s, %d canvases, %d of %d pixels drawn", i, c.Kind, c.State, c.Canvases, c.Inked, c.Pixels)
		}
	}
	if len(charts) != 18 || kinds["heatmap"] != 8 || kinds["echarts"] != 9 || kinds["projector"] != 1 {
		t.Errorf("charts in the live page: %v (%d), want 8 heatmaps, 9 ECharts charts and the projector", kinds, len(charts))
	}
	t.Logf("charts in the live page: %+v", charts)

	// The progress bar of the analysis cell: one element, redrawn in place
	// (never two at once), through at least two states to the finished one.
	var progress map[string]struct {
		States []string
		Most   int
		Cells  []int
	}
	b, err := json.Marshal(browsertest.Eval[map[string]any](t, ctx, `__lsProgress()`))
	if err == nil {
		err = json.Unmarshal(b, &progress)
	}
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for id, p := range progress {
		t.Logf("progress bar %s in cells %v, at most %d at once, states %q", id, p.Cells, p.Most, p.States)
		if len(p.Cells) != 1 || p.Cells[0] != analyzeCell {
			continue
		}
		found = true
		last := p.States[len(p.States)-1]
		if p.Most != 1 || len(p.States) < 2 || !strings.HasPrefix(last, "100.0 | ") || !strings.Contains(last, "done in") ||
			strings.Contains(p.States[0], "done in") {
			t.Errorf("the analysis cell's progress bar was not redrawn in place to its end: at most %d at once, states %q", p.Most, p.States)
		}
	}
	if !found {
		t.Errorf("no progress bar seen in the analysis cell (cell %d): %v", analyzeCell, progress)
	}

	// The projector, scrolled into view and photographed: each model's
	// colour covers many pixels of its canvas.
	browsertest.Run(t, ctx, "scroll to the projector",
		chromedp.ScrollIntoView(chromedp.CSS(`.layersim-projector .layersim-canvas`)),
		chromedp.Sleep(1500*time.Millisecond))
	rect := browsertest.Eval[[4]float64](t, ctx,
		`(function () { var b = document.querySelector('.layersim-projector .layersim-canvas').getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; })()`)
	shot := filepath.Join(out, "live-projector.png")
	img := browsertest.Screenshot(t, ctx, shot)
	area := image.Rect(int(rect[0]), int(rect[1]), int(rect[2]), int(rect[3])).Intersect(img.Bounds())
	if area.Dx() < 300 || area.Dy() < 300 {
		t.Fatalf("the projector's canvas %v is not in view in the %v screenshot", rect, img.Bounds())
	}
	for i := range 2 {
		c := rgb(t, plots.ModelColor(i))
		n := browsertest.Near(img, area, c, 45) + browsertest.Near(img, area, mix(c, 0.2), 45)
		t.Logf("live page, model %d: %d pixels of its colour in the projector (%v of %v)", i, n, area, img.Bounds())
		if n < 150 {
			t.Errorf("live page, model %d: %d pixels of its colour in the projector, want ≥ 150 (see %s)", i, n, shot)
		}
	}
	if d, ink := browsertest.ColourStats(img, area); d < 40 || ink < area.Dx()*area.Dy()/50 {
		t.Errorf("live page: the projector shows %d colours, %d inked pixels of %d (see %s)", d, ink, area.Dx()*area.Dy(), shot)
	}
}

// waitFor polls a JavaScript condition every 250 ms until it is true.
func waitFor(t *testing.T, ctx context.Context, limit time.Duration, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !browsertest.Eval[bool](t, ctx, cond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// cellIndex returns the index among all cells of the notebook's code cell
// tagged tag.
func cellIndex(t *testing.T, path, tag string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb notebook
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for i, c := range nb.Cells {
		if c.CellType == "code" && len(c.Metadata.Tags) == 1 && c.Metadata.Tags[0] == tag {
			return i
		}
	}
	t.Fatalf("%s has no code cell tagged %q", path, tag)
	return -1
}

// rgb parses a #rrggbb colour.
func rgb(t *testing.T, hex string) [3]float64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	if err != nil {
		t.Fatal(fmt.Errorf("colour %q: %w", hex, err))
	}
	return [3]float64{float64(v >> 16 & 255), float64(v >> 8 & 255), float64(v & 255)}
}
