package describe

import (
	"math"
	"testing"
)

// TestQuantile: numpy 1.24's np.quantile(v, p) (method "linear") on the
// same values, printed with repr:
//
//	v = [0.5, 1.25, 2.0, 7.0, 11.5]
//	[np.quantile(v, p) for p in (0, 0.025, 0.25, 0.5, 0.6, 0.975, 1)]
//	[0.5, 0.575, 1.25, 2.0, 3.9999999999999996, 11.049999999999999, 11.5]
func TestQuantile(t *testing.T) {
	v := []float64{0.5, 1.25, 2.0, 7.0, 11.5}
	for _, c := range []struct{ p, want float64 }{
		{0, 0.5}, {0.025, 0.575}, {0.25, 1.25}, {0.5, 2.0}, {0.6, 3.9999999999999996}, {0.975, 11.049999999999999}, {1, 11.5},
	} {
		if got := Quantile(v, c.p); got != c.want {
			t.Errorf("Quantile(%g) = %.17g, numpy %.17g", c.p, got, c.want)
		}
	}
	if got := Quantile([]float64{3}, 0.3); got != 3 {
		t.Errorf("one value: %g", got)
	}
}

func TestMeanPearson(t *testing.T) {
	if m := Mean([]float64{1, 2, 6}); m != 3 {
		t.Errorf("Mean = %g", m)
	}
	if !math.IsNaN(Mean(nil)) {
		t.Error("Mean of nothing is not NaN")
	}
	x, y := []float64{1, 2, 3, 4}, []float64{2, 4, 6, 8}
	if r, ok := Pearson(x, y); !ok || r != 1 {
		t.Errorf("Pearson of a line = %v, %v", r, ok)
	}
	if r, ok := Pearson(x, []float64{8, 6, 4, 2}); !ok || r != -1 {
		t.Errorf("Pearson of a falling line = %v, %v", r, ok)
	}
	// numpy: np.corrcoef([1, 2, 3, 4], [1, 3, 2, 5])[0, 1] = 0.8315218406202999
	if r, ok := Pearson(x, []float64{1, 3, 2, 5}); !ok || math.Abs(r-0.8315218406202999) > 1e-15 {
		t.Errorf("Pearson = %.17g, numpy 0.8315218406202999", r)
	}
	for _, c := range [][2][]float64{{{1}, {1}}, {{1, 1, 1}, {1, 2, 3}}, {{1, 2}, {1, 2, 3}}, {{1, math.NaN()}, {1, 2}}} {
		if _, ok := Pearson(c[0], c[1]); ok {
			t.Errorf("Pearson(%v, %v) defined", c[0], c[1])
		}
	}
}
