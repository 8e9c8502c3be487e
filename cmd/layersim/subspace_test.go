package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
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

// TestSubspaceEmbed: --embed-dir writes the joint embedding before and
// after each removal as JSON (what package subspace computes on the stored
// data, read back whole) and as a page with a projector before and one per
// r > 0; removing the offset's direction brings layer 2's two points
// together, r = 0 changes nothing.
func TestSubspaceEmbed(t *testing.T) {
	root := t.TempDir()
	writeOffsetModel(t, root, 40, 12)
	for _, crossFit := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "embed")
		args := []string{"--artifacts", root, "--model", "offset", "--r", "0,1", "--embed-dir", dir}
		if crossFit {
			args = append(args, "--cross-fit", "--seed", "4")
		}
		stdout := captureStdout(t, func() error { return runSubspace(args) })
		if !strings.Contains(stdout, "joint embedding (uncentered, 2 layers in en and hi): language separation") ||
			!strings.Contains(stdout, "subspace_embedding.html") {
			t.Errorf("output:\n%s", stdout)
		}
		data, err := os.ReadFile(filepath.Join(dir, "subspace_embedding.json"))
		if err != nil {
			t.Fatal(err)
		}
		var f subspace.EmbeddingFile
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		if err := f.Check(); err != nil {
			t.Fatal(err)
		}
		en, _ := artifacts.Open(root, "offset", "en", "test")
		hi, _ := artifacts.Open(root, "offset", "hi", "test")
		var ls subspace.LayerSlice
		for k := 1; k <= 2; k++ {
			x, _ := denseLayer(en, k)
			y, _ := denseLayer(hi, k)
			ls.A, ls.B = append(ls.A, x), append(ls.B, y)
		}
		opt := subspace.JointOptions{}
		var seed *uint64
		if crossFit {
			h := subspace.Halves(40, 4)
			opt.Halves = &h
			s := uint64(4)
			seed = &s
		}
		j, err := subspace.JointEmbedding(ls, []int{0, 1}, opt)
		if err != nil {
			t.Fatal(err)
		}
		want, err := j.File(subspace.EmbeddingFile{Model: "offset", ModelID: "org/offset", Langs: [2]string{"en", "hi"}, Split: "test",
			Measure: "cka-standardized", Method: "uncentered", N: 40, CrossFit: crossFit, Seed: seed, Layers: []int{1, 2}})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&f, want) {
			t.Errorf("cross-fit %v: the file differs from package subspace's result:\n%s\nwant\n%+v", crossFit, data, want)
		}
		b, a0, a1 := f.Before, f.After[0], f.After[1]
		if !reflect.DeepEqual(b.XYZ, a0.XYZ) || !reflect.DeepEqual(b.Joint, a0.Joint) {
			t.Errorf("cross-fit %v: r = 0 moved the points", crossFit)
		}
		if a1.PairDistance[1] > 0.5*b.PairDistance[1] || a1.MeanPairDistance >= b.MeanPairDistance {
			t.Errorf("cross-fit %v: layer 2's pair distance %.4f before, %.4f after r = 1 (means %.4f, %.4f)",
				crossFit, b.PairDistance[1], a1.PairDistance[1], b.MeanPairDistance, a1.MeanPairDistance)
		}
		page, err := os.ReadFile(filepath.Join(dir, "subspace_embedding.html"))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(page), `class="layersim-chart layersim-projector"`); n != 2 {
			t.Errorf("cross-fit %v: %d projectors in the page, want 2 (before, r = 1)", crossFit, n)
		}
		for _, s := range []string{"offset: before the removal", "offset: 1 direction(s) removed"} {
			if !strings.Contains(string(page), s) {
				t.Errorf("cross-fit %v: the page lacks %q", crossFit, s)
			}
		}
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--artifacts", root, "--model", "offset", "--classical"}, "--classical chooses the embedding of --embed-dir"},
		{[]string{"--artifacts", root, "--model", "offset", "--embed-dir", filepath.Join(file, "sub")}, "not a directory"},
	} {
		var err error
		captureStdout(t, func() error { err = runSubspace(tc.args); return nil })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
