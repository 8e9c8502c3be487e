//go:build !amd64

package grampanel

func hostAvailable() bool { return false }

func tile12x32(k int, a, b *float32, stride uintptr, c *float32, ldc uintptr) {
	panic("grampanel: no host kernel on this architecture")
}

func gather16(k int, x *float32, offsets *[16]int32, xt *float32, ldt uintptr) {
	panic("grampanel: no host kernel on this architecture")
}
