//go:build amd64

package amx

import (
	"sync"
	"unsafe"
)

// Shapes of the kernel and the blocking.
//
// A k-step is 32 values of K: one 64-byte tile row of bfloat16. A panel is
// 32 rows of A or 32 columns of W (two 16-row tiles); each k-step of a panel
// is 1024 bfloat16 (2 KiB) in the order the kernel's tile loads expect.
//
// The K-block × N-block loop keeps one block of W (kBlock k-steps of nBlock
// panels, ≤ 1 MiB) in L2 while every row panel of A streams past it. The
// sizes were picked by interleaved sweeps on the lab machine.
const (
	panelRows = 32   // rows of an A panel, columns of a W panel
	kStep     = 32   // values of K per k-step
	stepElems = 1024 // bfloat16 per k-step of a panel: 2 tiles × 16 rows × 32
	kBlock    = 64   // k-steps per K block (2048 values of K)
	nBlock    = 8    // W panels per N block (256 columns of C)
)

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// alignedU16 returns n zeroed uint16 starting on a 64-byte boundary (a tile
// row or cache line), and the bytes allocated.
func alignedU16(n int) ([]uint16, int64) {
	buf := make([]uint16, n+32)
	off := int((64 - uintptr(unsafe.Pointer(&buf[0]))%64) % 64 / 2)
	return buf[off : off+n : off+n], int64(len(buf)) * 2
}

// packWeight packs W [n, k] into ceil(n/32) panels of ceil(k/32) k-steps.
// K-step kt of panel p holds two B tiles in the VNNI layout TDPBF16PS
// reads: element (t, r, col, j) at t·512 + r·32 + 2·col + j is
// W[32p + 16t + col][32kt + 2r + j]. Rows n ≥ N and columns ≥ K are zero.
func packWeight(w []uint16, n, k int) ([]uint16, int64) {
	panels, ksteps := ceilDiv(n, panelRows), ceilDiv(k, kStep)
	pe := ksteps * stepElems
	data, bytes := alignedU16(panels * pe)
	for row := 0; row < n; row++ {
		p, t, col := row/panelRows, (row%panelRows)/16, row%16
		dst := data[p*pe+t*512+2*col:]
		src := w[row*k : row*k+k]
		for kk := 0; kk < k; kk++ {
			kt, r, j := kk/kStep, (kk%kStep)/2, kk%2
			dst[kt*stepElems+r*32+j] = src[kk]
		}
	}
	return data, bytes
}

// packA packs row panels [i0, i1) of A [m, k] into dst, each panel as
// ceil(k/32) k-steps of two 16×32 tiles: element (t, r, j) of k-step kt at
// t·512 + r·32 + j is A[32i + 16t + r][32kt + j]. Rows ≥ m and columns ≥ k
// are zero: dst comes from a pool and holds old data, and a stale Inf or
// NaN in the K padding would turn into NaN (Inf·0) in real results. (Rows
// ≥ m only reach discarded results; they are cleared all the same.)
func packA(dst, a []uint16, m, k, i0, i1 int) {
	ksteps := ceilDiv(k, kStep)
	full, rem := k/kStep, k%kStep
	pe := ksteps * stepElems
	for i := i0; i < i1; i++ {
		panel := dst[i*pe : (i+1)*pe]
		for r := 0; r < panelRows; r++ {
			off := (r/16)*512 + (r%16)*32
			row := i*panelRows + r
			if row >= m {
				for kt := 0; kt < ksteps; kt++ {
					clear(panel[kt*stepElems+off:][:kStep])
				}
				continue
			}
			src := a[row*k : row*k+k]
			if full > 0 {
				// It writes panel[off+kt·1024:][:32] for kt < full (in
				// bounds: off ≤ 992) and reads src[:32·full].
				packRow(&panel[off], &src[0], full)
			}
			if rem > 0 {
				d := panel[full*stepElems+off:][:kStep]
				copy(d, src[full*kStep:])
				clear(d[rem:])
			}
		}
	}
}

// workspace is one MatMul call's scratch: the packed A and, per worker, a
// 32 × 256 float32 block for the edges of C.
type workspace struct {
	a       []uint16
	scratch [][]float32
}

var workspaces = sync.Pool{New: func() any { return new(workspace) }}

func (ws *workspace) ensure(aElems, workers int) {
	if cap(ws.a) < aElems {
		ws.a, _ = alignedU16(aElems)
	}
	ws.a = ws.a[:aElems]
	for len(ws.scratch) < workers {
		ws.scratch = append(ws.scratch, make([]float32, panelRows*nBlock*panelRows))
	}
}

// matmul runs a validated MatMul: pack A (split over the workers by row
// panels), then compute C (split over the workers by W panels).
func (w *Weight) matmul(c []float32, a []uint16, m, workers int, add bool) {
	panels, ksteps := ceilDiv(w.n, panelRows), ceilDiv(w.k, kStep)
	mp := ceilDiv(m, panelRows)
	packers, computers := min(workers, mp), min(workers, panels)
	ws := workspaces.Get().(*workspace)
	defer workspaces.Put(ws)
	ws.ensure(mp*ksteps*stepElems, computers)

	parallel(packers, func(t int) {
		packA(ws.a, a, m, w.k, mp*t/packers, mp*(t+1)/packers)
	})
	parallel(computers, func(t int) {
		w.compute(c, ws.a, m, panels*t/computers, panels*(t+1)/computers, ws.scratch[t], add)
	})
}

// parallel runs f(0), …, f(n-1) at once, f(0) on the calling goroutine and
// the others on new ones, and returns when all are done.
func parallel(n int, f func(t int)) {
	if n == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for t := 1; t < n; t++ {
		wg.Go(func() { f(t) })
	}
	f(0)
	wg.Wait()
}

// compute sets the columns of C that W panels [p0, p1) produce, from the
// packed A ap, or adds them to C's values with add. Loop order: K block, N
// block, A row panel.
func (w *Weight) compute(c []float32, ap []uint16, m, p0, p1 int, scratch []float32, add bool) {
	n := w.n
	ksteps := ceilDiv(w.k, kStep)
	mp := ceilDiv(m, panelRows)
	pe := ksteps * stepElems
	bStride := uintptr(pe * 2)
	ldc := uintptr(n * 4)
	for kb := 0; kb < ksteps; kb += kBlock {
		kn := min(kBlock, ksteps-kb)
		accum := add || kb > 0
		for nb := p0; nb < p1; nb += nBlock {
			nn := min(nBlock, p1-nb)
			lastN := nb+nBlock >= p1
			for i := 0; i < mp; i++ {
				// Prefetch the A panel of the next call in loop order:
				// the next row panel, or panel 0 of the next N block, or
				// of the next K block.
				pfI, pfK := i+1, kb
				if pfI == mp {
					pfI = 0
					if lastN {
						pfK = min(kb+kBlock, ksteps-1)
					}
				}
				pf := &ap[pfI*pe+pfK*stepElems]
				aPtr := &ap[i*pe+kb*stepElems]
				rows := min(panelRows, m-i*panelRows)
				cols := min(nn*panelRows, n-nb*panelRows)
				c0 := i*panelRows*n + nb*panelRows

				// Whole 32×32 blocks go straight into C.
				full := 0
				if rows == panelRows {
					full = cols / panelRows
					if full > 0 {
						tileGEMM(aPtr, &w.data[nb*pe+kb*stepElems], bStride, &c[c0], ldc, full, kn, accum, pf)
					}
					if full == nn {
						continue
					}
				}
				// The rest (a partial last row panel, or the last W panel
				// when N is not a multiple of 32) goes through scratch,
				// row stride 32·(nn-full).
				ne := nn - full
				ld := ne * panelRows
				ecols := cols - full*panelRows
				ec0 := c0 + full*panelRows
				s := scratch[:panelRows*ld]
				if accum {
					for r := 0; r < rows; r++ {
						copy(s[r*ld:r*ld+ecols], c[ec0+r*n:])
					}
				}
				tileGEMM(aPtr, &w.data[(nb+full)*pe+kb*stepElems], bStride, &s[0], uintptr(ld*4), ne, kn, accum, pf)
				for r := 0; r < rows; r++ {
					copy(c[ec0+r*n:ec0+r*n+ecols], s[r*ld:r*ld+ecols])
				}
			}
		}
	}
}
