// Package browsertest holds what the project's real-browser tests share:
// headless Chromium driven through the DevTools protocol (chromedp), with
// software WebGL, and the reading of its screenshots.
package browsertest

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/layersim/layersim/internal/testenv"
)

// Chromium returns the path of Debian's chromium (or another Chromium on
// PATH); where there is none it calls testenv.Missing with why.
func Chromium(t testing.TB, why string) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "no chromium on PATH (%s)", why)
	return ""
}

// Start starts headless Chromium (bin) with a fresh profile, software WebGL
// and a 1200×900 window, and returns a context for chromedp's actions that
// ends after limit (the browser's start not counted). The browser is closed
// when the test ends.
func Start(t testing.TB, bin string, limit time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1200, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// The first run starts the browser; the time limit goes on later ones.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("starting %s: %v", bin, err)
	}
	tctx, cancelTime := context.WithTimeout(ctx, limit)
	t.Cleanup(func() { cancelTime(); cancel(); cancelAlloc() })
	return tctx
}

// Run runs chromedp actions and fails the test on an error.
func Run(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates a JavaScript expression in the page and returns its
// value, failing the test on an error.
func Eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// Screenshot captures the viewport, writes it to path as PNG and returns
// it decoded.
func Screenshot(t testing.TB, ctx context.Context, path string) image.Image {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// ColourStats counts the distinct colours (to 4 bits a channel) in r and
// the pixels that are not near white.
func ColourStats(img image.Image, r image.Rectangle) (distinct, inked int) {
	seen := map[[3]uint32]bool{}
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			seen[[3]uint32{cr >> 12, cg >> 12, cb >> 12}] = true
			if cr>>8 < 235 || cg>>8 < 235 || cb>>8 < 235 {
				inked++
			}
		}
	}
	return len(seen), inked
}

// Changed counts the pixels of r that differ by more than 40 in a channel
// between a and b.
func Changed(a, b image.Image, r image.Rectangle) int {
	n := 0
	r = r.Intersect(a.Bounds()).Intersect(b.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if far(a.At(x, y), b.At(x, y)) {
				n++
			}
		}
	}
	return n
}

func far(a, b color.Color) bool {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := func(x, y uint32) bool { return math.Abs(float64(x>>8)-float64(y>>8)) > 40 }
	return d(ar, br) || d(ag, bg) || d(ab, bb)
}

// Near counts the pixels of img in r within Euclidean RGB distance tol of
// the colour c.
func Near(img image.Image, r image.Rectangle, c [3]float64, tol float64) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			d := math.Hypot(math.Hypot(float64(cr>>8)-c[0], float64(cg>>8)-c[1]), float64(cb>>8)-c[2])
			if d <= tol {
				n++
			}
		}
	}
	return n
}
