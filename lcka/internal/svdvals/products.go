package svdvals

import (
	"errors"

	"github.com/layersim/layersim/lcka/internal/grampanel"
)

// ProductBatch is how many products ProductValues reduces together: a
// caller that splits its products among goroutines gives each this many
// at a time.
const ProductBatch = batchSize

// Factors is a product Aᵀ·B of two matrices packed for grampanel's tile
// kernel, A as its left side and B as its right.
type Factors struct {
	A, B *grampanel.Panels
}

// ProductValues returns the singular values of each product (descending,
// as Values), for the all-pairs measures: the products are made on the
// tile kernel in pooled buffers, batchSize at a time, and their reductions
// to singular values go together (ValuesBatch), their dqds runs
// interleaved in one loop. An error is a *MatrixError whose Index is the
// product's that it is about.
func ProductValues(prods []Factors) ([][]float64, error) {
	out := make([][]float64, len(prods))
	for i := 0; i < len(prods); i += batchSize {
		if index, err := productGroup(prods[i:min(len(prods), i+batchSize)], out[i:]); err != nil {
			return nil, &MatrixError{Index: i + index, Err: err}
		}
	}
	return out, nil
}

// productGroup sets out[g] to the values of group[g], at most batchSize
// products, or returns the index of the one that fails and its error.
func productGroup(group []Factors, out [][]float64) (int, error) {
	mats := make([]Matrix, len(group))
	for g, f := range group {
		_, r := f.A.Dims()
		_, c := f.B.Dims()
		buf := grampanel.Scratch64(r * c)
		defer grampanel.Release64(buf)
		mats[g] = Matrix{buf[:r*c], r, c}
		if err := grampanel.MulPanels64(mats[g].A, f.A, f.B); err != nil {
			return g, err
		}
	}
	vals, err := ValuesBatch(mats)
	if err != nil {
		var me *MatrixError
		if errors.As(err, &me) {
			return me.Index, me.Err
		}
		return 0, err
	}
	copy(out, vals)
	return 0, nil
}
