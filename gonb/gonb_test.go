package gonb

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/janpfeifer/gonb/gonbui"

	"github.com/layersim/layersim/lcka/extract"
	"github.com/layersim/layersim/lcka/study"
)

func ptr[T any](v T) *T { return &v }

// testMetrics is a small study result: model "a" with a full pair, model
// "b" with a pair whose statistics were skipped, model "c" in one language.
func testMetrics() *study.Metrics {
	return &study.Metrics{
		N: 12, Languages: []string{"en", "hi"}, Measure: "cka-standardized",
		Models:       []study.Model{{ID: "org/a", Slug: "org__a", Layers: 3}, {ID: "b<&>", Slug: "b", Layers: 2}, {ID: "c", Slug: "c", Layers: 5}},
		LanguageAxis: &study.LanguageAxis{CorrPerModel: map[string]float64{"org/a": -0.91234, "b<&>": 0.5}},
		Pairs: []study.Pair{
			{
				Model: "org/a", LangA: "en", LangB: "hi", Count: 3,
				CKAMean: 0.812345, CKAMedian: 0.8, CKAMin: 0.61, D3Mean: 0.25, D3Std: ptr(0.0512), D3Max: 0.4,
				ProcrustesRes: ptr(0.123456), ProcrustesRel: ptr(0.02), CKACI95: &[2]float64{0.7, 0.9}, PermP: ptr(1.0 / 1001), StatsN: 12,
				RSAMeanOverAll: ptr(0.66666),
			},
			{Model: "b<&>", LangA: "en", LangB: "hi", Count: 2, CKAMean: 1, CKAMedian: 1, CKAMin: 1, D3Mean: 0, D3Max: 0},
		},
		Notes: []string{"trimmed to 12 prompts"},
	}
}

func TestMetricsTable(t *testing.T) {
	header, rows := MetricsTable(testMetrics())
	if !reflect.DeepEqual(header, MetricsHeader) {
		t.Fatalf("header %q, want %q", header, MetricsHeader)
	}
	want := [][]string{
		{"org/a", "en–hi", "3", "0.8123", "0.8000", "0.6100", "[0.7000, 0.9000]", "0.000999", "12", "0.2500", "0.0512", "0.4000", "0.1235", "0.0200", "0.6667", "-0.9123"},
		{"b<&>", "en–hi", "2", "1.0000", "1.0000", "1.0000", "—", "—", "—", "0.0000", "—", "0.0000", "—", "—", "—", "0.5000"},
		{"c", "—", "5", "—", "—", "—", "—", "—", "—", "—", "—", "—", "—", "—", "—", "—"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows\n%q\nwant\n%q", rows, want)
	}
	for _, r := range rows {
		if len(r) != len(header) {
			t.Errorf("row %q has %d cells, header %d", r[0], len(r), len(header))
		}
	}
	if h, r := MetricsTable(nil); len(h) != len(MetricsHeader) || r != nil {
		t.Errorf("MetricsTable(nil) = %q, %q", h, r)
	}
}

// TestMetricsTableMeasure: the header and caption name the study's measure:
// CKA's for every CKA variant, the measure's own name where another measure
// took CKA's place, said to be a distance where it is one; the rows are the
// same values whatever the measure.
func TestMetricsTableMeasure(t *testing.T) {
	base, wantRows := MetricsTable(testMetrics())
	for _, tc := range []struct {
		measure  string
		distance bool
		header   []string // columns 3 to 6
		caption  string
	}{
		{"cka-debiased", false, []string{"CKA mean", "CKA median", "CKA min", "CKA 95% CI"}, "Cross-lingual results (n = 12 prompts, cka-debiased)"},
		{"cka-standardized-minibatch:4", false, []string{"CKA mean", "CKA median", "CKA min", "CKA 95% CI"}, "Cross-lingual results (n = 12 prompts, cka-standardized-minibatch:4)"},
		{"svcca", false, []string{"svcca mean", "svcca median", "svcca min", "svcca 95% CI"}, "Cross-lingual results (n = 12 prompts, svcca)"},
		{"cknna:10", false, []string{"cknna:10 mean", "cknna:10 median", "cknna:10 min", "cknna:10 95% CI"}, "Cross-lingual results (n = 12 prompts, cknna:10)"},
		{"shape:1", true, []string{"shape:1 mean (distance, rad)", "shape:1 median", "shape:1 min", "shape:1 95% CI"},
			"Cross-lingual results (n = 12 prompts, shape:1, a distance in radians: lower is closer)"},
		// metrics.json without measure_distance: the name says it.
		{"shape:0.5", false, []string{"shape:0.5 mean (distance, rad)", "shape:0.5 median", "shape:0.5 min", "shape:0.5 95% CI"},
			"Cross-lingual results (n = 12 prompts, shape:0.5, a distance in radians: lower is closer)"},
	} {
		t.Run(tc.measure, func(t *testing.T) {
			m := testMetrics()
			m.Measure, m.MeasureDistance = tc.measure, tc.distance
			header, rows := MetricsTable(m)
			if !reflect.DeepEqual(header[3:7], tc.header) {
				t.Errorf("header %q, want %q", header[3:7], tc.header)
			}
			if !reflect.DeepEqual(header[:3], base[:3]) || !reflect.DeepEqual(header[7:], base[7:]) {
				t.Errorf("header %q: columns other than the measure's changed (%q)", header, base)
			}
			if !reflect.DeepEqual(rows, wantRows) {
				t.Errorf("rows %q, want %q", rows, wantRows)
			}
			if cka := strings.HasPrefix(tc.header[0], "CKA"); strings.Contains(strings.Join(header, "|"), "CKA") != cka {
				t.Errorf("header %q: CKA named %v, want %v", header, !cka, cka)
			}
			buf := withTextOut(t)
			Metrics(m)
			if first, _, _ := strings.Cut(buf.String(), "\n"); first != tc.caption {
				t.Errorf("caption %q, want %q", first, tc.caption)
			}
		})
	}
	if !reflect.DeepEqual(MetricsHeader[3:7], []string{"CKA mean", "CKA median", "CKA min", "CKA 95% CI"}) {
		t.Errorf("MetricsHeader changed: %q", MetricsHeader)
	}
}

// table is the parsed form of TableHTML's output.
type table struct {
	XMLName xml.Name `xml:"table"`
	Caption string   `xml:"caption"`
	Head    []cell   `xml:"thead>tr>th"`
	Rows    []struct {
		Cells []cell `xml:"td"`
	} `xml:"tbody>tr"`
}

type cell struct {
	Style string `xml:"style,attr"`
	Text  string `xml:",chardata"`
}

// parseXML parses an HTML fragment strictly as XML (TableHTML and the bar
// write well-formed XHTML), failing on anything malformed or left over.
func parseXML(t *testing.T, s string, v any) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	if err := d.Decode(v); err != nil {
		t.Fatalf("parsing %s: %v", s, err)
	}
	if tok, err := d.Token(); err != io.EOF {
		t.Fatalf("trailing content after the element: %v %v", tok, err)
	}
}

func TestTableHTML(t *testing.T) {
	header, rows := MetricsTable(testMetrics())
	var tb table
	parseXML(t, TableHTML("Results <n=12> & more", header, rows), &tb)
	if tb.Caption != "Results <n=12> & more" {
		t.Errorf("caption %q", tb.Caption)
	}
	var got []string
	for _, h := range tb.Head {
		got = append(got, h.Text)
	}
	if !reflect.DeepEqual(got, header) {
		t.Errorf("header cells %q, want %q", got, header)
	}
	if len(tb.Rows) != len(rows) {
		t.Fatalf("%d rows, want %d", len(tb.Rows), len(rows))
	}
	for i, r := range tb.Rows {
		for j, c := range r.Cells {
			if c.Text != rows[i][j] {
				t.Errorf("cell %d,%d = %q, want %q", i, j, c.Text, rows[i][j])
			}
		}
		if len(r.Cells) != len(rows[i]) {
			t.Errorf("row %d: %d cells, want %d", i, len(r.Cells), len(rows[i]))
		}
	}
	// Numbers and intervals are right-aligned, names and placeholders not.
	align := map[string]string{"org/a": "left", "en–hi": "left", "3": "right", "0.8123": "right", "[0.7000, 0.9000]": "right", "—": "left", "-0.9123": "right"}
	for _, c := range tb.Rows[0].Cells {
		if a, ok := align[c.Text]; ok && !strings.Contains(c.Style, "text-align:"+a) {
			t.Errorf("cell %q style %q, want text-align:%s", c.Text, c.Style, a)
		}
	}
	// No caption element without a caption.
	if s := TableHTML("", []string{"x"}, nil); strings.Contains(s, "<caption") {
		t.Errorf("empty caption rendered: %s", s)
	}
}

func TestNumeric(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"0.5", true}, {"-3", true}, {"1e-3", true}, {"[0.1, 0.2]", true},
		{"", false}, {"—", false}, {"en–hi", false}, {"[0.1, x]", false}, {"0.5 x", false}, {"org/a", false},
	} {
		if got := numeric(tc.in); got != tc.want {
			t.Errorf("numeric(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

type failingChart struct{ called bool }

func (c *failingChart) Snippet() (string, error) {
	c.called = true
	return "", errors.New("should not be rendered")
}

// withTextOut redirects TextOut for one test.
func withTextOut(t *testing.T) *bytes.Buffer {
	t.Helper()
	if IsNotebook() {
		t.Skip("running inside a notebook")
	}
	var buf bytes.Buffer
	old := TextOut
	TextOut = &buf
	t.Cleanup(func() { TextOut = old })
	return &buf
}

func TestOutsideNotebook(t *testing.T) {
	buf := withTextOut(t)
	HTML("<b>x</b>")
	c := &failingChart{}
	if err := Chart(c); err != nil || c.called {
		t.Errorf("Chart outside a notebook: err %v, rendered %v; want a no-op", err, c.called)
	}
	if buf.Len() != 0 {
		t.Errorf("HTML and Chart wrote %q; want nothing", buf.String())
	}

	Table("Models", []string{"model", "layers"}, [][]string{{"org/a", "16"}, {"b", "2"}})
	want := "Models\nmodel  layers\norg/a  16\nb      2\n"
	if buf.String() != want {
		t.Errorf("Table wrote\n%q\nwant\n%q", buf.String(), want)
	}

	buf.Reset()
	Metrics(testMetrics())
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 1+1+3+1 {
		t.Fatalf("Metrics wrote %d lines, want 6:\n%s", len(lines), buf.String())
	}
	if lines[0] != "Cross-lingual results (n = 12 prompts, cka-standardized)" || lines[5] != "note: trimmed to 12 prompts" {
		t.Errorf("Metrics caption or note wrong:\n%s", buf.String())
	}
	if f := strings.Fields(lines[2]); len(f) != len(MetricsHeader)+1 || f[0] != "org/a" || f[3] != "0.8123" || !strings.Contains(lines[2], "  [0.7000, 0.9000]  ") {
		t.Errorf("Metrics first row %q", lines[2])
	}

	// A nil TextOut discards.
	TextOut = nil
	Table("x", []string{"a"}, nil)
	NewProgress("x").Update("s", 1, 2)
}

func TestMatrixChecksOutsideNotebook(t *testing.T) {
	withTextOut(t)
	if err := Matrix("ok", [][]float64{{1, 0.5}, {0.5, 1}}, nil, []string{"a", "b"}); err != nil {
		t.Errorf("valid matrix: %v", err)
	}
	for _, tc := range []struct {
		name     string
		m        [][]float64
		row, col []string
	}{
		{"empty", nil, nil, nil},
		{"ragged", [][]float64{{1, 2}, {3}}, nil, nil},
		{"nan", [][]float64{{1, math.NaN()}}, nil, nil},
		{"inf", [][]float64{{math.Inf(-1)}}, nil, nil},
		{"labels", [][]float64{{1, 2}}, []string{"a", "b"}, nil},
	} {
		if err := Matrix(tc.name, tc.m, tc.row, tc.col); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if err := Heatmap(study.Heatmap{Title: "empty"}); err == nil {
		t.Error("empty heatmap: no error")
	}
}

// fakeClock steps a Progress through time by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestProgress(title string) (*Progress, *fakeClock) {
	c := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := NewProgress(title)
	p.now, p.start = c.now, c.t
	return p, c
}

func TestProgressText(t *testing.T) {
	buf := withTextOut(t)
	p, clock := newTestProgress("extract")
	p.Update("org/a en", 0, 10) // first: printed
	clock.advance(time.Second)
	p.Update("org/a en", 3, 10) // throttled
	clock.advance(5 * time.Second)
	p.Update("org/a en", 6, 10) // 6 s after the last line: printed
	clock.advance(100 * time.Millisecond)
	p.Update("org/a en", 10, 10) // complete: printed
	p.Update("org/a hi", 0, 0)   // new stage, unknown size: printed
	clock.advance(time.Second)
	p.Update("org/a hi", 5, 0) // throttled
	p.Done("all written")
	want := []string{
		"extract: org/a en 0/10 (0%) — 0s",
		"extract: org/a en 6/10 (60%) — 6s",
		"extract: org/a en 10/10 (100%) — 6.1s",
		"extract: org/a hi — 6.1s",
		"extract: all written — done in 7.1s",
	}
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lines\n%q\nwant\n%q", got, want)
	}
	if s := p.String(); s != want[len(want)-1] {
		t.Errorf("String() = %q", s)
	}
}

func TestProgressExtract(t *testing.T) {
	buf := withTextOut(t)
	p, clock := newTestProgress("")
	p.Extract(extract.Progress{Model: "tiny-a", Lang: "en", Done: 0, Total: 8, BatchSize: 4})
	clock.advance(time.Second)
	p.Extract(extract.Progress{Model: "tiny-a", Lang: "en", Done: 4, Total: 8, TokensPerSec: 812.4, ETA: 1234 * time.Millisecond, BatchSize: 4})
	clock.advance(6 * time.Second)
	p.Extract(extract.Progress{Model: "tiny-a", Lang: "en", Done: 6, Total: 8, TokensPerSec: 800, ETA: 42 * time.Second, BatchSize: 2, Note: "out of memory: batch halved to 2"})
	p.Extract(extract.Progress{Model: "tiny-a", Lang: "en", Done: 8, Total: 8, TokensPerSec: 790, BatchSize: 2, Note: "wrote x.npz"})
	want := []string{
		"tiny-a en 0/8 (0%) · batch 4 — 0s",
		"tiny-a en: out of memory: batch halved to 2",
		"tiny-a en 6/8 (75%) · 800 tok/s · ETA 42s · batch 2 — 7s",
		"tiny-a en: wrote x.npz",
		"tiny-a en 8/8 (100%) · 790 tok/s · batch 2 — 7s",
	}
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lines\n%q\nwant\n%q", got, want)
	}
	// The bar lists the events, the last maxNotes of them.
	for i := range maxNotes + 2 {
		p.Extract(extract.Progress{Model: "m", Lang: "hi", Total: 1, Note: fmt.Sprint("event ", i)})
	}
	var b node
	parseXML(t, p.HTML(), &b)
	if len(b.Divs) != 2 || len(b.Ul) != 1 {
		t.Fatalf("bar without a list of events: %s", p.HTML())
	}
	if li := b.Ul[0].Li; len(li) != maxNotes || li[0] != "m hi: event 2" || li[maxNotes-1] != "m hi: event 6" {
		t.Errorf("events %q", li)
	}
}

// node is a parsed element of a Progress's HTML: the bar is a div holding
// a label div (with the title in <b>) and a track div holding the fill div.
type node struct {
	ID    string `xml:"id,attr"`
	Class string `xml:"class,attr"`
	Style string `xml:"style,attr"`
	Role  string `xml:"role,attr"`
	Now   string `xml:"aria-valuenow,attr"`
	B     string `xml:"b"`
	Text  string `xml:",chardata"`
	Divs  []node `xml:"div"`
	Ul    []struct {
		Li []string `xml:"li"`
	} `xml:"ul"`
}

// parseBar parses a Progress's HTML and returns its label, track and fill.
func parseBar(t *testing.T, s string) (label, track, fill node) {
	t.Helper()
	var b node
	parseXML(t, s, &b)
	if b.Class != "layersim-progress" || len(b.Divs) != 2 || len(b.Divs[1].Divs) != 1 || len(b.Ul) != 0 {
		t.Fatalf("unexpected bar structure: %s", s)
	}
	return b.Divs[0], b.Divs[1], b.Divs[1].Divs[0]
}

func TestProgressHTML(t *testing.T) {
	withTextOut(t)
	for _, tc := range []struct {
		name              string
		stage             string
		done, total       int
		finish            bool
		now, width, label string
	}{
		{"part", "cka", 3, 8, false, "37.5", "width:37.5%", "cka 3/8 (38%) — 2s"},
		{"over", "cka", 9, 8, false, "100.0", "width:100.0%", "cka 9/8 (100%) — 2s"},
		{"negative", "cka", -1, 8, false, "0.0", "width:0.0%", "cka -1/8 (0%) — 2s"},
		{"unknown", "embedding", 0, 0, false, "", "width:0.0%", "embedding — 2s"},
		{"finished", "rsa", 1, 4, true, "100.0", "width:100.0%", "rsa — done in 2s"},
		{"escaped", "<x & y>", 1, 2, false, "50.0", "width:50.0%", "<x & y> 1/2 (50%) — 2s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, clock := newTestProgress("Analysis <1>")
			p.Update(tc.stage, tc.done, tc.total)
			clock.advance(2 * time.Second)
			if tc.finish {
				p.Done("")
			}
			label, track, fill := parseBar(t, p.HTML())
			if label.B != "Analysis <1>" || strings.TrimSpace(label.Text) != tc.label {
				t.Errorf("label %q %q, want %q", label.B, label.Text, tc.label)
			}
			if track.Role != "progressbar" || track.Now != tc.now {
				t.Errorf("role %q aria-valuenow %q, want %q", track.Role, track.Now, tc.now)
			}
			if fill.Class != "layersim-progress-fill" || !strings.HasPrefix(fill.Style, tc.width+";") {
				t.Errorf("fill %q %q, want %s", fill.Class, fill.Style, tc.width)
			}
		})
	}
}

// The notebook test runs this package's test binary again as a fake GoNB
// cell: GONB_PIPE names a plain file that collects what gonbui sends.
const childEnv = "LAYERSIM_GONB_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(notebookChild())
	}
	os.Exit(m.Run())
}

// notebookChild does what a notebook cell would, and returns an exit code.
func notebookChild() int {
	if !IsNotebook() {
		return 3
	}
	TextOut = os.Stdout // must stay unused
	HTML(`<i>hello</i>`)
	Table("T", []string{"a", "b"}, [][]string{{"1", "x"}})
	Metrics(testMetrics())
	p := NewProgress("job")
	p.barEvery = 0
	for i := 0; i <= 4; i++ {
		p.Update("step", i, 4)
	}
	p.Done("finished")
	if err := Chart(snippet("<div>chart</div>")); err != nil {
		return 4
	}
	if err := Matrix("m", [][]float64{{1, 0.25}, {0.25, 1}}, nil, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 6
	}
	if gonbui.Error() != nil {
		return 5
	}
	return 0
}

type snippet string

func (s snippet) Snippet() (string, error) { return string(s), nil }

func TestInNotebook(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a subprocess")
	}
	dir := t.TempDir()
	pipe, back := dir+"/pipe", dir+"/back"
	for _, f := range []string{pipe, back} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := execCommand(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "GONB_PIPE="+pipe, "GONB_PIPE_BACK="+back)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if len(out) != 0 {
		t.Errorf("child wrote to stdout/stderr in a notebook: %q", out)
	}
	msgs := decodeDisplayData(t, pipe)
	if len(msgs) != 1+1+1+5+1+1+1 {
		t.Fatalf("got %d messages, want 11", len(msgs))
	}
	html := func(i int) string {
		s, ok := msgs[i].Data["text/html"].(string)
		if !ok {
			t.Fatalf("message %d has no text/html: %v", i, msgs[i].Data)
		}
		return s
	}
	if html(0) != `<i>hello</i>` || msgs[0].DisplayID != "" {
		t.Errorf("HTML message %q id %q", html(0), msgs[0].DisplayID)
	}
	var tb table
	parseXML(t, html(1), &tb)
	if tb.Caption != "T" || len(tb.Rows) != 1 || tb.Rows[0].Cells[1].Text != "x" {
		t.Errorf("Table message: %s", html(1))
	}
	if !strings.Contains(html(2), "<li>trimmed to 12 prompts</li>") || !strings.HasPrefix(html(2), "<table") {
		t.Errorf("Metrics message: %s", html(2))
	}
	id := msgs[3].DisplayID
	if !strings.HasPrefix(id, "layersim-progress-") {
		t.Errorf("progress display id %q", id)
	}
	for i := 3; i < 9; i++ {
		if msgs[i].DisplayID != id {
			t.Errorf("message %d: display id %q, want %q", i, msgs[i].DisplayID, id)
		}
		var bar node
		parseXML(t, html(i), &bar)
		if bar.ID != id {
			t.Errorf("progress message %d: the bar's id %q, want the display id %q", i, bar.ID, id)
		}
		_, track, _ := parseBar(t, html(i))
		want := []string{"0.0", "25.0", "50.0", "75.0", "100.0", "100.0"}[i-3]
		if track.Now != want {
			t.Errorf("progress message %d at %s%%, want %s", i, track.Now, want)
		}
	}
	if !strings.Contains(html(8), "finished — done in") {
		t.Errorf("final bar: %s", html(8))
	}
	if html(9) != "<div>chart</div>" {
		t.Errorf("Chart message %q", html(9))
	}
	// The heatmap is plots' snippet: the ECharts bundle, then the chart's
	// element with its data.
	if h := html(10); !strings.Contains(h, `class="layersim-chart layersim-heatmap"`) || !strings.Contains(h, `"x_labels":["1","2"]`) ||
		strings.Index(h, "echarts") > strings.Index(h, "layersim-chart layersim-heatmap") {
		t.Errorf("Matrix message is not a heatmap snippet (%d bytes)", len(h))
	}
}
