package grampanel

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestGram compares the panels' Gram matrix with a float64 product of the
// same float32 rows, at sizes with one panel, several, and a short last one.
func TestGram(t *testing.T) {
	backend, exec := goExec(t)
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ n, d int }{{1, 3}, {7, 5}, {128, 4}, {129, 6}, {300, 17}} {
		x := make([]float32, c.n*c.d)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		b := Height(c.n)
		if b > MaxRows || b < 1 {
			t.Fatalf("n=%d: panel height %d", c.n, b)
		}
		args := panels(t, backend, x, c.n, c.d)
		outs, err := exec.Exec(args...)
		if err != nil {
			t.Fatal(err)
		}
		full := make([]float32, c.n*c.n)
		if err := Mirror(full, outs, c.n); err != nil {
			t.Fatal(err)
		}
		for i := range c.n {
			for j := range c.n {
				var want float64
				for k := range c.d {
					want += float64(x[i*c.d+k]) * float64(x[j*c.d+k])
				}
				if d := math.Abs(float64(full[i*c.n+j]) - want); d > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("n=%d d=%d: G[%d,%d] = %g, want %g", c.n, c.d, i, j, full[i*c.n+j], want)
				}
			}
		}
		for _, a := range args {
			a.(*tensors.Tensor).FinalizeAll()
		}
	}
	if err := Mirror(make([]float32, 3), nil, 2); err == nil {
		t.Error("Mirror into a matrix of the wrong size: no error")
	}
}

// TestNewExecNoHang runs the panels of 1,024 rows (8 products) many times
// on the Go backend: run side by side, such products hung its worker pool
// now and then (see NewExec), which this test caught in each run made
// before the products were put one after the other. The pool holds
// 2·GOMAXPROCS tasks, set when the backend is made: with GOMAXPROCS = 2 (4
// tasks) the 8 products can fill it on any machine. It fails, with the
// goroutines' stacks, if the runs do not finish in two minutes.
func TestNewExecNoHang(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: 300 runs of the panels")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	backend, exec := goExec(t)
	const n, d = 1024, 64
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	args := panels(t, backend, x, n, d)
	done := make(chan error, 1)
	go func() {
		for range 300 {
			outs, err := exec.Exec(args...)
			if err != nil {
				done <- err
				return
			}
			for _, o := range outs {
				o.FinalizeAll()
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		buf := make([]byte, 1<<20)
		t.Fatalf("300 runs of the Gram panels did not finish in two minutes: the backend hung\n%s", buf[:runtime.Stack(buf, true)])
	}
}

// goExec returns the Go backend and NewExec's executable on it, finalized
// when the test ends.
func goExec(t *testing.T) (compute.Backend, *graph.Exec) {
	t.Helper()
	backend, err := gobackend.New("")
	if err != nil {
		t.Fatal(err)
	}
	exec, err := NewExec(backend)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exec.Finalize)
	return backend, exec
}

// panels cuts the n×d rows x into NewExec's inputs: tensors of Height(n)
// rows, the last shorter.
func panels(t *testing.T, backend compute.Backend, x []float32, n, d int) []any {
	t.Helper()
	b := Height(n)
	var args []any
	for s0 := 0; s0 < n; s0 += b {
		e := min(n, s0+b)
		tt, err := tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Float32, e-s0, d))
		if err != nil {
			t.Fatal(err)
		}
		tensors.MutableFlatData(tt, func(flat []float32) { copy(flat, x[s0*d:e*d]) })
		args = append(args, tt)
	}
	return args
}
