package shape

import (
	"context"
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/parallel"
)

// AllPairs returns the L×L matrix of θ_α between every pair of the layers
// reps (same n rows each). Each layer is whitened once; each pair then costs
// a product and an SVD of r_i×r_j matrices (r ≤ n−1), O(n³): far more than
// CKA's O(n²) per pair once the Grams are formed.
func AllPairs(reps []mat.Matrix, alpha float64) (*mat.SymDense, error) {
	return AllPairsProgress(context.Background(), reps, alpha, nil)
}

// AllPairsProgress is AllPairs for long jobs: it stops between layers and
// pairs once ctx is done (returning its error), and tells progress, if not
// nil, how many of the layers and pairs are done, about every hundredth,
// one call at a time.
func AllPairsProgress(ctx context.Context, reps []mat.Matrix, alpha float64, progress func(done, total int)) (*mat.SymDense, error) {
	L := len(reps)
	if L == 0 {
		return nil, fmt.Errorf("shape: no layers")
	}
	for l, r := range reps {
		if r == nil {
			return nil, fmt.Errorf("shape: layer %d is nil", l)
		}
		if n, _ := r.Dims(); l > 0 {
			if n0, _ := reps[0].Dims(); n != n0 {
				return nil, fmt.Errorf("shape: layer %d has %d inputs and layer 0 has %d; they must match", l, n, n0)
			}
		}
	}
	tr := parallel.NewTracker(ctx, L+L*(L-1)/2, progress)
	ws := make([]*Whitened, L)
	errs := make([]error, L)
	parallel.For(L, 0, func(l int) {
		if tr.Err() != nil {
			return
		}
		ws[l], errs[l] = whiten(fmt.Sprintf("layer %d", l), reps[l], alpha)
		tr.Done(1)
	})
	if err := tr.Err(); err != nil {
		return nil, fmt.Errorf("shape: %w", err)
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	var pairs [][2]int
	for i := 0; i < L; i++ {
		for j := i + 1; j < L; j++ {
			pairs = append(pairs, [2]int{i, j})
		}
	}
	out := mat.NewSymDense(L, nil)
	perr := make([]error, len(pairs))
	parallel.For(len(pairs), 0, func(t int) {
		if tr.Err() != nil {
			return
		}
		var v float64
		v, perr[t] = AngularOf(ws[pairs[t][0]], ws[pairs[t][1]])
		out.SetSym(pairs[t][0], pairs[t][1], v)
		tr.Done(1)
	})
	if err := tr.Err(); err != nil {
		return nil, fmt.Errorf("shape: %w", err)
	}
	for t, err := range perr {
		if err != nil {
			return nil, fmt.Errorf("shape: layers %d and %d: %w", pairs[t][0], pairs[t][1], err)
		}
	}
	return out, nil
}
