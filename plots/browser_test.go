package plots

// The projector of report.html used as a person uses it: headless Chromium
// driven through the DevTools protocol (chromedp) with real input events;
// the steps, shared with the exported Analysis notebook's test, are
// browsertest.DriveProjector.

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/layersim/layersim/internal/browsertest"
)

// TestBrowserReport opens report.html in Chromium and uses the projector by
// hand: hover a point (tooltip and highlighted partner), leave it, toggle a
// model and a language (the panel against metrics.json), rotate by
// dragging, zoom with the wheel, reset; screenshots of each state are
// checked pixel by pixel.
func TestBrowserReport(t *testing.T) {
	bin := findChromium(t)
	results := synthResults(t)
	r, err := LoadResults(results) // metrics.json as written by study.Write
	if err != nil {
		t.Fatal(err)
	}
	dir := outDir(t)
	page := filepath.Join(dir, "report.html")
	if err := WriteReport(results, page); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.Start(t, bin, 4*time.Minute)
	browsertest.DriveProjector(t, ctx, browsertest.Projector{URL: "file://" + page, Metrics: &r.Metrics, Dir: dir, Name: "report"})
}
