//go:build !(goexperiment.simd && amd64)

package llm

// dequantGroupsAVX512 needs a GOEXPERIMENT=simd build on amd64; elsewhere
// the scalar loop runs.
func dequantGroupsAVX512(dst []float32, blocks, scales []uint8, rows, groups, g0, g1 int) bool {
	return false
}

// haveAVX512Dequant is false without a GOEXPERIMENT=simd build on amd64.
func haveAVX512Dequant() bool { return false }
