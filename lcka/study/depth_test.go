package study

import (
	"encoding/json"
	"github.com/layersim/layersim/internal/describe"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/artifacts"
)

// writeStepModel writes a model whose Hindi layer k shares the English
// prompts' latent factors when related(k) and has independent ones
// otherwise. Every layer maps the latent factors through the same weights
// with fresh noise, so the cross-lingual CKA is the same at every related
// layer (and at every unrelated one) up to sampling noise.
func writeStepModel(t *testing.T, root, slug string, layers, n, d int, related func(k int) bool, seed uint64) map[string][]artifacts.Matrix {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	norm := func(m int) []float64 {
		v := make([]float64, m)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}
	latent, other := norm(n*5), norm(n*5)
	w := map[string][]float64{"en": norm(5 * d), "hi": norm(5 * d)}
	out := map[string][]artifacts.Matrix{}
	for _, lang := range []string{"en", "hi"} {
		var ms []artifacts.Matrix
		for k := 0; k < layers; k++ {
			z := latent
			if lang == "hi" && !related(k) {
				z = other
			}
			data := make([]float32, n*d)
			for i := 0; i < n; i++ {
				for j := 0; j < d; j++ {
					v := 0.0
					for q := 0; q < 5; q++ {
						v += z[i*5+q] * w[lang][q*d+j]
					}
					data[i*d+j] = float32(v + 0.7*rng.NormFloat64())
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

// standardizedRows returns the first n rows of m with every column centred
// and scaled to unit standard deviation (ddof 0) over those n rows.
func standardizedRows(m artifacts.Matrix, n int) *mat.Dense {
	x := dense(m, n)
	for j := 0; j < m.Cols; j++ {
		mean, ss := 0.0, 0.0
		for i := 0; i < n; i++ {
			mean += x.At(i, j) / float64(n)
		}
		for i := 0; i < n; i++ {
			ss += (x.At(i, j) - mean) * (x.At(i, j) - mean)
		}
		sd := math.Sqrt(ss / float64(n))
		for i := 0; i < n; i++ {
			x.Set(i, j, (x.At(i, j)-mean)/sd)
		}
	}
	return x
}

// linearCKAOfRows is linear CKA of the rows idx of x and y, their columns
// centred over those rows: ‖XᵀY‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F), in float64.
func linearCKAOfRows(x, y *mat.Dense, idx []int) float64 {
	pick := func(z *mat.Dense) *mat.Dense {
		_, c := z.Dims()
		out := mat.NewDense(len(idx), c, nil)
		for i, r := range idx {
			out.SetRow(i, z.RawRowView(r))
		}
		for j := 0; j < c; j++ {
			mean := 0.0
			for i := range idx {
				mean += out.At(i, j) / float64(len(idx))
			}
			for i := range idx {
				out.Set(i, j, out.At(i, j)-mean)
			}
		}
		return out
	}
	xs, ys := pick(x), pick(y)
	var xy, xx, yy mat.Dense
	xy.Mul(xs.T(), ys)
	xx.Mul(xs.T(), xs)
	yy.Mul(ys.T(), ys)
	f := func(m *mat.Dense) float64 { return mat.Norm(m, 2) }
	return f(&xy) * f(&xy) / (f(&xx) * f(&yy))
}

// TestDepthAgainstDefinition: each layer's bootstrap interval in
// Metrics.Depth equals the one computed directly on the same resamples: the
// prompts drawn with replacement, the features standardized over all
// prompts (as the study's resamples keep their scale), centred again over
// the resample, and linear CKA in float64.
func TestDepthAgainstDefinition(t *testing.T) {
	const n, L, boot, seed = 30, 5, 150, 21
	root := t.TempDir()
	layers := writeStepModel(t, root, "model-a", L, n, 7, func(k int) bool { return k < 3 }, 3)
	res, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: boot, Permutations: -1, RSA: "none", Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Metrics.Depth) != 1 {
		t.Fatalf("%d depth entries, want 1", len(res.Metrics.Depth))
	}
	dp := res.Metrics.Depth[0]
	if dp.Model != "org/model-a" || dp.Langs != [2]string{"en", "hi"} || len(dp.CKA) != L || len(dp.Lo) != L || len(dp.Hi) != L || dp.Resamples != boot {
		t.Fatalf("depth entry %+v", dp)
	}
	for k := range dp.Layers {
		if dp.Layers[k] != res.Metrics.Joint.Rows[k].Layer || dp.CKA[k] != res.Metrics.Pairs[0].CKAPerLayer[k] {
			t.Errorf("position %d: layer %d, CKA %g; want layer %d, CKA %g", k, dp.Layers[k], dp.CKA[k], res.Metrics.Joint.Rows[k].Layer, res.Metrics.Pairs[0].CKAPerLayer[k])
		}
	}
	// The draws of pairStats: model 0's generator, bootstrap first.
	gen := rand.New(rand.NewPCG(seed, 0xb007))
	vals := make([][]float64, L)
	for b := 0; b < boot; b++ {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = gen.IntN(n)
		}
		for k := 0; k < L; k++ {
			x, y := standardizedRows(layers["en"][k], n), standardizedRows(layers["hi"][k], n)
			vals[k] = append(vals[k], linearCKAOfRows(x, y, idx))
		}
	}
	for k := 0; k < L; k++ {
		sort.Float64s(vals[k])
		mean := describe.Mean(vals[k])
		lo, hi := dp.CKA[k]+describe.Quantile(vals[k], 0.025)-mean, dp.CKA[k]+describe.Quantile(vals[k], 0.975)-mean
		t.Logf("layer %d: CKA %.4f [%.4f, %.4f]; differences %.1e, %.1e", k, dp.CKA[k], dp.Lo[k], dp.Hi[k], dp.Lo[k]-lo, dp.Hi[k]-hi)
		if math.Abs(dp.Lo[k]-lo) > 1e-5 || math.Abs(dp.Hi[k]-hi) > 1e-5 {
			t.Errorf("layer %d: interval [%.7f, %.7f], by definition [%.7f, %.7f]", k, dp.Lo[k], dp.Hi[k], lo, hi)
		}
		if !(dp.Lo[k] < dp.CKA[k] && dp.CKA[k] < dp.Hi[k]) {
			t.Errorf("layer %d: CKA %g outside its interval [%g, %g]", k, dp.CKA[k], dp.Lo[k], dp.Hi[k])
		}
	}
}

// TestDepthChangePoints: artifacts whose Hindi layers share the English
// latent factors up to a known layer and not after it give one change
// point there, with a negative effect whose interval excludes 0; artifacts
// with the same relation at every layer give none.
func TestDepthChangePoints(t *testing.T) {
	const n, L = 60, 10
	for _, tc := range []struct {
		name string
		step int // the first unrelated layer; L for none
	}{{"step at 6", 6}, {"step at 2", 2}, {"flat", L}} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeStepModel(t, root, "model-a", L, n, 8, func(k int) bool { return k < tc.step }, 7)
			res, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: 400, Permutations: -1, RSA: "none", Seed: 2})
			if err != nil {
				t.Fatal(err)
			}
			dp := res.Metrics.Depth[0]
			if dp.ChangePoints == nil {
				t.Fatal("change points not computed")
			}
			if tc.step == L {
				if len(dp.ChangePoints) != 0 {
					t.Errorf("flat curve %v: change points %+v", dp.CKA, dp.ChangePoints)
				}
				return
			}
			if len(dp.ChangePoints) != 1 {
				t.Fatalf("curve %v: change points %+v, want one at position %d", dp.CKA, dp.ChangePoints, tc.step)
			}
			cp := dp.ChangePoints[0]
			if cp.Index != tc.step || cp.Layer != dp.Layers[tc.step] || cp.Step != 1 || cp.Segment != [2]int{0, L} {
				t.Errorf("change point %+v, want position %d (layer %d)", cp, tc.step, dp.Layers[tc.step])
			}
			want := describe.Mean(dp.CKA[tc.step:]) - describe.Mean(dp.CKA[:tc.step])
			if math.Abs(cp.Effect-want) > 1e-12 || cp.Effect > -0.3 || !(cp.EffectCI95[0] <= cp.Effect && cp.Effect <= cp.EffectCI95[1] && cp.EffectCI95[1] < 0) {
				t.Errorf("effect %g in %v, want %g < −0.3 with an interval below 0", cp.Effect, cp.EffectCI95, want)
			}
			if !(cp.Gain > cp.Threshold) || cp.Threshold <= 0 {
				t.Errorf("gain %g, threshold %g", cp.Gain, cp.Threshold)
			}
		})
	}
}

// ssd is the sum of squared deviations of x from its mean.
func ssd(x []float64) float64 {
	m, s := describe.Mean(x), 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return s
}

// TestFindChangePoints: on curves with independent Gaussian noise per layer
// and bootstrap curves drawn from the same noise around them, the gain of
// each change equals the drop in the sum of squared deviations computed
// directly; steps are found; and flat curves give a change in about 5% of
// trials (the level of the first test), not more.
func TestFindChangePoints(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const L, B, sd = 12, 300, 0.02
	noisy := func(truth []float64) ([]float64, [][]float64) {
		curve := make([]float64, L)
		for k := range curve {
			curve[k] = truth[k] + sd*rng.NormFloat64()
		}
		boot := make([][]float64, B)
		for b := range boot {
			boot[b] = make([]float64, L)
			for k := range boot[b] {
				boot[b][k] = curve[k] + 0.05 + sd*rng.NormFloat64() // a bias, as resampling adds
			}
		}
		return curve, boot
	}
	// Two steps: down at 4, up at 9.
	truth := make([]float64, L)
	for k := range truth {
		truth[k] = 0.8
		if k >= 4 && k < 9 {
			truth[k] = 0.5
		}
	}
	curve, boot := noisy(truth)
	cps, err := FindChangePoints(curve, boot, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The two steps are the first two changes found; each later test, on a
	// flat part, finds a change at 5% (this seed gives one at 6).
	byStep := map[int]int{}
	for _, cp := range cps {
		byStep[cp.Step] = cp.Index
	}
	if len(cps) < 2 || byStep[1] != 4 || byStep[2] != 9 {
		t.Fatalf("change points %+v, want positions 4 and 9 first", cps)
	}
	for _, cp := range cps {
		s, e, t0 := cp.Segment[0], cp.Segment[1], cp.Index
		if g := ssd(curve[s:e]) - ssd(curve[s:t0]) - ssd(curve[t0:e]); math.Abs(cp.Gain-g) > 1e-12 {
			t.Errorf("position %d: gain %g, directly %g", t0, cp.Gain, g)
		}
	}
	for _, cp := range cps {
		if cp.Index == 4 && cp.Effect > -0.15 || cp.Index == 9 && cp.Effect < 0.25 {
			t.Errorf("position %d: effect %g; want below −0.15 at 4 (the step, diluted by the segment) and about +0.3 at 9", cp.Index, cp.Effect)
		}
	}
	// Flat curves.
	const trials = 400
	found := 0
	for range trials {
		curve, boot := noisy(make([]float64, L))
		cps, err := FindChangePoints(curve, boot, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(cps) > 0 {
			found++
		}
	}
	rate := float64(found) / trials
	t.Logf("flat curves: a change in %.3f of %d trials", rate, trials)
	if rate < 0.02 || rate > 0.09 {
		t.Errorf("flat curves: a change in %.3f of trials, want about 0.05", rate)
	}
}

// TestFindChangePointsErrors: bad input gets an error, not a panic.
func TestFindChangePointsErrors(t *testing.T) {
	ok := [][]float64{{1, 2}, {1, 2}}
	for _, tc := range []struct {
		name  string
		curve []float64
		boot  [][]float64
		scale float64
	}{
		{"empty curve", nil, ok, 1},
		{"one resample", []float64{1, 2}, ok[:1], 1},
		{"short resample", []float64{1, 2}, [][]float64{{1, 2}, {1}}, 1},
		{"NaN value", []float64{1, math.NaN()}, ok, 1},
		{"NaN resample", []float64{1, 2}, [][]float64{{1, 2}, {math.Inf(1), 2}}, 1},
		{"zero scale", []float64{1, 2}, ok, 0},
	} {
		if _, err := FindChangePoints(tc.curve, tc.boot, tc.scale); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	cps, err := FindChangePoints([]float64{0.5}, ok, 1)
	if err == nil {
		t.Errorf("a one-layer curve with two-layer resamples: %+v, no error", cps)
	}
	cps, err = FindChangePoints([]float64{0.5}, [][]float64{{0.5}, {0.6}}, 1)
	if err != nil || cps == nil || len(cps) != 0 {
		t.Errorf("one layer: %+v, %v; want none", cps, err)
	}
}

// TestFindChangePointsAgainstNumpy: a drop and a ramp with noise correlated
// across layers, m-out-of-n scale 0.8, against the segmentation written from
// its definition in numpy (testdata/depth_ref.json, from
// testdata/gen_depth.py with numpy 1.24.2). The ramp comes out as a
// staircase of changes, as the package documentation says.
func TestFindChangePointsAgainstNumpy(t *testing.T) {
	raw, err := os.ReadFile("testdata/depth_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Scale        float64       `json:"scale"`
		Curve        []float64     `json:"curve"`
		Boot         [][]float64   `json:"boot"`
		ChangePoints []ChangePoint `json:"change_points"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil || len(ref.ChangePoints) == 0 {
		t.Fatalf("depth_ref.json: %v, %d change points", err, len(ref.ChangePoints))
	}
	got, err := FindChangePoints(ref.Curve, ref.Boot, ref.Scale)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ref.ChangePoints) {
		t.Fatalf("%d change points %+v, numpy %d %+v", len(got), got, len(ref.ChangePoints), ref.ChangePoints)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-10*math.Max(1, math.Abs(b)) }
	for i, w := range ref.ChangePoints {
		g := got[i]
		if g.Index != w.Index || g.Segment != w.Segment || g.Step != w.Step || !near(g.Effect, w.Effect) ||
			!near(g.EffectCI95[0], w.EffectCI95[0]) || !near(g.EffectCI95[1], w.EffectCI95[1]) ||
			!near(g.Gain, w.Gain) || !near(g.Threshold, w.Threshold) {
			t.Errorf("change point %d: %+v, numpy %+v", i, g, w)
		}
	}
}
