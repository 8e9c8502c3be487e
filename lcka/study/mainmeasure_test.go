package study

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/internal/describe"
	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/calibrate"
	"github.com/layersim/layersim/lcka/embed"
	"github.com/layersim/layersim/lcka/procrustes"
)

// jointDense returns the joint rows of the models' layers (en, then hi, per
// model, in the order given) as float64 matrices of their first n rows.
func jointDense(n int, models ...map[string][]artifacts.Matrix) []mat.Matrix {
	var reps []mat.Matrix
	for _, layers := range models {
		for _, lang := range []string{"en", "hi"} {
			for _, x := range layers[lang] {
				reps = append(reps, dense(x, n))
			}
		}
	}
	return reps
}

// TestAnalyzeMainMeasure: with Options.Main the study's matrix is the
// measure's, entry (i, j) the mean of the package's pairwise function on
// layers i, j and j, i; the embedding is placed from it (from cos θ for the
// shape distance), the pairs and the heatmaps read it, RSA is the same as
// beside CKA, and metrics.json names the measure with its formula.
func TestAnalyzeMainMeasure(t *testing.T) {
	root := t.TempDir()
	a := writeModel(t, root, "model-a", 3, 12, 30, 32, true, 11) // Hindi has 2 extra prompts
	b := writeModel(t, root, "model-b", 4, 9, 30, 30, false, 12)
	const n = 30
	reps := jointDense(n, a, b)
	base, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"svcca:4", "pwcca", "shape:1", "shape:0.5", "cknna:6", "mutual-knn:5"} {
		t.Run(name, func(t *testing.T) {
			e, err := ParseExtraMeasure(name)
			if err != nil {
				t.Fatal(err)
			}
			beside := "svcca"
			if e.Kind() == "svcca" {
				beside = "shape:1"
			}
			extra, err := ParseExtraMeasures(beside)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, Main: e, ExtraMeasures: extra})
			if err != nil {
				t.Fatal(err)
			}
			m := res.Metrics
			if m.Measure != name || m.MeasureFormula != e.Formula() || m.MeasureDistance != e.Distance() {
				t.Errorf("measure %q, formula %q, distance %v", m.Measure, m.MeasureFormula, m.MeasureDistance)
			}
			L := len(reps)
			if res.CKA.SymmetricDim() != L || len(m.Joint.Rows) != L {
				t.Fatalf("%d×%d matrix, %d joint rows, want %d", res.CKA.SymmetricDim(), res.CKA.SymmetricDim(), len(m.Joint.Rows), L)
			}
			pw := pairwise(e)
			for i := range L {
				for j := i; j < L; j++ {
					v1, err1 := pw(reps[i], reps[j])
					v2, err2 := pw(reps[j], reps[i])
					if err1 != nil || err2 != nil {
						t.Fatal(err1, err2)
					}
					want := (v1 + v2) / 2
					if i == j && e.Distance() {
						// AllPairs' diagonal is exactly 0, where arccos of
						// 1 − ε is √(2ε).
						want = 0
					}
					if got := res.CKA.At(i, j); math.Abs(got-want) > 1e-9 {
						t.Errorf("(%d, %d): %.15g, the pairwise function gives %.15g", i, j, got, want)
					}
				}
			}
			// The embedding of the matrix (cos θ for a distance).
			sim := mat.NewSymDense(L, nil)
			for i := range L {
				for j := i; j < L; j++ {
					v := res.CKA.At(i, j)
					if e.Distance() {
						v = math.Cos(v)
					}
					sim.SetSym(i, j, v)
				}
			}
			em, err := embed.Joint(sim, embed.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i, xyz := range m.Joint.XYZ {
				for c := range 3 {
					if xyz[c] != em.Coords.At(i, c) {
						t.Fatalf("joint row %d: %v, the embedding of the measure's similarity has %v", i, xyz, mat.Row(nil, i, em.Coords)[:3])
					}
				}
			}
			// Pairs and heatmaps read the same matrix.
			first := map[string]int{"org/model-a": 0, "org/model-b": 6}
			per := map[string]int{"org/model-a": 3, "org/model-b": 4}
			if len(m.Pairs) != 2 {
				t.Fatalf("%d pairs", len(m.Pairs))
			}
			for _, p := range m.Pairs {
				f, l := first[p.Model], per[p.Model]
				for k := range l {
					if p.CKAPerLayer[k] != res.CKA.At(f+k, f+l+k) || p.CKALastLayer[k] != res.CKA.At(f+k, f+l-1) {
						t.Errorf("%s layer %d: %g / %g, matrix %g / %g", p.Model, k+1, p.CKAPerLayer[k], p.CKALastLayer[k], res.CKA.At(f+k, f+l+k), res.CKA.At(f+k, f+l-1))
					}
				}
				if math.Abs(p.CKAMean-describe.Mean(p.CKAPerLayer)) > 1e-15 {
					t.Errorf("%s: mean %g of %v", p.Model, p.CKAMean, p.CKAPerLayer)
				}
				// The Procrustes residuals: from the similarity's blocks
				// where the pair's block is a Gram matrix, else none.
				var eig mat.EigenSym
				if !eig.Factorize(subSym(sim, f, 2*l), false) {
					t.Fatal("eigendecomposition failed")
				}
				vals := eig.Values(nil)
				if vals[0] < -1e-8*vals[len(vals)-1] {
					if p.ProcrustesRes != nil || p.ProcrustesSignatureRes != nil || !strings.Contains(strings.Join(m.Notes, "\n"), p.Model+" en–hi: no Procrustes residuals from "+name) {
						t.Errorf("%s: eigenvalue %g: Procrustes %v, notes %q", p.Model, vals[0], p.ProcrustesRes, m.Notes)
					}
					continue
				}
				gA, gB := subSym(sim, f, l), subSym(sim, f+l, l)
				wres, wrel, err := procrustes.LayerResidualFromCross(sub(sim, f, l, f+l, l), trace(gA), trace(gB))
				if err != nil {
					t.Fatal(err)
				}
				if p.ProcrustesRes == nil || p.ProcrustesSignatureRel == nil || *p.ProcrustesRes != wres || *p.ProcrustesRel != wrel {
					t.Errorf("%s: Procrustes %v, from the similarity's blocks %g %g", p.Model, p.ProcrustesRes, wres, wrel)
				}
			}
			want := fileSafe(name) + "_model-a_en__model-a_hi.json"
			found := false
			for _, h := range res.Heatmaps {
				if h.File != want {
					continue
				}
				found = true
				if h.Metric != name || h.Info.Kind != "cross-lingual" || !strings.HasPrefix(h.Title, name+" ") {
					t.Errorf("heatmap %s: metric %q, kind %q, title %q", h.File, h.Metric, h.Info.Kind, h.Title)
				}
				for i := range 3 {
					for j := range 3 {
						if h.Matrix[i][j] != res.CKA.At(i, 3+j) {
							t.Errorf("heatmap %s (%d, %d) = %g, matrix %g", h.File, i, j, h.Matrix[i][j], res.CKA.At(i, 3+j))
						}
					}
				}
			}
			if !found {
				t.Errorf("no heatmap %s", want)
			}
			if !mat.Equal(res.RSA, base.RSA) || m.RSAMethod != base.Metrics.RSAMethod {
				t.Error("RSA differs from the CKA study's")
			}
			if len(m.ExtraMeasures) != 1 || m.ExtraMeasures[0].Name != beside {
				t.Errorf("extra measures %+v, want %s", m.ExtraMeasures, beside)
			}
			out, back := writeAndRead(t, res)
			if back.Measure != name || back.MeasureFormula != e.Formula() || back.MeasureDistance != e.Distance() {
				t.Errorf("metrics.json: measure %q, formula %q, distance %v", back.Measure, back.MeasureFormula, back.MeasureDistance)
			}
			if _, err := os.Stat(filepath.Join(out, "heatmaps", want)); err != nil {
				t.Error(err)
			}
			if e.Kind() == "pwcca" || e.Kind() == "cknna" {
				if !strings.Contains(strings.Join(m.Notes, "\n"), name+" is not symmetric") {
					t.Errorf("no note on the symmetrized matrix: %q", m.Notes)
				}
			}
		})
	}
}

// TestMainMeasureStats: the bootstrap interval and bias, the depth map's
// intervals and the permutation test of a measure other than CKA equal a
// direct loop of the package's pairwise function over the prompts of the
// statistics (all, or StatsMaxN drawn from PCG(seed, 0x5eed)) and the
// resamples and permutations drawn as documented: resamples with
// replacement from PCG(seed, 0xb007), permutations from
// calibrate.Permutations of the seed, the same for every layer; a measure
// that is not symmetric (PWCCA, CKNNA) both ways round and averaged, as the
// study's matrix holds it; the interval centred on the value of all prompts,
// its spread scaled by √(StatsMaxN/n); a similarity and a distance.
func TestMainMeasureStats(t *testing.T) {
	root := t.TempDir()
	a := writeModel(t, root, "model-a", 3, 12, 30, 30, true, 21)
	const n, boot, perms, seed = 30, 24, 19, 5
	reps := jointDense(n, a)
	for _, c := range []struct {
		name string
		maxN int
	}{{"svcca:4", 0}, {"shape:1", 0}, {"pwcca", 0}, {"svcca:4", 20}, {"pwcca", 22}, {"cknna:5", 24}} {
		t.Run(fmt.Sprintf("%s/%d", c.name, c.maxN), func(t *testing.T) {
			e, err := ParseExtraMeasure(c.name)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, RSA: "none", Bootstrap: boot, Permutations: perms, StatsMaxN: c.maxN, Seed: seed, Main: e})
			if err != nil {
				t.Fatal(err)
			}
			p, d := res.Metrics.Pairs[0], res.Metrics.Depth[0]
			pw := pairwise(e)
			both := func(x, y mat.Matrix) float64 {
				v, err := pw(x, y)
				if err != nil {
					t.Fatal(err)
				}
				if k := e.Kind(); k == "pwcca" || k == "cknna" {
					w, err := pw(y, x)
					if err != nil {
						t.Fatal(err)
					}
					v = (v + w) / 2
				}
				return v
			}
			statsN, subset := n, make([]int, n)
			for i := range subset {
				subset[i] = i
			}
			if c.maxN > 0 {
				statsN = c.maxN
				subset = rand.New(rand.NewPCG(seed, 0x5eed)).Perm(n)[:statsN]
				sort.Ints(subset)
			}
			scale := math.Sqrt(float64(statsN) / n)
			var xs, ys []*mat.Dense
			observed := make([]float64, 3)
			for k := range 3 {
				xs, ys = append(xs, rowsDense(reps[k], subset)), append(ys, rowsDense(reps[3+k], subset))
				observed[k] = both(xs[k], ys[k])
			}
			if p.StatsN != statsN {
				t.Errorf("stats_n %d, want %d", p.StatsN, statsN)
			}
			rng := rand.New(rand.NewPCG(seed, 0xb007))
			means := make([]float64, boot)
			curves := make([][]float64, boot)
			for b := range boot {
				idx := make([]int, statsN)
				for i := range idx {
					idx[i] = rng.IntN(statsN)
				}
				for k := range xs {
					curves[b] = append(curves[b], both(rowsDense(xs[k], idx), rowsDense(ys[k], idx)))
				}
				means[b] = describe.Mean(curves[b])
			}
			sort.Float64s(means)
			mu := describe.Mean(means)
			lo, hi := p.CKAMean+(describe.Quantile(means, 0.025)-mu)*scale, p.CKAMean+(describe.Quantile(means, 0.975)-mu)*scale
			if p.CKACI95 == nil || math.Abs(p.CKACI95[0]-lo) > 1e-9 || math.Abs(p.CKACI95[1]-hi) > 1e-9 {
				t.Errorf("interval %v, direct loop [%g, %g]", p.CKACI95, lo, hi)
			}
			if bias := mu - describe.Mean(observed); p.CKABootBias == nil || math.Abs(*p.CKABootBias-bias) > 1e-9 {
				t.Errorf("bias %v, direct loop %g", p.CKABootBias, bias)
			}
			for k := range xs {
				col := make([]float64, boot)
				for b := range boot {
					col[b] = curves[b][k]
				}
				sort.Float64s(col)
				mk := describe.Mean(col)
				wlo, whi := p.CKAPerLayer[k]+(describe.Quantile(col, 0.025)-mk)*scale, p.CKAPerLayer[k]+(describe.Quantile(col, 0.975)-mk)*scale
				if len(d.Lo) != len(xs) || math.Abs(d.Lo[k]-wlo) > 1e-9 || math.Abs(d.Hi[k]-whi) > 1e-9 {
					t.Errorf("depth map layer %d: [%v, %v], direct loop [%g, %g]", k+1, d.Lo, d.Hi, wlo, whi)
				}
			}
			if d.ChangePoints == nil || d.Resamples != boot {
				t.Errorf("depth map: change points %v, %d resamples", d.ChangePoints, d.Resamples)
			}
			shuffles, err := calibrate.Permutations(statsN, calibrate.Options{Permutations: perms, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			null := make([]float64, perms)
			for q, perm := range shuffles {
				for k := range xs {
					null[q] += both(xs[k], permuted(ys[k], perm)) / float64(len(xs))
				}
			}
			mean, sd, cal, pv := nullStats(describe.Mean(observed), null, e.Distance())
			if p.PermP == nil || p.PermNullMean == nil || p.PermNullSD == nil || p.CKACalibrated == nil {
				t.Fatalf("permutation test missing: %+v", p)
			}
			if math.Abs(*p.PermNullMean-mean) > 1e-9 || math.Abs(*p.PermNullSD-sd) > 1e-9 || math.Abs(*p.CKACalibrated-cal) > 1e-6 || *p.PermP != pv {
				t.Errorf("null mean %g sd %g calibrated %g p %g; direct loop %g %g %g %g", *p.PermNullMean, *p.PermNullSD, *p.CKACalibrated, *p.PermP, mean, sd, cal, pv)
			}
			// Related languages: closer than every shuffle.
			if *p.PermP != 1.0/(perms+1) {
				t.Errorf("p = %g for related languages, want 1/%d", *p.PermP, perms+1)
			}
		})
	}
}

// rowsDense copies the rows idx of x, in that order.
func rowsDense(x mat.Matrix, idx []int) *mat.Dense {
	_, c := x.Dims()
	out := mat.NewDense(len(idx), c, nil)
	for i, r := range idx {
		for j := range c {
			out.Set(i, j, x.At(r, j))
		}
	}
	return out
}

// TestMainMeasureBadOptions: Main with minibatch CKA, also asked for
// beside itself, or with the CKA engine's memory budget, scratch folder or
// checkpoint, is an error.
func TestMainMeasureBadOptions(t *testing.T) {
	root := t.TempDir()
	writeModel(t, root, "model-a", 2, 6, 12, 12, true, 3)
	svcca, err := ParseExtraMeasure("svcca")
	if err != nil {
		t.Fatal(err)
	}
	same, err := ParseExtraMeasures("mutual-knn:3,svcca:0.99")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{Main: svcca, Minibatch: 4}, "minibatch is a way of computing CKA"},
		{Options{Main: svcca, ExtraMeasures: same}, "svcca is the study's measure and also asked for beside it (as svcca:0.99)"},
		{Options{Main: svcca, MemoryBudget: 1 << 30}, "are the CKA engine's"},
		{Options{Main: svcca, TempDir: root}, "are the CKA engine's"},
		{Options{Main: svcca, Checkpoint: filepath.Join(root, "ck")}, "are the CKA engine's"},
	} {
		c.opt.Artifacts, c.opt.Langs, c.opt.Bootstrap, c.opt.Permutations = root, []string{"en", "hi"}, -1, -1
		if _, err := Analyze(c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one saying %q", err, c.want)
		}
	}
}

// TestMainMeasureProcrustesUndefined: where the measure's matrix of a
// pair's layers is not a Gram matrix (SVCCA's here: no signatures have those
// dot products), the pair has no Procrustes residuals (null in
// metrics.json) and a note says why; the CKA study of the same layers has
// them.
func TestMainMeasureProcrustesUndefined(t *testing.T) {
	root := t.TempDir()
	writeModel(t, root, "model-a", 5, 16, 30, 30, true, 1)
	e, err := ParseExtraMeasure("svcca")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, RSA: "none", Main: e})
	if err != nil {
		t.Fatal(err)
	}
	var eig mat.EigenSym
	if !eig.Factorize(res.CKA, false) {
		t.Fatal("eigendecomposition failed")
	}
	if vals := eig.Values(nil); vals[0] > -1e-8*vals[len(vals)-1] {
		t.Fatalf("SVCCA's matrix is a Gram matrix here (eigenvalues %v): the case is not tested", vals)
	}
	p := res.Metrics.Pairs[0]
	if p.ProcrustesRes != nil || p.ProcrustesRel != nil || p.ProcrustesSignatureRes != nil || p.ProcrustesSignatureRel != nil {
		t.Errorf("Procrustes residuals %v %v %v %v from a matrix that is not a Gram matrix", p.ProcrustesRes, p.ProcrustesRel, p.ProcrustesSignatureRes, p.ProcrustesSignatureRel)
	}
	if notes := strings.Join(res.Metrics.Notes, "\n"); !strings.Contains(notes, "org/model-a en–hi: no Procrustes residuals from svcca: the pair's similarity block is not a Gram matrix") {
		t.Errorf("no note on the residuals:\n%s", notes)
	}
	_, back := writeAndRead(t, res)
	if q := back.Pairs[0]; q.ProcrustesRes != nil || q.ProcrustesSignatureRel != nil {
		t.Errorf("metrics.json: Procrustes %v %v, want null", q.ProcrustesRes, q.ProcrustesSignatureRel)
	}
	base, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, RSA: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if q := base.Metrics.Pairs[0]; q.ProcrustesRes == nil || q.ProcrustesSignatureRes == nil {
		t.Error("the CKA study has no Procrustes residuals")
	}
}

// TestMainMeasureNoStatistics: with Main, counts of 0 run no bootstrap and
// no permutations, and a note says so; the note on the prompts of the
// statistics appears only when they run (Main or CKA).
func TestMainMeasureNoStatistics(t *testing.T) {
	root := t.TempDir()
	writeModel(t, root, "model-a", 2, 6, 12, 12, true, 3)
	svcca, err := ParseExtraMeasure("svcca")
	if err != nil {
		t.Fatal(err)
	}
	const subsetNote = "bootstrap and permutation statistics use 10 of the 12 prompts"
	for _, c := range []struct {
		opt        Options
		asked      bool // the note that they run only when asked for
		subsetNote bool
	}{
		{Options{Main: svcca, StatsMaxN: 10}, true, false},
		{Options{Main: svcca, StatsMaxN: 10, Bootstrap: 5}, true, true},
		{Options{StatsMaxN: 10, Bootstrap: -1, Permutations: -1}, false, false},
		{Options{StatsMaxN: 10, Bootstrap: 5, Permutations: -1}, false, true},
	} {
		c.opt.Artifacts, c.opt.Langs, c.opt.RSA = root, []string{"en", "hi"}, "none"
		res, err := Analyze(c.opt)
		if err != nil {
			t.Fatal(err)
		}
		notes := strings.Join(res.Metrics.Notes, "\n")
		p := res.Metrics.Pairs[0]
		if strings.Contains(notes, "run only when asked for") != c.asked || strings.Contains(notes, subsetNote) != c.subsetNote {
			t.Errorf("main %q, bootstrap %d: notes\n%s", c.opt.Main, c.opt.Bootstrap, notes)
		}
		if (p.CKACI95 != nil) != (c.opt.Bootstrap > 0) || p.PermP != nil {
			t.Errorf("main %q, bootstrap %d: interval %v, p %v", c.opt.Main, c.opt.Bootstrap, p.CKACI95, p.PermP)
		}
	}
}
