package shape

import (
	"context"
	"errors"
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/grampanel"
	"github.com/layersim/layersim/lcka/internal/parallel"
	"github.com/layersim/layersim/lcka/internal/svdvals"
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
	// Where the CPU has the host kernel, each basis is packed for it as it
	// is made (both sides) and then let go: only the packs stay.
	var packed *packedBases
	if grampanel.Host() {
		packed = &packedBases{left: make([]*grampanel.Panels, L), right: make([]*grampanel.Panels, L)}
	}
	parallel.For(L, 0, func(l int) {
		if tr.Err() != nil {
			return
		}
		name := fmt.Sprintf("layer %d", l)
		ws[l], errs[l] = whiten(name, reps[l], alpha)
		if errs[l] == nil && packed != nil {
			errs[l] = packed.add(l, ws[l])
		}
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
	if packed != nil {
		// svdvals.ProductBatch pairs at a time, each layer's basis packed
		// once for the tile kernel, the products' singular values found
		// together (svdvals.ProductValues): the same values as AngularOf's,
		// to the bit, without packing both sides of every product.
		const batch = svdvals.ProductBatch
		parallel.For((len(pairs)+batch-1)/batch, 0, func(g int) {
			if tr.Err() != nil {
				return
			}
			group := pairs[batch*g : min(len(pairs), batch*(g+1))]
			prods := make([]svdvals.Factors, len(group))
			for i, p := range group {
				prods[i] = packed.product(p[0], p[1])
			}
			sv, err := svdvals.ProductValues(prods)
			if err != nil {
				index := 0
				var me *svdvals.MatrixError
				if errors.As(err, &me) {
					index, err = me.Index, me.Err
				}
				perr[batch*g+index] = fmt.Errorf("the alignment problem: %w", err)
				return
			}
			for i, p := range group {
				out.SetSym(p[0], p[1], angle(sv[i]))
			}
			tr.Done(len(group))
		})
	} else {
		parallel.For(len(pairs), 0, func(t int) {
			if tr.Err() != nil {
				return
			}
			var v float64
			v, perr[t] = AngularOf(ws[pairs[t][0]], ws[pairs[t][1]])
			out.SetSym(pairs[t][0], pairs[t][1], v)
			tr.Done(1)
		})
	}
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

// packedBases holds every layer's whitened basis packed for the tile
// kernel as either side of a product.
type packedBases struct {
	left, right []*grampanel.Panels
}

// add packs layer l's basis w.b as both sides and lets w.b go.
func (p *packedBases) add(l int, w *Whitened) error {
	raw := w.b.RawMatrix()
	var err error
	if p.left[l], err = grampanel.Pack64(raw.Data, raw.Stride, raw.Rows, raw.Cols, grampanel.Left); err != nil {
		return fmt.Errorf("shape: layer %d: %w", l, err)
	}
	if p.right[l], err = grampanel.Pack64(raw.Data, raw.Stride, raw.Rows, raw.Cols, grampanel.Right); err != nil {
		return fmt.Errorf("shape: layer %d: %w", l, err)
	}
	w.b = nil
	return nil
}

// product returns the factors of layers i and j's alignment problem, the
// basis with more directions on the left, so that the product has no
// fewer rows than columns (its singular values are those of either
// order; svdvals.Values would otherwise transpose it).
func (p *packedBases) product(i, j int) svdvals.Factors {
	_, ki := p.left[i].Dims()
	_, kj := p.left[j].Dims()
	if ki < kj {
		i, j = j, i
	}
	return svdvals.Factors{A: p.left[i], B: p.right[j]}
}
