package cca

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/parallel"
)

// Measure selects the similarity AllPairs computes.
type Measure int

const (
	// MeasureSVCCA is SVCCA with the Keep given to AllPairs.
	MeasureSVCCA Measure = iota
	// MeasurePWCCA is PWCCA.
	MeasurePWCCA
)

// AllPairs returns the L×L matrix of measure m between every pair of the
// layers reps (same n rows each): entry (i, j) is the measure of layer i
// against layer j (PWCCA is not symmetric when the ranks are equal, so both
// orders are computed). Each layer is centred and decomposed once; kept
// returns the directions each layer kept (SVCCA) or its rank (PWCCA).
func AllPairs(reps []mat.Matrix, m Measure, keep Keep) (values *mat.Dense, kept []int, err error) {
	L := len(reps)
	if L == 0 {
		return nil, nil, fmt.Errorf("cca: no layers")
	}
	if m != MeasureSVCCA && m != MeasurePWCCA {
		return nil, nil, fmt.Errorf("cca: invalid measure %d", int(m))
	}
	if m == MeasureSVCCA {
		if err := keep.check(); err != nil {
			return nil, nil, err
		}
	}
	n0 := -1
	for l, r := range reps {
		if r == nil {
			return nil, nil, fmt.Errorf("cca: layer %d is nil", l)
		}
		n, _ := r.Dims()
		if l == 0 {
			n0 = n
		} else if n != n0 {
			return nil, nil, fmt.Errorf("cca: layer %d has %d inputs and layer 0 has %d; they must match", l, n, n0)
		}
	}
	bases := make([]*basis, L)
	errs := make([]error, L)
	kept = make([]int, L)
	parallel.For(L, 0, func(l int) {
		bases[l], errs[l] = decompose(fmt.Sprintf("layer %d", l), reps[l])
		if errs[l] != nil {
			return
		}
		b := bases[l]
		if m == MeasureSVCCA {
			r := b.kept(keep)
			b.u = mat.DenseCopyOf(b.u.Slice(0, n0, 0, r))
			b.xc = nil // not needed
			kept[l] = r
		} else {
			kept[l] = len(b.s)
		}
	})
	for l, err := range errs {
		if err != nil {
			return nil, nil, fmt.Errorf("cca: layer %d: %w", l, err)
		}
	}
	var pairs [][2]int
	for i := 0; i < L; i++ {
		for j := 0; j < L; j++ {
			if j >= i || m == MeasurePWCCA {
				pairs = append(pairs, [2]int{i, j})
			}
		}
	}
	values = mat.NewDense(L, L, nil)
	perr := make([]error, len(pairs))
	parallel.For(len(pairs), 0, func(t int) {
		i, j := pairs[t][0], pairs[t][1]
		var r Result
		if m == MeasureSVCCA {
			rho, _, err := correlations(bases[i].u, bases[j].u, false)
			if err != nil {
				perr[t] = err
				return
			}
			mean := 0.0
			for _, v := range rho {
				mean += v
			}
			r.Value = mean / float64(len(rho))
			values.Set(j, i, r.Value)
		} else {
			r, perr[t] = pwcca(bases[i], bases[j])
		}
		values.Set(i, j, r.Value)
	})
	for t, err := range perr {
		if err != nil {
			return nil, nil, fmt.Errorf("cca: layers %d and %d: %w", pairs[t][0], pairs[t][1], err)
		}
	}
	return values, kept, nil
}
