//go:build !(goexperiment.simd && amd64)

package symeig

func rotate(x, y []float64, c, s float64) { rotateGo(x, y, c, s) }
