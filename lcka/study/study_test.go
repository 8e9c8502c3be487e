package study

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/procrustes"
)

// writeModel writes one model's layers in two languages. Hindi layers are the
// English ones plus noise when related, independent otherwise.
func writeModel(t *testing.T, root, slug string, layers, d, nEn, nHi int, related bool, seed uint64) map[string][]artifacts.Matrix {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	latent := make([]float64, max(nEn, nHi)*5)
	for i := range latent {
		latent[i] = rng.NormFloat64()
	}
	out := map[string][]artifacts.Matrix{}
	for _, lang := range []string{"en", "hi"} {
		n := nEn
		if lang == "hi" {
			n = nHi
		}
		lrng := rand.New(rand.NewPCG(seed, 2))
		if lang == "hi" && !related {
			lrng = rand.New(rand.NewPCG(seed, 3))
			for i := range latent {
				latent[i] = lrng.NormFloat64()
			}
		}
		noise := rand.New(rand.NewPCG(seed, uint64(len(lang)+int(lang[0]))))
		var ms []artifacts.Matrix
		for k := 0; k < layers; k++ {
			w := make([]float64, 5*d)
			for i := range w {
				w[i] = lrng.NormFloat64()
			}
			data := make([]float32, n*d)
			for i := 0; i < n; i++ {
				for j := 0; j < d; j++ {
					v := 0.0
					for q := 0; q < 5; q++ {
						v += latent[i*5+q] * w[q*d+j]
					}
					data[i*d+j] = float32(v + (0.2+0.3*float64(k))*noise.NormFloat64())
				}
			}
			ms = append(ms, artifacts.Matrix{Rows: n, Cols: d, Data: data})
		}
		meta := artifacts.Meta{ModelID: "org/" + slug, NumLayers: layers, Dtype: "float32", MaxLength: 256, TextsCount: n, Subset: "synthetic"}
		if err := artifacts.Write(root, meta, slug, lang, "test", ms, nil); err != nil {
			t.Fatal(err)
		}
		out[lang] = ms
	}
	return out
}

func dense(m artifacts.Matrix, n int) *mat.Dense {
	d := mat.NewDense(n, m.Cols, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < m.Cols; j++ {
			d.Set(i, j, float64(m.Data[i*m.Cols+j]))
		}
	}
	return d
}

func TestAnalyze(t *testing.T) {
	root := t.TempDir()
	a := writeModel(t, root, "model-a", 4, 12, 40, 42, true, 1)  // Hindi has 2 extra prompts
	b := writeModel(t, root, "model-b", 3, 20, 40, 40, false, 2) // unrelated languages
	writeModel(t, root, "model-c", 2, 8, 40, 40, true, 3)
	os.RemoveAll(filepath.Join(root, "models", "model-c", "hi")) // only English: left out

	res, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: 200, Permutations: 200, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Metrics
	if m.N != 40 || len(m.Models) != 2 || m.Models[0].Slug != "model-a" || m.Models[1].Slug != "model-b" {
		t.Fatalf("n %d, models %+v", m.N, m.Models)
	}
	notes := strings.Join(m.Notes, "\n")
	for _, want := range []string{"model-c left out", "has 42 prompts: trimmed to the common 40"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if len(m.Joint.Rows) != 14 || len(m.Joint.XYZ) != 14 {
		t.Fatalf("%d joint rows, %d coordinates; want 14", len(m.Joint.Rows), len(m.Joint.XYZ))
	}
	if len(m.Pairs) != 2 {
		t.Fatalf("%d pairs, want 2", len(m.Pairs))
	}
	for pi, layers := range []map[string][]artifacts.Matrix{a, b} {
		p := m.Pairs[pi]
		var sigEn, sigHi []float64
		for k := range layers["en"] {
			x, y := dense(layers["en"][k], 40), dense(layers["hi"][k], 40)
			want, err := cka.Standardized(x, y)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(p.CKAPerLayer[k]-want) > 2e-5 {
				t.Errorf("%s layer %d: pair CKA %g, pairwise %g", p.Model, k+1, p.CKAPerLayer[k], want)
			}
			se, _ := cka.Signature(x)
			sh, _ := cka.Signature(y)
			sigEn = append(sigEn, se...)
			sigHi = append(sigHi, sh...)
		}
		// Procrustes on the explicit signature stacks (L × n²), an independent route.
		L := len(layers["en"])
		stackEn, stackHi := mat.NewDense(L, 1600, sigEn), mat.NewDense(L, 1600, sigHi)
		res, rel, err := procrustes.Residual(stackHi, stackEn)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(*p.ProcrustesSignatureRes-res) > 1e-4 || math.Abs(*p.ProcrustesSignatureRel-rel) > 1e-4 {
			t.Errorf("%s signature-space Procrustes %g/%g, explicit %g/%g", p.Model, *p.ProcrustesSignatureRes, *p.ProcrustesSignatureRel, res, rel)
		}
		res, rel, err = procrustes.LayerResidual(stackHi, stackEn)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(*p.ProcrustesRes-res) > 1e-4 || math.Abs(*p.ProcrustesRel-rel) > 1e-4 {
			t.Errorf("%s Procrustes %g/%g, explicit %g/%g", p.Model, *p.ProcrustesRes, *p.ProcrustesRel, res, rel)
		}
		if p.CKACI95 == nil || p.CKACI95[0] > p.CKACI95[1] || p.CKACI95[0] > p.CKAMean || p.CKACI95[1] < p.CKAMean {
			t.Errorf("%s: interval %v does not hold the observed mean %g", p.Model, p.CKACI95, p.CKAMean)
		}
		if p.D3Std == nil || p.Count != L {
			t.Errorf("%s: count %d, std %v", p.Model, p.Count, p.D3Std)
		}
	}
	// Related languages: no shuffled pairing reaches the observed CKA.
	if p := *m.Pairs[0].PermP; p > 0.01 {
		t.Errorf("related languages: permutation p = %g, want ≤ 0.01", p)
	}
	if p := *m.Pairs[1].PermP; p < 0.05 {
		t.Errorf("unrelated languages: permutation p = %g, want ≥ 0.05", p)
	}
	if m.LanguageAxis == nil || len(m.LanguageAxis.CorrPerModel) != 2 {
		t.Errorf("language axis %+v", m.LanguageAxis)
	}
	// CKA heatmaps: 4 within-model, 2 cross-lingual, 2 cross-model; RSA the same.
	if len(res.Heatmaps) != 16 {
		t.Errorf("%d heatmaps, want 16", len(res.Heatmaps))
	}

	out := t.TempDir()
	if err := Write(out, res); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"n", "languages", "models", "joint", "language_axis", "pairs"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("metrics.json lacks %q", key)
		}
	}
	pair := raw["pairs"].([]any)[0].(map[string]any)
	for _, key := range []string{"model", "lang_a", "lang_b", "count", "cka_mean", "cka_median", "cka_min", "d3_mean", "d3_median", "d3_std", "d3_max", "procrustes_res", "procrustes_rel", "procrustes_signature_res", "procrustes_signature_rel", "cka_ci95", "perm_p"} {
		if _, ok := pair[key]; !ok {
			t.Errorf("pair lacks %q", key)
		}
	}
	heat, _ := filepath.Glob(filepath.Join(out, "heatmaps", "*.json"))
	if len(heat) != 16 {
		t.Errorf("%d heatmap files", len(heat))
	}
}

// TestAnalyzeMinibatch: with Minibatch set, the layer map is minibatch CKA
// over consecutive batches of the standardized features (42 prompts: batches
// of 10 leave 2 out; batches of 12 end with one of 6), checked against
// cka.Minibatch run pairwise in float64 on features standardized here.
func TestAnalyzeMinibatch(t *testing.T) {
	root := t.TempDir()
	a := writeModel(t, root, "model-a", 3, 10, 42, 42, true, 7)
	for _, c := range []struct{ batch, dropped int }{{10, 2}, {12, 0}} {
		res, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Minibatch: c.batch, Bootstrap: -1, Permutations: -1, RSA: "none"})
		if err != nil {
			t.Fatal(err)
		}
		m := res.Metrics
		if want := fmt.Sprintf("cka-standardized-minibatch:%d", c.batch); m.Measure != want {
			t.Errorf("measure %q, want %q", m.Measure, want)
		}
		notes := strings.Join(m.Notes, "\n")
		if dropNote := fmt.Sprintf("the last %d prompts", c.dropped); (c.dropped > 0) != strings.Contains(notes, dropNote) {
			t.Errorf("batch %d: notes %q", c.batch, notes)
		}
		for k := range a["en"] {
			x, y := zscore(dense(a["en"][k], 42)), zscore(dense(a["hi"][k], 42))
			var mb cka.Minibatch
			for s := 0; s+4 <= 42; s += c.batch {
				e := min(42, s+c.batch)
				if err := mb.Add(x.Slice(s, e, 0, 10), y.Slice(s, e, 0, 10)); err != nil {
					t.Fatal(err)
				}
			}
			want, err := mb.CKA()
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Pairs[0].CKAPerLayer[k]; math.Abs(got-want) > 2e-5 {
				t.Errorf("batch %d layer %d: pair CKA %g, pairwise minibatch %g", c.batch, k+1, got, want)
			}
		}
	}
	if _, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Minibatch: 3}); err == nil {
		t.Error("minibatch of 3: no error")
	}
}

// TestAnalyzeSpilled: a memory budget below the layers' size sends them to a
// scratch file in TempDir, gives the same layer map, and leaves nothing behind.
func TestAnalyzeSpilled(t *testing.T) {
	root, scratch := t.TempDir(), t.TempDir()
	writeModel(t, root, "model-a", 3, 10, 30, 30, true, 9)
	opt := Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, RSA: "none"}
	ref, err := Analyze(opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.MemoryBudget, opt.TempDir = 2048, scratch // 6 layers × 30 × 10 × 4 bytes = 7,200
	got, err := Analyze(opt)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.EqualApprox(ref.CKA, got.CKA, 2e-5) {
		t.Errorf("spilled layer map differs:\n%v\n%v", mat.Formatted(ref.CKA), mat.Formatted(got.CKA))
	}
	if left, _ := os.ReadDir(scratch); len(left) != 0 {
		t.Errorf("scratch files left behind: %v", left)
	}
	// Stopped during the CKA sweep, then resumed from the checkpoint: the
	// same layer map, and the notes say so.
	cp := filepath.Join(t.TempDir(), "cka.checkpoint")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := opt
	stopped.Checkpoint, stopped.Context = cp, ctx
	stopped.Progress = func(stage string, done, total int) {
		if stage == "cka" && done == 6+2 { // 6 layers prepared, 2 tiles
			cancel()
		}
	}
	if _, err := Analyze(stopped); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped run: %v", err)
	}
	resumed := opt
	resumed.Checkpoint = cp
	again, err := Analyze(resumed)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.EqualApprox(ref.CKA, again.CKA, 2e-5) {
		t.Errorf("resumed layer map differs")
	}
	if notes := strings.Join(again.Metrics.Notes, "\n"); !strings.Contains(notes, "2 tiles reused") {
		t.Errorf("notes %q", notes)
	}

	// The scratch file is really wanted: a missing folder is an error.
	opt.TempDir = filepath.Join(scratch, "missing")
	if _, err := Analyze(opt); err == nil || !strings.Contains(err.Error(), "scratch file") {
		t.Errorf("missing scratch folder: %v", err)
	}
}

// TestAnalyzeSubsampledStats: with StatsMaxN below n, the CKA of the
// subsample differs from the CKA of all prompts (CKA's bias depends on n), so
// the interval is the m-out-of-n one: around the full-n mean, as wide as the
// full bootstrap's up to resampling noise.
func TestAnalyzeSubsampledStats(t *testing.T) {
	root := t.TempDir()
	writeModel(t, root, "model-a", 3, 30, 240, 240, true, 21)
	opt := Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: 400, Permutations: -1, RSA: "none", Seed: 3}
	full, err := Analyze(opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.StatsMaxN = 60
	sub, err := Analyze(opt)
	if err != nil {
		t.Fatal(err)
	}
	pf, ps := full.Metrics.Pairs[0], sub.Metrics.Pairs[0]
	if pf.CKAMean != ps.CKAMean {
		t.Fatalf("mean CKA %g and %g: the subsample must not change it", pf.CKAMean, ps.CKAMean)
	}
	if ps.StatsN != 60 || ps.CKACI95[0] > ps.CKAMean || ps.CKACI95[1] < ps.CKAMean {
		t.Errorf("subsampled interval %v (stats_n %d) does not hold the mean %g", *ps.CKACI95, ps.StatsN, ps.CKAMean)
	}
	wf, ws := pf.CKACI95[1]-pf.CKACI95[0], ps.CKACI95[1]-ps.CKACI95[0]
	if ratio := ws / wf; ratio < 0.5 || ratio > 2 {
		t.Errorf("interval widths: %g on all prompts, %g from 60 of them (ratio %.2f)", wf, ws, ratio)
	}
	if !strings.Contains(strings.Join(sub.Metrics.Notes, "\n"), "m-out-of-n") {
		t.Errorf("notes %q", sub.Metrics.Notes)
	}
}

// zscore standardizes each column (population standard deviation).
func zscore(x *mat.Dense) *mat.Dense {
	n, d := x.Dims()
	out := mat.NewDense(n, d, nil)
	for j := 0; j < d; j++ {
		col := mat.Col(nil, j, x)
		mean, sd := 0.0, 0.0
		for _, v := range col {
			mean += v
		}
		mean /= float64(n)
		for _, v := range col {
			sd += (v - mean) * (v - mean)
		}
		sd = math.Sqrt(sd / float64(n))
		for i, v := range col {
			out.Set(i, j, (v-mean)/sd)
		}
	}
	return out
}

func TestAnalyzeErrors(t *testing.T) {
	root := t.TempDir()
	if _, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}}); err == nil {
		t.Error("empty root: no error")
	}
	writeModel(t, root, "m", 2, 6, 10, 10, true, 1)
	if _, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "fr"}}); err == nil || !strings.Contains(err.Error(), "no model") {
		t.Errorf("missing language: %v", err)
	}
	if _, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "en"}}); err == nil {
		t.Error("repeated language: no error")
	}
	if _, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, RSA: "rsa-bogus"}); err == nil {
		t.Error("bad RSA method: no error")
	}
}

func TestTokenSummary(t *testing.T) {
	m := Model{Tokens: map[string]*TokenStats{"en": {Mean: 40}, "hi": {Mean: 96, Truncated: 2}}}
	if got, want := m.TokenSummary([]string{"en", "hi"}), "en 40.0; hi 96.0 (2.40×), 2 truncated"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := (Model{}).TokenSummary([]string{"en"}); got != "" {
		t.Errorf("no tokens: %q", got)
	}
}

// TestUnreadableSet: a set whose .npz is truncated fails the study, naming
// the set, unless SkipUnreadable, which leaves its model out and says so.
func TestUnreadableSet(t *testing.T) {
	root := t.TempDir()
	writeModel(t, root, "model-a", 3, 8, 40, 40, true, 1)
	writeModel(t, root, "model-b", 3, 8, 40, 40, true, 2)
	npz := filepath.Join(root, "models", "model-b", "hi", "activations", "model-b_hi_test.npz")
	st, err := os.Stat(npz)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(npz, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	opt := Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, RSA: "none"}
	_, err = Analyze(opt)
	if !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), "model-b_hi_test") {
		t.Fatalf("truncated set: error %v, want ErrUnreadable naming model-b_hi_test", err)
	}
	opt.SkipUnreadable = true
	res, err := Analyze(opt)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Metrics
	if len(m.Models) != 1 || m.Models[0].Slug != "model-a" {
		t.Fatalf("models %+v, want model-a alone", m.Models)
	}
	notes := strings.Join(m.Notes, "\n")
	for _, want := range []string{"could not be read and were left out", "model-b_hi_test", "model-b left out"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}
