//go:build !(goexperiment.simd && amd64)

package svdvals

func axpy(y, x []float64, alpha float64) { axpyGo(y, x, alpha) }

func accumulate(w, a []float64, stride, rows int, v []float64) {
	accumulateGo(w, a, stride, rows, v)
}

func update(a []float64, stride, rows int, w, u, v []float64, tau, sigma float64) {
	updateGo(a, stride, rows, w, u, v, tau, sigma)
}

func dots(out, a []float64, stride, rows int, u []float64) {
	dotsGo(out, a, stride, rows, u)
}

func magnitude(a []float64) (float64, bool) { return magnitudeGo(a) }
