package cca_test

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/cca"
)

// SVCCA reports how many singular directions it kept. y is an invertible
// linear map of x plus a small third column: the two leading directions of
// each line up perfectly.
func ExampleSVCCA() {
	x := mat.NewDense(6, 2, []float64{1, 0, 0, 1, 2, 1, -1, 3, 0, -2, 4, 0})
	y := mat.NewDense(6, 3, nil)
	for i := 0; i < 6; i++ {
		a, b := x.At(i, 0), x.At(i, 1)
		y.SetRow(i, []float64{a + b, a - 2*b, 0.001 * float64(i%2)})
	}
	r, _ := cca.SVCCA(x, y, cca.Keep{Count: 2})
	fmt.Printf("SVCCA %.4f, kept %d of %d and %d of %d directions\n", r.Value, r.KeptX, r.DimX, r.KeptY, r.DimY)
	// Output:
	// SVCCA 1.0000, kept 2 of 2 and 2 of 3 directions
}
