package cka

import (
	"fmt"

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

// chunkRows returns how many Gram rows make one chunk: the largest divisor r
// of n with r·n ≤ signatureChunk (at least 1), so chunks tile n² exactly.
func chunkRows(n int) int {
	best := 1
	for r := 1; r <= n && r*n <= signatureChunk; r++ {
		if n%r == 0 {
			best = r
		}
	}
	return best
}

// signatureRoute streams the layers once: each is centered or standardized,
// its n×n Gram matrix (its signature, up to scale) computed with GoMLX and
// kept in float32; then all inner products come from one product of the L×n²
// signature matrix with itself, accumulated in float64 over chunks.
func signatureRoute(src Source, opt Options, backend compute.Backend) (*Result, error) {
	L := src.Len()
	debiased := opt.Measure == MeasureDebiased
	gram, err := graph.NewExec(backend, func(x *graph.Node) *graph.Node {
		return graph.Einsum("nd,md->nm", x, x)
	})
	if err != nil {
		return nil, fmt.Errorf("cka: building the Gram graph: %w", err)
	}
	defer gram.Finalize()
	res := &Result{ConstantColumns: make([]int, L), Route: "signatures"}
	var sigs *tensors.Tensor
	var rowSums [][]float64
	inputs := map[int]*tensors.Tensor{} // one reusable input buffer per width
	defer func() {
		for _, t := range inputs {
			t.FinalizeAll()
		}
		if sigs != nil {
			sigs.FinalizeAll()
		}
	}()
	n := 0
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
			// Signatures are stored chunk-major, [chunks, L, chunk], so that
			// the chunked product needs no transposition.
			rows := chunkRows(n)
			if sigs, err = tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Float32, n/rows, L, rows*n)); err != nil {
				return nil, fmt.Errorf("cka: allocating the signatures: %w", err)
			}
			if debiased {
				rowSums = make([][]float64, L)
			}
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
			if in, err = tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Float32, n, m.Cols)); err != nil {
				return nil, fmt.Errorf("cka: allocating an input buffer: %w", err)
			}
			inputs[m.Cols] = in
		}
		tensors.MutableFlatData(in, func(flat []float32) { transformRows(m, mean, factor, 0, n, flat) })
		outs, err := gram.Exec(in)
		if err != nil {
			return nil, fmt.Errorf("cka: Gram matrix of %s: %w", src.Name(i), err)
		}
		err = tensors.MutableFlatData(sigs, func(all []float32) {
			chunk := chunkRows(n) * n
			tensors.ConstFlatData(outs[0], func(g []float32) {
				for c := 0; c < n*n/chunk; c++ {
					dst := all[(c*L+i)*chunk : (c*L+i+1)*chunk]
					copy(dst, g[c*chunk:(c+1)*chunk])
				}
			})
			if debiased {
				// The unbiased estimator works on Grams with a zero diagonal.
				rs := make([]float64, n)
				for a := 0; a < n; a++ {
					off := a*n + a // entry (a, a) of the Gram
					c, k := off/chunk, off%chunk
					all[(c*L+i)*chunk+k] = 0
					s := 0.0
					for b := 0; b < n; b++ {
						off := a*n + b
						s += float64(all[(off/chunk*L+i)*chunk+off%chunk])
					}
					rs[a] = s
				}
				rowSums[i] = rs
			}
		})
		outs[0].FinalizeAll()
		if err != nil {
			return nil, err
		}
		if opt.Progress != nil {
			opt.Progress(i+1, L+1)
		}
	}
	// All inner products, chunked so float32 sums stay short.
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
	res.N, res.TileSize = n, n
	return finish(src, res, assembleHSIC(acc, rowSums, n, debiased))
}
