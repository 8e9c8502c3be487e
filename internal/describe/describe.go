// Package describe holds the few descriptive statistics that several packages
// report: the mean, numpy's linear quantile and Pearson's correlation, in
// one place so that they agree to the last bit.
package describe

import "math"

// Mean returns the mean of v (NaN for none).
func Mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// Quantile returns the p-quantile (0 ≤ p ≤ 1) of sorted (ascending, not
// empty) by linear interpolation, numpy's default ("linear"), computed as
// numpy computes it so that the two agree exactly.
func Quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	// numpy's "linear": the virtual index (n−1)·p, then its lerp, which
	// counts from the nearer end. The explicit conversions forbid fused
	// multiply-adds (Go spec), which numpy does not use either.
	h := float64(float64(n-1) * p)
	i := math.Floor(h)
	if i < 0 {
		return sorted[0]
	}
	if int(i) >= n-1 {
		return sorted[n-1]
	}
	t := h - i
	a, b := sorted[int(i)], sorted[int(i)+1]
	d := b - a
	if t >= 0.5 {
		return b - float64(d*(1-t))
	}
	return a + float64(d*t)
}

// Pearson returns the correlation of x and y (the same length), clamped
// to [−1, 1] against rounding; ok is false for fewer than two values or a
// constant (or non-finite) side, where it is undefined.
func Pearson(x, y []float64) (r float64, ok bool) {
	if len(x) < 2 || len(x) != len(y) {
		return 0, false
	}
	mx, my := Mean(x), Mean(y)
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if !(sxx > 0) || !(syy > 0) {
		return 0, false
	}
	return max(-1, min(1, sxy/math.Sqrt(sxx*syy))), true
}
