package grampanel

import (
	"errors"
	"fmt"
	"unsafe"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/parallel"
)

// MulTN64 writes C = Aᵀ·B (ka×kb, row-major) for the row-major n×ka matrix
// a and n×kb matrix b (row strides lda ≥ ka and ldb ≥ kb), in float64 on
// the host kernel (Host), on up to workers goroutines (GOMAXPROCS if ≤ 0).
// The canonical correlations and the shape metrics take this product of
// two layers' bases per pair of layers; gonum's general product runs it
// several times slower here. It returns an error where the CPU lacks the
// kernel and for sizes that do not match.
func MulTN64(c, a []float64, lda int, b []float64, ldb, n, ka, kb, workers int) error {
	if !hostAvailable() {
		return errors.New("grampanel: this CPU has neither AVX-512 nor AVX2 and FMA for the host kernel")
	}
	if n < 1 || ka < 1 || kb < 1 || lda < ka || ldb < kb || len(a) < (n-1)*lda+ka || len(b) < (n-1)*ldb+kb || len(c) != ka*kb {
		return fmt.Errorf("grampanel: MulTN64 of %d×%d (stride %d, %d values) and %d×%d (stride %d, %d values) into %d values", n, ka, lda, len(a), n, kb, ldb, len(b), len(c))
	}
	fullCalls.Add(1)
	cols := kernel64.cols
	// a and b are copied into panels, one per tile of a's columns (12 wide)
	// and of b's (16), each holding its tile's values for all n rows one
	// after another, so that the kernel reads both in order (as BLIS packs
	// its panels). Read from rows a few hundred values apart, the product
	// ran at 52 GFLOP/s on one goroutine, against 57–59 so
	// (BenchmarkMulTN64). A panel's last tile is padded, which feeds only
	// rows and columns of the product not kept. c is written where it is
	// when kb is a whole number of tiles (a layer's width, in PWCCA's
	// projections), but for a partial last row tile, which goes through a
	// scratch tile.
	kap := (ka + tileRows - 1) / tileRows * tileRows
	kbp := (kb + cols - 1) / cols * cols
	ap := getBuffer[float64](n * kap)
	defer putBuffer(ap)
	pack(ap, a, lda, n, ka, tileRows)
	bp := getBuffer[float64](n * kbp)
	defer putBuffer(bp)
	pack(bp, b, ldb, n, kb, cols)
	mulPanels(c, ap, bp, n, ka, kb, workers)
	return nil
}

// SubMulTN64 sets C −= Aᵀ·B in place, for the row-major n×ka matrix a and
// n×kb matrix b (row strides lda ≥ ka and ldb ≥ kb) and the ka×kb block at
// c (row stride ldc ≥ kb), in float64 on the host kernel, on the calling
// goroutine. The Householder reductions of lcka/internal/svdvals apply each
// panel of reflectors to the trailing matrix so, n twice the panel's width
// (16 in svdvals, 32 in lcka/internal/symeig's). Both sides
// are packed as in MulTN64, a negated; tiles inside the block are updated
// where they are, those on its edges through a scratch tile. It returns an
// error where the CPU lacks the kernel and for sizes that do not match.
func SubMulTN64(c []float64, ldc int, a []float64, lda int, b []float64, ldb, n, ka, kb int) error {
	if !hostAvailable() {
		return errors.New("grampanel: this CPU has neither AVX-512 nor AVX2 and FMA for the host kernel")
	}
	if n < 1 || ka < 1 || kb < 1 || lda < ka || ldb < kb || ldc < kb || len(a) < (n-1)*lda+ka || len(b) < (n-1)*ldb+kb || len(c) < (ka-1)*ldc+kb {
		return fmt.Errorf("grampanel: SubMulTN64 of %d×%d (stride %d, %d values) and %d×%d (stride %d, %d values) from %d×%d (stride %d, %d values)", n, ka, lda, len(a), n, kb, ldb, len(b), ka, kb, ldc, len(c))
	}
	cols := kernel64.cols
	kap := (ka + tileRows - 1) / tileRows * tileRows
	kbp := (kb + cols - 1) / cols * cols
	ap := getBuffer[float64](n * kap)
	defer putBuffer(ap)
	pack(ap, a, lda, n, ka, tileRows)
	for i := range ap {
		ap[i] = -ap[i]
	}
	bp := getBuffer[float64](n * kbp)
	defer putBuffer(bp)
	pack(bp, b, ldb, n, kb, cols)
	edge := getBuffer[float64](tileRows * cols)
	defer putBuffer(edge)
	sa, sb, ldcb := uintptr(tileRows*8), uintptr(cols*8), uintptr(ldc*8)
	for k0 := 0; k0 < n; k0 += kc {
		k := min(kc, n-k0)
		for c0 := 0; c0 < kb; c0 += cols {
			bt := unsafe.Pointer(&bp[(c0/cols*n+k0)*cols])
			cw := min(cols, kb-c0)
			for r0 := 0; r0 < ka; r0 += tileRows {
				at := unsafe.Pointer(&ap[(r0/tileRows*n+k0)*tileRows])
				rh := min(tileRows, ka-r0)
				if rh == tileRows && cw == cols {
					kernel64.tile(k, at, bt, sa, sb, unsafe.Pointer(&c[r0*ldc+c0]), ldcb)
					continue
				}
				clear(edge)
				for r := range rh {
					copy(edge[r*cols:r*cols+cw], c[(r0+r)*ldc+c0:(r0+r)*ldc+c0+cw])
				}
				kernel64.tile(k, at, bt, sa, sb, unsafe.Pointer(&edge[0]), uintptr(cols*8))
				for r := range rh {
					copy(c[(r0+r)*ldc+c0:(r0+r)*ldc+c0+cw], edge[r*cols:r*cols+cw])
				}
			}
		}
	}
	return nil
}

// mulPanels writes C = Aᵀ·B (ka×kb) from the packed panels ap (n rows,
// tileRows wide, ka columns) and bp (n rows, kernel64.cols wide, kb columns)
// on up to workers goroutines.
func mulPanels(c, ap, bp []float64, n, ka, kb, workers int) {
	cols := kernel64.cols
	kap := (ka + tileRows - 1) / tileRows * tileRows
	kbp := (kb + cols - 1) / cols * cols
	direct := kb == kbp
	cp := c // the full row tiles' destination
	tail := []float64(nil)
	if direct {
		clear(c)
		if ka%tileRows != 0 {
			tail = getBuffer[float64](tileRows * kbp)
			defer putBuffer(tail)
			clear(tail)
		}
	} else {
		cp = getBuffer[float64](kap * kbp)
		defer putBuffer(cp)
		clear(cp)
	}
	fullRows := kap
	if tail != nil {
		fullRows = ka / tileRows * tileRows
	}
	rowTiles, colTiles := kap/tileRows, kbp/cols
	// As in gramHost: each worker keeps its column tiles through every pass.
	workers = max(1, min(workerCount(workers), colTiles))
	sa, sb, ldc := uintptr(tileRows*8), uintptr(cols*8), uintptr(kbp*8)
	parallel.For(workers, workers, func(w int) {
		for k0 := 0; k0 < n; k0 += kc {
			k := min(kc, n-k0)
			for t := w; t < colTiles; t += workers {
				bt := unsafe.Pointer(&bp[(t*n+k0)*cols])
				for it := 0; it < rowTiles; it++ {
					var dst unsafe.Pointer
					if r := it * tileRows; r < fullRows {
						dst = unsafe.Pointer(&cp[r*kbp+t*cols])
					} else {
						dst = unsafe.Pointer(&tail[t*cols])
					}
					kernel64.tile(k, unsafe.Pointer(&ap[(it*n+k0)*tileRows]), bt, sa, sb, dst, ldc)
				}
			}
		}
	})
	if !direct {
		for i := 0; i < ka; i++ {
			copy(c[i*kb:(i+1)*kb], cp[i*kbp:i*kbp+kb])
		}
	} else if tail != nil {
		copy(c[fullRows*kb:], tail[:(ka-fullRows)*kb])
	}
}

// pack copies the n×k row-major x (rows ld apart) into dst as panels of w
// columns: panel p holds columns p·w … p·w+w−1 of row 0, then of row 1, and
// so on. The last panel's padding is left as it was.
func pack(dst, x []float64, ld, n, k, w int) {
	for t := range n {
		row := x[t*ld : t*ld+k]
		for p := 0; p*w < k; p++ {
			copy(dst[(p*n+t)*w:(p*n+t+1)*w], row[p*w:min(k, (p+1)*w)])
		}
	}
}

// MulTN returns xᵀ·y for x (n×ka) and y (n×kb): on the host kernel where
// Host is true, else with gonum.
func MulTN(x, y mat.Matrix) *mat.Dense { return MulTNInto(nil, x, y) }

// MulTNInto is MulTN writing the product into c when it holds ka·kb values
// or more (Scratch64's, typically), and into a new slice otherwise; the
// result shares c.
func MulTNInto(c []float64, x, y mat.Matrix) *mat.Dense {
	n, ka := x.Dims()
	ny, kb := y.Dims()
	if len(c) < ka*kb {
		c = make([]float64, ka*kb)
	}
	c = c[:ka*kb]
	if Host() && n == ny && n > 0 && ka > 0 && kb > 0 {
		rx, ry := rawDense(x), rawDense(y)
		if MulTN64(c, rx.Data, rx.Stride, ry.Data, ry.Stride, n, ka, kb, 1) == nil {
			return mat.NewDense(ka, kb, c)
		}
	}
	p := mat.NewDense(ka, kb, c)
	p.Mul(x.T(), y)
	return p
}

// rawDense returns m's row-major storage, copying it unless it is a
// *mat.Dense already.
func rawDense(m mat.Matrix) blas64.General {
	if d, ok := m.(*mat.Dense); ok {
		return d.RawMatrix()
	}
	return mat.DenseCopyOf(m).RawMatrix()
}
