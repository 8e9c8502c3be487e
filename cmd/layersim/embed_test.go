package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/layersim/layersim/internal/testenv"
)

// TestBinaryOutsideCheckout builds the command as a user would ship it
// (-trimpath, so it cannot find this checkout from its own source paths)
// and runs the demo in a folder outside the checkout: with -tags
// embedcharts the report carries the bundles; without, the demo fails with
// the error that says how to get them.
func TestBinaryOutsideCheckout(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: builds the command twice")
	}
	bundle, err := os.ReadFile(filepath.Join("..", "..", "plots", "js", "node_modules", "echarts", "dist", "echarts.min.js"))
	if err != nil {
		testenv.Missing(t, "the ECharts bundle is not installed (scripts/setup runs npm ci in plots/js): %v", err)
	}
	dir := t.TempDir()
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "LAYERSIM_JS_DIR=") })
	build := func(name string, tags ...string) string {
		exe := filepath.Join(dir, name)
		args := append([]string{"build", "-trimpath", "-o", exe}, tags...)
		cmd := exec.Command("go", append(args, ".")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
		return exe
	}
	run := func(exe, out string) ([]byte, error) {
		cmd := exec.Command(exe, "demo", "--out", out, "--n", "24", "--quiet")
		cmd.Dir, cmd.Env = dir, env
		return cmd.CombinedOutput()
	}

	embedded := build("layersim-embed", "-tags", "embedcharts")
	if out, err := run(embedded, "with"); err != nil {
		t.Fatalf("embedded build: %v\n%s", err, out)
	}
	report, err := os.ReadFile(filepath.Join(dir, "with", "results", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	// A stretch of the bundle's own text, inlined in the page.
	if probe := bundle[len(bundle)/2 : len(bundle)/2+200]; !bytes.Contains(report, probe) {
		t.Error("the embedded build's report.html does not inline the ECharts bundle")
	}

	// $LAYERSIM_JS_DIR naming a folder without the bundles (an image whose
	// checkout is gone): the embedded copies still serve.
	cmd := exec.Command(embedded, "demo", "--out", "stale-env", "--n", "24", "--quiet")
	cmd.Dir, cmd.Env = dir, append(slices.Clone(env), "LAYERSIM_JS_DIR="+filepath.Join(dir, "gone"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("embedded build with a stale LAYERSIM_JS_DIR: %v\n%s", err, out)
	}

	plain := build("layersim-plain")
	out, err := run(plain, "without")
	if err == nil || !strings.Contains(string(out), "-tags embedcharts") {
		t.Errorf("plain build outside the checkout: err %v, want the error naming -tags embedcharts:\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "without", "results", "metrics.json")); err != nil {
		t.Errorf("plain build: the analysis before the report is lost: %v", err)
	}
}
