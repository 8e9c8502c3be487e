//go:build !(goexperiment.simd && amd64)

package svdvals

// haveAVX512 is false: run8 is run8Go.
var haveAVX512 = false

// run8 is run8Go.
func run8(a, b, c, d *qdPass, k int) { run8Go(a, b, c, d, k) }
