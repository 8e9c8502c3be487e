package svdvals

import (
	"fmt"

	"github.com/layersim/layersim/lcka/internal/grampanel"
)

// Factors is a product Aᵀ·B of two matrices packed for grampanel's tile
// kernel, A as its left side and B as its right.
type Factors struct {
	A, B *grampanel.Panels
}

// ProductValues returns the singular values of each product (descending,
// as Values), for the all-pairs measures: each is made on the tile kernel
// in a pooled buffer, and their reductions to singular values go two at a
// time (ValuesPair), the second of a pair in the time the divider leaves
// the first. An error names the product, by index, that it is about.
func ProductValues(prods []Factors) ([][]float64, error) {
	out := make([][]float64, len(prods))
	for i := 0; i < len(prods); i += 2 {
		if err := productGroup(prods[i:min(len(prods), i+2)], out[i:]); err != nil {
			return nil, fmt.Errorf("svdvals: product %d: %w", i+err.index, err.err)
		}
	}
	return out, nil
}

// groupError is an error of productGroup's about its product index.
type groupError struct {
	index int
	err   error
}

// productGroup sets out[g] to the values of group[g], one or two products.
func productGroup(group []Factors, out [][]float64) *groupError {
	var mats [2][]float64
	var dims [2][2]int
	for g, f := range group {
		_, r := f.A.Dims()
		_, c := f.B.Dims()
		buf := grampanel.Scratch64(r * c)
		defer grampanel.Release64(buf)
		mats[g], dims[g] = buf[:r*c], [2]int{r, c}
		if err := grampanel.MulPanels64(mats[g], f.A, f.B); err != nil {
			return &groupError{g, err}
		}
	}
	if len(group) == 1 {
		v, err := Values(mats[0], dims[0][0], dims[0][1])
		if err != nil {
			return &groupError{0, err}
		}
		out[0] = v
		return nil
	}
	va, vb, err := ValuesPair(mats[0], dims[0][0], dims[0][1], mats[1], dims[1][0], dims[1][1])
	if pe, ok := err.(pairError); ok {
		if pe.which == "second" {
			return &groupError{1, pe.err}
		}
		return &groupError{0, pe.err}
	}
	if err != nil {
		return &groupError{0, err}
	}
	out[0], out[1] = va, vb
	return nil
}
