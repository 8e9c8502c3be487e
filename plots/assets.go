package plots

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// JSDirEnv names the environment variable that points at the folder holding
// the ECharts bundles: either plots/js (with node_modules/ inside, as npm ci
// leaves it) or a folder with echarts.min.js and echarts-gl.min.js side by side.
const JSDirEnv = "LAYERSIM_JS_DIR"

// The bundles as npm ci installs them under plots/js.
var (
	echartsRel   = filepath.Join("node_modules", "echarts", "dist", "echarts.min.js")
	echartsGLRel = filepath.Join("node_modules", "echarts-gl", "dist", "echarts-gl.min.js")
)

// assets are the two JavaScript bundles, read once.
type assets struct {
	echarts, gl []byte
	dir         string
}

var (
	assetsMu     sync.Mutex
	assetsCached *assets
)

// ErrNoAssets is wrapped by the error returned when the ECharts bundles cannot
// be found.
var ErrNoAssets = errors.New("plots: ECharts bundles not found")

// loadAssets finds and reads the ECharts bundles: under $LAYERSIM_JS_DIR if
// set and holding them, else the copies embedded at build time (-tags
// embedcharts), else under plots/js of the module found by walking up from
// the working directory to go.mod, else next to this source file (a binary
// run from the checkout it was built in).
func loadAssets() (*assets, error) {
	assetsMu.Lock()
	defer assetsMu.Unlock()
	if assetsCached != nil {
		return assetsCached, nil
	}
	embedded := func() *assets {
		assetsCached = &assets{echarts: inlineSafe(embeddedECharts), gl: inlineSafe(embeddedEChartsGL), dir: "(embedded)"}
		return assetsCached
	}
	if os.Getenv(JSDirEnv) == "" && embeddedECharts != nil {
		return embedded(), nil
	}
	var tried []string
	for _, dir := range assetDirs() {
		for _, pair := range [][2]string{
			{filepath.Join(dir, echartsRel), filepath.Join(dir, echartsGLRel)},
			{filepath.Join(dir, "echarts.min.js"), filepath.Join(dir, "echarts-gl.min.js")},
		} {
			tried = append(tried, filepath.Dir(pair[0]))
			e, err1 := os.ReadFile(pair[0])
			g, err2 := os.ReadFile(pair[1])
			if err1 != nil || err2 != nil {
				continue
			}
			a := &assets{echarts: inlineSafe(e), gl: inlineSafe(g), dir: dir}
			assetsCached = a
			return a, nil
		}
	}
	// $LAYERSIM_JS_DIR names a folder without them: the embedded copies
	// still serve (an image whose checkout is gone).
	if embeddedECharts != nil {
		return embedded(), nil
	}
	where := "looked in " + strings.Join(tried, ", ")
	if len(tried) == 0 {
		where = "no plots/js folder: not run from a layersim checkout"
	}
	return nil, fmt.Errorf("%w (%s): run scripts/setup, which runs npm ci in plots/js, and build with -tags embedcharts to carry them in the binary, or set %s",
		ErrNoAssets, where, JSDirEnv)
}

// assetDirs lists the folders that may hold the bundles, best first.
func assetDirs() []string {
	if d := os.Getenv(JSDirEnv); d != "" {
		return []string{d}
	}
	var dirs []string
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if isLayersimRoot(d) {
				dirs = append(dirs, filepath.Join(d, "plots", "js"))
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dirs = append(dirs, filepath.Join(filepath.Dir(file), "js"))
	}
	return dirs
}

// isLayersimRoot reports whether dir holds this module's go.mod.
func isLayersimRoot(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return f[1] == "github.com/layersim/layersim"
		}
	}
	return false
}

// inlineSafe makes a script safe to place between <script> and </script>:
// the only sequences that could end the element early are "</script" and
// "<!--"; both are split in a way that JavaScript reads the same inside
// strings, regular expressions and comments.
func inlineSafe(js []byte) []byte {
	js = bytes.ReplaceAll(js, []byte("</script"), []byte(`<\/script`))
	js = bytes.ReplaceAll(js, []byte("</SCRIPT"), []byte(`<\/SCRIPT`))
	return bytes.ReplaceAll(js, []byte("<!--"), []byte(`<\!--`))
}
