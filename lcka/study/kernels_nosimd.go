//go:build !(goexperiment.simd && amd64)

package study

// Without a GOEXPERIMENT=simd build on amd64 the kernels are plain Go.

const simdBuild = false

func permRow(acc, ka, kb []float32, perm []int32, lp int) { permRowGo(acc, ka, kb, perm, lp) }

func bootRow(a, b, ab, aa, bb, ka, kb []float32, drawn []int32, c, _ []float32, lp int) {
	bootRowGo(a, b, ab, aa, bb, ka, kb, drawn, c, lp)
}

func permRowAVX2(acc, ka, kb []float32, perm []int32, lp int) bool { return false }

func bootRowAVX2(a, b, ab, aa, bb, ka, kb []float32, drawn []int32, c16 []float32, lp int) bool {
	return false
}
