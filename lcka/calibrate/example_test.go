package calibrate_test

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/calibrate"
	"github.com/layersim/layersim/lcka/cka"
)

// Two unrelated wide representations of 50 inputs have a linear CKA far
// above 0; next to its permutation null it is unremarkable.
func ExampleCalibrate() {
	rng := rand.New(rand.NewPCG(1, 2))
	normal := func(r, c int) *mat.Dense {
		m := mat.NewDense(r, c, nil)
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				m.Set(i, j, rng.NormFloat64())
			}
		}
		return m
	}
	x, y := normal(50, 100), normal(50, 100)
	r, _ := calibrate.Calibrate(x, y, cka.Linear, calibrate.Options{Permutations: 100, Seed: 1})
	fmt.Printf("raw CKA %.2f, null mean %.2f, |calibrated| < 3: %v\n", r.Score, r.NullMean, r.Calibrated > -3 && r.Calibrated < 3)
	// Output:
	// raw CKA 0.67, null mean 0.67, |calibrated| < 3: true
}
