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

func hostAvailable() bool { return cpu.X86.HasAVX512F }
