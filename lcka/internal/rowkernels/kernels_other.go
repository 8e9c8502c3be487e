//go:build !(goexperiment.simd && amd64)

package rowkernels

// Axpy is AxpyGo.
func Axpy(y, x []float64, alpha float64) { AxpyGo(y, x, alpha) }

// Accumulate is AccumulateGo.
func Accumulate(w, a []float64, stride, rows int, v []float64) {
	AccumulateGo(w, a, stride, rows, v)
}

// Update is UpdateGo.
func Update(a []float64, stride, rows int, w, u, v []float64, tau, sigma float64) {
	UpdateGo(a, stride, rows, w, u, v, tau, sigma)
}

// Dots is DotsGo.
func Dots(out, a []float64, stride, rows int, u []float64) {
	DotsGo(out, a, stride, rows, u)
}

// Magnitude is MagnitudeGo.
func Magnitude(a []float64) (float64, bool) { return MagnitudeGo(a) }
