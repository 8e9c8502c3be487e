//go:build amd64

package grampanel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:generate go run gen_kernels.go

// The routines of kernel_amd64.s (written by gen_kernels.go); see there.

//go:noescape
func tile12x32(k int, a, b unsafe.Pointer, sa, sb uintptr, c unsafe.Pointer, ldc uintptr)

//go:noescape
func tile12x16d(k int, a, b unsafe.Pointer, sa, sb uintptr, c unsafe.Pointer, ldc uintptr)

//go:noescape
func gather16(k int, x unsafe.Pointer, offsets unsafe.Pointer, xt unsafe.Pointer, ldt uintptr)

//go:noescape
func gather8d(k int, x unsafe.Pointer, offsets unsafe.Pointer, xt unsafe.Pointer, ldt uintptr)

//go:noescape
func tile12x32AVX2(k int, a, b unsafe.Pointer, sa, sb uintptr, c unsafe.Pointer, ldc uintptr)

//go:noescape
func tile12x16dAVX2(k int, a, b unsafe.Pointer, sa, sb uintptr, c unsafe.Pointer, ldc uintptr)

//go:noescape
func gather16AVX2(k int, x unsafe.Pointer, offsets unsafe.Pointer, xt unsafe.Pointer, ldt uintptr)

//go:noescape
func gather8dAVX2(k int, x unsafe.Pointer, offsets unsafe.Pointer, xt unsafe.Pointer, ldt uintptr)

// hasAVX2 is a CPU with the AVX2 routines' instructions.
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// hasAVX512 is a CPU with the AVX-512 routines' instructions.
func hasAVX512() bool { return cpu.X86.HasAVX512F }

func hostAvailable() bool { return hasAVX512() || hasAVX2 }

func init() {
	if !hasAVX512() {
		useAVX2(true)
	}
}

// useAVX2 makes the host kernel run the AVX2 routines (on) or the AVX-512
// ones; tests use it to run both on a CPU with AVX-512, where the two must
// give the same bits. It reports false, changing nothing, where the CPU
// lacks the routines asked for. Not safe while the kernel runs.
func useAVX2(on bool) bool {
	switch {
	case on && hasAVX2:
		kernel32.tile, kernel32.gather = tile12x32AVX2, gather16AVX2
		kernel64.tile, kernel64.gather = tile12x16dAVX2, gather8dAVX2
	case !on && hasAVX512():
		kernel32.tile, kernel32.gather = tile12x32, gather16
		kernel64.tile, kernel64.gather = tile12x16d, gather8d
	default:
		return false
	}
	return true
}
