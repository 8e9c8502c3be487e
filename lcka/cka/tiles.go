package cka

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/layersim/layersim/lcka/internal/parallel"
)

// tileEngine computes, for one tile (row block r against row block c), the
// inner products of the Gram tiles of every pair of layers. Each layer's
// Gram tile is one GoMLX matrix product; a few workers run layers
// concurrently (the Go backend runs one such product on one core) and copy
// the float32 tiles into a reused [chunks, L, chunk] tensor, whose product
// with itself sums in float32 within chunks of at most signatureChunk values
// and in float64 across chunks.
type tileEngine struct {
	L        int
	debiased bool
	backend  compute.Backend
	gram     *graph.Exec
	prod     *graph.Exec
	bufs     map[[2]int]*tensors.Tensor // by tile shape
}

type tileResult struct {
	p              []float64   // L×L inner products of the Gram tiles
	rowSum, colSum [][]float64 // per layer, sums of the tile's rows and columns (debiased only)
}

func newTileEngine(backend compute.Backend, L int, debiased bool) (*tileEngine, error) {
	e := &tileEngine{L: L, debiased: debiased, backend: backend, bufs: map[[2]int]*tensors.Tensor{}}
	var err error
	if e.gram, err = graph.NewExec(backend, func(r, c *graph.Node) *graph.Node {
		return graph.Einsum("rd,cd->rc", r, c)
	}); err != nil {
		return nil, fmt.Errorf("cka: building the Gram tile graph: %w", err)
	}
	if e.prod, err = graph.NewExec(backend, func(f *graph.Node) *graph.Node {
		return graph.ReduceSum(graph.ConvertDType(graph.Einsum("clk,cmk->clm", f, f), dtypes.Float64), 0)
	}); err != nil {
		e.gram.Finalize()
		return nil, fmt.Errorf("cka: building the tile product graph: %w", err)
	}
	e.gram.SetMaxCache(64)
	e.prod.SetMaxCache(16)
	return e, nil
}

func (e *tileEngine) finalize() {
	e.gram.Finalize()
	e.prod.Finalize()
	for _, t := range e.bufs {
		t.FinalizeAll()
	}
}

// tileChunks splits the rows×cols values of a Gram tile into chunks of whole
// rows holding at most signatureChunk values (one row if a row is longer),
// with the number of rows per chunk dividing rows.
func tileChunks(rows, cols int) (chunks, chunk int) {
	per := max(1, min(rows, signatureChunk/max(1, cols)))
	for rows%per != 0 {
		per--
	}
	return rows / per, per * cols
}

// tile computes one tile from the row blocks of every layer (rowsC is nil on
// the diagonal); br and bc are the blocks' row counts.
func (e *tileEngine) tile(rowsR, rowsC []*tensors.Tensor, br, bc int) (*tileResult, error) {
	L := e.L
	diagonal := rowsC == nil
	if diagonal {
		rowsC = rowsR
	}
	chunks, chunk := tileChunks(br, bc)
	buf := e.bufs[[2]int{br, bc}]
	if buf == nil {
		var err error
		if buf, err = tensors.FromShapeForBackend(e.backend, 0, shapes.Make(dtypes.Float32, chunks, L, chunk)); err != nil {
			return nil, fmt.Errorf("cka: allocating a tile buffer: %w", err)
		}
		e.bufs[[2]int{br, bc}] = buf
	}
	t := &tileResult{}
	if e.debiased {
		t.rowSum, t.colSum = make([][]float64, L), make([][]float64, L)
	}
	var firstErr error
	var mu sync.Mutex
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	// layer computes layer i's Gram tile into its slots of all.
	layer := func(i int, all []float32) {
		outs, err := e.gram.Exec(rowsR[i], rowsC[i])
		if err != nil {
			fail(fmt.Errorf("cka: Gram tile: %w", err))
			return
		}
		defer outs[0].FinalizeAll()
		tensors.ConstFlatData(outs[0], func(g []float32) {
			for q := 0; q < chunks; q++ {
				copy(all[(q*L+i)*chunk:(q*L+i+1)*chunk], g[q*chunk:(q+1)*chunk])
			}
			if !e.debiased {
				return
			}
			// The unbiased estimator uses the Gram matrix with a zero
			// diagonal, and its row and column sums.
			at := func(a, b int) *float32 {
				p := a*bc + b
				return &all[(p/chunk*L+i)*chunk+p%chunk]
			}
			rs, cs := make([]float64, br), make([]float64, bc)
			for a := 0; a < br; a++ {
				if diagonal {
					*at(a, a) = 0
				}
				s := 0.0
				for b := 0; b < bc; b++ {
					v := float64(*at(a, b))
					s += v
					cs[b] += v
				}
				rs[a] = s
			}
			t.rowSum[i] = rs
			if !diagonal {
				// A diagonal tile is symmetric: its column sums are its row
				// sums, already counted once.
				t.colSum[i] = cs
			}
		})
	}
	err := tensors.MutableFlatData(buf, func(all []float32) {
		parallel.For(L, min(runtime.GOMAXPROCS(0), 4), func(i int) { layer(i, all) })
	})
	if err == nil {
		err = firstErr
	}
	if err != nil {
		return nil, err
	}
	outs, err := e.prod.Exec(buf)
	if err != nil {
		return nil, fmt.Errorf("cka: tile product: %w", err)
	}
	defer outs[0].FinalizeAll()
	if t.p, err = tensors.CopyFlatData[float64](outs[0]); err != nil {
		return nil, err
	}
	return t, nil
}
