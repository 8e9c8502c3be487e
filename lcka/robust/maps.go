package robust

import (
	"fmt"
	"github.com/layersim/layersim/internal/describe"
	"math"
	"slices"
)

// Movement says how much a layer×layer map moves from A to B, over the
// pairs of distinct layers i < j (the upper triangle without the diagonal,
// which is 1 in every CKA map).
type Movement struct {
	// Pairs is the number of layer pairs, L(L−1)/2.
	Pairs int `json:"pairs"`
	// Corr is Pearson's correlation of the two upper triangles; null when
	// there are fewer than two pairs or either triangle is constant.
	Corr *float64 `json:"corr"`
	// MaxAbs and MeanAbs are the largest and the mean |B − A| over the
	// pairs; MaxAt are the layers (i, j) of the largest.
	MaxAbs  float64 `json:"max_abs"`
	MeanAbs float64 `json:"mean_abs"`
	MaxAt   [2]int  `json:"max_at"`
}

// MapMovement compares two L×L maps a and b over their upper triangles;
// layers names the rows (layer numbers, for MaxAt).
func MapMovement(a, b [][]float64, layers []int) (Movement, error) {
	L := len(a)
	if len(b) != L || len(layers) != L {
		return Movement{}, fmt.Errorf("maps of %d and %d rows for %d layers", L, len(b), len(layers))
	}
	var x, y []float64
	var mv Movement
	for i := range L {
		if len(a[i]) != L || len(b[i]) != L {
			return Movement{}, fmt.Errorf("row %d has %d and %d values; want %d (square maps)", i, len(a[i]), len(b[i]), L)
		}
		for j := i + 1; j < L; j++ {
			u, v := a[i][j], b[i][j]
			if math.IsNaN(u) || math.IsNaN(v) || math.IsInf(u, 0) || math.IsInf(v, 0) {
				return Movement{}, fmt.Errorf("layers %d, %d: values %g and %g", layers[i], layers[j], u, v)
			}
			x, y = append(x, u), append(y, v)
			d := math.Abs(v - u)
			mv.MeanAbs += d
			if d > mv.MaxAbs || len(x) == 1 {
				mv.MaxAbs, mv.MaxAt = d, [2]int{layers[i], layers[j]}
			}
		}
	}
	mv.Pairs = len(x)
	if mv.Pairs > 0 {
		mv.MeanAbs /= float64(mv.Pairs)
	}
	if r, ok := describe.Pearson(x, y); ok {
		mv.Corr = &r
	}
	return mv, nil
}

// MinSubset is the fewest questions a length-matched subset may have.
const MinSubset = 4

// Selection is a length-matched subset of paired questions.
type Selection struct {
	// N is the subset's size, Of the number of questions.
	N  int `json:"n"`
	Of int `json:"of"`
	// Rows are the kept questions (row indices, ascending), the same rows
	// in both languages.
	Rows []int `json:"rows"`
	// RatioLo and RatioHi bound the kept length ratios len₁/len₀:
	// exp(Q(q)) and exp(Q(1−q)) of the log ratios. MedianRatio is the
	// median ratio over all questions.
	RatioLo     float64 `json:"ratio_lo"`
	RatioHi     float64 `json:"ratio_hi"`
	MedianRatio float64 `json:"median_ratio"`
}

// LengthMatched selects the paired questions whose log length ratio
// ρᵢ = log(len1ᵢ / len0ᵢ) lies within [Q(q), Q(1−q)], Q the quantile of
// the ρᵢ with linear interpolation (numpy's default), bounds included.
// len0 and len1 are the lengths of the same questions in two languages;
// each must be positive. q is in [0, 0.5); q = 0 keeps every question.
func LengthMatched(len0, len1 []int, q float64) (*Selection, error) {
	n := len(len0)
	if len(len1) != n {
		return nil, fmt.Errorf("%d lengths in one language and %d in the other: the questions must be paired", n, len(len1))
	}
	if !(q >= 0 && q < 0.5) {
		return nil, fmt.Errorf("quantile %g: want q in [0, 0.5)", q)
	}
	rho := make([]float64, n)
	for i := range n {
		if len0[i] <= 0 || len1[i] <= 0 {
			return nil, fmt.Errorf("question %d has length %d and %d: an empty prompt has no length ratio", i, len0[i], len1[i])
		}
		rho[i] = math.Log(float64(len1[i]) / float64(len0[i]))
	}
	if n < MinSubset {
		return nil, fmt.Errorf("%d questions: a length-matched subset needs at least %d", n, MinSubset)
	}
	sorted := slices.Clone(rho)
	slices.Sort(sorted)
	lo, hi := describe.Quantile(sorted, q), describe.Quantile(sorted, 1-q)
	sel := &Selection{Of: n, RatioLo: math.Exp(lo), RatioHi: math.Exp(hi), MedianRatio: math.Exp(describe.Quantile(sorted, 0.5))}
	for i, r := range rho {
		if r >= lo && r <= hi {
			sel.Rows = append(sel.Rows, i)
		}
	}
	sel.N = len(sel.Rows)
	if sel.N < MinSubset {
		return nil, fmt.Errorf("the length-matched subset (q = %g) has %d of %d questions, fewer than %d: lower q", q, sel.N, n, MinSubset)
	}
	return sel, nil
}
