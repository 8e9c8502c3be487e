package study

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// LanguageMatrix is one model's language × language matrix of cross-lingual
// CKA (or of Options.Main's measure): entry [a][b] pairs layer k of
// Languages[a] with layer k of Languages[b].
type LanguageMatrix struct {
	Model     string   `json:"model"`
	Languages []string `json:"languages"`
	// CKAMean[a][b] is the mean over layers of the CKA between the same layer
	// in languages a and b (the pair's cka_mean; 1 on the diagonal for the
	// standardized and linear measures, 0 for the shape distance).
	CKAMean [][]float64 `json:"cka_mean"`
	// CKAPerLayer[k][a][b] is that CKA at the k-th layer (0-based).
	CKAPerLayer [][][]float64 `json:"cka_per_layer"`
}

// languageMatrices reads the language × language matrices of every model from
// the joint CKA matrix.
func languageMatrices(res *Result, blocks []block) []LanguageMatrix {
	m := &res.Metrics
	byModel := map[int][]block{}
	for _, b := range blocks {
		byModel[b.model] = append(byModel[b.model], b)
	}
	var out []LanguageMatrix
	for mi, model := range m.Models {
		bs := byModel[mi]
		K, L := len(bs), model.Layers
		lm := LanguageMatrix{Model: model.ID, CKAMean: square(K)}
		for _, b := range bs {
			lm.Languages = append(lm.Languages, b.lang)
		}
		for k := 0; k < L; k++ {
			per := square(K)
			for a := range bs {
				for b := range bs {
					v := res.CKA.At(bs[a].first+k, bs[b].first+k)
					per[a][b] = v
					lm.CKAMean[a][b] += v / float64(L)
				}
			}
			lm.CKAPerLayer = append(lm.CKAPerLayer, per)
		}
		out = append(out, lm)
	}
	return out
}

func square(k int) [][]float64 {
	out := make([][]float64, k)
	for i := range out {
		out[i] = make([]float64, k)
	}
	return out
}

// LanguageDiscriminant is the language axis for any number of languages: the
// Fisher linear discriminants of the language labels on the 3D joint
// coordinates.
type LanguageDiscriminant struct {
	Languages []string `json:"languages"`
	// Directions[j] is the j-th discriminant direction in the joint (x, y,
	// z) space, scaled to unit length: at most min(languages − 1, 3) of
	// them, by decreasing Ratio. The first is oriented so that the first
	// language's mean score is above the others' mean.
	Directions [][3]float64 `json:"directions"`
	// Ratio[j] is Fisher's criterion λ_j = between-language over
	// within-language scatter of the scores along direction j.
	Ratio []float64 `json:"ratio"`
	// Eta2[j] = λ_j/(1+λ_j) is the share of the scores' variance that the
	// language explains (the correlation ratio η²).
	Eta2 []float64 `json:"eta2"`
	// Centroids[language][j] is the mean score of a language along
	// direction j.
	Centroids map[string][]float64 `json:"centroids"`
	// Eta2PerModel is η² along the first direction within each model.
	Eta2PerModel map[string]float64 `json:"eta2_per_model"`
}

// ErrDiscriminant is returned by FisherLDA when the discriminants are
// undefined: fewer than two labelled groups, or within-group scatter that is
// singular.
var ErrDiscriminant = errors.New("linear discriminant undefined")

// FisherLDA finds the Fisher linear discriminants of the rows of x (m × d)
// labelled by label (values 0..k−1, every one present): the directions w
// that maximize wᵀS_B w / wᵀS_W w, with S_B the between-group scatter
// Σ_g n_g (μ_g − μ)(μ_g − μ)ᵀ and S_W the within-group scatter
// Σ_i (x_i − μ_{g(i)})(x_i − μ_{g(i)})ᵀ. It solves S_B w = λ S_W w through
// the Cholesky factor of S_W (gonum's Cholesky and EigenSym) and returns the
// min(k−1, d) directions with positive λ, unit-length, by decreasing λ.
//
// With two groups the only direction is ∝ S_W⁻¹(μ_0 − μ_1), the
// least-squares regression of the ±1 label on x, so the correlation of the
// score with the label is the multiple correlation R of the label on all the
// coordinates, with R² = η² = λ/(1+λ).
func FisherLDA(x mat.Matrix, label []int, k int) (dirs *mat.Dense, ratio []float64, err error) {
	m, d := x.Dims()
	if len(label) != m {
		return nil, nil, fmt.Errorf("study: %d rows but %d labels", m, len(label))
	}
	if k < 2 {
		return nil, nil, fmt.Errorf("study: %w: %d group(s)", ErrDiscriminant, k)
	}
	counts := make([]int, k)
	means := mat.NewDense(k, d, nil)
	mu := make([]float64, d)
	for i, g := range label {
		if g < 0 || g >= k {
			return nil, nil, fmt.Errorf("study: label %d outside 0..%d", g, k-1)
		}
		counts[g]++
		for j := 0; j < d; j++ {
			means.Set(g, j, means.At(g, j)+x.At(i, j))
			mu[j] += x.At(i, j) / float64(m)
		}
	}
	for g, c := range counts {
		if c == 0 {
			return nil, nil, fmt.Errorf("study: %w: group %d is empty", ErrDiscriminant, g)
		}
		for j := 0; j < d; j++ {
			means.Set(g, j, means.At(g, j)/float64(c))
		}
	}
	sw, sb := mat.NewSymDense(d, nil), mat.NewSymDense(d, nil)
	v := make([]float64, d)
	for i, g := range label {
		for j := range v {
			v[j] = x.At(i, j) - means.At(g, j)
		}
		sw.SymRankOne(sw, 1, mat.NewVecDense(d, v))
	}
	for g, c := range counts {
		for j := range v {
			v[j] = means.At(g, j) - mu[j]
		}
		sb.SymRankOne(sb, float64(c), mat.NewVecDense(d, v))
	}
	var ch mat.Cholesky
	if !ch.Factorize(sw) {
		return nil, nil, fmt.Errorf("study: %w: the within-group scatter is singular", ErrDiscriminant)
	}
	if c := ch.Cond(); c > 1e12 || math.IsNaN(c) {
		return nil, nil, fmt.Errorf("study: %w: the within-group scatter is near singular (condition %.3g)", ErrDiscriminant, c)
	}
	// M = U⁻ᵀ S_B U⁻¹ with S_W = UᵀU; w = U⁻¹ u for the eigenvectors u of M.
	var u mat.TriDense
	ch.UTo(&u)
	var uinv mat.TriDense
	if err := uinv.InverseTri(&u); err != nil {
		return nil, nil, fmt.Errorf("study: %w: %w", ErrDiscriminant, err)
	}
	var t, mm mat.Dense
	t.Mul(uinv.T(), sb)
	mm.Mul(&t, &uinv)
	ms := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			ms.SetSym(i, j, (mm.At(i, j)+mm.At(j, i))/2)
		}
	}
	var es mat.EigenSym
	if !es.Factorize(ms, true) {
		return nil, nil, fmt.Errorf("study: %w: eigendecomposition failed", ErrDiscriminant)
	}
	vals := es.Values(nil)
	var vecs, w mat.Dense
	es.VectorsTo(&vecs)
	w.Mul(&uinv, &vecs)
	order := make([]int, d)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return vals[order[a]] > vals[order[b]] })
	top := vals[order[0]]
	var cols [][]float64
	for _, c := range order[:min(k-1, d)] {
		if !(vals[c] > 1e-12*math.Max(top, 1)) {
			break
		}
		col := mat.Col(nil, c, &w)
		n := math.Sqrt(mat.Dot(mat.NewVecDense(d, col), mat.NewVecDense(d, col)))
		for j := range col {
			col[j] /= n
		}
		cols = append(cols, col)
		ratio = append(ratio, vals[c])
	}
	if len(cols) == 0 {
		return nil, nil, fmt.Errorf("study: %w: the group means coincide", ErrDiscriminant)
	}
	dirs = mat.NewDense(d, len(cols), nil)
	for c, col := range cols {
		dirs.SetCol(c, col)
	}
	return dirs, ratio, nil
}

// languageDiscriminant runs FisherLDA on the joint coordinates with the
// languages as labels.
func languageDiscriminant(m *Metrics, langs []string) (*LanguageDiscriminant, error) {
	index := map[string]int{}
	for i, l := range langs {
		index[l] = i
	}
	rows := len(m.Joint.Rows)
	x := mat.NewDense(rows, 3, nil)
	label := make([]int, rows)
	for i, r := range m.Joint.Rows {
		x.SetRow(i, m.Joint.XYZ[i][:])
		label[i] = index[r.Lang]
	}
	dirs, ratio, err := FisherLDA(x, label, len(langs))
	if err != nil {
		return nil, err
	}
	ld := &LanguageDiscriminant{Languages: langs, Ratio: ratio, Centroids: map[string][]float64{}, Eta2PerModel: map[string]float64{}}
	var scores mat.Dense
	scores.Mul(x, dirs)
	// Orient the first direction: the first language scores above the rest.
	first, rest := 0.0, 0.0
	nf := 0
	for i, g := range label {
		if g == 0 {
			first += scores.At(i, 0)
			nf++
		} else {
			rest += scores.At(i, 0)
		}
	}
	if first/float64(nf) < rest/float64(rows-nf) {
		for i := 0; i < 3; i++ {
			dirs.Set(i, 0, -dirs.At(i, 0))
		}
		for i := 0; i < rows; i++ {
			scores.Set(i, 0, -scores.At(i, 0))
		}
	}
	_, nd := dirs.Dims()
	for j := 0; j < nd; j++ {
		ld.Directions = append(ld.Directions, [3]float64{dirs.At(0, j), dirs.At(1, j), dirs.At(2, j)})
		ld.Eta2 = append(ld.Eta2, ratio[j]/(1+ratio[j]))
	}
	for g, l := range langs {
		c := make([]float64, nd)
		cnt := 0
		for i, lg := range label {
			if lg == g {
				cnt++
				for j := 0; j < nd; j++ {
					c[j] += scores.At(i, j)
				}
			}
		}
		for j := range c {
			c[j] /= float64(cnt)
		}
		ld.Centroids[l] = c
	}
	byModel := map[string][]int{}
	for i, r := range m.Joint.Rows {
		byModel[r.Model] = append(byModel[r.Model], i)
	}
	for model, idx := range byModel {
		s := make([]float64, len(idx))
		g := make([]int, len(idx))
		for q, i := range idx {
			s[q], g[q] = scores.At(i, 0), label[i]
		}
		if e, ok := correlationRatio(s, g, len(langs)); ok {
			ld.Eta2PerModel[model] = e
		}
	}
	return ld, nil
}

// correlationRatio is η² = between-group over total sum of squares of s.
func correlationRatio(s []float64, g []int, k int) (float64, bool) {
	sum, cnt := make([]float64, k), make([]int, k)
	mean := 0.0
	for i, v := range s {
		sum[g[i]] += v
		cnt[g[i]]++
		mean += v / float64(len(s))
	}
	var between, total float64
	for c := range sum {
		if cnt[c] > 0 {
			mu := sum[c] / float64(cnt[c])
			between += float64(cnt[c]) * sq(mu-mean)
		}
	}
	for _, v := range s {
		total += sq(v - mean)
	}
	if !(total > 0) {
		return 0, false
	}
	return between / total, true
}
