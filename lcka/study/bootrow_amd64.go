//go:build amd64

package study

import "unsafe"

// The kernels of bootrow_amd64.s (written by gen_kernels.go).

//go:noescape
func bootRow1(acc, ka, kb, c unsafe.Pointer, drawn *int32, m int, lpBytes, accStride uintptr)

//go:noescape
func bootRow2(acc, ka, kb, c unsafe.Pointer, drawn *int32, m int, lpBytes, accStride uintptr)

//go:noescape
func bootRow3(acc, ka, kb, c unsafe.Pointer, drawn *int32, m int, lpBytes, accStride uintptr)

//go:noescape
func bootRow4(acc, ka, kb, c unsafe.Pointer, drawn *int32, m int, lpBytes, accStride uintptr)

var bootKernels = [...]func(acc, ka, kb, c unsafe.Pointer, drawn *int32, m int, lpBytes, accStride uintptr){bootRow1, bootRow2, bootRow3, bootRow4}

// bootRowAsm is bootRowGo on the assembly kernels, acc holding a, b, ab,
// aa, bb one after the other (5·lp values), up to 64 layers per pass over
// drawn. Bounds are the caller's: drawn indexes rows of ka, kb and c.
func bootRowAsm(acc, ka, kb []float32, drawn []int32, c []float32, lp int) {
	if len(drawn) == 0 {
		return
	}
	for q := 0; q < lp; q += 64 {
		v := min(4, (lp-q)/16)
		bootKernels[v-1](unsafe.Pointer(&acc[q]), unsafe.Pointer(&ka[q]), unsafe.Pointer(&kb[q]), unsafe.Pointer(&c[0]), &drawn[0], len(drawn), uintptr(lp*4), uintptr(lp*4))
	}
}
