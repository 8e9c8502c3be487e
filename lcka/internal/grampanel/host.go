package grampanel

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

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
	tileRows = 12 // rows of G per tile: broadcasts of Xᵀ's entries
	// kc is the depth of a pass: a tile's columns of Xᵀ over kc rows (16
	// KB) stay in L1 while every row tile above the diagonal passes by.
	kc = 128
)

// element is what the host kernel computes in.
type element interface{ float32 | float64 }

// kernel describes the assembly routines for one element type.
type kernel struct {
	size    int // bytes per element
	cols    int // columns of G per tile: two vectors
	gathers int // rows of X per gather
	tile    func(k int, a, b unsafe.Pointer, sa, sb uintptr, c unsafe.Pointer, ldc uintptr)
	gather  func(k int, x unsafe.Pointer, offsets unsafe.Pointer, xt unsafe.Pointer, ldt uintptr)
}

var (
	kernel32 = kernel{4, 32, 16, tile12x32, gather16}
	kernel64 = kernel{8, 16, 8, tile12x16d, gather8d}
)

// gramHost writes G = X·Xᵀ (n×n, both triangles) into g for the row-major
// n×d matrix x, on up to workers goroutines, with the routines of kern.
func gramHost[T element](g, x []T, n, d, workers int, kern kernel) {
	cols := kern.cols
	// Xᵀ with its rows padded to np columns, so every tile reads within the
	// row; np avoids a multiple of 1 KB, whose rows would fall in the same
	// L1 sets. The padding holds whatever the reused buffer held: a padded
	// column only feeds entries of G outside n×n, which are not read.
	np := (n + tileRows - 1 + cols - 1) / cols * cols
	if np*kern.size%1024 == 0 {
		np += 64 / kern.size
	}
	xt := getBuffer[T](d * np)
	defer putBuffer(xt)
	transpose(xt, x, n, d, np, workers, kern)
	gp := getBuffer[T](np * np) // the upper triangle's tiles, row stride np
	defer putBuffer(gp)
	clear(gp)
	rowTiles := (n + tileRows - 1) / tileRows
	colTiles := (n + cols - 1) / cols
	stride := uintptr(np * kern.size)
	// Each worker owns a fixed set of column tiles through every pass, so
	// a tile of G stays in one core's cache (handing tiles out afresh each
	// pass moved G between the cores and made two workers slower than
	// one). The sets are balanced by the tiles of the upper triangle they
	// hold, greedily from the largest column.
	workers = max(1, min(workerCount(workers), colTiles))
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
		load[w] += min(rowTiles, (t*cols+cols+tileRows-1)/tileRows)
	}
	parallel.For(workers, workers, func(w int) {
		for k0 := 0; k0 < d; k0 += kc {
			k := min(kc, d-k0)
			for _, t := range groups[w] {
				j0 := t * cols
				b := unsafe.Pointer(&xt[k0*np+j0])
				for i0 := 0; i0 < n && i0 < j0+cols; i0 += tileRows {
					kern.tile(k, unsafe.Pointer(&xt[k0*np+i0]), b, stride, stride, unsafe.Pointer(&gp[i0*np+j0]), stride)
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

// workerCount is workers, or GOMAXPROCS where workers ≤ 0.
func workerCount(workers int) int {
	if workers <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return workers
}

// hostOff turns the host kernel off (SetHost).
var hostOff atomic.Bool

// buffers holds scratch slices for reuse: fresh memory is slow to touch
// the first time on some virtual machines, and a layer's Xᵀ is as large
// as the layer.
var buffers32, buffers64 sync.Pool

func pool[T element]() *sync.Pool {
	var z T
	if _, ok := any(z).(float32); ok {
		return &buffers32
	}
	return &buffers64
}

// getBuffer returns n values of unspecified contents whose first starts at
// a 64-byte boundary, as lcka/internal/rowkernels needs of the matrices it
// runs on for results that do not depend on where they lie in memory.
func getBuffer[T element](n int) []T {
	if p, ok := pool[T]().Get().(*[]T); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	var zero T
	size := int(unsafe.Sizeof(zero))
	s := make([]T, n+64/size-1)
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(s)))%64) / size
	return s[off : off+n : off+n]
}

func putBuffer[T element](b []T) { pool[T]().Put(&b) }

// Scratch returns a float32 slice of length n with unspecified contents,
// reused from an earlier Release where one is large enough: callers fill a
// layer's transformed rows into it for Full.
func Scratch(n int) []float32 { return getBuffer[float32](n) }

// Release hands b back for reuse; the caller must not use it after.
func Release(b []float32) { putBuffer(b) }

// Scratch64 is Scratch for float64: the all-pairs measures take their
// per-pair products from it, since fresh slices of a megabyte per pair cost
// page faults and collections.
func Scratch64(n int) []float64 { return getBuffer[float64](n) }

// Release64 is Release for Scratch64's slices.
func Release64(b []float64) { putBuffer(b) }

// transpose writes xt[k·np + i] = x[i·d + k] for i < n, k < d: a block of
// rows at a time by gathers, the rows after the last full block one value
// at a time.
func transpose[T element](xt, x []T, n, d, np, workers int, kern kernel) {
	rows := kern.gathers
	if d*kern.size*(rows-1) > math.MaxInt32 {
		transposeScalar(xt, x, 0, n, d, np)
		return
	}
	var offsets [16]int32
	for r := range rows {
		offsets[r] = int32(r * d * kern.size)
	}
	const kb = 256 // columns per task
	blocks := n / rows
	tasks := (d + kb - 1) / kb
	parallel.For(tasks, workers, func(t int) {
		k0 := t * kb
		k := min(kb, d-k0)
		for b := 0; b < blocks; b++ {
			kern.gather(k, unsafe.Pointer(&x[rows*b*d+k0]), unsafe.Pointer(&offsets), unsafe.Pointer(&xt[k0*np+rows*b]), uintptr(np*kern.size))
		}
	})
	transposeScalar(xt, x, blocks*rows, n, d, np)
}

// transposeScalar writes xt[k·np + i] = x[i·d + k] for i0 ≤ i < n, k < d.
func transposeScalar[T element](xt, x []T, i0, n, d, np int) {
	for i := i0; i < n; i++ {
		for k, v := range x[i*d : (i+1)*d] {
			xt[k*np+i] = v
		}
	}
}
