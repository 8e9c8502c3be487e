//go:build !(goexperiment.simd && amd64)

package llm

// The AVX-512 bodies of hostmath.go need a GOEXPERIMENT=simd build on
// amd64; elsewhere the scalar ones run.

func rmsNormAVX512(dst, x []uint16, w []float32, eps float32) bool { return false }
func addAVX512(dst, a, b []uint16) bool                            { return false }
func biasRoundAVX512(dst []uint16, src, bias []float32) bool       { return false }
func siluMulAVX512(dst, g, u []uint16) bool                        { return false }
func ropeAVX512(x []uint16, cos, sin []float32) bool               { return false }

func hostVectorized() bool { return false }

func scaleMul32AVX512(dst, x, w []float32, s float32) bool { return false }
func add32AVX512(dst, a, b []float32) bool                 { return false }
func siluMul32AVX512(dst, g, u []float32) bool             { return false }
func rope32AVX512(x, cos, sin []float32) bool              { return false }

func splitAVX512(hi, mid, lo []uint16, x []float32) bool { return false }

func softmaxAVX512(raw []float32, s int, sc scoreScale, window func(row int) (lo, hi int), keyOK []float32, noKey []int) ([]int, bool) {
	return noKey, false
}
