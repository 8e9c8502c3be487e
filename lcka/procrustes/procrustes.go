package procrustes

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/dense"
)

// Distance returns the squared Procrustes distance between two
// representations x (n×d_x) and y (n×d_y) of the same n ≥ 2 samples:
//
//	d²(X, Y) = 2 − 2‖X̂ᵀŶ‖_* = min over orthogonal R of ‖X̂R − Ŷ‖²_F,
//
// where X̂ and Ŷ are x and y with their columns centred and then scaled to
// unit Frobenius norm, and ‖·‖_* is the nuclear norm. When d_x ≠ d_y the
// narrower input is taken as padded with zero columns. The result lies in
// [0, 2] (it is clamped at 0 against rounding); its square root is a metric.
//
// Either input with all rows equal (no variance) is an error.
func Distance(x, y mat.Matrix) (float64, error) {
	xd, err := checkInput("x", x)
	if err != nil {
		return 0, err
	}
	yd, err := checkInput("y", y)
	if err != nil {
		return 0, err
	}
	nx, _ := xd.Dims()
	ny, _ := yd.Dims()
	if nx != ny {
		return 0, fmt.Errorf("procrustes: x has %d samples (rows) and y has %d; they must match", nx, ny)
	}
	if nx < 2 {
		return 0, fmt.Errorf("procrustes: x and y have %d sample; the distance needs at least 2", nx)
	}
	xn, err := normalize("x", xd)
	if err != nil {
		return 0, err
	}
	yn, err := normalize("y", yd)
	if err != nil {
		return 0, err
	}
	nuc, err := nuclearNorm(xn, yn)
	if err != nil {
		return 0, err
	}
	return max(0, 2-2*nuc), nil
}

// normalize returns a copy of x with its columns centred, scaled to unit
// Frobenius norm.
func normalize(name string, x *mat.Dense) (*mat.Dense, error) {
	c := dense.CenteredColumns(x)
	norm := mat.Norm(c, 2) // Frobenius, computed without overflow
	switch {
	case math.IsInf(norm, 0) || math.IsNaN(norm):
		return nil, fmt.Errorf("procrustes: overflow while centring %s (values too large)", name)
	case norm == 0:
		return nil, fmt.Errorf("procrustes: %s has zero variance (all rows equal), so it cannot be normalised", name)
	}
	c.Scale(1/norm, c)
	return c, nil
}

// Residual returns the orthogonal Procrustes residual between two stacks a
// and b (L×p_a and L×p_b, row k of a paired with row k of b):
//
//	res = min over orthogonal R of ‖AR − B‖_F = √max(0, ‖A‖²_F + ‖B‖²_F − 2‖AᵀB‖_*),
//	rel = res / √(‖A‖²_F + ‖B‖²_F),
//
// with no centring or scaling. rel lies in [0, 1]. When p_a ≠ p_b the
// narrower stack is taken as padded with zero columns. A p×p matrix is never
// formed when p is large: the nuclear norm then comes from the L×L Gram
// matrices (see ResidualFromGrams).
//
// Because res² is a difference of nearly equal terms when B ≈ AR, res is
// accurate to about 1e-8·√(‖A‖² + ‖B‖²) in absolute terms (rel to about
// 1e-8); res² is accurate to about 1e-15·(‖A‖² + ‖B‖²).
func Residual(a, b mat.Matrix) (res, rel float64, err error) {
	ad, err := checkInput("a", a)
	if err != nil {
		return 0, 0, err
	}
	bd, err := checkInput("b", b)
	if err != nil {
		return 0, 0, err
	}
	la, _ := ad.Dims()
	lb, _ := bd.Dims()
	if la != lb {
		return 0, 0, fmt.Errorf("procrustes: a has %d rows and b has %d; they must match (rows are paired)", la, lb)
	}
	na, nb := mat.Norm(ad, 2), mat.Norm(bd, 2)
	total := na*na + nb*nb
	if math.IsInf(total, 0) {
		return 0, 0, fmt.Errorf("procrustes: overflow in ‖a‖² + ‖b‖² (values too large)")
	}
	if total == 0 {
		return 0, 0, fmt.Errorf("procrustes: a and b are both zero; the relative residual is undefined")
	}
	nuc, err := nuclearNorm(ad, bd)
	if err != nil {
		return 0, 0, err
	}
	return residual(total, nuc)
}

// ResidualFromGrams returns the orthogonal Procrustes residual of Residual
// computed from the Gram matrices gA = A Aᵀ and gB = B Bᵀ (L×L, symmetric
// positive semidefinite) alone:
//
//	‖A‖²_F = tr gA,  ‖B‖²_F = tr gB,  ‖AᵀB‖_* = ‖gA^{1/2} gB^{1/2}‖_*.
//
// Eigenvalues of gA or gB down to −1e-8 times the largest are taken as
// rounding and treated as 0; more negative ones are an error. The result is
// as accurate as the Grams allow: singular values of AᵀB are recovered from
// products of eigenvalues, so errors of δ in the Grams may move res² by
// about √δ times the scale of the Grams.
func ResidualFromGrams(gA, gB mat.Symmetric) (res, rel float64, err error) {
	if err := checkGram("gA", gA); err != nil {
		return 0, 0, err
	}
	if err := checkGram("gB", gB); err != nil {
		return 0, 0, err
	}
	if na, nb := gA.SymmetricDim(), gB.SymmetricDim(); na != nb {
		return 0, 0, fmt.Errorf("procrustes: gA is %d×%d and gB is %d×%d; they must match", na, na, nb, nb)
	}
	var total float64
	for i := 0; i < gA.SymmetricDim(); i++ {
		total += gA.At(i, i) + gB.At(i, i)
	}
	if math.IsInf(total, 0) {
		return 0, 0, fmt.Errorf("procrustes: overflow in tr gA + tr gB (values too large)")
	}
	fa, err := gramFactor("gA", gA)
	if err != nil {
		return 0, 0, err
	}
	fb, err := gramFactor("gB", gB)
	if err != nil {
		return 0, 0, err
	}
	if total <= 0 {
		return 0, 0, fmt.Errorf("procrustes: gA and gB are both zero; the relative residual is undefined")
	}
	nuc, err := factorNuclearNorm(fa, fb)
	if err != nil {
		return 0, 0, err
	}
	return residual(total, nuc)
}

// residual turns ‖A‖² + ‖B‖² and ‖AᵀB‖_* into the absolute and relative
// residuals.
func residual(total, nuc float64) (res, rel float64, err error) {
	res = math.Sqrt(max(0, total-2*nuc))
	rel = min(1, res/math.Sqrt(total))
	return res, rel, nil
}

// checkInput validates a matrix argument and returns it as a *mat.Dense,
// without copying when it already is one.
func checkInput(name string, x mat.Matrix) (*mat.Dense, error) {
	d, err := dense.Checked(x, name)
	if err != nil {
		return nil, fmt.Errorf("procrustes: %w", err)
	}
	return d, nil
}

// checkGram validates a Gram matrix argument.
func checkGram(name string, g mat.Symmetric) error {
	if g == nil {
		return fmt.Errorf("procrustes: %s is nil", name)
	}
	if s, ok := g.(*mat.SymDense); ok && (s == nil || s.IsEmpty()) {
		return fmt.Errorf("procrustes: %s is empty", name)
	}
	n := g.SymmetricDim()
	if n == 0 {
		return fmt.Errorf("procrustes: %s is empty", name)
	}
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			if v := g.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("procrustes: %s has non-finite value %v at (%d, %d)", name, v, i, j)
			}
		}
	}
	return nil
}
