package grampanel

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/layersim/layersim/lcka/internal/parallel"
)

// The host kernel is written here rather than taken from GoMLX's Go
// backend because a Gram matrix is a product of X with itself: once X is
// transposed (Xᵀ, d×n), both operands of every 12×32 tile of G are rows of
// Xᵀ, read in place, and only the tiles that touch the upper triangle are
// computed. The backend's general product packs both operands and
// computes the whole square, and its 4×32 micro-kernel keeps fewer
// accumulators in registers than the 24 of tile12x32; on the analysis
// workload (n = 400, d up to 4096) this kernel is several times faster
// (BenchmarkGram).

const (
	tileRows = 12  // rows of G per tile: broadcasts of Xᵀ's entries
	tileCols = 32  // columns of G per tile: two vectors of 16
	kc       = 192 // depth of a pass: 32 KB of Xᵀ for a tile's columns, kept in L1
)

// gramHost writes G = X·Xᵀ (n×n, both triangles) into g for the row-major
// n×d matrix x, on up to workers goroutines.
func gramHost(g, x []float32, n, d, workers int) {
	// Xᵀ with its rows padded with zeros to np columns, so every tile reads
	// within the row; np avoids a multiple of 256 floats, whose rows would
	// fall in the same L1 sets.
	np := (n + tileRows - 1 + tileCols - 1) / tileCols * tileCols
	if np%256 == 0 {
		np += 16
	}
	xt := getBuffer(d * np)
	defer putBuffer(xt)
	transpose(xt, x, n, d, np, workers)
	gp := getBuffer(np * np) // the upper triangle's tiles, row stride np
	defer putBuffer(gp)
	clear(gp)
	rowTiles := (n + tileRows - 1) / tileRows
	colTiles := (n + tileCols - 1) / tileCols
	stride := uintptr(np * 4)
	// Each worker owns a fixed set of column tiles through every pass, so
	// a tile of G stays in one core's cache (handing tiles out afresh each
	// pass moved G between the cores and made two workers slower than
	// one). The sets are balanced by the tiles of the upper triangle they
	// hold, greedily from the largest column.
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, colTiles))
	groups := make([][]int, workers)
	load := make([]int, workers)
	for t := colTiles - 1; t >= 0; t-- {
		w := 0
		for q := range load {
			if load[q] < load[w] {
				w = q
			}
		}
		groups[w] = append(groups[w], t)
		load[w] += min(rowTiles, (t*tileCols+tileCols+tileRows-1)/tileRows)
	}
	parallel.For(workers, workers, func(w int) {
		for k0 := 0; k0 < d; k0 += kc {
			k := min(kc, d-k0)
			for _, t := range groups[w] {
				j0 := t * tileCols
				b := &xt[k0*np+j0]
				for i0 := 0; i0 < n && i0 < j0+tileCols; i0 += tileRows {
					tile12x32(k, &xt[k0*np+i0], b, stride, &gp[i0*np+j0], stride)
				}
			}
		}
	})
	for i := 0; i < n; i++ {
		row := gp[i*np : i*np+n]
		for j := i; j < n; j++ {
			g[i*n+j] = row[j]
			g[j*n+i] = row[j]
		}
	}
}

// hostOff turns the host kernel off (SetHost).
var hostOff atomic.Bool

// buffers holds scratch slices for reuse: fresh memory is slow to touch
// the first time on some virtual machines, and a layer's Xᵀ is as large
// as the layer.
var buffers sync.Pool

func getBuffer(n int) []float32 {
	if p, ok := buffers.Get().(*[]float32); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]float32, n)
}

func putBuffer(b []float32) { buffers.Put(&b) }

// Scratch returns a float32 slice of length n with unspecified contents,
// reused from an earlier Release where one is large enough: callers fill a
// layer's transformed rows into it for Full.
func Scratch(n int) []float32 { return getBuffer(n) }

// Release hands b back for reuse; the caller must not use it after.
func Release(b []float32) { putBuffer(b) }

// transpose writes xt[k·np + i] = x[i·d + k] for i < n, k < d: sixteen
// rows at a time by gathers (gather16), the rows after the last multiple
// of sixteen one value at a time.
func transpose(xt, x []float32, n, d, np, workers int) {
	if d*4*15 > math.MaxInt32 {
		transposeScalar(xt, x, 0, n, d, np)
		return
	}
	var offsets [16]int32
	for r := range offsets {
		offsets[r] = int32(r * d * 4)
	}
	const kb = 256 // columns per task
	blocks := n / 16
	tasks := (d + kb - 1) / kb
	parallel.For(tasks, workers, func(t int) {
		k0 := t * kb
		k := min(kb, d-k0)
		for b := 0; b < blocks; b++ {
			gather16(k, &x[16*b*d+k0], &offsets, &xt[k0*np+16*b], uintptr(np*4))
		}
	})
	transposeScalar(xt, x, blocks*16, n, d, np)
}

// transposeScalar writes xt[k·np + i] = x[i·d + k] for i0 ≤ i < n, k < d.
func transposeScalar(xt, x []float32, i0, n, d, np int) {
	for i := i0; i < n; i++ {
		for k, v := range x[i*d : (i+1)*d] {
			xt[k*np+i] = v
		}
	}
}
