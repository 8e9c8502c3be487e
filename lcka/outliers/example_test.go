package outliers_test

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/outliers"
)

// Dependence shows how much linear CKA rests on one rogue dimension: the
// large third column of x and second of y agree, the rest do not (numpy
// gives 0.99999993 and 0.12477).
func ExampleDependence() {
	x := mat.NewDense(6, 3, []float64{
		1, 0.2, 100,
		2, -0.1, -80,
		3, 0.4, 90,
		4, -0.3, -120,
		5, 0.1, 110,
		6, 0.0, -95,
	})
	y := mat.NewDense(6, 2, []float64{
		3.9, 100,
		6.0, -80,
		1.1, 90,
		5.1, -120,
		1.9, 110,
		3.2, -95,
	})
	with, without, err := outliers.Dependence(x, y, 1, cka.Linear)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("CKA %.3f, without the top dimension of each %.3f\n", with, without)
	// Output:
	// CKA 1.000, without the top dimension of each 0.125
}
