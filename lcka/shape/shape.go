package shape

import (
	"fmt"
	"github.com/layersim/layersim/lcka/internal/grampanel"
	"github.com/layersim/layersim/lcka/internal/svdvals"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/dense"
)

// eigvalTol is netrep's eigval_tol: eigenvalues of XᵀX below it are raised
// to it before whitening, and α above 1 − eigvalTol means no whitening.
const eigvalTol = 1e-7

// Whitened is one representation centred, partially whitened and scaled to
// unit Frobenius norm: the n×r matrix P f(S)/‖f(S)‖.
type Whitened struct {
	b     *mat.Dense
	alpha float64
}

// Whiten prepares x for Angular at the given α, so that a layer compared
// with many others is decomposed once.
func Whiten(x mat.Matrix, alpha float64) (*Whitened, error) {
	return whiten("x", x, alpha)
}

// WhitenResample prepares the resample of x whose row r is x's row idx[r]
// (a bootstrap draw, rows repeated) as Whiten prepares it, from the
// resample's distinct rows weighted by their counts
// (dense.WeightedResample): AngularOf of two layers so prepared with the
// same idx is Angular of the two resamples, at the cost of an SVD of the
// distinct rows (about 63% of a draw of n from n) instead of all of them.
// Its rows are the distinct rows, so it meets only layers prepared with
// the same idx.
func WhitenResample(x mat.Matrix, idx []int, alpha float64) (*Whitened, error) {
	if err := checkAlpha(alpha); err != nil {
		return nil, err
	}
	xd, err := dense.Checked(x, "x")
	if err != nil {
		return nil, fmt.Errorf("shape: %w", err)
	}
	if len(idx) < 2 {
		return nil, fmt.Errorf("shape: a resample of %d input; the metric needs at least 2", len(idx))
	}
	xw, err := dense.WeightedResample(xd, idx)
	if err != nil {
		return nil, fmt.Errorf("shape: %w", err)
	}
	if m, _ := xw.Dims(); m < 2 {
		return nil, fmt.Errorf("shape: the resample of x has no variance (one distinct input)")
	}
	return whitenCentred("the resample of x", xw, alpha)
}

func checkAlpha(alpha float64) error {
	if !(alpha >= 0 && alpha <= 1) {
		return fmt.Errorf("shape: α must be in [0, 1], got %v", alpha)
	}
	return nil
}

func whiten(name string, x mat.Matrix, alpha float64) (*Whitened, error) {
	if err := checkAlpha(alpha); err != nil {
		return nil, err
	}
	xd, err := dense.Checked(x, name)
	if err != nil {
		return nil, fmt.Errorf("shape: %w", err)
	}
	if n, _ := xd.Dims(); n < 2 {
		return nil, fmt.Errorf("shape: %s has %d input; the metric needs at least 2", name, n)
	}
	return whitenCentred(name, dense.CenteredColumns(xd), alpha)
}

// whitenCentred is whiten of a layer already centred (xc, overwritten):
// its rows may be weighted (WhitenResample).
func whitenCentred(name string, xc *mat.Dense, alpha float64) (*Whitened, error) {
	n, d := xc.Dims()
	// The SVD runs on the layer divided by a power of two p near its
	// largest entry, so that its norms cannot overflow; s below are the
	// singular values over p.
	peak := dense.ScaleToPeak(xc.RawMatrix().Data)
	if peak == 0 {
		return nil, fmt.Errorf("shape: %s has no variance (all rows equal)", name)
	}
	s, u, err := svdvals.ThinU(xc, true)
	if err != nil {
		return nil, fmt.Errorf("shape: the SVD of %s: %w", name, err)
	}
	if len(s) == 0 || !(s[0] > 0) || math.IsInf(s[0], 0) {
		return nil, fmt.Errorf("shape: %s has no variance (all rows equal)", name)
	}
	// Directions below the numerical rank are rounding noise of zero
	// singular values, which carry no data in netrep either; centred rows
	// span at most n − 1.
	tol := float64(max(n, d)) * 0x1p-52 * s[0]
	r := 0
	for r < min(len(s), n-1) && s[r] > tol {
		r++
	}
	if r == 0 {
		return nil, fmt.Errorf("shape: %s has no variance (all rows equal)", name)
	}
	// f(σ)/p for σ = p·s, enough since B is normalized: α·s + (1−α)·s/
	// max(σ, √tol) (√max(σ², tol) without squaring σ). p·s overflowing to
	// +Inf gives the right limit, 0, for the second term.
	f := make([]float64, r)
	for i := range f {
		if alpha > 1-eigvalTol {
			f[i] = s[i]
		} else {
			f[i] = alpha*s[i] + (1-alpha)*s[i]/max(peak*s[i], math.Sqrt(eigvalTol))
		}
	}
	// floats.Norm scales as it sums, so that the squares neither overflow
	// nor underflow.
	norm := floats.Norm(f, 2)
	b := mat.NewDense(n, r, nil)
	for i := 0; i < n; i++ {
		row := b.RawRowView(i)
		for j := range row {
			row[j] = u.At(i, j) * f[j] / norm
		}
	}
	return &Whitened{b: b, alpha: alpha}, nil
}

// Permuted returns w with its rows in the order perm (row r is w's row
// perm[r]): the preparation of the representation with its inputs so
// reordered, since centring and XᵀX do not depend on the order of the rows.
// A permutation null (lcka/calibrate) then whitens each side once.
func (w *Whitened) Permuted(perm []int) (*Whitened, error) {
	if w == nil || w.b == nil {
		return nil, fmt.Errorf("shape: nil or zero representation; make one with Whiten")
	}
	n, r := w.b.Dims()
	if len(perm) != n {
		return nil, fmt.Errorf("shape: a permutation of %d entries for %d inputs", len(perm), n)
	}
	seen := make([]bool, n)
	out := mat.NewDense(n, r, nil)
	for i, src := range perm {
		if src < 0 || src >= n || seen[src] {
			return nil, fmt.Errorf("shape: not a permutation of 0…%d (entry %d is %d)", n-1, i, src)
		}
		seen[src] = true
		copy(out.RawRowView(i), w.b.RawRowView(src))
	}
	return &Whitened{b: out, alpha: w.alpha}, nil
}

// AngularOf returns θ_α between two prepared representations.
func AngularOf(a, b *Whitened) (float64, error) {
	if a == nil || b == nil || a.b == nil || b.b == nil {
		return 0, fmt.Errorf("shape: nil or zero representation; make one with Whiten")
	}
	if a.alpha != b.alpha {
		return 0, fmt.Errorf("shape: representations whitened at α = %v and %v", a.alpha, b.alpha)
	}
	na, _ := a.b.Dims()
	nb, _ := b.b.Dims()
	if na != nb {
		return 0, fmt.Errorf("shape: x has %d inputs (rows) and y has %d; they must match", na, nb)
	}
	_, ra := a.b.Dims()
	_, rb := b.b.Dims()
	buf := grampanel.Scratch64(ra * rb)
	defer grampanel.Release64(buf)
	p := grampanel.MulTNInto(buf, a.b, b.b)
	sv, err := svdvals.Values(p.RawMatrix().Data, ra, rb)
	if err != nil {
		return 0, fmt.Errorf("shape: the alignment problem: %w", err)
	}
	return angle(sv), nil
}

// angle returns θ = arccos of the nuclear norm, the sum of the alignment
// problem's singular values sv.
func angle(sv []float64) float64 {
	nuc := 0.0
	for _, v := range sv {
		nuc += v
	}
	return math.Acos(min(1, max(-1, nuc)))
}

// Angular returns the shape distance θ_α(x, y) in radians, in [0, π/2].
func Angular(x, y mat.Matrix, alpha float64) (float64, error) {
	if x == nil || y == nil {
		return 0, fmt.Errorf("shape: nil input")
	}
	nx, _ := x.Dims()
	ny, _ := y.Dims()
	if nx != ny {
		return 0, fmt.Errorf("shape: x has %d inputs (rows) and y has %d; they must match", nx, ny)
	}
	a, err := whiten("x", x, alpha)
	if err != nil {
		return 0, err
	}
	b, err := whiten("y", y, alpha)
	if err != nil {
		return 0, err
	}
	return AngularOf(a, b)
}

// Procrustes returns the angular Procrustes distance θ₁(x, y).
func Procrustes(x, y mat.Matrix) (float64, error) { return Angular(x, y, 1) }

// CCA returns the fully whitened distance θ₀(x, y).
func CCA(x, y mat.Matrix) (float64, error) { return Angular(x, y, 0) }
