package svdvals

import "github.com/layersim/layersim/lcka/internal/rowkernels"

// The reductions' passes over rows, on lcka/internal/rowkernels (AVX-512
// assembly where the CPU has it).

func axpy(y, x []float64, alpha float64) { rowkernels.Axpy(y, x, alpha) }

func accumulate(w, a []float64, stride, rows int, v []float64) {
	rowkernels.Accumulate(w, a, stride, rows, v)
}

func update(a []float64, stride, rows int, w, u, v []float64, tau, sigma float64) {
	rowkernels.Update(a, stride, rows, w, u, v, tau, sigma)
}

func dots(out, a []float64, stride, rows int, u []float64) {
	rowkernels.Dots(out, a, stride, rows, u)
}

func magnitude(a []float64) (float64, bool) { return rowkernels.Magnitude(a) }

func reflector(x []float64) (beta, tau float64) { return rowkernels.Reflector(x) }
