//go:build amd64 && linux

package amx

import (
	"fmt"
	"syscall"
	"unsafe"
)

// arch_prctl codes for dynamically enabled XSAVE features
// (arch/x86/include/uapi/asm/prctl.h).
const (
	archGetXCompPerm = 0x1022
	archReqXCompPerm = 0x1023
)

// requestPermission asks Linux (5.16 or later) to let this process use the
// tile data state. Until then the first instruction that touches tile data
// raises #NM and the kernel kills the thread with SIGILL. The permission
// covers the whole process, threads started later included, and cannot be
// given back; asking again is harmless.
func requestPermission() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archReqXCompPerm, xfeatureTileData, 0); errno != 0 {
		return fmt.Errorf("arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA): %w", errno)
	}
	var perm uint64
	if _, _, errno := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archGetXCompPerm, uintptr(unsafe.Pointer(&perm)), 0); errno != 0 {
		return fmt.Errorf("arch_prctl(ARCH_GET_XCOMP_PERM): %w", errno)
	}
	if perm&(1<<xfeatureTileData) == 0 {
		return fmt.Errorf("arch_prctl: XTILEDATA not in the permitted features %#x", perm)
	}
	return nil
}
