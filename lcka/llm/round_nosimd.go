//go:build !(goexperiment.simd && amd64)

package llm

// roundBlocksAVX512 needs a GOEXPERIMENT=simd build on amd64; elsewhere
// roundToBFloat16's scalar loop runs.
func roundBlocksAVX512(dst []uint16, src []float32) int { return 0 }
