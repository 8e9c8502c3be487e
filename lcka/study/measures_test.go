package study

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/cca"
	"github.com/layersim/layersim/lcka/knn"
	"github.com/layersim/layersim/lcka/shape"
)

func TestParseExtraMeasure(t *testing.T) {
	for _, c := range []struct {
		name, kind string
		k          int
		keep       cca.Keep
		alpha      float64
		distance   bool
	}{
		{"mutual-knn:10", "mutual-knn", 10, cca.Keep{}, 0, false},
		{"cknna:3", "cknna", 3, cca.Keep{}, 0, false},
		{"svcca", "svcca", 0, cca.Paper, 0, false},
		{"svcca:0.9", "svcca", 0, cca.Keep{Variance: 0.9}, 0, false},
		{"svcca:1.0", "svcca", 0, cca.Keep{Variance: 1}, 0, false},
		{"svcca:7", "svcca", 0, cca.Keep{Count: 7}, 0, false},
		{"pwcca", "pwcca", 0, cca.Keep{}, 0, false},
		{"shape:0", "shape", 0, cca.Keep{}, 0, true},
		{"shape:0.25", "shape", 0, cca.Keep{}, 0.25, true},
		{"shape:1", "shape", 0, cca.Keep{}, 1, true},
	} {
		e, err := ParseExtraMeasure(c.name)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if e.String() != c.name || e.Kind() != c.kind || e.K() != c.k || e.Keep() != c.keep || e.Alpha() != c.alpha || e.Distance() != c.distance {
			t.Errorf("%s: parsed as %+v", c.name, e)
		}
		if e.Formula() == "" {
			t.Errorf("%s: no formula", c.name)
		}
	}
	for _, c := range []struct{ name, want string }{
		{"mutual-knn", "k a positive integer"}, {"mutual-knn:0", "k a positive integer"}, {"cknna:x", "k a positive integer"},
		{"svcca:abc", "svcca:<fraction of variance>"}, {"svcca:1.5", "in (0, 1]"}, {"svcca:0", "≥ 1"}, {"svcca:-0.5", "in (0, 1]"},
		{"pwcca:3", "no parameter"}, {"shape", "alpha in [0, 1]"}, {"shape:2", "alpha in [0, 1]"}, {"shape:NaN", "alpha in [0, 1]"},
	} {
		_, err := ParseExtraMeasure(c.name)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) || errors.Is(err, ErrUnknownMeasure) {
			t.Errorf("%s: error %v, want one naming it and saying %q", c.name, err, c.want)
		}
	}
	for _, name := range []string{"cka", "knn:5", "", "SVCCA"} {
		_, err := ParseExtraMeasure(name)
		if !errors.Is(err, ErrUnknownMeasure) || !strings.Contains(err.Error(), ExtraMeasuresHelp) {
			t.Errorf("%q: error %v, want ErrUnknownMeasure listing %s", name, err, ExtraMeasuresHelp)
		}
	}

	list, err := ParseExtraMeasures(" svcca, cknna:4,shape:0.5")
	if err != nil || len(list) != 3 || list[0].String() != "svcca" || list[1].K() != 4 || list[2].Alpha() != 0.5 {
		t.Errorf("list: %v, %v", list, err)
	}
	if list, err := ParseExtraMeasures(""); err != nil || list != nil {
		t.Errorf("empty list: %v, %v", list, err)
	}
	for _, bad := range []string{"svcca,svcca:0.99", "shape:0.5,shape:.5", "pwcca,", "cknna:4,bogus"} {
		if _, err := ParseExtraMeasures(bad); err == nil {
			t.Errorf("list %q: no error", bad)
		}
	}
	if _, _, err := (ExtraMeasure{}).AllPairs([]mat.Matrix{mat.NewDense(2, 2, []float64{1, 2, 3, 4})}); err == nil {
		t.Error("the zero ExtraMeasure computed something")
	}
}

// TestAnalyzeExtraMeasures: each extra measure's joint matrix is the one its
// package's AllPairs computes on the same layers (the study's float32 values
// widened to float64, trimmed to the common prompts): exactly equal, since
// both routes hand the packages the same float64 values. The cross-lingual
// values are the matrix's entries (layer k of the first language in the
// row), and agree with the pairwise functions on those two layers; the
// results round-trip through metrics.json and the heatmap files.
func TestAnalyzeExtraMeasures(t *testing.T) {
	root := t.TempDir()
	a := writeModel(t, root, "model-a", 3, 12, 30, 32, true, 11) // Hindi has 2 extra prompts
	b := writeModel(t, root, "model-b", 4, 9, 30, 30, false, 12)
	const n = 30
	names := "mutual-knn:5,cknna:6,svcca,svcca:4,pwcca,shape:0.5,shape:1"
	extra, err := ParseExtraMeasures(names)
	if err != nil {
		t.Fatal(err)
	}
	var stages []string
	res, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, ExtraMeasures: extra,
		Progress: func(stage string, done, total int) {
			if done == 0 {
				stages = append(stages, stage)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Metrics
	if len(m.ExtraMeasures) != len(extra) {
		t.Fatalf("%d extra measures, want %d; notes %q", len(m.ExtraMeasures), len(extra), m.Notes)
	}
	for _, e := range extra {
		if !strings.Contains(strings.Join(stages, "\n"), e.String()) {
			t.Errorf("no progress stage %q in %q", e, stages)
		}
	}
	// The joint rows: model-a en (3), hi (3), model-b en (4), hi (4).
	var reps []mat.Matrix
	for _, layers := range []map[string][]artifacts.Matrix{a, b} {
		for _, lang := range []string{"en", "hi"} {
			for _, x := range layers[lang] {
				reps = append(reps, dense(x, n))
			}
		}
	}
	if len(reps) != len(m.Joint.Rows) {
		t.Fatalf("%d layers, %d joint rows", len(reps), len(m.Joint.Rows))
	}
	first := map[string]int{"org/model-a en": 0, "org/model-a hi": 3, "org/model-b en": 6, "org/model-b hi": 10}
	for i, e := range extra {
		r := m.ExtraMeasures[i]
		var want mat.Matrix
		var wantKept []int
		var pair func(x, y mat.Matrix) (float64, error)
		switch e.Kind() {
		case "mutual-knn":
			want, err = knn.AllPairs(reps, e.K(), knn.Cosine, knn.Mutual)
			pair = func(x, y mat.Matrix) (float64, error) { return knn.MutualKNN(x, y, e.K(), knn.Cosine) }
		case "cknna":
			want, err = knn.AllPairs(reps, e.K(), knn.Cosine, knn.Kernel)
			pair = func(x, y mat.Matrix) (float64, error) { return knn.CKNNA(x, y, e.K(), knn.Cosine) }
		case "svcca":
			want, wantKept, err = cca.AllPairs(reps, cca.MeasureSVCCA, e.Keep())
			pair = func(x, y mat.Matrix) (float64, error) { r, err := cca.SVCCA(x, y, e.Keep()); return r.Value, err }
		case "pwcca":
			want, wantKept, err = cca.AllPairs(reps, cca.MeasurePWCCA, cca.Keep{})
			pair = func(x, y mat.Matrix) (float64, error) { r, err := cca.PWCCA(x, y); return r.Value, err }
		case "shape":
			want, err = shape.AllPairs(reps, e.Alpha())
			pair = func(x, y mat.Matrix) (float64, error) { return shape.Angular(x, y, e.Alpha()) }
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Name != e.String() || r.Formula != e.Formula() || r.Distance != e.Distance() || r.Seconds <= 0 || r.Cost == "" {
			t.Errorf("%s: entry %+v", e, r)
		}
		if !reflect.DeepEqual(r.Kept, wantKept) {
			t.Errorf("%s: kept %v, AllPairs %v", e, r.Kept, wantKept)
		}
		if !mat.Equal(r.Matrix, want) {
			t.Errorf("%s: the study's joint matrix differs from AllPairs on the same layers:\n%v\n%v", e, mat.Formatted(r.Matrix), mat.Formatted(want))
		}
		if len(r.Pairs) != 2 {
			t.Fatalf("%s: %d pairs, want 2", e, len(r.Pairs))
		}
		for pi, layers := range []map[string][]artifacts.Matrix{a, b} {
			p := r.Pairs[pi]
			if p.Model != m.Pairs[pi].Model || p.LangA != "en" || p.LangB != "hi" || len(p.PerLayer) != len(layers["en"]) {
				t.Fatalf("%s: pair %+v", e, p)
			}
			fa, fb := first[p.Model+" en"], first[p.Model+" hi"]
			sum := 0.0
			for k, v := range p.PerLayer {
				if v != r.Matrix.At(fa+k, fb+k) {
					t.Errorf("%s %s layer %d: %v, matrix entry %v", e, p.Model, k+1, v, r.Matrix.At(fa+k, fb+k))
				}
				// The pairwise function, en first: the row is the first
				// language. Its own preparation of the pair may round
				// differently from the prepared layers of AllPairs.
				w, err := pair(dense(layers["en"][k], n), dense(layers["hi"][k], n))
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(v-w) > 1e-12 {
					t.Errorf("%s %s layer %d: %.17g, pairwise %.17g", e, p.Model, k+1, v, w)
				}
				sum += v
			}
			if want := sum / float64(len(p.PerLayer)); math.Abs(p.Mean-want) > 1e-15 {
				t.Errorf("%s %s: mean %v, want %v", e, p.Model, p.Mean, want)
			}
		}
	}
	notes := strings.Join(m.Notes, "\n")
	for _, want := range []string{"svcca costs an SVD per pair", "pwcca costs an SVD per pair", "shape:0.5 costs an SVD per pair"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if strings.Contains(notes, "mutual-knn:5 costs") {
		t.Errorf("a cost note for mutual k-NN:\n%s", notes)
	}
	// CKA heatmaps as without extra measures (8 CKA, 8 RSA), then one joint heatmap each.
	if len(res.Heatmaps) != 16+len(extra) {
		t.Errorf("%d heatmaps, want %d", len(res.Heatmaps), 16+len(extra))
	}

	out := t.TempDir()
	if err := Write(out, res); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Metrics
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.ExtraMeasures) != len(m.ExtraMeasures) {
		t.Fatalf("metrics.json: %d extra measures", len(back.ExtraMeasures))
	}
	for i, r := range m.ExtraMeasures {
		got := back.ExtraMeasures[i]
		r.Matrix = nil
		if !reflect.DeepEqual(got, r) {
			t.Errorf("metrics.json round trip:\n%+v\n%+v", got, r)
		}
		hb, err := os.ReadFile(filepath.Join(out, "heatmaps", r.Heatmap))
		if err != nil {
			t.Fatal(err)
		}
		var h Heatmap
		if err := json.Unmarshal(hb, &h); err != nil {
			t.Fatal(err)
		}
		L := len(m.Joint.Rows)
		if h.Metric != r.Name || h.Info.Kind != "joint" || len(h.Matrix) != L || len(h.XLabels) != L || h.YLabels[3] != "org/model-a·hi·L1" {
			t.Fatalf("%s: heatmap %q: metric %q, kind %q, %d rows, labels %q", r.Name, r.Heatmap, h.Metric, h.Info.Kind, len(h.Matrix), h.YLabels)
		}
		if !mat.Equal(mat.NewDense(L, L, flatten(h.Matrix)), m.ExtraMeasures[i].Matrix) {
			t.Errorf("%s: heatmap file differs from the joint matrix", r.Name)
		}
	}
}

func flatten(rows [][]float64) []float64 {
	var out []float64
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

// TestExtraMeasureFailureIsANote: a measure that cannot be computed on these
// layers (k ≥ n) leaves the study standing, with a note.
func TestExtraMeasureFailureIsANote(t *testing.T) {
	root := t.TempDir()
	writeModel(t, root, "model-a", 2, 6, 12, 12, true, 21)
	extra, err := ParseExtraMeasures("cknna:20,mutual-knn:3")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, RSA: "none", ExtraMeasures: extra})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Metrics
	if len(m.ExtraMeasures) != 1 || m.ExtraMeasures[0].Name != "mutual-knn:3" {
		t.Errorf("extra measures %+v, want mutual-knn:3 alone", m.ExtraMeasures)
	}
	if notes := strings.Join(m.Notes, "\n"); !strings.Contains(notes, "cknna:20 not computed: ") {
		t.Errorf("no note on cknna:20:\n%s", notes)
	}
	if _, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, RSA: "none", ExtraMeasures: []ExtraMeasure{{}}}); err == nil {
		t.Error("the zero ExtraMeasure: no error")
	}
}
