package llm

import "math"

// roundToBFloat16 writes to dst the bfloat16 bit patterns of src, rounded
// as GoMLX's bfloat16.FromFloat32 rounds (to nearest, ties to even; NaN and
// infinities truncated), so that a product rounded here equals the graph's
// ConvertDType of it. Full blocks of 16 use AVX-512 where the build and
// the CPU have it (roundBlocksAVX512).
func roundToBFloat16(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	i := roundBlocksAVX512(dst, src)
	for ; i < len(src); i++ {
		bits := math.Float32bits(src[i])
		if bits&0x7F800000 != 0x7F800000 {
			bits += 0x7FFF + (bits>>16)&1
		}
		dst[i] = uint16(bits >> 16)
	}
}
