package cca

import (
	"fmt"
	"github.com/layersim/layersim/lcka/internal/grampanel"
	"github.com/layersim/layersim/lcka/internal/svdvals"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/dense"
)

// Keep says how many singular directions SVCCA keeps: the fewest that hold
// the fraction Variance of the variance, or Count of them (at most the
// rank). Exactly one of the two is set.
type Keep struct {
	Variance float64
	Count    int
}

// Paper is Raghu et al.'s choice: the directions that hold 99% of the
// variance.
var Paper = Keep{Variance: 0.99}

func (k Keep) check() error {
	byVar := k.Variance != 0
	byCount := k.Count != 0
	switch {
	case byVar == byCount:
		return fmt.Errorf("cca: keep either a fraction of the variance or a count of directions, got %+v", k)
	case byVar && !(k.Variance > 0 && k.Variance <= 1):
		return fmt.Errorf("cca: the fraction of variance kept must be in (0, 1], got %v", k.Variance)
	case byCount && k.Count < 1:
		return fmt.Errorf("cca: the number of directions kept must be ≥ 1, got %d", k.Count)
	}
	return nil
}

// Result is a CCA similarity and what it was computed from.
type Result struct {
	// Value is the similarity, in [0, 1].
	Value float64
	// KeptX and KeptY are the numbers of directions of x and y that entered
	// the CCA: after the SVD reduction for SVCCA (at most the rank its Gram
	// route resolves, singular values above √(max(n, d)·ε)·s_max), the
	// numerical ranks for PWCCA and Canonical (above max(n, d)·ε·s_max).
	KeptX, KeptY int
	// DimX and DimY are the numbers of columns of x and y.
	DimX, DimY int
	// Correlations are the canonical correlations, descending.
	Correlations []float64
	// Weights are PWCCA's normalized weights αᵢ/Σα (nil for SVCCA).
	Weights []float64
}

// basis is the centred representation's thin SVD, truncated to its
// numerical rank: u (n×r) orthonormal, s descending; d is the width.
// For PWCCA, coords = uᵀX_c (r×d), the columns' coordinates in u: the
// canonical variates' products with the columns, hᵀX_c = pᵀ(uᵀX_c), then
// cost r·m·d per pair instead of the n·r·m + n·m·d of forming h = u·p.
type basis struct {
	u      *mat.Dense
	s      []float64
	d      int
	coords *mat.Dense
}

// checkedLayer returns x as a *mat.Dense after checking that it is finite
// and has at least 2 rows.
func checkedLayer(name string, x mat.Matrix) (*mat.Dense, error) {
	xd, err := dense.Checked(x, name)
	if err != nil {
		return nil, fmt.Errorf("cca: %w", err)
	}
	if n, _ := xd.Dims(); n < 2 {
		return nil, fmt.Errorf("cca: %s has %d input; CCA needs at least 2", name, n)
	}
	return xd, nil
}

// coordinates says which layers decompose gives their coords.
type coordinates int

const (
	noCoords coordinates = iota
	allCoords
	// coordsBelowFull: only layers of rank below n − 1. A layer of rank
	// n − 1 spans the whole centred space, so in each of its pairs every
	// canonical correlation is 1 and PWCCA is 1 without weights.
	coordsBelowFull
)

func decompose(name string, x mat.Matrix, coords coordinates) (*basis, error) {
	xd, err := checkedLayer(name, x)
	if err != nil {
		return nil, err
	}
	n, d := xd.Dims()
	xc := dense.CenteredColumns(xd)
	// CCA does not see the scale (nor PWCCA's normalized weights): scaled
	// to a largest entry in [½, 1), the SVD's norms cannot overflow.
	if dense.ScaleToPeak(xc.RawMatrix().Data) == 0 {
		return nil, fmt.Errorf("cca: %s has no variance (all rows equal)", name)
	}
	s, u, err := svdvals.ThinU(xc, coords == noCoords)
	if err != nil {
		return nil, fmt.Errorf("cca: the SVD of %s: %w", name, err)
	}
	if len(s) == 0 || !(s[0] > 0) || math.IsInf(s[0], 0) {
		return nil, fmt.Errorf("cca: %s has no variance (all rows equal)", name)
	}
	tol := float64(max(n, d)) * 0x1p-52 * s[0]
	r := 0
	// Centred rows span at most n − 1 directions; a large common offset
	// can leave rounding above tol in the last.
	for r < min(len(s), n-1) && s[r] > tol {
		r++
	}
	b := &basis{u: mat.DenseCopyOf(u.Slice(0, n, 0, r)), s: s[:r], d: d}
	if coords == allCoords || coords == coordsBelowFull && r < n-1 {
		b.coords = grampanel.MulTN(b.u, xc)
	}
	return b, nil
}

func samePair(x, y mat.Matrix) error {
	if x == nil || y == nil {
		return fmt.Errorf("cca: nil input")
	}
	nx, _ := x.Dims()
	ny, _ := y.Dims()
	if nx != ny {
		return fmt.Errorf("cca: x has %d inputs (rows) and y has %d; they must match", nx, ny)
	}
	return nil
}

func pair(x, y mat.Matrix, coords coordinates) (*basis, *basis, error) {
	if err := samePair(x, y); err != nil {
		return nil, nil, err
	}
	bx, err := decompose("x", x, coords)
	if err != nil {
		return nil, nil, err
	}
	by, err := decompose("y", y, coords)
	if err != nil {
		return nil, nil, err
	}
	return bx, by, nil
}

// correlations returns the SVD of qxᵀqy: the canonical correlations
// (clamped to [0, 1]) and, if vectors, the left singular vectors (as
// columns). Both come from package svdvals, except the vectors of a
// problem with more rows than columns, which PWCCA never asks for (its
// weights are on the side with fewer directions).
func correlations(qx, qy mat.Matrix, vectors bool) ([]float64, *mat.Dense, error) {
	_, r := qx.Dims()
	_, c := qy.Dims()
	buf := grampanel.Scratch64(r * c)
	defer grampanel.Release64(buf)
	p := grampanel.MulTNInto(buf, qx, qy)
	var rho []float64
	var u *mat.Dense
	var err error
	switch {
	case !vectors:
		rho, err = svdvals.Values(p.RawMatrix().Data, r, c)
	case r <= c:
		var ut []float64
		if rho, ut, err = svdvals.LeftVectors(p.RawMatrix().Data, r, c); err == nil {
			u = mat.NewDense(r, r, nil)
			dense.Transpose(u.RawMatrix().Data, ut, r, r)
		}
	default:
		var svd mat.SVD
		if !svd.Factorize(p, mat.SVDThinU) {
			return nil, nil, fmt.Errorf("cca: the SVD of the canonical problem failed")
		}
		rho = svd.Values(nil)
		u = new(mat.Dense)
		svd.UTo(u)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("cca: the canonical problem: %w", err)
	}
	for i, v := range rho {
		rho[i] = min(1, max(0, v))
	}
	return rho, u, nil
}

// Canonical returns the canonical correlations of x and y (all directions of
// their numerical ranks) and their mean, the mean CCA similarity.
func Canonical(x, y mat.Matrix) (Result, error) {
	bx, by, err := pair(x, y, noCoords)
	if err != nil {
		return Result{}, err
	}
	return meanCCA(bx.u, by.u, bx, by)
}

func meanCCA(qx, qy *mat.Dense, bx, by *basis) (Result, error) {
	rho, _, err := correlations(qx, qy, false)
	if err != nil {
		return Result{}, err
	}
	_, rx := qx.Dims()
	_, ry := qy.Dims()
	mean := 0.0
	for _, v := range rho {
		mean += v
	}
	return Result{Value: mean / float64(len(rho)), KeptX: rx, KeptY: ry, DimX: bx.d, DimY: by.d, Correlations: rho}, nil
}

// SVCCA returns the SVCCA similarity of x and y, keeping the singular
// directions keep says (Paper: 99% of the variance).
func SVCCA(x, y mat.Matrix, keep Keep) (Result, error) {
	if err := keep.check(); err != nil {
		return Result{}, err
	}
	if err := samePair(x, y); err != nil {
		return Result{}, err
	}
	sx, err := newSpectrum("x", x)
	if err != nil {
		return Result{}, err
	}
	sy, err := newSpectrum("y", y)
	if err != nil {
		return Result{}, err
	}
	return svcca(sx, sy, keep)
}

// Spectrum is a layer decomposed for SVCCA (the eigenvalues and vectors of
// its centred Gram matrix), so that a layer compared with many others is
// decomposed once.
type Spectrum struct{ s *spectrum }

// NewSpectrum decomposes x for SVCCAOf.
func NewSpectrum(x mat.Matrix) (*Spectrum, error) {
	if x == nil {
		return nil, fmt.Errorf("cca: nil input")
	}
	s, err := newSpectrum("the layer", x)
	if err != nil {
		return nil, err
	}
	return &Spectrum{s}, nil
}

// NewSpectrumResample decomposes the resample of x whose row r is x's row
// idx[r] (a bootstrap draw, rows repeated) as NewSpectrum would, from the
// resample's distinct rows weighted by their counts
// (dense.WeightedResample): SVCCAOf of two layers so decomposed with the
// same idx is SVCCA of the two resamples, at the cost of the distinct rows'
// Gram matrix (about 63% of a draw of n from n) instead of all of them. It
// meets only layers decomposed with the same idx.
func NewSpectrumResample(x mat.Matrix, idx []int) (*Spectrum, error) {
	xd, err := checkedLayer("x", x)
	if err != nil {
		return nil, err
	}
	if len(idx) < 2 {
		return nil, fmt.Errorf("cca: a resample of %d input; CCA needs at least 2", len(idx))
	}
	xw, err := dense.WeightedResample(xd, idx)
	if err != nil {
		return nil, fmt.Errorf("cca: %w", err)
	}
	m, d := xw.Dims()
	if m < 2 {
		return nil, fmt.Errorf("cca: the resample of x has no variance (one distinct input)")
	}
	s, err := spectrumOf("the resample of x", xw.RawMatrix().Data, m, d)
	if err != nil {
		return nil, err
	}
	return &Spectrum{s}, nil
}

// Permuted returns the spectrum of the layer with its rows in the order
// perm (row r is the layer's row perm[r]): the same eigenvalues, each
// eigenvector's entries so reordered, since centring and the spectrum of the
// Gram matrix do not depend on the order of the rows. A permutation null
// (lcka/calibrate) then decomposes each layer once.
func (s *Spectrum) Permuted(perm []int) (*Spectrum, error) {
	if s == nil || s.s == nil {
		return nil, fmt.Errorf("cca: nil or zero spectrum; make one with NewSpectrum")
	}
	n := s.s.n
	if len(perm) != n {
		return nil, fmt.Errorf("cca: a permutation of %d entries for %d inputs", len(perm), n)
	}
	seen := make([]bool, n)
	for i, src := range perm {
		if src < 0 || src >= n || seen[src] {
			return nil, fmt.Errorf("cca: not a permutation of 0…%d (entry %d is %d)", n-1, i, src)
		}
		seen[src] = true
	}
	vt := make([]float64, len(s.s.vt))
	for i := range n {
		row, out := s.s.vt[i*n:(i+1)*n], vt[i*n:(i+1)*n]
		for r, src := range perm {
			out[r] = row[src]
		}
	}
	return &Spectrum{&spectrum{vals: s.s.vals, vt: vt, n: n, rank: s.s.rank, dim: s.s.dim}}, nil
}

// SVCCAOf returns SVCCA of two decomposed layers, as SVCCA.
func SVCCAOf(a, b *Spectrum, keep Keep) (Result, error) {
	if err := keep.check(); err != nil {
		return Result{}, err
	}
	if a == nil || b == nil || a.s == nil || b.s == nil {
		return Result{}, fmt.Errorf("cca: nil or zero spectrum; make one with NewSpectrum")
	}
	if a.s.n != b.s.n {
		return Result{}, fmt.Errorf("cca: x has %d inputs (rows) and y has %d; they must match", a.s.n, b.s.n)
	}
	return svcca(a.s, b.s, keep)
}

// svcca is SVCCA of two spectra.
func svcca(sx, sy *spectrum, keep Keep) (Result, error) {
	rx, ry := sx.kept(keep), sy.kept(keep)
	// The reduced representation U_r S_r has column space span(U_r).
	rho, _, err := correlations(sx.basis(0, rx), sy.basis(0, ry), false)
	if err != nil {
		return Result{}, err
	}
	mean := 0.0
	for _, v := range rho {
		mean += v
	}
	return Result{Value: mean / float64(len(rho)), KeptX: rx, KeptY: ry, DimX: sx.dim, DimY: sy.dim, Correlations: rho}, nil
}

// PWCCA returns the projection-weighted CCA similarity of x and y.
func PWCCA(x, y mat.Matrix) (Result, error) {
	bx, by, err := pair(x, y, allCoords)
	if err != nil {
		return Result{}, err
	}
	return pwcca(bx, by)
}

func pwcca(bx, by *basis) (Result, error) {
	// Weights on the side with fewer directions.
	a, b := bx, by
	swapped := len(by.s) < len(bx.s)
	if swapped {
		a, b = by, bx
	}
	rho, p, err := correlations(a.u, b.u, true)
	if err != nil {
		return Result{}, err
	}
	m := len(rho)
	// h = Q_a p (n×m), canonical variates; ⟨hᵢ, x_j⟩ = (hᵀ X_c)ᵢⱼ =
	// (pᵀ Q_aᵀX_c)ᵢⱼ.
	_, d := a.coords.Dims()
	buf := grampanel.Scratch64(m * d)
	defer grampanel.Release64(buf)
	proj := grampanel.MulTNInto(buf, p.Slice(0, len(a.s), 0, m), a.coords)
	w := make([]float64, m)
	total := 0.0
	for i := 0; i < m; i++ {
		for _, v := range proj.RawRowView(i) {
			w[i] += math.Abs(v)
		}
		total += w[i]
	}
	value := 0.0
	for i := range w {
		w[i] /= total
		value += w[i] * rho[i]
	}
	return Result{Value: min(1, value), KeptX: len(bx.s), KeptY: len(by.s), DimX: bx.d, DimY: by.d, Correlations: rho, Weights: w}, nil
}
