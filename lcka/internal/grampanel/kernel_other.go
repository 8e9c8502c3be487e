//go:build !amd64

package grampanel

import "unsafe"

func hostAvailable() bool { return false }

func tile12x32(k int, a, b unsafe.Pointer, sa, sb uintptr, c unsafe.Pointer, ldc uintptr) {
	panic("grampanel: no host kernel on this architecture")
}

func tile12x16d(k int, a, b unsafe.Pointer, sa, sb uintptr, c unsafe.Pointer, ldc uintptr) {
	panic("grampanel: no host kernel on this architecture")
}

func gather16(k int, x unsafe.Pointer, offsets unsafe.Pointer, xt unsafe.Pointer, ldt uintptr) {
	panic("grampanel: no host kernel on this architecture")
}

func gather8d(k int, x unsafe.Pointer, offsets unsafe.Pointer, xt unsafe.Pointer, ldt uintptr) {
	panic("grampanel: no host kernel on this architecture")
}

func useAVX2(on bool) bool { return false }

func hasAVX512() bool { return false }
