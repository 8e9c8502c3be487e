//go:build amd64

package grampanel

import "golang.org/x/sys/cpu"

// tile12x32 is in kernel_amd64.s.
//
//go:noescape
func tile12x32(k int, a, b *float32, stride uintptr, c *float32, ldc uintptr)

// gather16 is in kernel_amd64.s.
//
//go:noescape
func gather16(k int, x *float32, offsets *[16]int32, xt *float32, ldt uintptr)

func hostAvailable() bool { return cpu.X86.HasAVX512F }
