package procrustes

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// LayerResidual returns the orthogonal Procrustes residual between two
// stacks a and b (L×p each, row k of a paired with row k of b) under an
// orthogonal map of the rows, the figure of the original study:
//
//	res = min over orthogonal Q (L×L) of ‖QA − B‖_F = √max(0, ‖A‖²_F + ‖B‖²_F − 2‖BAᵀ‖_*),
//	rel = res / √(‖A‖²_F + ‖B‖²_F).
//
// Q mixes the layers of one stack to match the other's; the coordinates of
// the rows are not rotated (compare Residual). a and b must have the same
// number of rows and of columns. rel lies in [0, 1].
func LayerResidual(a, b mat.Matrix) (res, rel float64, err error) {
	ad, err := checkInput("a", a)
	if err != nil {
		return 0, 0, err
	}
	bd, err := checkInput("b", b)
	if err != nil {
		return 0, 0, err
	}
	la, pa := ad.Dims()
	lb, pb := bd.Dims()
	if la != lb || pa != pb {
		return 0, 0, fmt.Errorf("procrustes: a is %d×%d and b is %d×%d; they must match (rows are paired, columns are the same coordinates)", la, pa, lb, pb)
	}
	na, nb := mat.Norm(ad, 2), mat.Norm(bd, 2)
	var cross mat.Dense
	cross.Mul(bd, ad.T())
	return LayerResidualFromCross(&cross, na*na, nb*nb)
}

// LayerResidualFromCross returns LayerResidual from the L×L matrix of inner
// products cross = BAᵀ (entry (i, j) = ⟨b_i, a_j⟩) and the squared norms
// ‖A‖²_F and ‖B‖²_F. For stacks of CKA signatures (unit vectors whose inner
// products are CKA values), cross is the block of the CKA matrix between the
// two stacks and the squared norms are the traces of their diagonal blocks,
// L each: the residual needs nothing else.
func LayerResidualFromCross(cross mat.Matrix, sqNormA, sqNormB float64) (res, rel float64, err error) {
	c, err := checkInput("cross", cross)
	if err != nil {
		return 0, 0, err
	}
	if r, k := c.Dims(); r != k {
		return 0, 0, fmt.Errorf("procrustes: cross is %d×%d; it must be square (L×L)", r, k)
	}
	for _, v := range []float64{sqNormA, sqNormB} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, 0, fmt.Errorf("procrustes: squared norm %v: want a finite value ≥ 0", v)
		}
	}
	total := sqNormA + sqNormB
	if math.IsInf(total, 0) {
		return 0, 0, fmt.Errorf("procrustes: overflow in ‖a‖² + ‖b‖² (values too large)")
	}
	if total == 0 {
		return 0, 0, fmt.Errorf("procrustes: a and b are both zero; the relative residual is undefined")
	}
	nuc, err := sumSingularValues(c)
	if err != nil {
		return 0, 0, err
	}
	if nuc > math.Sqrt(sqNormA*sqNormB)*(1+1e-6) {
		return 0, 0, fmt.Errorf("procrustes: ‖cross‖_* = %g exceeds ‖a‖·‖b‖ = %g: cross is not BAᵀ of stacks with these norms", nuc, math.Sqrt(sqNormA*sqNormB))
	}
	return residual(total, nuc)
}
