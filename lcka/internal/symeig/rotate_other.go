//go:build !(goexperiment.simd && amd64)

package symeig

func rotateSweep(zt []float64, n, lo, hi int, cs []float64) { rotateSweepGo(zt, n, lo, hi, cs) }
