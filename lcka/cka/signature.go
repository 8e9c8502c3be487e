package cka

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/layersim/layersim/lcka/internal/grampanel"
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

// GramSink may be implemented by the Source given to AllPairs. On the
// signatures route (small n, no minibatch) AllPairs then hands it each
// layer's n×n Gram matrix of the centered (MeasureLinear, MeasureDebiased) or
// standardized (MeasureStandardized) features, row-major in float32, as
// computed for the CKA matrix, so that a caller needing those matrices (the
// bootstrap of lcka/study) does not compute them again. Gram may be called
// from several goroutines at once, for different layers; g is the
// receiver's to keep. On the tiles route it is never called.
type GramSink interface {
	Gram(i int, g []float32)
}

// signatureChunk bounds the length of the pieces of a signature whose inner
// products are summed in float32 before being added up in float64.
const signatureChunk = 16384

// signatureRoute streams the layers once: each is centered or standardized
// and the part of its n×n Gram matrix on and above the block diagonal is
// computed with GoMLX, one panel of rows at a time (rows [s, e) against rows
// [s, n): one wide matrix product per panel, where the Go backend's kernels
// run faster than on square blocks), and kept, in float32, as its signature;
// the values right of each diagonal block are scaled by √2, so that inner
// products of signatures are inner products of the full Gram matrices at a
// little more than half the cost. All inner products then come from one
// product of the signature matrix with itself, summed in float32 over chunks
// of signatureChunk values and in float64 across chunks. The unbiased
// estimator needs the full Gram with a zero diagonal and its row sums, so it
// uses a single panel.
func signatureRoute(src Source, opt Options, backend compute.Backend) (*Result, error) {
	L := src.Len()
	debiased := opt.Measure == MeasureDebiased
	res := &Result{ConstantColumns: make([]int, L), Route: "signatures"}
	var sink GramSink
	if f, ok := src.(*firstCached); ok {
		sink, _ = f.Source.(GramSink)
	} else {
		sink, _ = src.(GramSink)
	}
	first, err := src.Layer(0)
	if err != nil {
		return nil, fmt.Errorf("cka: loading %s: %w", src.Name(0), err)
	}
	n := first.Rows
	if n < 2 {
		return nil, fmt.Errorf("cka: %s: need at least 2 inputs, got %d", src.Name(0), n)
	}
	if debiased && n < 4 {
		return nil, fmt.Errorf("cka: debiased CKA needs n ≥ 4 inputs, got %d", n)
	}
	b := n
	if !debiased {
		b = grampanel.Height(n)
	}
	var starts []int // row panels
	for s := 0; s < n; s += b {
		starts = append(starts, s)
	}
	starts = append(starts, n)
	nb := len(starts) - 1
	sigLen := 0 // values per signature
	for r := 0; r < nb; r++ {
		sigLen += (starts[r+1] - starts[r]) * (n - starts[r])
	}
	chunk := min(signatureChunk, sigLen)
	chunks := (sigLen + chunk - 1) / chunk
	// Chunk-major, [chunks, L, chunk], so the product needs no transposition;
	// the padding of the last chunk stays zero. The chunks are split in a few
	// parts allocated (and so zeroed) concurrently: fresh memory is slow to
	// touch the first time on some virtual machines.
	sigs, perPart, err := allocateParts(backend, chunks, L, chunk)
	if err != nil {
		return nil, fmt.Errorf("cka: allocating the signatures: %w", err)
	}
	defer func() {
		for _, t := range sigs {
			t.FinalizeAll()
		}
	}()
	var rowSums [][]float64
	if debiased {
		rowSums = make([][]float64, L)
	}
	gram, err := grampanel.NewExec(backend)
	if err != nil {
		return nil, fmt.Errorf("cka: %w", err)
	}
	defer gram.Finalize()

	// process computes the signature of layer i into sigs, with bufs holding
	// reusable input blocks per width for the calling worker.
	process := func(i int, m Matrix, bufs map[int][]*tensors.Tensor, parts [][]float32) error {
		if m.Rows*m.Cols != len(m.Data) || m.Rows <= 0 || m.Cols <= 0 {
			return fmt.Errorf("cka: %s: shape %d×%d does not match %d values", src.Name(i), m.Rows, m.Cols, len(m.Data))
		}
		if m.Rows != n {
			return fmt.Errorf("cka: %s has %d inputs but %s has %d: all layers must hold the same inputs", src.Name(i), m.Rows, src.Name(0), n)
		}
		mean, factor, constant, err := columnTransform(m, opt.Measure == MeasureStandardized)
		if err != nil {
			return fmt.Errorf("cka: %s: %w", src.Name(i), err)
		}
		res.ConstantColumns[i] = constant
		// rowsOf(r, f) hands f panel r's rows of the Gram matrix, each from
		// the panel's first column to n−1.
		var rowsOf func(r int, f func(rows, width int, g []float32))
		if grampanel.HostFor(backend) {
			// The whole Gram matrix on the host kernel: one product of the
			// transformed rows, read back panel by panel below.
			x := grampanel.Scratch(n * m.Cols)
			transformRows(m, mean, factor, 0, n, x)
			full := make([]float32, n*n)
			err := grampanel.Full(full, x, n, m.Cols, 1)
			grampanel.Release(x)
			if err != nil {
				return fmt.Errorf("cka: Gram matrix of %s: %w", src.Name(i), err)
			}
			rowsOf = func(r int, f func(rows, width int, g []float32)) {
				s0, rows := starts[r], starts[r+1]-starts[r]
				width := n - s0
				g := make([]float32, rows*width)
				for a := 0; a < rows; a++ {
					copy(g[a*width:(a+1)*width], full[(s0+a)*n+s0:(s0+a+1)*n])
				}
				f(rows, width, g)
			}
			if sink != nil {
				sink.Gram(i, full)
			}
		} else {
			outs, err := gramPanels(gram, backend, m, mean, factor, starts, bufs)
			if err != nil {
				return fmt.Errorf("cka: Gram matrix of %s: %w", src.Name(i), err)
			}
			defer func() {
				for _, o := range outs {
					o.FinalizeAll()
				}
			}()
			rowsOf = func(r int, f func(rows, width int, g []float32)) {
				rows, width := starts[r+1]-starts[r], n-starts[r]
				tensors.ConstFlatData(outs[r], func(g []float32) { f(rows, width, g) })
			}
			if sink != nil {
				full := make([]float32, n*n)
				for r := range outs {
					s0 := starts[r]
					rowsOf(r, func(rows, width int, g []float32) {
						for a := 0; a < rows; a++ {
							for b, v := range g[a*width : (a+1)*width] {
								full[(s0+a)*n+s0+b] = v
								full[(s0+b)*n+s0+a] = v
							}
						}
					})
				}
				sink.Gram(i, full)
			}
		}
		{
			pos := 0                        // position in the signature
			slot := func(c int) []float32 { // layer i's values of chunk c
				q := c % perPart
				return parts[c/perPart][(q*L+i)*chunk : (q*L+i+1)*chunk]
			}
			put := func(g []float32, scale float32) {
				for len(g) > 0 {
					c, k := pos/chunk, pos%chunk
					dst := slot(c)[k:]
					w := min(len(dst), len(g))
					if scale == 1 {
						copy(dst, g[:w])
					} else {
						for q, v := range g[:w] {
							dst[q] = v * scale
						}
					}
					g, pos = g[w:], pos+w
				}
			}
			for r := 0; r < nb; r++ {
				rowsOf(r, func(rows, width int, g []float32) {
					for a := 0; a < rows; a++ {
						row := g[a*width : (a+1)*width]
						put(row[:rows], 1)
						put(row[rows:], math.Sqrt2)
					}
				})
			}
			if debiased {
				// One block: the full Gram, row-major, at signature positions 0..n²−1.
				at := func(p int) *float32 { return &slot(p / chunk)[p%chunk] }
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
		}
		return nil
	}

	// Layers are loaded one at a time, in order, and processed by a few
	// workers: the Go backend runs a Gram panel on one core, so two
	// layers at once keep two cores busy.
	type job struct {
		i int
		m Matrix
	}
	jobs := make(chan job)
	errs := make(chan error, 1)
	var done atomic.Int64
	var wg sync.WaitGroup
	workers := max(1, min(runtime.GOMAXPROCS(0), 4, L))
	var allBufs []map[int][]*tensors.Tensor
	var loadErr error
	// The signature parts stay open for writing (each worker writes its own
	// layers' rows) until every layer is done.
	flatErr := withFlat(sigs, nil, func(parts [][]float32) {
		for w := 0; w < workers; w++ {
			bufs := map[int][]*tensors.Tensor{}
			allBufs = append(allBufs, bufs)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range jobs {
					if err := process(j.i, j.m, bufs, parts); err != nil {
						select {
						case errs <- err:
						default:
						}
						continue
					}
					if d := done.Add(1); opt.Progress != nil {
						opt.Progress(int(d), L+1)
					}
				}
			}()
		}
		for i := 0; i < L; i++ {
			if len(errs) > 0 {
				break
			}
			m := first
			if i > 0 {
				if m, loadErr = src.Layer(i); loadErr != nil {
					loadErr = fmt.Errorf("cka: loading %s: %w", src.Name(i), loadErr)
					break
				}
			}
			jobs <- job{i, m}
		}
		close(jobs)
		wg.Wait()
	})
	for _, bufs := range allBufs {
		for _, in := range bufs {
			for _, t := range in {
				t.FinalizeAll()
			}
		}
	}
	if flatErr != nil {
		return nil, fmt.Errorf("cka: writing the signatures: %w", flatErr)
	}
	if loadErr != nil {
		return nil, loadErr
	}
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	prod, err := graph.NewExec(backend, func(parts []*graph.Node) *graph.Node {
		var sum *graph.Node
		for _, f := range parts {
			p := graph.ReduceSum(graph.ConvertDType(graph.Einsum("clk,cmk->clm", f, f), dtypes.Float64), 0)
			if sum == nil {
				sum = p
			} else {
				sum = graph.Add(sum, p)
			}
		}
		return sum
	})
	if err != nil {
		return nil, fmt.Errorf("cka: building the product graph: %w", err)
	}
	defer prod.Finalize()
	args := make([]any, len(sigs))
	for k, t := range sigs {
		args[k] = t
	}
	outs, err := prod.Exec(args...)
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

// allocateParts allocates a [chunks, L, chunk] float32 array as a few tensors
// of whole chunks, concurrently; perPart is the number of chunks per part.
func allocateParts(backend compute.Backend, chunks, L, chunk int) (parts []*tensors.Tensor, perPart int, err error) {
	n := max(1, min(runtime.GOMAXPROCS(0), chunks))
	perPart = (chunks + n - 1) / n
	n = (chunks + perPart - 1) / perPart
	parts = make([]*tensors.Tensor, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := min(perPart, chunks-p*perPart)
			parts[p], errs[p] = tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Float32, c, L, chunk))
		}()
	}
	wg.Wait()
	for p, err := range errs {
		if err != nil {
			for _, t := range parts {
				if t != nil {
					t.FinalizeAll()
				}
			}
			return nil, 0, fmt.Errorf("part %d: %w", p, err)
		}
	}
	return parts, perPart, nil
}

// withFlat calls fn with the flat data of every tensor, held for writing.
func withFlat(ts []*tensors.Tensor, flats [][]float32, fn func([][]float32)) error {
	if len(ts) == 0 {
		fn(flats)
		return nil
	}
	var inner error
	if err := tensors.MutableFlatData(ts[0], func(f []float32) { inner = withFlat(ts[1:], append(flats, f), fn) }); err != nil {
		return err
	}
	return inner
}

// gramPanels runs the GoMLX Gram panels (grampanel.NewExec) on layer m,
// centered or standardized by mean and factor, for the row panels that
// starts delimits; bufs holds the calling worker's input tensors per width.
func gramPanels(gram *graph.Exec, backend compute.Backend, m Matrix, mean, factor []float64, starts []int, bufs map[int][]*tensors.Tensor) ([]*tensors.Tensor, error) {
	nb := len(starts) - 1
	in := bufs[m.Cols]
	if in == nil {
		for k := 0; k < nb; k++ {
			t, err := tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Float32, starts[k+1]-starts[k], m.Cols))
			if err != nil {
				return nil, fmt.Errorf("allocating an input buffer: %w", err)
			}
			in = append(in, t)
		}
		bufs[m.Cols] = in
	}
	args := make([]any, len(in))
	for k, t := range in {
		tensors.MutableFlatData(t, func(flat []float32) { transformRows(m, mean, factor, starts[k], starts[k+1], flat) })
		args[k] = t
	}
	return gram.Exec(args...)
}
