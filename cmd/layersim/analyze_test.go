package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/artifacts"
)

func TestAnalyzeCommand(t *testing.T) {
	root, out := t.TempDir(), t.TempDir()
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
