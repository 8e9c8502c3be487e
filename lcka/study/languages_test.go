package study

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/cka"
)

// writeLangs writes one model's layers in every language of langs: a shared
// latent (n × 5) mapped by a shared per-layer map plus a language-specific
// one weighted by shift[lang], plus noise.
func writeLangs(t *testing.T, root, slug string, langs []string, shift map[string]float64, layers, d, n int, seed uint64) map[string][]artifacts.Matrix {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	latent := make([]float64, n*5)
	for i := range latent {
		latent[i] = rng.NormFloat64()
	}
	shared := make([][]float64, layers)
	for k := range shared {
		shared[k] = make([]float64, 5*d)
		for i := range shared[k] {
			shared[k][i] = rng.NormFloat64()
		}
	}
	out := map[string][]artifacts.Matrix{}
	for li, lang := range langs {
		lrng := rand.New(rand.NewPCG(seed, uint64(10+li)))
		var ms []artifacts.Matrix
		for k := 0; k < layers; k++ {
			w := make([]float64, 5*d)
			for i := range w {
				w[i] = shared[k][i] + shift[lang]*lrng.NormFloat64()
			}
			data := make([]float32, n*d)
			for i := 0; i < n; i++ {
				for j := 0; j < d; j++ {
					v := 0.0
					for q := 0; q < 5; q++ {
						v += latent[i*5+q] * w[q*d+j]
					}
					data[i*d+j] = float32(v + (0.3+0.2*float64(k))*lrng.NormFloat64())
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

// TestLanguageMatrices: four languages; every entry of the language ×
// language matrices equals cka.Standardized run here in float64 on the same
// activations, and the mean over layers is the pair's cka_mean.
func TestLanguageMatrices(t *testing.T) {
	root := t.TempDir()
	langs := []string{"en", "hi", "fr", "de"}
	shift := map[string]float64{"en": 0.2, "hi": 1.5, "fr": 0.4, "de": 0.6}
	a := writeLangs(t, root, "model-a", langs, shift, 3, 10, 30, 1)
	b := writeLangs(t, root, "model-b", langs, shift, 2, 14, 30, 2)
	res, err := Analyze(Options{Artifacts: root, Langs: langs, Bootstrap: -1, Permutations: -1, RSA: "none"})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Metrics
	if len(m.Pairs) != 12 {
		t.Errorf("%d pairs, want 6 per model", len(m.Pairs))
	}
	if len(m.LanguageMatrices) != 2 {
		t.Fatalf("%d language matrices, want 2", len(m.LanguageMatrices))
	}
	for mi, layers := range []map[string][]artifacts.Matrix{a, b} {
		lm := m.LanguageMatrices[mi]
		if lm.Model != m.Models[mi].ID || len(lm.Languages) != 4 || len(lm.CKAPerLayer) != len(layers["en"]) {
			t.Fatalf("matrix %d: model %s, languages %v, %d layers", mi, lm.Model, lm.Languages, len(lm.CKAPerLayer))
		}
		for ai, la := range langs {
			for bi, lb := range langs {
				mean := 0.0
				for k := range layers[la] {
					want, err := cka.Standardized(dense(layers[la][k], 30), dense(layers[lb][k], 30))
					if err != nil {
						t.Fatal(err)
					}
					mean += want / float64(len(layers[la]))
					if got := lm.CKAPerLayer[k][ai][bi]; math.Abs(got-want) > 2e-5 {
						t.Errorf("%s layer %d %s–%s: %g, pairwise %g", lm.Model, k+1, la, lb, got, want)
					}
				}
				if got := lm.CKAMean[ai][bi]; math.Abs(got-mean) > 2e-5 {
					t.Errorf("%s %s–%s: mean %g, pairwise %g", lm.Model, la, lb, got, mean)
				}
			}
		}
		for _, p := range m.Pairs {
			if p.Model != lm.Model {
				continue
			}
			ai, bi := index(langs, p.LangA), index(langs, p.LangB)
			if math.Abs(lm.CKAMean[ai][bi]-p.CKAMean) > 1e-12 {
				t.Errorf("%s %s–%s: matrix %g, pair %g", p.Model, p.LangA, p.LangB, lm.CKAMean[ai][bi], p.CKAMean)
			}
		}
	}
	// Hindi, the most shifted language, is the least similar to English.
	lm := m.LanguageMatrices[0]
	if !(lm.CKAMean[0][1] < lm.CKAMean[0][2]) {
		t.Errorf("en–hi %g not below en–fr %g", lm.CKAMean[0][1], lm.CKAMean[0][2])
	}
	if d := m.LanguageDiscriminant; d == nil || len(d.Directions) == 0 || len(d.Centroids) != 4 {
		t.Errorf("language discriminant %+v", d)
	}
}

func index(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// basis returns an orthonormal basis whose first vector is along u.
func basis(u [3]float64) (e1, e2, e3 [3]float64) {
	n := math.Sqrt(u[0]*u[0] + u[1]*u[1] + u[2]*u[2])
	e1 = [3]float64{u[0] / n, u[1] / n, u[2] / n}
	a := [3]float64{1, 0, 0}
	if math.Abs(e1[0]) > 0.9 {
		a = [3]float64{0, 1, 0}
	}
	e2 = cross(e1, a)
	n = math.Sqrt(dot3(e2, e2))
	e2 = [3]float64{e2[0] / n, e2[1] / n, e2[2] / n}
	e3 = cross(e1, e2)
	return
}

func cross(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

func dot3(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

// TestFisherLDAKnownDirection: languages whose means lie along a known
// direction u, with within-language noise largest along a direction
// orthogonal to it (so the direction of largest variance is not u): the
// first discriminant is ±u.
func TestFisherLDAKnownDirection(t *testing.T) {
	for _, tc := range []struct {
		name    string
		u       [3]float64
		centers []float64
	}{
		{"two languages", [3]float64{1, 2, -1}, []float64{-1, 1}},
		{"three languages", [3]float64{0.3, -0.2, 1}, []float64{-2, 0, 1.5}},
		{"four languages", [3]float64{-1, 0.5, 0.5}, []float64{-1.5, -0.5, 0.5, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(len(tc.centers))))
			e1, e2, e3 := basis(tc.u)
			const per = 200
			x := mat.NewDense(per*len(tc.centers), 3, nil)
			label := make([]int, per*len(tc.centers))
			for g, c := range tc.centers {
				for q := 0; q < per; q++ {
					i := g*per + q
					a, b, w := c+0.3*rng.NormFloat64(), 3*rng.NormFloat64(), 0.5*rng.NormFloat64()
					for j := 0; j < 3; j++ {
						x.Set(i, j, a*e1[j]+b*e2[j]+w*e3[j])
					}
					label[i] = g
				}
			}
			dirs, ratio, err := FisherLDA(x, label, len(tc.centers))
			if err != nil {
				t.Fatal(err)
			}
			if _, nd := dirs.Dims(); nd != min(len(tc.centers)-1, 3) || len(ratio) != nd {
				t.Fatalf("%d directions, %d ratios", nd, len(ratio))
			}
			got := [3]float64{dirs.At(0, 0), dirs.At(1, 0), dirs.At(2, 0)}
			if c := math.Abs(dot3(got, e1)); c < 0.995 {
				t.Errorf("first direction %v: |cos| with u = %g", got, c)
			}
			for j := 1; j < len(ratio); j++ {
				if ratio[j] > ratio[j-1] || ratio[j] > 0.05*ratio[0] {
					t.Errorf("ratios %v: the means are collinear, the later ones should be small", ratio)
				}
			}
		})
	}
}

// TestFisherLDATwoGroupsIsRegression: with two groups the discriminant is
// the least-squares regression of the ±1 label on the coordinates (solved
// here by QR), and η² = λ/(1+λ) is its R².
func TestFisherLDATwoGroupsIsRegression(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const m = 150
	x := mat.NewDense(m, 3, nil)
	label := make([]int, m)
	y := make([]float64, m)
	for i := 0; i < m; i++ {
		label[i] = i % 2
		y[i] = 1 - 2*float64(i%2)
		for j := 0; j < 3; j++ {
			x.Set(i, j, rng.NormFloat64()*float64(j+1)+0.4*y[i]*float64(2-j))
		}
	}
	dirs, ratio, err := FisherLDA(x, label, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Regression with an intercept.
	a := mat.NewDense(m, 4, nil)
	for i := 0; i < m; i++ {
		a.Set(i, 0, 1)
		for j := 0; j < 3; j++ {
			a.Set(i, j+1, x.At(i, j))
		}
	}
	var beta mat.VecDense
	if err := beta.SolveVec(a, mat.NewVecDense(m, y)); err != nil {
		t.Fatal(err)
	}
	b := [3]float64{beta.AtVec(1), beta.AtVec(2), beta.AtVec(3)}
	nb := math.Sqrt(dot3(b, b))
	d := [3]float64{dirs.At(0, 0), dirs.At(1, 0), dirs.At(2, 0)}
	if c := math.Abs(dot3(b, d)) / nb; math.Abs(c-1) > 1e-9 {
		t.Errorf("|cos| between discriminant %v and regression %v = %g", d, b, c)
	}
	var fit mat.VecDense
	fit.MulVec(a, &beta)
	var ssr, sst float64
	for i := 0; i < m; i++ {
		ssr += sq(y[i] - fit.AtVec(i))
		sst += sq(y[i])
	}
	if r2 := 1 - ssr/sst; math.Abs(r2-ratio[0]/(1+ratio[0])) > 1e-9 {
		t.Errorf("R² %g, η² %g", r2, ratio[0]/(1+ratio[0]))
	}
}

// TestLanguageDiscriminantAgreesWithAxis: with two languages the first
// discriminant's scores correlate with the ±1 label at R ≥ |r| of the
// language axis's coordinate, with the same sign as the label (the first
// language scores higher).
func TestLanguageDiscriminantAgreesWithAxis(t *testing.T) {
	root := t.TempDir()
	langs := []string{"en", "hi"}
	writeLangs(t, root, "model-a", langs, map[string]float64{"en": 0.1, "hi": 1.2}, 4, 10, 30, 5)
	writeLangs(t, root, "model-b", langs, map[string]float64{"en": 0.1, "hi": 1.2}, 3, 8, 30, 6)
	res, err := Analyze(Options{Artifacts: root, Langs: langs, Bootstrap: -1, Permutations: -1, RSA: "none"})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Metrics
	ax, ld := m.LanguageAxis, m.LanguageDiscriminant
	if ax == nil || ld == nil || len(ld.Directions) != 1 {
		t.Fatalf("axis %+v, discriminant %+v", ax, ld)
	}
	var score, label []float64
	for i, r := range m.Joint.Rows {
		score = append(score, dot3(m.Joint.XYZ[i], ld.Directions[0]))
		l := -1.0
		if r.Lang == "en" {
			l = 1
		}
		label = append(label, l)
	}
	r := pearsonTest(score, label)
	if r <= 0 || r < math.Abs(ax.CorrOverall)-1e-9 {
		t.Errorf("discriminant r %g, axis r %g", r, ax.CorrOverall)
	}
	if math.Abs(r*r-ld.Eta2[0]) > 1e-9 {
		t.Errorf("r² %g, η² %g", r*r, ld.Eta2[0])
	}
	if ld.Centroids["en"][0] <= ld.Centroids["hi"][0] {
		t.Errorf("centroids %v: en should score higher", ld.Centroids)
	}
}

func pearsonTest(x, y []float64) float64 {
	var mx, my float64
	for i := range x {
		mx += x[i] / float64(len(x))
		my += y[i] / float64(len(y))
	}
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += sq(x[i] - mx)
		syy += sq(y[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}

func TestFisherLDAErrors(t *testing.T) {
	x := mat.NewDense(4, 3, []float64{1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6})
	for _, tc := range []struct {
		name  string
		label []int
		k     int
		want  error
	}{
		{"one group", []int{0, 0, 0, 0}, 1, ErrDiscriminant},
		{"empty group", []int{0, 0, 1, 1}, 3, ErrDiscriminant},
		{"singular scatter", []int{0, 0, 1, 1}, 2, ErrDiscriminant},
		{"label out of range", []int{0, 5, 1, 1}, 2, nil},
		{"wrong length", []int{0, 1}, 2, nil},
	} {
		_, _, err := FisherLDA(x, tc.label, tc.k)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestFisherLDAAgainstNumpy: four groups in 3D against numpy's eigenvectors
// of inv(S_W)·S_B (testdata/lda_ref.json, from testdata/gen_lda.py with
// numpy 1.24.2; directions compared up to sign).
func TestFisherLDAAgainstNumpy(t *testing.T) {
	raw, err := os.ReadFile("testdata/lda_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		X          [][]float64  `json:"x"`
		Label      []int        `json:"label"`
		Ratio      []float64    `json:"ratio"`
		Directions [][3]float64 `json:"directions"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil || len(ref.Ratio) != 3 {
		t.Fatalf("lda_ref.json: %v", err)
	}
	x := mat.NewDense(len(ref.X), 3, nil)
	for i, r := range ref.X {
		x.SetRow(i, r)
	}
	dirs, ratio, err := FisherLDA(x, ref.Label, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(ratio) != 3 {
		t.Fatalf("%d directions, want 3", len(ratio))
	}
	for j := range ratio {
		if math.Abs(ratio[j]-ref.Ratio[j]) > 1e-10*math.Max(1, ref.Ratio[j]) {
			t.Errorf("ratio %d: %g, numpy %g", j, ratio[j], ref.Ratio[j])
		}
		d := [3]float64{dirs.At(0, j), dirs.At(1, j), dirs.At(2, j)}
		if c := math.Abs(dot3(d, ref.Directions[j])); math.Abs(c-1) > 1e-9 {
			t.Errorf("direction %d: %v, numpy %v (|cos| %g)", j, d, ref.Directions[j], c)
		}
	}
}
