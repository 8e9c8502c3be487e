package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemo runs the whole built-in study on 24 prompts: tiny models,
// extraction, analysis and the report.
func TestDemo(t *testing.T) {
	out := t.TempDir()
	var stdout strings.Builder
	if err := demo(context.Background(), []string{"--out", out, "--n", "24", "--quiet"}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "results", "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		N      int `json:"n"`
		Models []struct {
			ID     string `json:"id"`
			Layers int    `json:"layers"`
		} `json:"models"`
		Pairs []struct {
			CKAMean float64    `json:"cka_mean"`
			CI      [2]float64 `json:"cka_ci95"`
		} `json:"pairs"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.N != 24 || len(m.Models) != 2 || m.Models[0].ID != "layersim/tiny-a" || len(m.Pairs) != 2 {
		t.Fatalf("metrics: %+v", m)
	}
	for _, p := range m.Pairs {
		if !(p.CKAMean > 0 && p.CKAMean < 1) || p.CI[0] > p.CKAMean || p.CI[1] < p.CKAMean {
			t.Errorf("pair CKA %g with interval %v", p.CKAMean, p.CI)
		}
	}
	report, err := os.ReadFile(filepath.Join(out, "results", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"layersim/tiny-a", "layersim/tiny-b", "echarts"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if !strings.Contains(stdout.String(), "report: ") || !strings.Contains(stdout.String(), "openai/gpt-oss-20b") {
		t.Errorf("demo output:\n%s", stdout.String())
	}
}
