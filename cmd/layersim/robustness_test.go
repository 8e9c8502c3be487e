package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"

	"github.com/layersim/layersim/internal/testenv"
	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/data"
	"github.com/layersim/layersim/lcka/robust"
	"github.com/layersim/layersim/lcka/tokenizer"
	"github.com/layersim/layersim/plots"
)

// writeMMLUFolder writes a Global-MMLU-Lite folder (en/ and hi/ test
// parquet files) from the 21 real question pairs of lcka/data's testdata;
// the options are made up.
func writeMMLUFolder(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile("../../lcka/data/testdata/mmlu_sample.json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct{ En, Hi []string }
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	for lang, qs := range map[string][]string{"en": s.En, "hi": s.Hi} {
		opts := [4]string{"first choice", "second choice", "third", "fourth choice of all"}
		if lang == "hi" {
			opts = [4]string{"पहला विकल्प", "दूसरा", "तीसरा विकल्प", "चौथा विकल्प"}
		}
		var rows []data.MMLURow
		for i, q := range qs {
			rows = append(rows, data.MMLURow{SampleID: fmt.Sprintf("s/test/%02d", i), Subject: "s", Question: q,
				OptionA: opts[0], OptionB: opts[1], OptionC: opts[2], OptionD: opts[3], Answer: "A"})
		}
		var buf bytes.Buffer
		if err := parquet.Write(&buf, rows); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, lang, "test-00000-of-00001.parquet")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRobustnessCommand extracts the tiny models twice, the questions
// alone (A) and with their options (B), and compares the two roots.
func TestRobustnessCommand(t *testing.T) {
	if _, ok := commands["robustness"]; !ok {
		t.Fatal("robustness is not registered")
	}
	dir := t.TempDir()
	var out bytes.Buffer
	if err := makeModels([]string{"--out", filepath.Join(dir, "models")}, &out); err != nil {
		t.Fatal(err)
	}
	models := strings.Fields(out.String())
	gm := filepath.Join(dir, "gm")
	writeMMLUFolder(t, gm)
	rootA, rootB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, m := range models {
		for _, root := range []string{rootA, rootB} {
			args := []string{"--model", m, "--data", "global-mmlu-lite:" + gm, "--langs", "en,hi", "--n", "0", "--out", root, "--quiet"}
			if root == rootB {
				args = append(args, "--with-options")
			}
			var stdout, stderr bytes.Buffer
			if err := extractCmd(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("extract %v: %v\n%s", args, err, stderr.String())
			}
		}
	}

	res := filepath.Join(dir, "out")
	out.Reset()
	err := robustness([]string{"--a", rootA, "--b", rootB, "--langs", "en,hi", "--out", res, "--seed", "6"}, &out)
	pageMissing := errors.Is(err, plots.ErrNoAssets)
	if err != nil && !pageMissing {
		t.Fatal(err)
	}
	text := out.String()
	// Per model: a title, a header, its layers, two map lines, two subset lines.
	for _, want := range []string{"tiny-a (" + models[0] + "): cka-standardized, n = 21", "tiny-b (" + models[1] + ")", "map en: r = ", "map hi: r = ",
		"length-matched A: ", "length-matched B: ", "baseline A: 20 random subsets of ", "baseline B: 20 random subsets of ", "(seed 6)", "lengths in characters"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "\n"); n != 2*(2+2+2+2)+4+6+1+(map[bool]int{true: 0, false: 1})[pageMissing] {
		t.Errorf("%d lines:\n%s", n, text)
	}
	b, err := os.ReadFile(filepath.Join(res, "robustness.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep robust.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Models) != 2 || rep.Models[0].Slug != "tiny-a" || len(rep.Models[0].Layers) != 4 || len(rep.Models[1].Layers) != 6 || rep.Quantile != robust.DefaultQuantile {
		t.Fatalf("report: %+v", rep)
	}
	// The numbers, independently: cka.Standardized (float64) on the stored
	// layers, the subset chosen on the stored texts.
	for _, m := range rep.Models {
		var sets [2][2]*artifacts.Set
		var texts [2][2][]string
		for r, root := range []string{rootA, rootB} {
			for l, lang := range []string{"en", "hi"} {
				s, err := artifacts.Open(root, m.Slug, lang, "test")
				if err != nil {
					t.Fatal(err)
				}
				sets[r][l] = s
				if texts[r][l], err = s.Texts(); err != nil {
					t.Fatal(err)
				}
			}
		}
		for i, q := range texts[0][0] {
			if !strings.HasPrefix(texts[1][0][i], "Question: "+q+"\nA. first choice") || texts[0][0][i] == texts[1][0][i] {
				t.Fatalf("row %d: A %q, B %q", i, q, texts[1][0][i])
			}
		}
		layer := func(r, l, k int, rows []int) *cka.Matrix {
			x, err := sets[r][l].Layer(k)
			if err != nil {
				t.Fatal(err)
			}
			c := cka.Matrix(x)
			if rows != nil {
				c = cka.Matrix{Rows: len(rows), Cols: x.Cols}
				for _, i := range rows {
					c.Data = append(c.Data, x.Row(i)...)
				}
			}
			return &c
		}
		direct := func(x, y *cka.Matrix) float64 {
			v, err := cka.Standardized(x.Dense(), y.Dense())
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		for ki, k := range m.Layers {
			for l := range 2 {
				if got, want := m.Languages[l].AB[ki], direct(layer(0, l, k, nil), layer(1, l, k, nil)); !near(got, want, 1e-5) {
					t.Errorf("%s %s layer %d: A vs B %.7f, cka.Standardized %.7f", m.Slug, m.Languages[l].Lang, k, got, want)
				}
			}
			for r := range 2 {
				if got, want := []float64{m.CrossA[ki], m.CrossB[ki]}[r], direct(layer(r, 0, k, nil), layer(r, 1, k, nil)); !near(got, want, 1e-5) {
					t.Errorf("%s root %d layer %d: cross %.7f, want %.7f", m.Slug, r, k, got, want)
				}
				rows := m.LengthMatched[r].Rows
				if got, want := m.LengthMatched[r].Matched[ki], direct(layer(r, 0, k, rows), layer(r, 1, k, rows)); !near(got, want, 1e-5) {
					t.Errorf("%s root %d layer %d: matched %.7f, want %.7f", m.Slug, r, k, got, want)
				}
				// The baseline: the first and last random subsets.
				b := m.LengthMatched[r].Baseline
				if b == nil || b.Subsets != 20 || b.Seed != 6 || b.Size != len(rows) || len(b.Curves) != 20 {
					t.Fatalf("%s root %d: baseline %+v", m.Slug, r, b)
				}
				subs, err := robust.RandomSubsets(m.N, b.Size, 20, 6)
				if err != nil {
					t.Fatal(err)
				}
				for _, i := range []int{0, 19} {
					if got, want := b.Curves[i][ki], direct(layer(r, 0, k, subs[i]), layer(r, 1, k, subs[i])); !near(got, want, 1e-5) {
						t.Errorf("%s root %d layer %d: random subset %d %.7f, want %.7f", m.Slug, r, k, i, got, want)
					}
				}
			}
		}
		for r := range 2 {
			var l0, l1 []int
			for i := range texts[r][0] {
				l0 = append(l0, utf8.RuneCountInString(texts[r][0][i]))
				l1 = append(l1, utf8.RuneCountInString(texts[r][1][i]))
			}
			sel, err := robust.LengthMatched(l0, l1, robust.DefaultQuantile)
			if err != nil || !slices.Equal(sel.Rows, m.LengthMatched[r].Rows) || sel.N < 10 || sel.N == 21 {
				t.Errorf("%s root %d: rows %v; the texts give %v, %v", m.Slug, r, m.LengthMatched[r].Rows, sel, err)
			}
		}
		// Options change the prompt: the maps move, the states differ.
		for _, lg := range m.Languages {
			if lg.SameTexts || lg.Movement.MeanAbs == 0 || lg.ABMean >= 1 {
				t.Errorf("%s %s: same texts %v, movement %+v, A vs B %.4f", m.Slug, lg.Lang, lg.SameTexts, lg.Movement, lg.ABMean)
			}
		}
	}
	if pageMissing {
		testenv.Missing(t, "the page needs the ECharts bundles: %v", err)
	}
	page, err := os.ReadFile(filepath.Join(res, "robustness.html"))
	if err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(string(page), `<div class="layersim-chart `); c != 2*7 {
		t.Errorf("%d charts in robustness.html, want 14", c)
	}

	// A root against itself: CKA 1 and no movement, printed.
	out.Reset()
	if err := robustness([]string{"--a", rootA, "--b", rootA, "--models", "tiny-a", "--baseline-subsets", "0"}, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "baseline") {
		t.Errorf("--baseline-subsets 0 printed a baseline:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "    1   1.0000   1.0000") || !strings.Contains(out.String(), "max |Δ| = 0.0000") || !strings.Contains(out.String(), "note: tiny-a/en: roots A and B fed the model the same texts") {
		t.Errorf("identical roots:\n%s", out.String())
	}

	// Lengths in tokens: the subset the token counts give.
	out.Reset()
	tokPath := filepath.Join(models[0], "tokenizer.json")
	if err := robustness([]string{"--a", rootA, "--b", rootB, "--models", "tiny-a", "--tokenizer", tokPath, "--quantile", "0.1"}, &out); err != nil {
		t.Fatal(err)
	}
	tk, err := tokenizer.Load(tokPath)
	if err != nil {
		t.Fatal(err)
	}
	var l0, l1 []int
	for l, ls := range []*[]int{&l0, &l1} {
		s, err := artifacts.Open(rootA, "tiny-a", []string{"en", "hi"}[l], "test")
		if err != nil {
			t.Fatal(err)
		}
		texts, err := s.Texts()
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range texts {
			ids, err := tk.Encode(x, false)
			if err != nil {
				t.Fatal(err)
			}
			*ls = append(*ls, len(ids))
		}
	}
	sel, err := robust.LengthMatched(l0, l1, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("length-matched A: %d of 21 questions, hi/en ratio %.3f to %.3f", sel.N, sel.RatioLo, sel.RatioHi); !strings.Contains(out.String(), want) ||
		!strings.Contains(out.String(), "lengths in tokens of "+tokPath) {
		t.Errorf("tokens: want %q in\n%s", want, out.String())
	}

	// Bad input.
	onlyA := filepath.Join(dir, "only-a")
	var so, se bytes.Buffer
	if err := extractCmd(context.Background(), []string{"--model", models[0], "--data", "global-mmlu-lite:" + gm, "--n", "0", "--out", onlyA, "--quiet"}, &so, &se); err != nil {
		t.Fatal(err)
	}
	fewer := filepath.Join(dir, "fewer")
	if err := extractCmd(context.Background(), []string{"--model", models[0], "--data", "global-mmlu-lite:" + gm, "--n", "12", "--out", fewer, "--quiet"}, &so, &se); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--a", rootA}, "--a and --b are required"},
		{[]string{"--a", rootA, "--b", onlyA}, "the roots hold different models"},
		{[]string{"--a", rootA, "--b", fewer, "--models", "tiny-a"}, "different questions: tiny-a/en in root B has 12 rows"},
		{[]string{"--a", rootA, "--b", rootB, "--langs", "en,fr"}, "has no fr activations of tiny-a"},
		{[]string{"--a", rootA, "--b", rootB, "--langs", "en"}, "want two different languages"},
		{[]string{"--a", rootA, "--b", rootB, "--quantile", "0.5"}, "want q in [0, 0.5)"},
		{[]string{"--a", rootA, "--b", rootB, "--measure", "rsa"}, "unknown measure"},
		{[]string{"--a", rootA, "--b", rootB, "--baseline-subsets", "-2"}, "want 0 (none) or more"},
		{[]string{"--a", rootA, "--b", rootB, "extra"}, "unexpected arguments"},
	} {
		var o bytes.Buffer
		if err := robustness(tc.args, &o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v; want one containing %q", tc.args, err, tc.want)
		}
	}
}

func near(a, b, tol float64) bool { return a-b <= tol && b-a <= tol }
