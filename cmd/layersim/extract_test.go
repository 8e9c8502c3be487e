package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/artifacts"
)

// hfRef is the reference of lcka/tinymodels: token ids of the tiny models'
// tokenizer computed by Hugging Face tokenizers 0.22.2.
type hfRef struct {
	Cases []struct {
		Text    string `json:"text"`
		IDs     []int  `json:"ids"`
		Special []int  `json:"special"`
	} `json:"cases"`
}

// TestMakeModelsTokenizeExtract runs make-models, tokenize and extract
// in-process on the tiny models.
func TestMakeModelsTokenizeExtract(t *testing.T) {
	for _, name := range []string{"extract", "tokenize", "make-models"} {
		if _, ok := commands[name]; !ok {
			t.Errorf("command %q is not registered", name)
		}
	}
	root := t.TempDir()
	var out bytes.Buffer
	if err := makeModels([]string{"--out", root}, &out); err != nil {
		t.Fatal(err)
	}
	dirs := strings.Fields(out.String())
	if len(dirs) != 2 || filepath.Base(dirs[0]) != "tiny-a" || filepath.Base(dirs[1]) != "tiny-b" {
		t.Fatalf("make-models printed %q", out.String())
	}

	// tokenize: ids equal Hugging Face's, one JSON array per line.
	b, err := os.ReadFile("../../lcka/tinymodels/testdata/hf_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref hfRef
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	cases := append(ref.Cases[:20:20], ref.Cases[len(ref.Cases)-10:]...)
	var texts []string
	for _, c := range cases {
		texts = append(texts, c.Text)
	}
	textsPath := filepath.Join(root, "texts.json")
	tb, _ := json.Marshal(texts)
	os.WriteFile(textsPath, tb, 0o644)
	tokPath := filepath.Join(dirs[0], "tokenizer.json")
	for _, special := range []bool{false, true} {
		args := []string{"--tokenizer", tokPath, "--texts", textsPath}
		if special {
			args = append(args, "--special")
		}
		out.Reset()
		if err := tokenize(args, &out); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != len(cases) {
			t.Fatalf("%d lines for %d texts", len(lines), len(cases))
		}
		for i, line := range lines {
			var ids []int
			if err := json.Unmarshal([]byte(line), &ids); err != nil {
				t.Fatalf("line %d: %v", i, err)
			}
			want := cases[i].IDs
			if special {
				want = cases[i].Special
			}
			if !slices.Equal(ids, want) {
				t.Errorf("special=%v, text %q: %v, want %v", special, cases[i].Text, ids, want)
			}
		}
	}
	out.Reset()
	if err := tokenize([]string{"--tokenizer", tokPath, "--texts", textsPath, "--special", "--max-length", "3"}, &out); err != nil {
		t.Fatal(err)
	}
	first := strings.SplitN(out.String(), "\n", 2)[0]
	if want, _ := json.Marshal(cases[0].Special[:3]); first != string(want) {
		t.Errorf("truncated: %s, want %s", first, want)
	}

	// extract: both models, 10 prompts, then a second run that skips.
	arts := filepath.Join(root, "artifacts")
	for _, dir := range dirs {
		var stdout, stderr bytes.Buffer
		args := []string{"--model", dir, "--out", arts, "--n", "10", "--batch-size", "4", "--langs", "en,hi"}
		if err := extractCmd(context.Background(), args, &stdout, &stderr); err != nil {
			t.Fatalf("extract %s: %v\n%s", dir, err, stderr.String())
		}
		if strings.Count(stdout.String(), "10 texts computed") != 2 || !strings.Contains(stderr.String(), "10/10 texts (100%)") {
			t.Errorf("stdout %q\nstderr %q", stdout.String(), stderr.String())
		}
		stdout.Reset()
		if err := extractCmd(context.Background(), append(args, "--quiet"), &stdout, &stderr); err != nil {
			t.Fatal(err)
		}
		if strings.Count(stdout.String(), "up to date, skipped") != 2 {
			t.Errorf("second run: %q", stdout.String())
		}
	}
	sets, err := artifacts.Discover(arts)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 4 {
		t.Fatalf("%d sets", len(sets))
	}
	for _, s := range sets {
		wantLayers := map[string]int{"tiny-a": 4, "tiny-b": 6}[s.Slug]
		if s.Rows != 10 || len(s.Layers) != wantLayers || s.Meta.Subset != "builtin" || string(s.Meta.Extra["pooling"]) != `"last"` {
			t.Errorf("%s/%s: %d rows, layers %v, meta %+v", s.Slug, s.Lang, s.Rows, s.Layers, s.Meta)
		}
	}
}

func TestCommandErrors(t *testing.T) {
	dir := t.TempDir()
	var sink bytes.Buffer
	for _, tt := range []struct {
		name string
		run  func() error
		want string
	}{
		{"extract without model", func() error { return extractCmd(context.Background(), []string{"--out", dir}, &sink, &sink) }, "--model and --out are required"},
		{"extract bad pooling", func() error {
			return extractCmd(context.Background(), []string{"--model", dir, "--out", dir, "--pooling", "first"}, &sink, &sink)
		}, "unknown pooling"},
		{"extract negative n", func() error {
			return extractCmd(context.Background(), []string{"--model", dir, "--out", dir, "--n", "-2"}, &sink, &sink)
		}, "must not be negative"},
		{"extract missing model", func() error {
			return extractCmd(context.Background(), []string{"--model", filepath.Join(dir, "none"), "--out", dir}, &sink, &sink)
		}, "neither an existing folder nor a hub id"},
		{"extract unknown flag", func() error { return extractCmd(context.Background(), []string{"--modle", "x"}, &sink, &sink) }, "flag provided but not defined"},
		{"tokenize without texts", func() error { return tokenize([]string{"--tokenizer", "x.json"}, &sink) }, "are required"},
		{"tokenize missing file", func() error {
			return tokenize([]string{"--tokenizer", filepath.Join(dir, "tokenizer.json"), "--texts", "t.json"}, &sink)
		}, "no such file"},
		{"make-models without out", func() error { return makeModels(nil, &sink) }, "--out is required"},
		{"make-models unknown size", func() error { return makeModels([]string{"--out", dir, "--sizes", "huge"}, &sink) }, "unknown size"},
	} {
		err := tt.run()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	// Texts that are not a JSON array of strings.
	root := t.TempDir()
	if err := makeModels([]string{"--out", root, "--sizes", "tiny-a"}, &sink); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(root, "bad.json")
	os.WriteFile(bad, []byte(`{"en": "x"}`), 0o644)
	err := tokenize([]string{"--tokenizer", filepath.Join(root, "tiny-a", "tokenizer.json"), "--texts", bad}, &sink)
	if err == nil || !strings.Contains(err.Error(), "JSON array of strings") {
		t.Errorf("bad texts: %v", err)
	}
}
