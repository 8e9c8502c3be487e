package study

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/layersim/layersim/internal/describe"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/calibrate"
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
	last := map[string][2]int{} // each stage's last report
	res, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, ExtraMeasures: extra,
		Progress: func(stage string, done, total int) {
			if done == 0 {
				stages = append(stages, stage)
			}
			last[stage] = [2]int{done, total}
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
	// The SVD-based measures end on their own stage of pairs, all done
	// (14 joint layers; PWCCA's ordered pairs, SVCCA's with the diagonal),
	// and their layers' stage never counts past the layers.
	const layers = 3 + 3 + 4 + 4
	for name, pairs := range map[string]int{"svcca": layers * (layers + 1) / 2, "pwcca": layers * layers, "shape:1": layers * (layers - 1) / 2} {
		if got := last[name+" pairs"]; got != [2]int{pairs, pairs} {
			t.Errorf("%s pairs: last report %v, want %d of %d", name, got, pairs, pairs)
		}
		if got, ok := last[name+" layers"]; ok && (got[1] != layers || got[0] > layers) {
			t.Errorf("%s layers: last report %v, want at most %d of %d", name, got, layers, layers)
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
	for _, r := range m.ExtraMeasures {
		if r.Name != "pwcca" {
			continue
		}
		full := 0
		for _, k := range r.Kept {
			if k >= n-1 {
				full++
			}
		}
		if full != 0 || strings.Contains(notes, "have rank n − 1") {
			t.Errorf("PWCCA ranks %v below n − 1 = %d: a note of full rank, or layers of full rank in this test:\n%s", r.Kept, n-1, notes)
		}
	}
	if strings.Contains(notes, "mutual-knn:5 costs") {
		t.Errorf("a cost note for mutual k-NN:\n%s", notes)
	}
	// CKA heatmaps as without extra measures (8 CKA, 8 RSA), then one joint heatmap each.
	if len(res.Heatmaps) != 16+len(extra) {
		t.Errorf("%d heatmaps, want %d", len(res.Heatmaps), 16+len(extra))
	}

	out, back := writeAndRead(t, res)
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

// pairwise is the package's own pairwise function of an extra measure.
func pairwise(e ExtraMeasure) func(x, y mat.Matrix) (float64, error) {
	switch e.Kind() {
	case "mutual-knn":
		return func(x, y mat.Matrix) (float64, error) { return knn.MutualKNN(x, y, e.K(), knn.Cosine) }
	case "cknna":
		return func(x, y mat.Matrix) (float64, error) { return knn.CKNNA(x, y, e.K(), knn.Cosine) }
	case "svcca":
		return func(x, y mat.Matrix) (float64, error) { r, err := cca.SVCCA(x, y, e.Keep()); return r.Value, err }
	case "pwcca":
		return func(x, y mat.Matrix) (float64, error) { r, err := cca.PWCCA(x, y); return r.Value, err }
	case "shape":
		return func(x, y mat.Matrix) (float64, error) { return shape.Angular(x, y, e.Alpha()) }
	}
	panic("unknown measure " + e.Kind())
}

// permuted returns y with row perm[r] as its row r.
func permuted(y *mat.Dense, perm []int) *mat.Dense {
	n, c := y.Dims()
	out := mat.NewDense(n, c, nil)
	for r, src := range perm {
		out.SetRow(r, y.RawRowView(src))
	}
	return out
}

// near says whether got is within tol of want, relative to want's
// magnitude where it exceeds 1; tol = 0 asks for the same bits.
func near(got, want, tol float64) bool {
	return got == want || math.Abs(got-want) <= tol*max(1, math.Abs(want))
}

// nullStats is the mean, spread (ddof 1), calibrated value and p-value of
// score against null, by a direct loop; p counts the null values at least
// as similar as the score (≤ for a distance).
func nullStats(score float64, null []float64, distance bool) (mean, sd, cal, p float64) {
	as := 0
	for _, v := range null {
		mean += v
		if v >= score && !distance || v <= score && distance {
			as++
		}
	}
	mean /= float64(len(null))
	for _, v := range null {
		sd += (v - mean) * (v - mean)
	}
	sd = math.Sqrt(sd / float64(len(null)-1))
	return mean, sd, (score - mean) / sd, float64(1+as) / float64(len(null)+1)
}

// TestAnalyzeExtraMeasureNull: the permutation null of each pair's
// cross-lingual values equals a direct loop of the package's pairwise
// function over the same layers and the permutations calibrate.Permutations
// draws from the study's seed (the same for every layer), to the bit, or to
// 1e-12 for SVCCA and the shape distance (whose nulls reorder the rows of
// each layer's decomposition), and, for the similarities,
// calibrate.Calibrate on each layer: the null's mean and
// spread exactly, the calibrated value up to the rounding of the score
// (AllPairs' prepared layers against the pairwise function's). The null of
// the mean over layers is the mean of the per-layer nulls, shuffle by
// shuffle. The null round-trips through metrics.json.
func TestAnalyzeExtraMeasureNull(t *testing.T) {
	root := t.TempDir()
	a := writeModel(t, root, "model-a", 3, 12, 30, 32, true, 11)
	b := writeModel(t, root, "model-b", 4, 9, 30, 30, false, 12)
	const n, P, seed = 30, 40, 7
	extra, err := ParseExtraMeasures("mutual-knn:5,cknna:6,svcca:4,pwcca,shape:0.5")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, RSA: "none",
		Seed: seed, ExtraMeasures: extra, ExtraMeasureNull: P})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Metrics
	if len(m.ExtraMeasures) != len(extra) {
		t.Fatalf("%d extra measures; notes %q", len(m.ExtraMeasures), m.Notes)
	}
	perms, err := calibrate.Permutations(n, calibrate.Options{Permutations: P, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range extra {
		r := m.ExtraMeasures[i]
		if !strings.Contains(r.Cost, "40 shuffles") {
			t.Errorf("%s: cost %q does not state the null's shuffles", e, r.Cost)
		}
		pair := pairwise(e)
		// SVCCA's and the shape distance's nulls reorder the rows of y's
		// decomposition instead of decomposing each reordered y: the same
		// to rounding.
		tol := 0.0
		if e.Kind() == "shape" || e.Kind() == "svcca" {
			tol = 1e-12
		}
		for pi, layers := range []map[string][]artifacts.Matrix{a, b} {
			p := r.Pairs[pi]
			nl := p.Null
			L := len(p.PerLayer)
			if nl == nil || nl.Permutations != P || nl.Seed != seed || len(nl.PerLayerMean) != L || len(nl.PerLayerSD) != L ||
				len(nl.PerLayerCalibrated) != L || len(nl.PerLayerP) != L {
				t.Fatalf("%s %s: null %+v", e, p.Model, nl)
			}
			meanNull := make([]float64, P)
			for k := range L {
				x, y := dense(layers["en"][k], n), dense(layers["hi"][k], n)
				null := make([]float64, P)
				for j, perm := range perms {
					if null[j], err = pair(x, permuted(y, perm)); err != nil {
						t.Fatal(err)
					}
					meanNull[j] += null[j] / float64(L)
				}
				mean, sd, cal, pv := nullStats(p.PerLayer[k], null, e.Distance())
				if !near(nl.PerLayerMean[k], mean, tol) || !near(nl.PerLayerSD[k], sd, tol) || !near(nl.PerLayerCalibrated[k], cal, tol) || nl.PerLayerP[k] != pv {
					t.Errorf("%s %s layer %d: null mean %v sd %v calibrated %v p %v; direct loop %v %v %v %v", e, p.Model, k+1,
						nl.PerLayerMean[k], nl.PerLayerSD[k], nl.PerLayerCalibrated[k], nl.PerLayerP[k], mean, sd, cal, pv)
				}
				if e.Distance() {
					continue
				}
				c, err := calibrate.Calibrate(x, y, calibrate.Measure(pair), calibrate.Options{Permutations: P, Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				if !near(c.NullMean, nl.PerLayerMean[k], tol) || !near(c.NullSD, nl.PerLayerSD[k], tol) || math.Abs(c.Calibrated-nl.PerLayerCalibrated[k]) > 1e-9 || c.P != nl.PerLayerP[k] {
					t.Errorf("%s %s layer %d: null %v ± %v, calibrated %v, p %v; calibrate.Calibrate %+v", e, p.Model, k+1,
						nl.PerLayerMean[k], nl.PerLayerSD[k], nl.PerLayerCalibrated[k], nl.PerLayerP[k], c)
				}
			}
			mean, sd, cal, pv := nullStats(p.Mean, meanNull, e.Distance())
			if !near(nl.Mean, mean, tol) || !near(nl.SD, sd, tol) || !near(nl.Calibrated, cal, tol) || nl.P != pv {
				t.Errorf("%s %s mean over layers: null %v ± %v, calibrated %v, p %v; direct loop %v ± %v, %v, %v", e, p.Model, nl.Mean, nl.SD, nl.Calibrated, nl.P, mean, sd, cal, pv)
			}
		}
		// model-a's languages are related: every layer far from its null.
		for k, pv := range r.Pairs[0].Null.PerLayerP {
			if pv != 1.0/(P+1) {
				t.Errorf("%s model-a layer %d: p = %v, want the least, 1/%d", e, k+1, pv, P+1)
			}
		}
	}
	out, back := writeAndRead(t, res)
	data, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range m.ExtraMeasures {
		for pi, p := range r.Pairs {
			if !reflect.DeepEqual(back.ExtraMeasures[i].Pairs[pi].Null, p.Null) {
				t.Errorf("%s %s: null after metrics.json %+v, before %+v", r.Name, p.Model, back.ExtraMeasures[i].Pairs[pi].Null, p.Null)
			}
		}
	}
	if !strings.Contains(string(data), `"per_layer_calibrated"`) {
		t.Error("metrics.json lacks per_layer_calibrated")
	}

	// Without the null, metrics.json is the same as with it, less the
	// null's fields and its note in the cost: none of its keys appear.
	res0, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, RSA: "none",
		Seed: seed, ExtraMeasures: extra})
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range []*Result{res, res0} {
		for i := range rr.Metrics.ExtraMeasures {
			e := &rr.Metrics.ExtraMeasures[i]
			e.Seconds = 0
			e.Cost, _, _ = strings.Cut(e.Cost, "; its permutation null")
			for j := range e.Pairs {
				e.Pairs[j].Null = nil
			}
		}
	}
	j1, _ := json.Marshal(res.Metrics)
	j0, _ := json.Marshal(res0.Metrics)
	if string(j0) != string(j1) {
		t.Errorf("metrics without the null differ from those with it, less the null:\n%s\n%s", j0, j1)
	}
	for _, key := range []string{`"null"`, "null_mean", "calibrated", "per_layer_p", "shuffles"} {
		if strings.Contains(string(j0), key) {
			t.Errorf("metrics.json without the null holds %s", key)
		}
	}
}

// TestMeasureNullProperties: on independent layers the calibrated values
// behave like standard normal draws (mean near 0, spread near 1, p-values
// spread over (0, 1)); on identical layers every p-value is the least
// possible, 1/(P+1), for similarities and distances alike.
func TestMeasureNullProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	const n, L, P = 40, 30, 60
	normal := func(r, c int) *mat.Dense {
		m := mat.NewDense(r, c, nil)
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				m.Set(i, j, rng.NormFloat64())
			}
		}
		return m
	}
	xs, ys := make([]mat.Matrix, L), make([]mat.Matrix, L)
	for k := range L {
		xs[k], ys[k] = normal(n, 8), normal(n, 10)
	}
	perms, err := calibrate.Permutations(n, calibrate.Options{Permutations: P, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	none := func() error { return nil }
	for _, name := range []string{"mutual-knn:5", "cknna:8", "svcca:4", "pwcca", "shape:1"} {
		e, err := ParseExtraMeasure(name)
		if err != nil {
			t.Fatal(err)
		}
		values := make([]float64, L)
		for k := range L {
			if values[k], err = pairwise(e)(xs[k], ys[k]); err != nil {
				t.Fatal(err)
			}
		}
		nl, err := measureNull(e, xs, ys, values, perms, 5, false, none, func(int) {})
		if err != nil {
			t.Fatal(err)
		}
		mc, sc := 0.0, 0.0
		for _, c := range nl.PerLayerCalibrated {
			mc += c / L
		}
		for _, c := range nl.PerLayerCalibrated {
			sc += (c - mc) * (c - mc) / (L - 1)
		}
		mp := describe.Mean(nl.PerLayerP)
		// Over 30 layers the mean of N(0,1) draws has sd 0.18.
		if math.Abs(mc) > 0.6 || math.Sqrt(sc) < 0.6 || math.Sqrt(sc) > 1.5 || mp < 0.3 || mp > 0.7 || math.Abs(nl.Calibrated) > 3.5 {
			t.Errorf("%s, independent layers: calibrated mean %.3f sd %.3f, mean p %.3f, mean over layers calibrated %.3f; want about 0, 1, 0.5 and within ±3.5",
				name, mc, math.Sqrt(sc), mp, nl.Calibrated)
		}
		// Identical layers: the value is 1 (0 for the distance) and every
		// shuffle is less similar.
		for k := range L {
			if values[k], err = pairwise(e)(xs[k], xs[k]); err != nil {
				t.Fatal(err)
			}
		}
		nl, err = measureNull(e, xs, xs, values, perms, 5, false, none, func(int) {})
		if err != nil {
			t.Fatal(err)
		}
		for k, pv := range nl.PerLayerP {
			if pv != 1.0/(P+1) || e.Distance() != (nl.PerLayerCalibrated[k] < 0) {
				t.Errorf("%s, identical layer %d: p %v, calibrated %v; want p = 1/%d, calibrated of the sign of agreement", name, k, pv, nl.PerLayerCalibrated[k], P+1)
			}
		}
		if nl.P != 1.0/(P+1) {
			t.Errorf("%s, identical layers: mean over layers p %v", name, nl.P)
		}
	}
}

// TestExtraMeasureNullBadInput: one permutation has no spread; a negative
// count is an error; a null that cannot be computed is a note.
func TestExtraMeasureNullBadInput(t *testing.T) {
	root := t.TempDir()
	writeModel(t, root, "model-a", 2, 6, 12, 12, true, 21)
	extra, err := ParseExtraMeasures("mutual-knn:3")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []int{1, -5} {
		_, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, RSA: "none", ExtraMeasures: extra, ExtraMeasureNull: bad})
		if err == nil || !strings.Contains(err.Error(), "at least 2 permutations") {
			t.Errorf("ExtraMeasureNull %d: error %v", bad, err)
		}
	}
	// A constant measure: its null has no spread.
	e, _ := ParseExtraMeasure("mutual-knn:3")
	x := mat.NewDense(12, 2, nil)
	for i := range 12 {
		x.Set(i, 0, float64(i))
		x.Set(i, 1, 1)
	}
	perms, _ := calibrate.Permutations(12, calibrate.Options{Permutations: 4, Seed: 1})
	_, err = measureNull(e, []mat.Matrix{x}, []mat.Matrix{mat.NewDense(12, 2, nil)}, []float64{0}, perms, 1, false, func() error { return nil }, func(int) {})
	if err == nil || !strings.Contains(err.Error(), "layer 1") {
		t.Errorf("null of a layer without variance: error %v", err)
	}
}

// TestPWCCAFullRankNote: layers at least as wide as n have rank n − 1, and
// analyze says that PWCCA is then 1 for every pair they are in.
func TestPWCCAFullRankNote(t *testing.T) {
	root := t.TempDir()
	const n = 12
	writeModel(t, root, "model-w", 2, 20, n, n, true, 5)
	extra, err := ParseExtraMeasures("pwcca")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, ExtraMeasures: extra})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Metrics
	if len(m.ExtraMeasures) != 1 {
		t.Fatalf("%d extra measures; notes %q", len(m.ExtraMeasures), m.Notes)
	}
	want := fmt.Sprintf("pwcca: 4 of 4 layers have rank n − 1 = %d", n-1)
	if notes := strings.Join(m.Notes, "\n"); !strings.Contains(notes, want) {
		t.Errorf("notes lack %q:\n%s", want, notes)
	}
	v := m.ExtraMeasures[0].Matrix
	for i := range 4 {
		for j := range 4 {
			if v.At(i, j) != 1 {
				t.Errorf("PWCCA (%d, %d) = %v, want 1", i, j, v.At(i, j))
			}
		}
	}
}

// TestExtraMeasureProgress: a measure that takes long reports how far it
// has got, and a context cancelled meanwhile stops the job with its error.
func TestExtraMeasureProgress(t *testing.T) {
	root := t.TempDir()
	writeModel(t, root, "model-p", 3, 10, 20, 20, true, 9)
	extra, err := ParseExtraMeasures("shape:1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var within []int
	_, err = Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, ExtraMeasures: extra, Context: ctx,
		Progress: func(stage string, done, total int) {
			if strings.HasPrefix(stage, "shape:1 ") && done > 0 && done < total {
				within = append(within, done)
				cancel()
			}
		}})
	if len(within) == 0 {
		t.Fatal("no report from within the measure")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled within the measure: %v", err)
	}
}

// writeAndRead writes res to a new folder and returns the folder and its
// metrics.json read back.
func writeAndRead(t *testing.T, res *Result) (string, Metrics) {
	t.Helper()
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
	return out, back
}
