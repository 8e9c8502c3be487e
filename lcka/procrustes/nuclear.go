package procrustes

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// psdTol is the relative size of negative eigenvalues of a Gram matrix that
// are accepted as rounding (and treated as 0).
const psdTol = 1e-8

// nuclearNorm returns ‖XᵀY‖_* for x (n×d_x) and y (n×d_y), by whichever of
// the two routes costs fewer flops.
func nuclearNorm(x, y *mat.Dense) (float64, error) {
	n, dx := x.Dims()
	_, dy := y.Dims()
	if useGrams(n, dx, dy) {
		return nuclearNormGrams(x, y)
	}
	return nuclearNormDirect(x, y)
}

// useGrams reports whether the Gram route is cheaper than the direct one
// for n samples and d_x, d_y features, by rough flop counts: the direct route
// forms XᵀY (2n·d_x·d_y) and takes its singular values (about 4·l·k² for
// k = min(d_x, d_y), l = max(d_x, d_y)); the Gram route forms two n×n Grams
// (n²(d_x + d_y)) and then does two eigendecompositions, a product and an SVD
// of n×n matrices (about 30n³).
func useGrams(n, dx, dy int) bool {
	fn, fx, fy := float64(n), float64(dx), float64(dy)
	k, l := min(fx, fy), max(fx, fy)
	direct := 2*fn*fx*fy + 4*l*k*k
	grams := fn*fn*(fx+fy) + 30*fn*fn*fn
	return grams < direct
}

// nuclearNormDirect returns ‖XᵀY‖_* as the sum of the singular values of
// the d_x×d_y matrix XᵀY.
func nuclearNormDirect(x, y *mat.Dense) (float64, error) {
	var p mat.Dense
	p.Mul(x.T(), y)
	return sumSingularValues(&p)
}

// nuclearNormGrams returns ‖XᵀY‖_* from the n×n Gram matrices X Xᵀ, Y Yᵀ.
func nuclearNormGrams(x, y *mat.Dense) (float64, error) {
	var gx, gy mat.SymDense
	gx.SymOuterK(1, x)
	gy.SymOuterK(1, y)
	fx, err := gramFactor("x", &gx)
	if err != nil {
		return 0, err
	}
	fy, err := gramFactor("y", &gy)
	if err != nil {
		return 0, err
	}
	return factorNuclearNorm(fx, fy)
}

// gramFactor returns F = U Λ^{1/2} (n×r) from the eigendecomposition
// G = U Λ Uᵀ, keeping the r eigenvalues above n·ε·λ_max, so that F Fᵀ ≈ G.
// The symmetric square root is G^{1/2} = F Uᵀ. It returns nil when G is
// zero, and an error when G has an eigenvalue below −psdTol·λ_max.
func gramFactor(name string, g mat.Symmetric) (*mat.Dense, error) {
	n := g.SymmetricDim()
	var eig mat.EigenSym
	if !eig.Factorize(g, true) {
		return nil, fmt.Errorf("procrustes: eigendecomposition of the Gram matrix of %s failed", name)
	}
	vals := eig.Values(nil) // ascending
	lmax := vals[n-1]
	if lmin := vals[0]; lmin < 0 && -lmin > psdTol*max(lmax, 0) {
		return nil, fmt.Errorf("procrustes: %s is not a Gram matrix: it has eigenvalue %g (largest %g), so it is not positive semidefinite", name, lmin, lmax)
	}
	if lmax <= 0 {
		return nil, nil
	}
	tol := float64(n) * eps * lmax
	var keep []int
	for i, v := range vals {
		if v > tol {
			keep = append(keep, i)
		}
	}
	if len(keep) == 0 {
		return nil, nil
	}
	var u mat.Dense
	eig.VectorsTo(&u)
	f := mat.NewDense(n, len(keep), nil)
	for k, i := range keep {
		s := math.Sqrt(vals[i])
		for r := 0; r < n; r++ {
			f.Set(r, k, s*u.At(r, i))
		}
	}
	return f, nil
}

const eps = 0x1p-52

// factorNuclearNorm returns ‖F_Xᵀ F_Y‖_* for factors F Fᵀ = G of two Gram
// matrices; a nil factor stands for a zero Gram matrix.
func factorNuclearNorm(fx, fy *mat.Dense) (float64, error) {
	if fx == nil || fy == nil {
		return 0, nil
	}
	var p mat.Dense
	p.Mul(fx.T(), fy)
	return sumSingularValues(&p)
}

// sumSingularValues returns the nuclear norm of p.
func sumSingularValues(p *mat.Dense) (float64, error) {
	var svd mat.SVD
	if !svd.Factorize(p, mat.SVDNone) {
		return 0, fmt.Errorf("procrustes: singular value decomposition failed")
	}
	var s float64
	for _, v := range svd.Values(nil) {
		s += v
	}
	return s, nil
}
