package gpu

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/layersim/layersim/internal/testenv"
)

// pythonWithNumPy returns the first of $PYTHON, python3 on PATH and
// /usr/bin/python3 that imports numpy, as check.py needs; "" if none.
func pythonWithNumPy() string {
	var cands []string
	if p := os.Getenv("PYTHON"); p != "" {
		cands = append(cands, p)
	}
	if p, err := exec.LookPath("python3"); err == nil {
		cands = append(cands, p)
	}
	cands = append(cands, "/usr/bin/python3")
	for _, p := range cands {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			return p
		}
	}
	return ""
}

// stateEntry is one model and dtype of step 1.
type stateEntry struct {
	Layers    int       `json:"layers"`
	N         int       `json:"n"`
	LayersimS float64   `json:"layersim_s"`
	RelErr    []float64 `json:"rel_err"`
}

// checkJSON is what the test reads of check.json.
type checkJSON struct {
	Mode, Backend, Device string
	Errors                map[string]string
	States                map[string]json.RawMessage
	Speed                 struct {
		Texts               int      `json:"texts"`
		Tokens              int      `json:"tokens"`
		Data                string   `json:"data"`
		ForwardS            float64  `json:"layersim_forward_s"`
		ForwardPrinted      *float64 `json:"layersim_forward_s_printed"`
		TokensPerS          float64  `json:"layersim_tokens_per_s"`
		CommandS            float64  `json:"layersim_command_s"`
		TransformersSkipped string   `json:"transformers_skipped"`
		TransformersS       float64  `json:"transformers_forward_s"`
		Ratio               float64  `json:"ratio_transformers_over_layersim"`
	}
	CKA struct {
		Layers, N int
		AnalyzeS  float64 `json:"analyze_s"`
	}
	OOM struct {
		Halvings int
		Notes    []string
	}
}

// TestCheckDryRun runs `scripts/gpu/check --dry-run` with a layersim built
// here: the four steps on the CPU, small, on the go backend (xla:cpu where
// PJRT_PLUGIN_LIBRARY_PATH holds a CPU plugin). Without transformers the
// reference sides are skipped, and the JSON must say why; with it the
// errors per layer are bounded. Every step must be present with its
// figures, every number finite (check.py writes the JSON with
// allow_nan=False, and each number is checked here), and the markdown must
// show them.
func TestCheckDryRun(t *testing.T) {
	py := pythonWithNumPy()
	if py == "" {
		testenv.Missing(t, "no python3 with numpy (scripts/gpu/check.py needs it)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		testenv.Missing(t, "no go on PATH to build layersim: %v", err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bin, out := filepath.Join(tmp, "layersim"), filepath.Join(tmp, "out")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./cmd/layersim")
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building layersim: %v\n%s", err, b)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts/gpu/check"), "--dry-run", "--layersim", bin, "--out", out, "--budget-s", "300")
	cmd.Env = append(os.Environ(), "PYTHON="+py)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/gpu/check --dry-run: %v\n%s", err, b)
	}

	raw, err := os.ReadFile(filepath.Join(out, "check.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("check.json: %v", err)
	}
	walkNumbers(t, "check.json", doc)
	var R checkJSON
	if err := json.Unmarshal(raw, &R); err != nil {
		t.Fatalf("check.json: %v", err)
	}
	if R.Mode != "dry" || R.Device != "cpu" || (R.Backend != "go" && R.Backend != "xla:cpu") {
		t.Errorf("mode %q, device %q, backend %q; want dry, cpu, go or xla:cpu", R.Mode, R.Device, R.Backend)
	}
	if len(R.Errors) != 0 {
		t.Errorf("errors: %v", R.Errors)
	}

	// Step 1: tiny-a in both dtypes; the reference side or why it is not there.
	var skipped string
	if s, ok := R.States["reference_skipped"]; ok {
		if json.Unmarshal(s, &skipped) != nil || !strings.Contains(skipped, "transformers") {
			t.Errorf("states: reference_skipped %s does not say why", s)
		}
	}
	// Bounds: layersim's package tests hold float32 states within 1e-4 and
	// bfloat16 ones within 0.06 of a float64 reference (max-abs relative
	// error per vector); two such sides differ by at most the sum.
	for _, c := range []struct {
		key   string
		bound float64
	}{{"llama-tiny-a float32", 2e-4}, {"llama-tiny-a bfloat16", 0.12}} {
		var e stateEntry
		if err := json.Unmarshal(R.States[c.key], &e); err != nil {
			t.Errorf("states %q: %v", c.key, err)
			continue
		}
		if e.Layers != 4 || e.N != 64 || !(e.LayersimS > 0) {
			t.Errorf("states %q: %+v; want 4 layers, 64 texts, a time", c.key, e)
		}
		if skipped == "" && len(e.RelErr) != e.Layers {
			t.Errorf("states %q: %d errors per layer for %d layers, and no reason given", c.key, len(e.RelErr), e.Layers)
		}
		for k, v := range e.RelErr {
			if !(v >= 0 && v <= c.bound) {
				t.Errorf("states %q layer %d: relative error %g vs transformers, want ≤ %g", c.key, k+1, v, c.bound)
			}
		}
	}

	// Step 2: layersim's forward passes from its summary line.
	sp := R.Speed
	if sp.Texts != 32 || sp.Tokens <= sp.Texts || sp.Data != "builtin" {
		t.Errorf("speed: %d texts, %d tokens, data %q; want 32 texts of the built-in set", sp.Texts, sp.Tokens, sp.Data)
	}
	if !(sp.ForwardS > 0) || !(sp.TokensPerS > 0) || sp.ForwardPrinted == nil {
		t.Fatalf("speed: forward %g s (printed %v), %g tokens/s", sp.ForwardS, sp.ForwardPrinted, sp.TokensPerS)
	}
	if d := math.Abs(float64(sp.Tokens)/sp.TokensPerS - sp.ForwardS); d > 1e-3 {
		t.Errorf("speed: %d tokens at %g tokens/s is not %g s", sp.Tokens, sp.TokensPerS, sp.ForwardS)
	}
	if math.Abs(*sp.ForwardPrinted-sp.ForwardS) > 0.06 {
		t.Errorf("speed: forward passes %g s printed, %g s from the rate", *sp.ForwardPrinted, sp.ForwardS)
	}
	if sp.CommandS+0.01 < sp.ForwardS {
		t.Errorf("speed: the whole command (%g s) took less than its forward passes (%g s)", sp.CommandS, sp.ForwardS)
	}
	if sp.TransformersSkipped == "" && !(sp.TransformersS > 0 && sp.Ratio > 0) {
		t.Errorf("speed: no transformers figures and no reason: %+v", sp)
	}
	if sp.TransformersSkipped != "" && !strings.Contains(sp.TransformersSkipped, "transformers") {
		t.Errorf("speed: transformers_skipped %q does not say why", sp.TransformersSkipped)
	}

	// Steps 3 and 4.
	if R.CKA.Layers != 24 || R.CKA.N != 400 || !(R.CKA.AnalyzeS > 0) {
		t.Errorf("cka: %+v; want 24 layers at n = 400 and a time", R.CKA)
	}
	// A batch of 64 under a 1 MB limit is halved down to 1: six times.
	if R.OOM.Halvings != 6 || len(R.OOM.Notes) != 6 || !strings.Contains(R.OOM.Notes[0], "batch size 64 → 32") {
		t.Errorf("oom: %d halvings, notes %q; want 6, from 64 → 32", R.OOM.Halvings, R.OOM.Notes)
	}

	md, err := os.ReadFile(filepath.Join(out, "check.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# GPU check (dry): backend " + R.Backend, "| llama-tiny-a float32 | 4 |", "| llama-tiny-a bfloat16 | 4 |",
		"Speed, forward passes only (32 texts", "| layersim " + R.Backend + " |", "**cka**", "**oom**",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("check.md lacks %q:\n%s", want, md)
		}
	}
	if skipped != "" && !strings.Contains(string(md), skipped) {
		t.Errorf("check.md does not say why the reference is skipped:\n%s", md)
	}
	for _, bad := range []string{"NaN", "Infinity", "inf |"} {
		if strings.Contains(string(md), bad) {
			t.Errorf("check.md holds %q:\n%s", bad, md)
		}
	}
}

// walkNumbers fails on a number of v that is negative or not finite: every
// figure of check.json is a count, a time, a rate or an error.
func walkNumbers(t *testing.T, path string, v any) {
	t.Helper()
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
			t.Errorf("%s = %g", path, x)
		}
	case []any:
		for i, e := range x {
			walkNumbers(t, path+"["+strconv.Itoa(i)+"]", e)
		}
	case map[string]any:
		for k, e := range x {
			walkNumbers(t, path+"."+k, e)
		}
	}
}
