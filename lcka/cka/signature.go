package cka

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// firstCached serves layer 0 from memory: AllPairs loads it to choose a route.
type firstCached struct {
	Source
	first Matrix
}

func (f *firstCached) Layer(i int) (Matrix, error) {
	if i == 0 {
		return f.first, nil
	}
	return f.Source.Layer(i)
}

// signatureChunk bounds the length of the pieces of a signature whose inner
// products are summed in float32 before being added up in float64.
const signatureChunk = 16384

// gramBlock is the side of the Gram blocks of the signature route.
const gramBlock = 128

// signatureRoute streams the layers once: each is centered or standardized
// and the blocks on and above the diagonal of its n×n Gram matrix are
// computed with GoMLX and kept, in float32, as its signature (off-diagonal
// blocks scaled by √2, so that inner products of signatures are inner
// products of the full Gram matrices at about half the cost). All inner
// products then come from one product of the signature matrix with itself,
// summed in float32 over chunks of signatureChunk values and in float64
// across chunks. The unbiased estimator needs the full Gram with a zero
// diagonal and its row sums, so it uses a single block.
func signatureRoute(src Source, opt Options, backend compute.Backend) (*Result, error) {
	L := src.Len()
	debiased := opt.Measure == MeasureDebiased
	res := &Result{ConstantColumns: make([]int, L), Route: "signatures"}
	var (
		sigs      *tensors.Tensor
		rowSums   [][]float64
		starts    []int // row blocks
		sigLen    int   // values per signature
		chunk     int
		n         int
		gram      *graph.Exec
		inputs    = map[int][]*tensors.Tensor{} // reusable input blocks per width
		finalizes []func()
	)
	defer func() {
		for _, f := range finalizes {
			f()
		}
	}()
	for i := 0; i < L; i++ {
		m, err := src.Layer(i)
		if err != nil {
			return nil, fmt.Errorf("cka: loading %s: %w", src.Name(i), err)
		}
		if m.Rows*m.Cols != len(m.Data) || m.Rows <= 0 || m.Cols <= 0 {
			return nil, fmt.Errorf("cka: %s: shape %d×%d does not match %d values", src.Name(i), m.Rows, m.Cols, len(m.Data))
		}
		if i == 0 {
			n = m.Rows
			if n < 2 {
				return nil, fmt.Errorf("cka: %s: need at least 2 inputs, got %d", src.Name(i), n)
			}
			if debiased && n < 4 {
				return nil, fmt.Errorf("cka: debiased CKA needs n ≥ 4 inputs, got %d", n)
			}
			b := n
			if !debiased {
				blocks := (n + gramBlock - 1) / gramBlock
				b = (n + blocks - 1) / blocks
			}
			for s := 0; s < n; s += b {
				starts = append(starts, s)
			}
			starts = append(starts, n)
			nb := len(starts) - 1
			for r := 0; r < nb; r++ {
				for c := r; c < nb; c++ {
					sigLen += (starts[r+1] - starts[r]) * (starts[c+1] - starts[c])
				}
			}
			chunk = min(signatureChunk, sigLen)
			chunks := (sigLen + chunk - 1) / chunk
			// Chunk-major, [chunks, L, chunk], so the product needs no
			// transposition; the padding of the last chunk stays zero.
			if sigs, err = tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Float32, chunks, L, chunk)); err != nil {
				return nil, fmt.Errorf("cka: allocating the signatures: %w", err)
			}
			finalizes = append(finalizes, func() { sigs.FinalizeAll() })
			if debiased {
				rowSums = make([][]float64, L)
			}
			gram, err = graph.NewExec(backend, func(in []*graph.Node) []*graph.Node {
				var out []*graph.Node
				for r := range in {
					for c := r; c < len(in); c++ {
						g := graph.Einsum("nd,md->nm", in[r], in[c])
						if c != r {
							g = graph.MulScalar(g, math.Sqrt2)
						}
						out = append(out, g)
					}
				}
				return out
			})
			if err != nil {
				return nil, fmt.Errorf("cka: building the Gram graph: %w", err)
			}
			finalizes = append(finalizes, gram.Finalize)
		} else if m.Rows != n {
			return nil, fmt.Errorf("cka: %s has %d inputs but %s has %d: all layers must hold the same inputs", src.Name(i), m.Rows, src.Name(0), n)
		}
		mean, factor, constant, err := columnTransform(m, opt.Measure == MeasureStandardized)
		if err != nil {
			return nil, fmt.Errorf("cka: %s: %w", src.Name(i), err)
		}
		res.ConstantColumns[i] = constant
		in := inputs[m.Cols]
		if in == nil {
			for k := 0; k+1 < len(starts); k++ {
				t, err := tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Float32, starts[k+1]-starts[k], m.Cols))
				if err != nil {
					return nil, fmt.Errorf("cka: allocating an input buffer: %w", err)
				}
				finalizes = append(finalizes, func() { t.FinalizeAll() })
				in = append(in, t)
			}
			inputs[m.Cols] = in
		}
		args := make([]any, len(in))
		for k, t := range in {
			tensors.MutableFlatData(t, func(flat []float32) { transformRows(m, mean, factor, starts[k], starts[k+1], flat) })
			args[k] = t
		}
		outs, err := gram.Exec(args...)
		if err != nil {
			return nil, fmt.Errorf("cka: Gram matrix of %s: %w", src.Name(i), err)
		}
		err = tensors.MutableFlatData(sigs, func(all []float32) {
			pos := 0 // position in the signature
			for _, o := range outs {
				tensors.ConstFlatData(o, func(g []float32) {
					for len(g) > 0 {
						c, k := pos/chunk, pos%chunk
						w := copy(all[(c*L+i)*chunk+k:(c*L+i+1)*chunk], g)
						g, pos = g[w:], pos+w
					}
				})
			}
			if debiased {
				// One block: the full Gram, row-major, at signature positions 0..n²−1.
				at := func(p int) *float32 { return &all[(p/chunk*L+i)*chunk+p%chunk] }
				rs := make([]float64, n)
				for a := 0; a < n; a++ {
					*at(a*n + a) = 0
					s := 0.0
					for b := 0; b < n; b++ {
						s += float64(*at(a*n + b))
					}
					rs[a] = s
				}
				rowSums[i] = rs
			}
		})
		for _, o := range outs {
			o.FinalizeAll()
		}
		if err != nil {
			return nil, err
		}
		if opt.Progress != nil {
			opt.Progress(i+1, L+1)
		}
	}
	prod, err := graph.NewExec(backend, func(f *graph.Node) *graph.Node {
		p := graph.Einsum("clk,cmk->clm", f, f)
		return graph.ReduceSum(graph.ConvertDType(p, dtypes.Float64), 0)
	})
	if err != nil {
		return nil, fmt.Errorf("cka: building the product graph: %w", err)
	}
	defer prod.Finalize()
	outs, err := prod.Exec(sigs)
	if err != nil {
		return nil, fmt.Errorf("cka: signature product: %w", err)
	}
	acc, err := tensors.CopyFlatData[float64](outs[0])
	outs[0].FinalizeAll()
	if err != nil {
		return nil, err
	}
	if opt.Progress != nil {
		opt.Progress(L+1, L+1)
	}
	res.N, res.TileSize = n, starts[1]
	return finish(src, res, assembleHSIC(acc, rowSums, n, debiased))
}
