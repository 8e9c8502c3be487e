package cca

import (
	"errors"
	"fmt"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/dense"
	"github.com/layersim/layersim/lcka/internal/grampanel"
	"github.com/layersim/layersim/lcka/internal/svdvals"
	"github.com/layersim/layersim/lcka/internal/symeig"
)

// spectrum is what SVCCA needs of a layer: the eigendecomposition of the
// centred Gram matrix Xc·Xcᵀ (n×n). Its eigenvalues are the squared singular
// values of Xc and its eigenvectors are Xc's left singular vectors,
// completed to an orthonormal basis of Rⁿ. SVCCA keeps a leading block of
// them and compares column spaces only, so any orthonormal basis of that
// block serves, and the complement (the remaining eigenvectors) comes free:
// svccaSum uses it when it is the smaller problem.
//
// The Gram route costs a product and a symmetric eigensolver (symeig), a
// third of the time of the thin SVD of the n×d layer here (d ≫ n; 65 ms
// against svdvals.Thin's 190 ms at n = 400, d = 2048), at a known price: an
// eigenvalue below about n·ε·λ_max is rounding noise, so the rank resolved
// is that of singular values above √(max(n, d)·ε)·s_max ≈ 10⁻⁶·s_max for
// the study's sizes, not max(n, d)·ε·s_max. Directions below it hold less
// than 10⁻¹² of the variance, which no variance fraction reaches; a Keep
// count above the rank keeps the rank, as it always did.
type spectrum struct {
	vals []float64 // eigenvalues, descending, negatives clamped to 0
	vt   []float64 // n×n, orthonormal, row i the eigenvector of vals[i]
	n    int
	rank int // eigenvalues above max(n, d)·ε·λ_max
	dim  int // d, the layer's width
	// The leading kept eigenvectors and the rest, packed once for the
	// tile kernel as either factor of a product (index grampanel.Left or
	// Right) where AllPairs has it: packPanels.
	top, rest [2]*grampanel.Panels
}

// centred holds the layers' centred copies between uses: each is n·d
// values, the size of the layer, and is needed only for its Gram matrix.
var centred sync.Pool

func newSpectrum(name string, x mat.Matrix) (*spectrum, error) {
	xd, err := checkedLayer(name, x)
	if err != nil {
		return nil, err
	}
	n, d := xd.Dims()
	buf, _ := centred.Get().(*[]float64)
	if buf == nil {
		buf = new([]float64)
	}
	defer centred.Put(buf)
	xc := dense.CenteredInto(*buf, xd)
	*buf = xc
	return spectrumOf(name, xc, n, d)
}

// spectrumOf is newSpectrum of a layer already centred (xc, n×d row-major,
// overwritten): its rows may be weighted (NewSpectrumResample).
func spectrumOf(name string, xc []float64, n, d int) (*spectrum, error) {
	var err error
	// SVCCA does not see the scale; dividing by a power of two near the
	// largest entry keeps the Gram matrix's squares from overflowing or
	// underflowing.
	if dense.ScaleToPeak(xc) == 0 {
		return nil, fmt.Errorf("cca: %s has no variance (all rows equal)", name)
	}
	g := make([]float64, n*n)
	if grampanel.Host() {
		err = grampanel.Full64(g, xc, n, d, 1)
	} else {
		var gs mat.SymDense
		gs.SymOuterK(1, mat.NewDense(n, d, xc))
		for i := range n {
			for j := i; j < n; j++ {
				g[i*n+j] = gs.At(i, j)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cca: the Gram matrix of %s: %w", name, err)
	}
	vals, vt, err := symeig.Descending(g, n)
	if err != nil {
		return nil, fmt.Errorf("cca: the eigendecomposition of %s's Gram matrix: %w", name, err)
	}
	top := vals[0]
	if !(top > 0) {
		return nil, fmt.Errorf("cca: %s has no variance (all rows equal)", name)
	}
	s := &spectrum{vals: vals, vt: vt, n: n, dim: d}
	tol := float64(max(n, d)) * 0x1p-52 * top
	for i, v := range vals {
		vals[i] = max(0, v)
		if v > tol {
			s.rank = i + 1
		}
	}
	return s, nil
}

// basis returns the eigenvectors from … to−1 as the columns of an n×(to −
// from) matrix.
func (s *spectrum) basis(from, to int) mat.Matrix {
	return mat.NewDense(to-from, s.n, s.vt[from*s.n:to*s.n]).T()
}

// packPanels packs the leading k eigenvectors (if top) and the rest (if
// rest) for the tile kernel, both sides, and then lets the rows go: each
// pair of layers multiplies two of these blocks, and packing them per
// layer rather than per product saves two copies a pair. It does nothing
// where the CPU has no host kernel.
func (s *spectrum) packPanels(k int, top, rest bool) error {
	if !grampanel.Host() {
		return nil
	}
	for _, side := range []grampanel.Side{grampanel.Left, grampanel.Right} {
		var err error
		if top {
			if s.top[side], err = grampanel.PackT64(s.vt, s.n, s.n, k, side); err != nil {
				return err
			}
		}
		if rest && k < s.n {
			if s.rest[side], err = grampanel.PackT64(s.vt[k*s.n:], s.n, s.n, s.n-k, side); err != nil {
				return err
			}
		}
	}
	s.vt = nil
	return nil
}

// kept returns how many leading directions keep keeps (at most the rank).
func (s *spectrum) kept(keep Keep) int {
	if keep.Count != 0 {
		return min(keep.Count, s.rank)
	}
	total := 0.0
	for _, v := range s.vals[:s.rank] {
		total += v
	}
	acc := 0.0
	for r, v := range s.vals[:s.rank] {
		acc += v
		// A relative slack against rounding: 99% of a sum must not need one
		// more direction because of the last bit.
		if acc >= keep.Variance*total*(1-1e-12) {
			return r + 1
		}
	}
	return s.rank
}

// svccaSum returns the sum of the canonical correlations between the
// spans of a's leading ka and b's leading kb eigenvectors.
//
// With A = span(a's first ka) and B likewise in Rⁿ, the singular values of
// Q_AᵀQ_B are 1 on A∩B, cos θ on each pair of directions at a principal
// angle θ strictly between 0 and π/2, and 0 elsewhere; those of
// Q_{A⊥}ᵀQ_{B⊥} are 1 on A⊥∩B⊥ and the same cosines (two-subspace
// decomposition: each generic angle lies in a plane meeting A, B, A⊥ and
// B⊥ in one line each). Counting dimensions, dim(A∩B) − dim(A⊥∩B⊥) =
// ka + kb − n, so
//
//	Σρ(A, B) = Σρ(A⊥, B⊥) + ka + kb − n,
//
// and when SVCCA keeps most directions (ka + kb > n, as on data whose
// variance is spread) the (n−ka)×(n−kb) complement is far cheaper than the
// ka×kb problem.
//
// planSVCCA makes the same choice for layers packed for the tile kernel.
func svccaSum(a, b *spectrum, ka, kb int) (float64, error) {
	n := a.n
	if usesComplements(n, ka, kb) {
		if ka == n || kb == n {
			// One side is all of Rⁿ: the other lies in it.
			return float64(min(ka, kb)), nil
		}
		sum, err := nuclear(a.basis(ka, n), b.basis(kb, n))
		return sum + float64(ka+kb-n), err
	}
	return nuclear(a.basis(0, ka), b.basis(0, kb))
}

// usesComplements says whether svccaSum compares two layers keeping ka and
// kb of n directions through their complements, the smaller problem.
func usesComplements(n, ka, kb int) bool { return (n-ka)*(n-kb) < ka*kb }

// svccaJob is svccaSum's plan for a pair of packed layers (i, j): the
// sum is the nuclear norm of qxᵀ·qy plus add, or add alone where qx is
// nil.
type svccaJob struct {
	i, j   int
	qx, qy *grampanel.Panels
	add    float64
}

// planSVCCA is svccaSum for layers packed for ka and kb (packPanels), up to
// the product: it returns the bases to multiply, or the sum where it is
// known without them.
//
// The product is taken with more rows than columns (the side with more
// directions on the left): its singular values are those of either order,
// and svdvals.Values would otherwise transpose it first.
func planSVCCA(a, b *spectrum, ka, kb int) svccaJob {
	n := a.n
	if usesComplements(n, ka, kb) {
		if ka == n || kb == n {
			return svccaJob{add: float64(min(ka, kb))}
		}
		if n-ka < n-kb {
			a, b = b, a
		}
		return svccaJob{qx: a.rest[grampanel.Left], qy: b.rest[grampanel.Right], add: float64(ka + kb - n)}
	}
	if ka < kb {
		a, b = b, a
	}
	return svccaJob{qx: a.top[grampanel.Left], qy: b.top[grampanel.Right]}
}

// nuclearJobs returns the nuclear norms of the products of jobs' bases
// (at most svdvals.ProductBatch), their singular values found together
// (svdvals.ProductValues), each clamped to [0, 1] as canonical
// correlations are; or the index of the job that fails and its error.
func nuclearJobs(jobs []svccaJob) ([]float64, int, error) {
	prods := make([]svdvals.Factors, len(jobs))
	for g, job := range jobs {
		prods[g] = svdvals.Factors{A: job.qx, B: job.qy}
	}
	rho, err := svdvals.ProductValues(prods)
	if err != nil {
		index := 0
		var me *svdvals.MatrixError
		if errors.As(err, &me) {
			index, err = me.Index, me.Err
		}
		return nil, index, fmt.Errorf("the canonical problem: %w", err)
	}
	sums := make([]float64, len(jobs))
	for g := range rho {
		sums[g] = sumClamped(rho[g])
	}
	return sums, 0, nil
}

// nuclear returns the sum of the singular values of qxᵀqy, each clamped to
// [0, 1] as canonical correlations are.
func nuclear(qx, qy mat.Matrix) (float64, error) {
	rho, _, err := correlations(qx, qy, false)
	return sumClamped(rho), err
}

// sumClamped returns the sum of rho's values, each clamped to [0, 1] as
// canonical correlations are (correlations clamps them already).
func sumClamped(rho []float64) float64 {
	sum := 0.0
	for _, v := range rho {
		sum += min(1, max(0, v))
	}
	return sum
}
