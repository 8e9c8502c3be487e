package cka_test

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/cka"
)

// Linear CKA is invariant to rotations and isotropic scaling of the features,
// and below 1 for a representation that is not such a transform (the values
// agree with numpy, computed by the feature-space formula).
func ExampleLinear() {
	x := mat.NewDense(5, 2, []float64{1, 0, 0, 1, 1, 1, 2, 0, 0, 3})
	// y: x rotated by 90° and scaled by 2.
	y := mat.NewDense(5, 2, []float64{0, 2, -2, 0, -2, 2, 0, 4, -6, 0})
	z := mat.NewDense(5, 2, []float64{1, 0, 0, 1, 1, 1, 2, 0, 3, 3})
	same, _ := cka.Linear(x, y)
	other, _ := cka.Linear(x, z)
	fmt.Printf("rotated and scaled: %.4f\nother: %.4f\n", same, other)
	// Output:
	// rotated and scaled: 1.0000
	// other: 0.7651
}

// AllPairs compares every pair of layers in one call.
func ExampleAllPairs() {
	layer := func(data ...float32) cka.Matrix { return cka.Matrix{Rows: 4, Cols: 2, Data: data} }
	layers := cka.Slice{
		layer(1, 0, 0, 1, 1, 1, 2, 0),
		layer(3, 0, 0, 3, 3, 3, 6, 0), // the first, scaled: CKA 1
		layer(1, 2, 0, 1, 5, 1, 2, 7),
	}
	res, err := cka.AllPairs(layers, cka.Options{Measure: cka.MeasureLinear})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.4f\n", mat.Formatted(res.CKA))
	// Output:
	// ⎡1.0000  1.0000  0.7069⎤
	// ⎢1.0000  1.0000  0.7069⎥
	// ⎣0.7069  0.7069  1.0000⎦
}
