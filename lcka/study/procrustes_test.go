package study

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// The study's Procrustes figure against the study's own formula, computed
// with numpy in float64 on the same files: testdata/procrustes_ref.json, from
// testdata/gen_procrustes.py and scripts/bench/study_cells.py (see the
// generator for the commands; numpy 1.24.2).
func TestProcrustesAgainstStudyFormula(t *testing.T) {
	raw, err := os.ReadFile("testdata/procrustes_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Models map[string]struct {
			Res    float64 `json:"procrustes_res"`
			Rel    float64 `json:"procrustes_rel"`
			SigRes float64 `json:"procrustes_signature_res"`
			SigRel float64 `json:"procrustes_signature_rel"`
		} `json:"models"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil || len(ref.Models) != 2 {
		t.Fatalf("procrustes_ref.json: %v, %d models", err, len(ref.Models))
	}
	res, err := Analyze(Options{Artifacts: "testdata/procrustes_root", Langs: []string{"en", "hi"}, RSA: "none", Bootstrap: -1, Permutations: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Metrics.Pairs) != 2 {
		t.Fatalf("%d pairs, want 2", len(res.Metrics.Pairs))
	}
	for _, p := range res.Metrics.Pairs {
		slug := p.Model[len("synthetic/"):]
		want, ok := ref.Models[slug]
		if !ok {
			t.Fatalf("no reference for %s", slug)
		}
		const tol = 2e-4 // the CKA engine works in float32
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"procrustes_res", *p.ProcrustesRes, want.Res},
			{"procrustes_rel", *p.ProcrustesRel, want.Rel},
			{"procrustes_signature_res", *p.ProcrustesSignatureRes, want.SigRes},
			{"procrustes_signature_rel", *p.ProcrustesSignatureRel, want.SigRel},
		} {
			if math.Abs(c.got-c.want) > tol {
				t.Errorf("%s %s = %.6f, the study's formula %.6f", slug, c.name, c.got, c.want)
			}
		}
	}
}
