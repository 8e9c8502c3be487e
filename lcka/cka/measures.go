package cka

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// Route selects how linear CKA is computed. Both routes give the same value.
type Route int

const (
	// Auto picks the cheaper route: Gram when n < d, feature otherwise.
	Auto Route = iota
	// Gram works with the n×n Gram matrices, O(n²d).
	Gram
	// Feature works with the d₁×d₂ cross-covariance, O(nd²).
	Feature
)

// ErrConstant is returned (wrapped) when a representation has no variance.
var ErrConstant = errors.New("representation is constant (no variance)")

// Linear returns the linear CKA of x and y after centering their columns.
func Linear(x, y mat.Matrix) (float64, error) { return LinearRoute(x, y, Auto) }

// LinearRoute is Linear with an explicit route.
func LinearRoute(x, y mat.Matrix, route Route) (float64, error) {
	xc, yc, err := prepare(x, y, center)
	if err != nil {
		return 0, err
	}
	return linearCentered(xc, yc, route), nil
}

// Standardized returns the study's CKA: linear CKA after standardizing every
// column to mean 0 and standard deviation 1 (constant columns become zero).
func Standardized(x, y mat.Matrix) (float64, error) {
	xs, ys, err := prepare(x, y, standardize)
	if err != nil {
		return 0, err
	}
	return linearCentered(xs, ys, Auto), nil
}

// Signature returns the study's signature of x: the Gram matrix of the
// standardized columns of x (which is already double-centered), flattened in
// row-major order and scaled to unit L2 norm. Signature(x)·Signature(y) equals
// Standardized(x, y).
func Signature(x mat.Matrix) ([]float64, error) {
	n, _ := x.Dims()
	if n < 2 {
		return nil, fmt.Errorf("cka: signature needs at least 2 rows, got %d", n)
	}
	if err := checkFinite(x, "x"); err != nil {
		return nil, err
	}
	xs, err := standardize(x, "x")
	if err != nil {
		return nil, err
	}
	var k mat.Dense
	k.Mul(xs, xs.T())
	sig := append([]float64(nil), k.RawMatrix().Data...)
	norm := 0.0
	for _, v := range sig {
		norm += v * v
	}
	norm = math.Sqrt(norm)
	for i := range sig {
		sig[i] /= norm
	}
	return sig, nil
}

// Debiased returns linear CKA with the unbiased HSIC estimator of Song et al.
// (2012) on centered features. It needs n ≥ 4.
func Debiased(x, y mat.Matrix) (float64, error) {
	xc, yc, err := prepare(x, y, center)
	if err != nil {
		return 0, err
	}
	n, _ := xc.Dims()
	if n < 4 {
		return 0, fmt.Errorf("cka: debiased CKA needs n ≥ 4 inputs, got %d", n)
	}
	var k, l mat.Dense
	k.Mul(xc, xc.T())
	l.Mul(yc, yc.T())
	return ckaFromHSIC(unbiasedHSIC(&k, &l), unbiasedHSIC(&k, &k), unbiasedHSIC(&l, &l), "debiased")
}

// RBF returns CKA with Gaussian kernels whose bandwidth is
// σ² = threshold²·median of the squared pairwise distances (all n² pairs).
func RBF(x, y mat.Matrix, threshold float64) (float64, error) {
	if !(threshold > 0) || math.IsInf(threshold, 0) {
		return 0, fmt.Errorf("cka: RBF threshold must be a positive number, got %v", threshold)
	}
	xd, yd, err := prepare(x, y, copyDense)
	if err != nil {
		return 0, err
	}
	k, err := rbfGram(xd, threshold, "x")
	if err != nil {
		return 0, err
	}
	l, err := rbfGram(yd, threshold, "y")
	if err != nil {
		return 0, err
	}
	centerGram(k)
	centerGram(l)
	return ckaFromHSIC(frob(k, l), frob(k, k), frob(l, l), "RBF")
}

// Minibatch accumulates minibatch CKA (Nguyen et al. 2021): the unbiased HSIC
// of linear kernels on each minibatch, averaged over minibatches, then
// normalized. The zero value is ready to use.
type Minibatch struct {
	xy, xx, yy float64
	batches    int
}

// Add adds one minibatch: the same ≥ 4 inputs seen by both representations.
func (m *Minibatch) Add(x, y mat.Matrix) error {
	xd, yd, err := prepare(x, y, copyDense)
	if err != nil {
		return err
	}
	n, _ := xd.Dims()
	if n < 4 {
		return fmt.Errorf("cka: a minibatch needs n ≥ 4 inputs, got %d", n)
	}
	var k, l mat.Dense
	k.Mul(xd, xd.T())
	l.Mul(yd, yd.T())
	m.xy += unbiasedHSIC(&k, &l)
	m.xx += unbiasedHSIC(&k, &k)
	m.yy += unbiasedHSIC(&l, &l)
	m.batches++
	return nil
}

// Batches returns the number of minibatches added.
func (m *Minibatch) Batches() int { return m.batches }

// CKA returns the minibatch CKA of the batches added so far.
func (m *Minibatch) CKA() (float64, error) {
	if m.batches == 0 {
		return 0, errors.New("cka: minibatch CKA of no batches")
	}
	b := float64(m.batches)
	return ckaFromHSIC(m.xy/b, m.xx/b, m.yy/b, "minibatch")
}

// linearCentered computes linear CKA of column-centered matrices.
func linearCentered(x, y *mat.Dense, route Route) float64 {
	n, dx := x.Dims()
	_, dy := y.Dims()
	if route == Auto {
		// Gram: n²(dx+dy); feature: n(dx·dy + dx² + dy²).
		if float64(n)*float64(n)*float64(dx+dy) <= float64(n)*float64(dx*dy+dx*dx+dy*dy) {
			route = Gram
		} else {
			route = Feature
		}
	}
	var xy, xx, yy float64
	if route == Gram {
		var k, l mat.Dense
		k.Mul(x, x.T())
		l.Mul(y, y.T())
		xy, xx, yy = frob(&k, &l), frob(&k, &k), frob(&l, &l)
	} else {
		var cxy, cxx, cyy mat.Dense
		cxy.Mul(x.T(), y)
		cxx.Mul(x.T(), x)
		cyy.Mul(y.T(), y)
		xy, xx, yy = frob(&cxy, &cxy), frob(&cxx, &cxx), frob(&cyy, &cyy)
	}
	return xy / math.Sqrt(xx*yy)
}

func ckaFromHSIC(xy, xx, yy float64, what string) (float64, error) {
	if !(xx > 0) || !(yy > 0) {
		return 0, fmt.Errorf("cka: %s self-similarity is not positive (HSIC(x,x)=%g, HSIC(y,y)=%g): too few inputs or no variance", what, xx, yy)
	}
	return xy / math.Sqrt(xx*yy), nil
}

// unbiasedHSIC is the unbiased estimator HSIC₁ of Song et al. (2012) for
// Grams k and l (their diagonals are ignored).
func unbiasedHSIC(k, l *mat.Dense) float64 {
	n, _ := k.Dims()
	kr, lr := k.RawMatrix(), l.RawMatrix()
	var trace, sumK, sumL, rowDot float64
	for i := 0; i < n; i++ {
		kRow := kr.Data[i*kr.Stride : i*kr.Stride+n]
		lRow := lr.Data[i*lr.Stride : i*lr.Stride+n]
		var rk, rl float64
		for j := 0; j < n; j++ {
			if i == j {
				continue
			}
			trace += kRow[j] * lRow[j]
			rk += kRow[j]
			rl += lRow[j]
		}
		sumK += rk
		sumL += rl
		rowDot += rk * rl
	}
	nf := float64(n)
	return (trace + sumK*sumL/((nf-1)*(nf-2)) - 2*rowDot/(nf-2)) / (nf * (nf - 3))
}

func frob(a, b *mat.Dense) float64 {
	ar, br := a.RawMatrix(), b.RawMatrix()
	s := 0.0
	for i := 0; i < ar.Rows; i++ {
		x := ar.Data[i*ar.Stride : i*ar.Stride+ar.Cols]
		y := br.Data[i*br.Stride : i*br.Stride+br.Cols]
		for j := range x {
			s += x[j] * y[j]
		}
	}
	return s
}

// centerGram replaces k with HkH.
func centerGram(k *mat.Dense) {
	n, _ := k.Dims()
	rowMean := make([]float64, n)
	total := 0.0
	for i := 0; i < n; i++ {
		s := 0.0
		for j := 0; j < n; j++ {
			s += k.At(i, j)
		}
		rowMean[i] = s / float64(n)
		total += s
	}
	grand := total / float64(n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			// k is symmetric: column means equal row means.
			k.Set(i, j, k.At(i, j)-rowMean[i]-rowMean[j]+grand)
		}
	}
}

func rbfGram(x *mat.Dense, threshold float64, name string) (*mat.Dense, error) {
	n, _ := x.Dims()
	var dot mat.Dense
	dot.Mul(x, x.T())
	sq := make([]float64, n)
	for i := range sq {
		sq[i] = dot.At(i, i)
	}
	d2 := mat.NewDense(n, n, nil)
	all := make([]float64, 0, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			v := sq[i] + sq[j] - 2*dot.At(i, j)
			if i == j || v < 0 {
				v = 0 // rounding
			}
			d2.Set(i, j, v)
			all = append(all, v)
		}
	}
	sort.Float64s(all)
	med := all[len(all)/2]
	if len(all)%2 == 0 {
		med = (all[len(all)/2-1] + all[len(all)/2]) / 2
	}
	if !(med > 0) {
		return nil, fmt.Errorf("cka: %s: median squared distance is zero (most inputs coincide), RBF bandwidth undefined: %w", name, ErrConstant)
	}
	scale := -1 / (2 * threshold * threshold * med)
	d2.Apply(func(_, _ int, v float64) float64 { return math.Exp(v * scale) }, d2)
	return d2, nil
}

type prepFn func(m mat.Matrix, name string) (*mat.Dense, error)

func prepare(x, y mat.Matrix, fn prepFn) (*mat.Dense, *mat.Dense, error) {
	nx, _ := x.Dims()
	ny, _ := y.Dims()
	if nx != ny {
		return nil, nil, fmt.Errorf("cka: x has %d rows and y has %d: both must hold the same inputs", nx, ny)
	}
	if nx < 2 {
		return nil, nil, fmt.Errorf("cka: need at least 2 inputs, got %d", nx)
	}
	if err := checkFinite(x, "x"); err != nil {
		return nil, nil, err
	}
	if err := checkFinite(y, "y"); err != nil {
		return nil, nil, err
	}
	xp, err := fn(x, "x")
	if err != nil {
		return nil, nil, err
	}
	yp, err := fn(y, "y")
	if err != nil {
		return nil, nil, err
	}
	return xp, yp, nil
}

func checkFinite(m mat.Matrix, name string) error {
	r, c := m.Dims()
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			if v := m.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("cka: %s has a non-finite value %v at row %d, column %d", name, v, i, j)
			}
		}
	}
	return nil
}

func copyDense(m mat.Matrix, _ string) (*mat.Dense, error) { return mat.DenseCopyOf(m), nil }

func center(m mat.Matrix, name string) (*mat.Dense, error) {
	d := mat.DenseCopyOf(m)
	if !centerColumns(d, false) {
		return nil, fmt.Errorf("cka: %s: %w", name, ErrConstant)
	}
	return d, nil
}

func standardize(m mat.Matrix, name string) (*mat.Dense, error) {
	d := mat.DenseCopyOf(m)
	if !centerColumns(d, true) {
		return nil, fmt.Errorf("cka: %s: %w", name, ErrConstant)
	}
	return d, nil
}

// centerColumns subtracts column means and, if scale, divides by the column
// standard deviation (ddof 0; a constant column becomes 0). It reports whether
// any column varies.
func centerColumns(d *mat.Dense, scale bool) bool {
	r, c := d.Dims()
	raw := d.RawMatrix()
	varies := false
	for j := 0; j < c; j++ {
		mean := 0.0
		for i := 0; i < r; i++ {
			mean += raw.Data[i*raw.Stride+j]
		}
		mean /= float64(r)
		ss := 0.0
		for i := 0; i < r; i++ {
			v := raw.Data[i*raw.Stride+j] - mean
			raw.Data[i*raw.Stride+j] = v
			ss += v * v
		}
		sd := math.Sqrt(ss / float64(r))
		if !constantColumn(sd, mean) {
			varies = true
		} else {
			sd = 0
		}
		if scale || sd == 0 {
			for i := 0; i < r; i++ {
				if sd == 0 {
					raw.Data[i*raw.Stride+j] = 0
				} else {
					raw.Data[i*raw.Stride+j] /= sd
				}
			}
		}
	}
	return varies
}

// constantColumn reports whether a column with standard deviation sd and mean
// is constant up to rounding: its spread is below 1e-12 of its magnitude.
func constantColumn(sd, mean float64) bool {
	return sd == 0 || sd <= 1e-12*math.Abs(mean)
}

// CenteredGram returns the Gram matrix of the centered (or, if standardized,
// the standardized) columns of x: HKH for the linear kernel, the matrix whose
// normalized flattening is the Signature.
func CenteredGram(x mat.Matrix, standardized bool) (*mat.SymDense, error) {
	n, _ := x.Dims()
	if n < 2 {
		return nil, fmt.Errorf("cka: need at least 2 inputs, got %d", n)
	}
	if err := checkFinite(x, "x"); err != nil {
		return nil, err
	}
	fn := center
	if standardized {
		fn = standardize
	}
	xc, err := fn(x, "x")
	if err != nil {
		return nil, err
	}
	var k mat.SymDense
	k.SymOuterK(1, xc)
	return &k, nil
}
