package rowkernels

import "math"

// Reflector makes x (x₀ = α) a Householder vector, as the reductions need
// one per column and row: on return x[0] = 1 and x holds v, with
// (I − τvvᵀ)·x_in = β·e₁. It returns β and τ (0, with x = e₁, when x_in is
// β·e₁ already to working precision, β = α then).
//
// The caller keeps the entries at most 1 in magnitude (the reductions
// scale their matrix so, and orthogonal updates keep each row and column
// within its norm), so the sum of squares cannot overflow; it is summed
// by Dots, and where it is small enough for squares to have underflowed it
// is summed again scaled by the largest entry, as LAPACK's dnrm2 does.
func Reflector(x []float64) (beta, tau float64) {
	alpha := x[0]
	rest := x[1:]
	norm := 0.0
	if len(rest) > 0 {
		var sum [1]float64
		Dots(sum[:], rest, len(rest), 1, rest)
		norm = sum[0]
	}
	if norm < 0x1p-900 {
		peak, _ := Magnitude(rest)
		norm = 0
		if peak > 0 {
			for _, v := range rest {
				v /= peak
				norm += v * v
			}
		}
		norm = peak * math.Sqrt(norm)
	} else {
		norm = math.Sqrt(norm)
	}
	if norm < 0x1p-1022 {
		// Below the normal numbers: 1/(α − β) could overflow, and the
		// entries are zero to working precision.
		clear(rest)
		x[0] = 1
		return alpha, 0
	}
	beta = -math.Copysign(math.Hypot(alpha, norm), alpha)
	tau = (beta - alpha) / beta
	s := 1 / (alpha - beta)
	for i := range rest {
		rest[i] *= s
	}
	x[0] = 1
	return beta, tau
}
