package main

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/artifacts"
)

// writeTinyArtifacts writes two models (b-model, a-model) of 3 random
// layers, 24 prompts by 10 features, in English and Hindi.
func writeTinyArtifacts(t *testing.T, root string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, slug := range []string{"b-model", "a-model"} {
		for _, lang := range []string{"en", "hi"} {
			var layers []artifacts.Matrix
			for k := 0; k < 3; k++ {
				data := make([]float32, 24*10)
				for i := range data {
					data[i] = float32(rng.NormFloat64())
				}
				layers = append(layers, artifacts.Matrix{Rows: 24, Cols: 10, Data: data})
			}
			meta := artifacts.Meta{ModelID: "org/" + slug, NumLayers: 3, Dtype: "float32", MaxLength: 256, TextsCount: 24, Subset: "synthetic"}
			if err := artifacts.Write(root, meta, slug, lang, "test", layers, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestAnalyzeCommand(t *testing.T) {
	root, out := t.TempDir(), t.TempDir()
	writeTinyArtifacts(t, root)
	stdout := captureStdout(t, func() error {
		return runAnalyze([]string{"--artifacts", root, "--out", out, "--bootstrap", "50", "--permutations", "50", "--quiet"})
	})
	if !strings.Contains(stdout, "2 models × 2 languages × n = 24 prompts") {
		t.Errorf("summary:\n%s", stdout)
	}
	data, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Models []struct{ Slug string } `json:"models"`
		Pairs  []struct {
			Model string `json:"model"`
		} `json:"pairs"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Models) != 2 || m.Models[0].Slug != "a-model" || len(m.Pairs) != 2 || m.Pairs[0].Model != "org/a-model" {
		t.Errorf("metrics: %+v", m)
	}
	if err := runAnalyze([]string{"--artifacts", root}); err == nil {
		t.Error("missing --out: no error")
	}
	if err := runAnalyze([]string{"--artifacts", root, "--out", out, "--measure", "bogus"}); err == nil {
		t.Error("bad measure: no error")
	}

	// Minibatch CKA: 24 prompts in batches of 8.
	mbOut := t.TempDir()
	captureStdout(t, func() error {
		return runAnalyze([]string{"--artifacts", root, "--out", mbOut, "--minibatch", "8", "--measure", "cka", "--bootstrap", "-1", "--permutations", "-1", "--quiet"})
	})
	data, err = os.ReadFile(filepath.Join(mbOut, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mb struct {
		Measure string `json:"measure"`
	}
	if err := json.Unmarshal(data, &mb); err != nil || mb.Measure != "cka-minibatch:8" {
		t.Errorf("minibatch run: measure %q (%v)", mb.Measure, err)
	}
	if err := runAnalyze([]string{"--artifacts", root, "--out", mbOut, "--memory-budget-mb", "-1", "--quiet"}); err == nil {
		t.Error("negative memory budget: no error")
	}
	if err := runAnalyze([]string{"--artifacts", root, "--out", mbOut, "--minibatch", "2", "--quiet"}); err == nil {
		t.Error("minibatch of 2: no error")
	}
}

// TestAnalyzeAlso: --also adds the named measures to metrics.json, a joint
// heatmap each, and a summary line; bad names fail before anything runs,
// naming the valid ones.
func TestAnalyzeAlso(t *testing.T) {
	root, out := t.TempDir(), t.TempDir()
	writeTinyArtifacts(t, root)
	stdout := captureStdout(t, func() error {
		return runAnalyze([]string{"--artifacts", root, "--out", out, "--bootstrap", "-1", "--permutations", "-1", "--quiet",
			"--also", "mutual-knn:4,cknna:5,svcca:3,pwcca,shape:0.5"})
	})
	data, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Joint struct {
			Rows []any `json:"rows"`
		} `json:"joint"`
		Extra []struct {
			Name    string `json:"name"`
			Heatmap string `json:"heatmap"`
			Pairs   []struct {
				Model    string    `json:"model"`
				PerLayer []float64 `json:"per_layer"`
			} `json:"pairs"`
		} `json:"extra_measures"`
		Notes []string `json:"notes"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	want := []string{"mutual-knn:4", "cknna:5", "svcca:3", "pwcca", "shape:0.5"}
	if len(m.Extra) != len(want) {
		t.Fatalf("extra_measures %+v; notes %q", m.Extra, m.Notes)
	}
	for i, e := range m.Extra {
		if e.Name != want[i] || len(e.Pairs) != 2 || e.Pairs[0].Model != "org/a-model" || len(e.Pairs[0].PerLayer) != 3 {
			t.Errorf("extra measure %d: %+v", i, e)
		}
		var h struct {
			Matrix [][]float64 `json:"matrix"`
		}
		hb, err := os.ReadFile(filepath.Join(out, "heatmaps", e.Heatmap))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(hb, &h); err != nil || len(h.Matrix) != len(m.Joint.Rows) || len(m.Joint.Rows) != 12 {
			t.Errorf("%s: heatmap %s: %d rows for %d joint rows (%v)", e.Name, e.Heatmap, len(h.Matrix), len(m.Joint.Rows), err)
		}
		if !strings.Contains(stdout, e.Name+" (") {
			t.Errorf("summary lacks %s:\n%s", e.Name, stdout)
		}
	}
	if !strings.Contains(strings.Join(m.Notes, "\n"), "pwcca costs an SVD per pair") {
		t.Errorf("no cost note: %q", m.Notes)
	}
	for _, c := range []struct{ also, want string }{
		{"bogus", "known: mutual-knn:<k>, cknna:<k>, svcca, svcca:<fraction|count>, pwcca, shape:<alpha>"},
		{"svcca,cka", `unknown measure "cka"`},
		{"cknna:0", "k a positive integer"},
		{"shape:3", "alpha in [0, 1]"},
		{"svcca,svcca:0.99", "asked for twice"},
	} {
		fresh := t.TempDir()
		err := runAnalyze([]string{"--artifacts", root, "--out", fresh, "--quiet", "--also", c.also})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "--also: ") {
			t.Errorf("--also %s: error %v, want one saying %q", c.also, err, c.want)
		}
		if _, err := os.Stat(filepath.Join(fresh, "metrics.json")); err == nil {
			t.Errorf("--also %s: results written", c.also)
		}
	}
	for _, c := range []struct{ measure, want string }{
		{"bogus", "want cka-standardized, cka, cka-debiased or one of mutual-knn:<k>, cknna:<k>, svcca"},
		{"shape:3", "alpha in [0, 1]"},
	} {
		fresh := t.TempDir()
		err := runAnalyze([]string{"--artifacts", root, "--out", fresh, "--quiet", "--measure", c.measure})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--measure %s: error %v, want one saying %q", c.measure, err, c.want)
		}
	}
}

// TestAnalyzeMeasureOtherThanCKA: --measure takes the measures of --also as
// the study's own: metrics.json names it with its formula, the per-model
// heatmaps carry it, the summary says it, and the same measure beside itself
// is an error.
func TestAnalyzeMeasureOtherThanCKA(t *testing.T) {
	root := t.TempDir()
	writeTinyArtifacts(t, root)
	for _, measure := range []string{"svcca:3", "shape:1"} {
		out := t.TempDir()
		stdout := captureStdout(t, func() error {
			return runAnalyze([]string{"--artifacts", root, "--out", out, "--bootstrap", "8", "--permutations", "9", "--quiet", "--measure", measure, "--also", "mutual-knn:4"})
		})
		data, err := os.ReadFile(filepath.Join(out, "metrics.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Measure  string `json:"measure"`
			Formula  string `json:"measure_formula"`
			Distance bool   `json:"measure_distance"`
			Pairs    []struct {
				PerLayer []float64   `json:"cka_per_layer"`
				CI       *[2]float64 `json:"cka_ci95"`
				P        *float64    `json:"perm_p"`
			} `json:"pairs"`
			Extra []struct {
				Name string `json:"name"`
			} `json:"extra_measures"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if m.Measure != measure || m.Formula == "" || m.Distance != strings.HasPrefix(measure, "shape") || len(m.Extra) != 1 || m.Extra[0].Name != "mutual-knn:4" {
			t.Errorf("--measure %s: metrics.json measure %q, formula %q, distance %v, extra %+v", measure, m.Measure, m.Formula, m.Distance, m.Extra)
		}
		for _, p := range m.Pairs {
			// 9 permutations: p is k/10 for k in 1…10.
			if len(p.PerLayer) != 3 || p.CI == nil || !(p.CI[0] < p.CI[1]) || p.P == nil || *p.P*10 != math.Round(*p.P*10) || *p.P < 0.1 || *p.P > 1 {
				t.Errorf("--measure %s: pair %+v", measure, p)
			}
		}
		if len(m.Pairs) != 2 {
			t.Errorf("--measure %s: %d pairs", measure, len(m.Pairs))
		}
		heat := strings.ReplaceAll(measure, ":", "_") + "_a-model_en__a-model_hi.json"
		if _, err := os.Stat(filepath.Join(out, "heatmaps", heat)); err != nil {
			t.Errorf("--measure %s: %v", measure, err)
		}
		if !strings.Contains(stdout, "pair "+measure+" ") {
			t.Errorf("--measure %s: summary does not name it:\n%s", measure, stdout)
		}
	}
	// Without --bootstrap and --permutations: no statistics, and a note.
	out := t.TempDir()
	if err := runAnalyze([]string{"--artifacts", root, "--out", out, "--quiet", "--measure", "pwcca"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Pairs []struct {
			CI *[2]float64 `json:"cka_ci95"`
			P  *float64    `json:"perm_p"`
		} `json:"pairs"`
		Notes []string `json:"notes"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Pairs) != 2 || m.Pairs[0].CI != nil || m.Pairs[0].P != nil || !strings.Contains(strings.Join(m.Notes, "\n"), "pwcca run only when asked for") {
		t.Errorf("--measure pwcca without statistics flags: pairs %+v, notes %q", m.Pairs, m.Notes)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--also", "svcca:0.99"}, "also asked for beside it"},
		{[]string{"--checkpoint", filepath.Join(root, "new-folder", "ck")}, "are the CKA engine's"},
		{[]string{"--temp-dir", root}, "are the CKA engine's"},
		{[]string{"--memory-budget-mb", "100"}, "are the CKA engine's"},
		{[]string{"--minibatch", "8"}, "minibatch is a way of computing CKA"},
	} {
		err := runAnalyze(append([]string{"--artifacts", root, "--out", t.TempDir(), "--quiet", "--measure", "svcca"}, c.args...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--measure svcca %v: error %v, want one saying %q", c.args, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "new-folder")); err == nil {
		t.Error("a rejected --checkpoint left its folder behind")
	}
}

// TestAnalyzeAlsoNull: --also-null puts each pair's cross-lingual values of
// the --also measures beside their permutation null, in metrics.json and the
// summary; without it metrics.json holds no null; bad counts fail before
// anything runs.
func TestAnalyzeAlsoNull(t *testing.T) {
	root := t.TempDir()
	writeTinyArtifacts(t, root)
	type null struct {
		Permutations int       `json:"permutations"`
		Seed         uint64    `json:"seed"`
		Calibrated   []float64 `json:"per_layer_calibrated"`
		P            []float64 `json:"per_layer_p"`
		NullMean     *float64  `json:"null_mean"`
	}
	read := func(out string) (string, []*null) {
		data, err := os.ReadFile(filepath.Join(out, "metrics.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Extra []struct {
				Pairs []struct {
					Null *null `json:"null"`
				} `json:"pairs"`
			} `json:"extra_measures"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		var nulls []*null
		for _, e := range m.Extra {
			for _, p := range e.Pairs {
				nulls = append(nulls, p.Null)
			}
		}
		return string(data), nulls
	}
	args := []string{"--artifacts", root, "--bootstrap", "-1", "--permutations", "-1", "--quiet", "--seed", "4", "--also", "mutual-knn:4,svcca:3"}
	out := t.TempDir()
	stdout := captureStdout(t, func() error { return runAnalyze(append(args, "--out", out, "--also-null", "12")) })
	_, nulls := read(out)
	if len(nulls) != 4 {
		t.Fatalf("%d pairs with a null, want 2 measures × 2 models", len(nulls))
	}
	for i, nl := range nulls {
		if nl == nil || nl.Permutations != 12 || nl.Seed != 4 || len(nl.Calibrated) != 3 || len(nl.P) != 3 || nl.NullMean == nil {
			t.Errorf("pair %d: null %+v", i, nl)
		}
	}
	if strings.Count(stdout, "calibrated ") != 4 {
		t.Errorf("summary lacks the calibrated means:\n%s", stdout)
	}
	out0 := t.TempDir()
	captureStdout(t, func() error { return runAnalyze(append(args, "--out", out0)) })
	data0, nulls0 := read(out0)
	for _, nl := range nulls0 {
		if nl != nil {
			t.Errorf("a null without --also-null: %+v", nl)
		}
	}
	if strings.Contains(data0, "calibrated") {
		t.Error("metrics.json without --also-null mentions a calibrated value")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--also", "svcca", "--also-null", "1"}, "at least 2"},
		{[]string{"--also", "svcca", "--also-null", "-3"}, "at least 2"},
		{[]string{"--also-null", "10"}, "needs measures named by --also"},
	} {
		fresh := t.TempDir()
		err := runAnalyze(append([]string{"--artifacts", root, "--out", fresh, "--quiet"}, c.args...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one saying %q", c.args, err, c.want)
		}
		if _, err := os.Stat(filepath.Join(fresh, "metrics.json")); err == nil {
			t.Errorf("%q: results written", c.args)
		}
	}
}
