//go:build goexperiment.simd && amd64

package llm

import (
	"simd/archsimd"
	"unsafe"
)

// roundBlocksAVX512 rounds the full blocks of 16 values of src into dst
// (see roundToBFloat16) and returns how many it rounded: 0 on a CPU
// without AVX-512. Shifts take a vector of counts: Go 1.26 compiles a
// constant count to a legacy-SSE move (see dequantGroupsAVX512); and it
// ends with VZEROUPPER, which Go does not emit after SIMD code.
func roundBlocksAVX512(dst []uint16, src []float32) int {
	if !archsimd.X86.AVX512() {
		return 0
	}
	sixteen := archsimd.BroadcastUint32x16(16)
	one := archsimd.BroadcastUint32x16(1)
	half := archsimd.BroadcastUint32x16(0x7FFF)
	exp := archsimd.BroadcastUint32x16(0x7F800000)
	n := len(src) / 16 * 16
	for i := 0; i < n; i += 16 {
		bits := archsimd.LoadUint32x16((*[16]uint32)(unsafe.Pointer(&src[i])))
		rounded := bits.Add(half).Add(bits.ShiftRight(sixteen).And(one))
		special := bits.And(exp).Equal(exp) // NaN or ±Inf: truncated
		bits.Merge(rounded, special).ShiftRight(sixteen).TruncateToUint16().Store((*[16]uint16)(dst[i:]))
	}
	// Without it the upper halves of the vector registers stay dirty, and
	// every legacy-SSE instruction this thread runs next (the Go backend's
	// scalar math: math.Exp in Logistic) pays the AVX-to-SSE transition
	// penalty: a pass ran 13× slower.
	archsimd.ClearAVXUpperBits()
	return n
}
