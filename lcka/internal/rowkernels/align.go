package rowkernels

import "unsafe"

// The vector kernels start each row's whole vectors at a 64-byte boundary
// (a masked head before them), so that no load spans two cache lines, and
// so which values share a lane of a dot product's partial sums depends on
// where the block of rows starts in memory. Results that depend on the
// data alone, the same from run to run, need blocks whose first row starts
// at such a boundary: callers keep their matrices in slices from Aligned,
// or copy them into one where IsAligned is false.

// Aligned returns n float64s, zero, whose first starts at a 64-byte
// boundary.
func Aligned(n int) []float64 {
	s := make([]float64, n+7)
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(s)))/8) & 7
	return s[off : off+n : off+n]
}

// IsAligned says whether s's first value starts at a 64-byte boundary (an
// empty s is).
func IsAligned(s []float64) bool {
	return len(s) == 0 || uintptr(unsafe.Pointer(&s[0]))%64 == 0
}
