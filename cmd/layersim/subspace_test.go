package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/subspace"
)

// writeOffsetModel writes a 2-layer model in en and hi: layer 1 of hi is
// en plus noise, layer 2 also has a per-prompt offset along one direction.
func writeOffsetModel(t *testing.T, root string, n, d int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	c := make([]float64, d)
	norm := 0.0
	for j := range c {
		c[j] = rng.NormFloat64()
		norm += c[j] * c[j]
	}
	var en, hi []artifacts.Matrix
	for k := 0; k < 2; k++ {
		a := make([]float32, n*d)
		b := make([]float32, n*d)
		for i := 0; i < n; i++ {
			u := 8 * rng.NormFloat64()
			for j := 0; j < d; j++ {
				x := rng.NormFloat64()
				a[i*d+j] = float32(x)
				y := x + 0.2*rng.NormFloat64()
				if k == 1 {
					y += u * c[j] / norm
				}
				b[i*d+j] = float32(y)
			}
		}
		en = append(en, artifacts.Matrix{Rows: n, Cols: d, Data: a})
		hi = append(hi, artifacts.Matrix{Rows: n, Cols: d, Data: b})
	}
	for lang, layers := range map[string][]artifacts.Matrix{"en": en, "hi": hi} {
		meta := artifacts.Meta{ModelID: "org/offset", NumLayers: 2, Dtype: "float32", TextsCount: n, Subset: "synthetic"}
		if err := artifacts.Write(root, meta, "offset", lang, "test", layers, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSubspaceCommand(t *testing.T) {
	root := t.TempDir()
	writeOffsetModel(t, root, 40, 12)
	for _, crossFit := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), "s.json")
		args := []string{"--artifacts", root, "--model", "offset", "--r", "0,1,2", "--out", out}
		if crossFit {
			args = append(args, "--cross-fit", "--seed", "3")
		}
		stdout := captureStdout(t, func() error { return runSubspace(args) })
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if len(lines) != 5 || !strings.HasPrefix(lines[0], "offset: cka-standardized of en vs hi, n = 40") || !strings.Contains(lines[1], "r=2") {
			t.Errorf("output:\n%s", stdout)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var rep subspaceReport
		if err := json.Unmarshal(data, &rep); err != nil {
			t.Fatal(err)
		}
		if rep.ModelID != "org/offset" || rep.N != 40 || rep.CrossFit != crossFit || len(rep.Layers) != 2 || (rep.Seed != nil) != crossFit {
			t.Fatalf("report: %+v", rep)
		}
		// Each layer is what package subspace (checked against numpy)
		// gives on the stored float32 data.
		en, _ := artifacts.Open(root, "offset", "en", "test")
		hi, _ := artifacts.Open(root, "offset", "hi", "test")
		for _, l := range rep.Layers {
			x, err := denseLayer(en, l.Layer)
			if err != nil {
				t.Fatal(err)
			}
			y, err := denseLayer(hi, l.Layer)
			if err != nil {
				t.Fatal(err)
			}
			var want *subspace.Curve
			if crossFit {
				want, err = subspace.MeasureCrossFit(x, y, []int{0, 1, 2}, subspace.Halves(40, 3), cka.Standardized)
			} else {
				want, err = subspace.Measure(x, y, []int{0, 1, 2}, cka.Standardized)
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Before != want.Before || l.After[1] != want.After[1] || l.Fraction[2] != want.Fraction[2] {
				t.Errorf("layer %d: %+v, package gives %+v", l.Layer, l, want)
			}
			if l.After[0] != l.Before {
				t.Errorf("layer %d: r = 0 changed %v to %v", l.Layer, l.Before, l.After[0])
			}
		}
		// Layer 2 carries the offset: one direction recovers it, and the
		// gain survives cross-fitting; layer 1 has none to remove.
		l1, l2 := rep.Layers[0], rep.Layers[1]
		if l2.After[1] < l2.Before+0.2 || l2.After[1] < l1.Before-0.02 || l2.Fraction[1] < 0.9 {
			t.Errorf("cross-fit %v: layer 2 %+v (layer 1 before %.4f)", crossFit, l2, l1.Before)
		}
		if l1.Fraction[1] > 0.3 {
			t.Errorf("cross-fit %v: layer 1 (noise only) has a direction with %.3f of the variance", crossFit, l1.Fraction[1])
		}
	}
	for _, bad := range [][]string{
		{"--model", "offset"},
		{"--artifacts", root},
		{"--artifacts", root, "--model", "nope"},
		{"--artifacts", root, "--model", "offset", "--langs", "en"},
		{"--artifacts", root, "--model", "offset", "--langs", "en,en"},
		{"--artifacts", root, "--model", "offset", "--langs", "en,fr"},
		{"--artifacts", root, "--model", "offset", "--r", "1,x"},
		{"--artifacts", root, "--model", "offset", "--r", "-1"},
		{"--artifacts", root, "--model", "offset", "--r", "2,2"},
		{"--artifacts", root, "--model", "offset", "--r", "40"},
		{"--artifacts", root, "--model", "offset", "--r", "19", "--cross-fit"},
		{"--artifacts", root, "--model", "offset", "--measure", "bogus"},
	} {
		if err := runSubspace(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
