//go:build amd64

package study

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// permAsm: the CPU runs the kernels (VPMOVZXWD on 512 bits is AVX-512BW).
var permAsm = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

//go:generate go run gen_kernels.go

// The kernels of permrow_amd64.s (written by gen_kernels.go).

//go:noescape
func permRowF1(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)

//go:noescape
func permRowF2(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)

//go:noescape
func permRowF3(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)

//go:noescape
func permRowF4(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)

//go:noescape
func permRowB1(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)

//go:noescape
func permRowB2(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)

//go:noescape
func permRowB3(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)

//go:noescape
func permRowB4(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)

type permKernel func(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)

var (
	permKernelsF = [...]permKernel{permRowF1, permRowF2, permRowF3, permRowF4}
	permKernelsB = [...]permKernel{permRowB1, permRowB2, permRowB3, permRowB4}
)

// permRowAsm adds Σⱼ ka[j·lp + k]·kb[perm[j]·lp + k] to acc[k] for k < lp
// (a multiple of 16), kb in float32 (esize 4) or bfloat16 bits (esize 2),
// up to 64 layers per pass over perm. Bounds are the caller's: perm's
// entries index rows of kb, ka holds len(perm) rows.
func permRowAsm(acc []float32, ka []float32, kb unsafe.Pointer, esize int, perm []int32, lp int) {
	kernels := permKernelsF
	if esize == 2 {
		kernels = permKernelsB
	}
	for q := 0; q < lp; q += 64 {
		v := min(4, (lp-q)/16)
		kernels[v-1](unsafe.Pointer(&acc[q]), unsafe.Pointer(&ka[q]), unsafe.Add(kb, q*esize), &perm[0], len(perm), uintptr(lp*4), uintptr(lp*esize))
	}
}
