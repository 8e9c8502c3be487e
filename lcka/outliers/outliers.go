package outliers

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/dense"
)

// Quantile selects how Clip computes its threshold.
type Quantile int

const (
	// Exact is the ⌊q·n·d⌋-th smallest |value| of the whole matrix.
	Exact Quantile = iota
	// RowMean is the mean over rows of each row's linearly interpolated
	// q-quantile of |values|.
	RowMean
)

// String names the method.
func (m Quantile) String() string {
	switch m {
	case Exact:
		return "exact"
	case RowMean:
		return "row-mean"
	}
	return fmt.Sprintf("Quantile(%d)", int(m))
}

// checked is dense.Checked with the package's prefix on its errors.
func checked(x mat.Matrix, name string) (*mat.Dense, error) {
	d, err := dense.Checked(x, name)
	if err != nil {
		return nil, fmt.Errorf("outliers: %w", err)
	}
	return d, nil
}

// Threshold returns the clipping threshold t of x at quantile q in (0, 1].
func Threshold(x mat.Matrix, q float64, m Quantile) (float64, error) {
	xd, err := checked(x, "x")
	if err != nil {
		return 0, err
	}
	return threshold(xd, q, m)
}

func threshold(x *mat.Dense, q float64, m Quantile) (float64, error) {
	if !(q > 0 && q <= 1) {
		return 0, fmt.Errorf("outliers: quantile q = %v; it must be in (0, 1]", q)
	}
	n, d := x.Dims()
	abs := make([]float64, 0, n*d)
	for i := 0; i < n; i++ {
		for _, v := range x.RawRowView(i) {
			abs = append(abs, math.Abs(v))
		}
	}
	switch m {
	case Exact:
		sort.Float64s(abs)
		// int(q * numel) in Python: the float product, truncated.
		p := min(int(q*float64(len(abs))), len(abs)-1)
		return abs[p], nil
	case RowMean:
		sum := 0.0
		for i := 0; i < n; i++ {
			row := abs[i*d : (i+1)*d]
			sort.Float64s(row)
			pos := q * float64(d-1)
			lo := int(math.Floor(pos))
			v := row[lo]
			if lo+1 < d {
				v += (pos - float64(lo)) * (row[lo+1] - row[lo])
			}
			sum += v
		}
		return sum / float64(n), nil
	}
	return 0, fmt.Errorf("outliers: invalid quantile method %v", m)
}

// Clip returns a copy of x with every value clipped to [−t, t], t the
// threshold at quantile q; q = 1 returns an unchanged copy.
func Clip(x mat.Matrix, q float64, m Quantile) (*mat.Dense, error) {
	xd, err := checked(x, "x")
	if err != nil {
		return nil, err
	}
	if m != Exact && m != RowMean {
		return nil, fmt.Errorf("outliers: invalid quantile method %v", m)
	}
	if q == 1 {
		return mat.DenseCopyOf(xd), nil
	}
	t, err := threshold(xd, q, m)
	if err != nil {
		return nil, err
	}
	n, d := xd.Dims()
	out := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		dst := out.RawRowView(i)
		for j, v := range xd.RawRowView(i) {
			dst[j] = max(-t, min(t, v))
		}
	}
	return out, nil
}

// normEps is torch.nn.functional.normalize's default eps.
const normEps = 1e-12

// Normalize returns a copy of x with every row divided by max(‖xᵢ‖, 1e-12).
func Normalize(x mat.Matrix) (*mat.Dense, error) {
	xd, err := checked(x, "x")
	if err != nil {
		return nil, err
	}
	n, d := xd.Dims()
	out := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		row := xd.RawRowView(i)
		s := 0.0 // the largest |value|, against overflow in Σx²
		for _, v := range row {
			s = max(s, math.Abs(v))
		}
		norm := 0.0
		if s > 0 {
			for _, v := range row {
				norm += (v / s) * (v / s)
			}
			norm = s * math.Sqrt(norm)
		}
		norm = max(norm, normEps)
		dst := out.RawRowView(i)
		for j, v := range row {
			dst[j] = v / norm
		}
	}
	return out, nil
}

// Prepare clips x at quantile q and normalises its rows, as platonic-rep
// prepares every representation.
func Prepare(x mat.Matrix, q float64, m Quantile) (*mat.Dense, error) {
	c, err := Clip(x, q, m)
	if err != nil {
		return nil, err
	}
	return Normalize(c)
}

// TopVariance returns the indices of the k columns of x with the largest
// variance, largest first (ties to the lower index).
func TopVariance(x mat.Matrix, k int) ([]int, error) {
	xd, err := checked(x, "x")
	if err != nil {
		return nil, err
	}
	return topVariance(xd, k)
}

func topVariance(x *mat.Dense, k int) ([]int, error) {
	n, d := x.Dims()
	if k < 0 || k >= d {
		return nil, fmt.Errorf("outliers: k = %d dimensions to drop of %d; k must be in 0…%d", k, d, d-1)
	}
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range x.RawRowView(i) {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	vars := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range x.RawRowView(i) {
			vars[j] += (v - mean[j]) * (v - mean[j])
		}
	}
	idx := make([]int, d)
	for j := range idx {
		idx[j] = j
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case vars[a] > vars[b]:
			return -1
		case vars[a] < vars[b]:
			return 1
		}
		return 0
	})
	return idx[:k], nil
}

// DropTop returns a copy of x without its k columns of largest variance
// (the others in their order), and the dropped columns, largest first.
func DropTop(x mat.Matrix, k int) (*mat.Dense, []int, error) {
	xd, err := checked(x, "x")
	if err != nil {
		return nil, nil, err
	}
	top, err := topVariance(xd, k)
	if err != nil {
		return nil, nil, err
	}
	n, d := xd.Dims()
	drop := make([]bool, d)
	for _, j := range top {
		drop[j] = true
	}
	out := mat.NewDense(n, d-k, nil)
	for i := 0; i < n; i++ {
		dst := out.RawRowView(i)[:0]
		for j, v := range xd.RawRowView(i) {
			if !drop[j] {
				dst = append(dst, v)
			}
		}
	}
	return out, top, nil
}

// Measure is a similarity of two representations with the same rows, such
// as cka.Linear.
type Measure func(x, y mat.Matrix) (float64, error)

// Dependence returns measure(x, y) and the same measure after dropping the
// k top-variance dimensions of each of x and y.
func Dependence(x, y mat.Matrix, k int, measure Measure) (with, without float64, err error) {
	if measure == nil {
		return 0, 0, fmt.Errorf("outliers: nil measure")
	}
	xd, err := checked(x, "x")
	if err != nil {
		return 0, 0, err
	}
	yd, err := checked(y, "y")
	if err != nil {
		return 0, 0, err
	}
	if nx, _ := xd.Dims(); nx != yd.RawMatrix().Rows {
		return 0, 0, fmt.Errorf("outliers: x has %d inputs (rows) and y has %d; they must match", nx, yd.RawMatrix().Rows)
	}
	xk, _, err := DropTop(xd, k)
	if err != nil {
		return 0, 0, fmt.Errorf("x: %w", err)
	}
	yk, _, err := DropTop(yd, k)
	if err != nil {
		return 0, 0, fmt.Errorf("y: %w", err)
	}
	if with, err = measure(xd, yd); err != nil {
		return 0, 0, err
	}
	if without, err = measure(xk, yk); err != nil {
		return 0, 0, fmt.Errorf("without the top %d dimensions: %w", k, err)
	}
	return with, without, nil
}
