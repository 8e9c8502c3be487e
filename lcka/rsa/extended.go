package rsa

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// RDMComparison selects one of the further RDM comparisons of rsatoolbox
// (rsatoolbox.rdm.compare, commit f1f83cad), in addition to Comparison's.
type RDMComparison int

const (
	// KendallTauB is Kendall's τ_b, corrected for ties (scipy.stats.kendalltau,
	// rsatoolbox's "tau-b").
	KendallTauB RDMComparison = iota + 1
	// RhoA is rsatoolbox's ρ_a ("rho-a"): the expected Spearman correlation
	// under random tie breaking.
	RhoA
	// WhitenedCosine is rsatoolbox's compare_cosine_cov_weighted with no
	// pattern covariance ("cosine_cov").
	WhitenedCosine
	// WhitenedCorrelation is rsatoolbox's compare_correlation_cov_weighted
	// with no pattern covariance ("corr_cov").
	WhitenedCorrelation
)

var rdmComparisonNames = map[RDMComparison]string{
	KendallTauB:         "kendall-tau-b",
	RhoA:                "rho-a",
	WhitenedCosine:      "whitened-cosine",
	WhitenedCorrelation: "whitened-correlation",
}

// String returns the name ParseRDMMethod accepts after "rsa-".
func (c RDMComparison) String() string {
	if s, ok := rdmComparisonNames[c]; ok {
		return s
	}
	return fmt.Sprintf("RDMComparison(%d)", int(c))
}

// ParseRDMMethod parses "rsa-<comparison>:<dissimilarity>" for the
// comparisons of RDMComparison, for example "rsa-kendall-tau-b:cosine" or
// "rsa-whitened-correlation:euclidean".
func ParseRDMMethod(s string) (RDMComparison, Dissimilarity, error) {
	name, disName, ok := strings.Cut(strings.TrimPrefix(s, methodPrefix), ":")
	if !strings.HasPrefix(s, methodPrefix) || !ok {
		return 0, 0, fmt.Errorf("rsa: method %q is not of the form rsa-<comparison>:<dissimilarity>", s)
	}
	for c, n := range rdmComparisonNames {
		if n == name {
			d, err := ParseDissimilarity(disName)
			if err != nil {
				return 0, 0, err
			}
			return c, d, nil
		}
	}
	return 0, 0, fmt.Errorf("rsa: unknown comparison %q (want kendall-tau-b, rho-a, whitened-cosine or whitened-correlation)", name)
}

// CompareWith returns the similarity of two representations x and y (same
// n ≥ 3 samples) by comparison c of their RDMs under dissimilarity dis.
func CompareWith(x, y mat.Matrix, dis Dissimilarity, c RDMComparison) (float64, error) {
	if !dis.valid() {
		return 0, fmt.Errorf("rsa: invalid dissimilarity %v", dis)
	}
	if _, ok := rdmComparisonNames[c]; !ok {
		return 0, fmt.Errorf("rsa: invalid comparison %v", c)
	}
	xd, yd, err := checkPair(x, y)
	if err != nil {
		return 0, err
	}
	u, err := upperRDM("x", xd, dis)
	if err != nil {
		return 0, err
	}
	v, err := upperRDM("y", yd, dis)
	if err != nil {
		return 0, err
	}
	n, _ := xd.Dims()
	return compareUpper(n, u, v, c)
}

// CompareRDMsWith returns comparison c of two RDMs a and b (n×n, n ≥ 3);
// their diagonals are ignored (taken as 0).
func CompareRDMsWith(a, b mat.Symmetric, c RDMComparison) (float64, error) {
	if _, ok := rdmComparisonNames[c]; !ok {
		return 0, fmt.Errorf("rsa: invalid comparison %v", c)
	}
	u, err := upperOf("a", a)
	if err != nil {
		return 0, err
	}
	v, err := upperOf("b", b)
	if err != nil {
		return 0, err
	}
	if len(u) != len(v) {
		return 0, fmt.Errorf("rsa: RDM a is %d×%d and b is %d×%d; they must match", a.SymmetricDim(), a.SymmetricDim(), b.SymmetricDim(), b.SymmetricDim())
	}
	return compareUpper(a.SymmetricDim(), u, v, c)
}

func compareUpper(n int, u, v []float64, c RDMComparison) (float64, error) {
	switch c {
	case KendallTauB:
		pu, err := prepare("x", u, KendallTauA, nil)
		if err != nil {
			return 0, err
		}
		pv, err := prepare("y", v, KendallTauA, nil)
		if err != nil {
			return 0, err
		}
		m := int64(len(u))
		n0 := float64(m * (m - 1) / 2)
		// τ_a·n₀ is the integer n_c − n_d (exact in float64 up to 2⁵³).
		num := math.Round(tauA(pu, pv, nil) * n0)
		return min(1, max(-1, num/math.Sqrt((n0-float64(pu.tied))*(n0-float64(pv.tied))))), nil
	case RhoA:
		ru, err := ranks("x", u)
		if err != nil {
			return 0, err
		}
		rv, err := ranks("y", v)
		if err != nil {
			return 0, err
		}
		mf := float64(len(u))
		s := 0.0
		for i := range ru {
			s += ru[i] * rv[i]
		}
		return min(1, max(-1, 12*s/(mf*mf*mf-mf))), nil
	case WhitenedCosine, WhitenedCorrelation:
		gu, err := doubleCentred("x", n, u, c == WhitenedCorrelation)
		if err != nil {
			return 0, err
		}
		gv, err := doubleCentred("y", n, v, c == WhitenedCorrelation)
		if err != nil {
			return 0, err
		}
		var uv, uu, vv float64
		for i := range gu {
			uv += gu[i] * gv[i]
			uu += gu[i] * gu[i]
			vv += gv[i] * gv[i]
		}
		return min(1, max(-1, uv/math.Sqrt(uu*vv))), nil
	}
	return 0, fmt.Errorf("rsa: invalid comparison %v", c)
}

// ranks returns the centred average ranks of v (ties share their mean
// rank), after the checks every comparison makes.
func ranks(name string, v []float64) ([]float64, error) {
	if _, err := prepare(name, v, Pearson, make([]float64, len(v))); err != nil {
		return nil, err
	}
	order := make([]int32, len(v))
	for i := range order {
		order[i] = int32(i)
	}
	sortOrder(order, v)
	r := make([]float64, len(v))
	mean := float64(len(v)+1) / 2
	forEachTieGroup(v, order, func(s, e int) {
		for _, i := range order[s:e] {
			r[i] = float64(s+1+e)/2 - mean
		}
	})
	return r, nil
}

// doubleCentred returns H D H for the RDM D (n×n, upper triangle u, zero
// diagonal), all n² entries; for the correlation variant the mean of u is
// first subtracted from the off-diagonal entries.
func doubleCentred(name string, n int, u []float64, correlation bool) ([]float64, error) {
	for _, x := range u {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("rsa: the RDM of %s has non-finite value %v", name, x)
		}
	}
	shift := 0.0
	if correlation {
		for _, x := range u {
			shift += x
		}
		shift /= float64(len(u))
	}
	g := make([]float64, n*n)
	k := 0
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			g[i*n+j] = u[k] - shift
			g[j*n+i] = u[k] - shift
			k++
		}
	}
	row := make([]float64, n)
	total := 0.0
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			row[i] += g[i*n+j]
		}
		total += row[i]
		row[i] /= float64(n)
	}
	total /= float64(n * n)
	norm := 0.0
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			g[i*n+j] += total - row[i] - row[j]
			norm += g[i*n+j] * g[i*n+j]
		}
	}
	if !(norm > 0) || math.IsInf(norm, 0) {
		return nil, fmt.Errorf("rsa: the double-centred RDM of %s is zero or overflows; its whitened comparison is undefined", name)
	}
	return g, nil
}
