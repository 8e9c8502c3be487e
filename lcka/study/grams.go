package study

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/internal/grampanel"
	"github.com/layersim/layersim/lcka/rsa"
)

// rsaGrams computes, for every joint row, the n×n Gram matrix of the
// layer's rows as rsa.GramInput prepares them for dis, in float32 with GoMLX
// (as the CKA engine computes its own), one layer per core at a time. Layers
// handed to add (as the CKA engine loads them) are not read again; finish
// loads the others and returns all the matrices. RSA then needs no float64
// copy of the activations and no float64 product.
type rsaGrams struct {
	src     *layerSource
	dis     rsa.Dissimilarity
	backend compute.Backend
	gram    *graph.Exec
	host    bool // Gram products on grampanel.Full
	jobs    chan rsaJob
	wg      sync.WaitGroup
	out     [][]float32
	errs    []error
	// added marks the layers queued by add; only the caller's goroutine
	// touches it, while the workers write out and errs.
	added []bool
}

type rsaJob struct {
	i int
	x cka.Matrix
}

func newRSAGrams(src *layerSource, dis rsa.Dissimilarity, backend compute.Backend) (*rsaGrams, error) {
	if backend == nil {
		var err error
		// Ops one after the other; a few layers run at once below.
		if backend, err = gobackend.New("ops_sequential"); err != nil {
			return nil, fmt.Errorf("starting the Go backend: %w", err)
		}
	}
	gram, err := grampanel.NewExec(backend)
	if err != nil {
		return nil, err
	}
	host := grampanel.HostFor(backend)
	L := src.Len()
	g := &rsaGrams{src: src, dis: dis, backend: backend, gram: gram, host: host, jobs: make(chan rsaJob, 2), out: make([][]float32, L), errs: make([]error, L), added: make([]bool, L)}
	for range max(1, min(runtime.GOMAXPROCS(0), L)) {
		g.wg.Go(func() {
			for j := range g.jobs {
				g.out[j.i], g.errs[j.i] = g.compute(j.i, j.x)
			}
		})
	}
	return g, nil
}

// add queues layer i, already loaded.
func (g *rsaGrams) add(i int, x cka.Matrix) {
	g.added[i] = true
	g.jobs <- rsaJob{i, x}
}

// abort stops the workers without computing the layers not added.
func (g *rsaGrams) abort() {
	close(g.jobs)
	g.wg.Wait()
	g.gram.Finalize()
}

// finish computes the layers not added and returns every Gram matrix.
func (g *rsaGrams) finish(progress func(string, int, int)) ([][]float32, error) {
	defer g.gram.Finalize()
	L := len(g.out)
	var missing []int
	for i, queued := range g.added {
		if !queued {
			missing = append(missing, i)
		}
	}
	go func() {
		defer close(g.jobs)
		for k, i := range missing {
			x, err := g.src.load(i)
			if err != nil {
				g.errs[i] = err
				continue
			}
			progress("rsa", k, len(missing)+1)
			g.jobs <- rsaJob{i, x}
		}
	}()
	g.wg.Wait()
	for i := 0; i < L; i++ {
		if g.errs[i] != nil {
			return nil, g.errs[i]
		}
	}
	return g.out, nil
}

// compute returns the Gram matrix of joint row i, loaded as x.
func (g *rsaGrams) compute(i int, x cka.Matrix) (_ []float32, err error) {
	gram, backend, src, dis := g.gram, g.backend, g.src, g.dis
	n, d := x.Rows, x.Cols
	var prepared []float32
	if g.host {
		prepared = grampanel.Scratch(n * d)
		defer grampanel.Release(prepared)
	} else {
		prepared = make([]float32, n*d)
	}
	if err := rsa.GramInput(prepared, x.Data, n, d, dis); err != nil {
		return nil, fmt.Errorf("%s: %w", src.Name(i), err)
	}
	if g.host {
		// Layers run on several workers at once: one core each.
		full := make([]float32, n*n)
		if err := grampanel.Full(full, prepared, n, d, 1); err != nil {
			return nil, fmt.Errorf("%s: Gram matrix: %w", src.Name(i), err)
		}
		return full, nil
	}
	b := grampanel.Height(n)
	var args []any
	defer func() {
		for _, a := range args {
			a.(*tensors.Tensor).FinalizeAll()
		}
	}()
	for s0 := 0; s0 < n; s0 += b {
		e := min(n, s0+b)
		t, err := tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Float32, e-s0, d))
		if err != nil {
			return nil, err
		}
		args = append(args, t)
		if err := tensors.MutableFlatData(t, func(flat []float32) { copy(flat, prepared[s0*d:e*d]) }); err != nil {
			return nil, err
		}
	}
	outs, err := gram.Exec(args...)
	if err != nil {
		return nil, fmt.Errorf("%s: Gram matrix: %w", src.Name(i), err)
	}
	full := make([]float32, n*n)
	if err := grampanel.Mirror(full, outs, n); err != nil {
		return nil, fmt.Errorf("%s: Gram matrix: %w", src.Name(i), err)
	}
	return full, nil
}
