package study_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/layersim/layersim/lcka/study"
)

// A curve of cross-lingual CKA that drops from 0.8 to 0.5 at position 4,
// with bootstrap curves that scatter by 0.02 around it: one change point.
func ExampleFindChangePoints() {
	curve := []float64{0.81, 0.79, 0.80, 0.80, 0.51, 0.49, 0.50, 0.50}
	rng := rand.New(rand.NewPCG(1, 1))
	boot := make([][]float64, 500)
	for b := range boot {
		boot[b] = make([]float64, len(curve))
		for k, v := range curve {
			boot[b][k] = v + 0.02*rng.NormFloat64()
		}
	}
	cps, err := study.FindChangePoints(curve, boot, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, cp := range cps {
		fmt.Printf("at position %d: effect %+.3f, gain %.3f > threshold %.4f\n", cp.Index, cp.Effect, cp.Gain, cp.Threshold)
	}
	// Output:
	// at position 4: effect -0.300, gain 0.180 > threshold 0.0026
}
