package procrustes_test

import (
	"fmt"
	"log"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/procrustes"
)

func ExampleDistance() {
	x := mat.NewDense(4, 2, []float64{0, 0, 1, 0, 0, 1, 1, 2})
	// y is x rotated by 90°, scaled by 2 and translated by (5, 5).
	y := mat.NewDense(4, 2, []float64{5, 5, 5, 7, 3, 5, 1, 7})
	// z has another geometry and another number of features.
	z := mat.NewDense(4, 3, []float64{0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 1, 1})
	for _, other := range []*mat.Dense{y, z} {
		d2, err := procrustes.Distance(x, other)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%.6f\n", d2)
	}
	// scipy.linalg.orthogonal_procrustes on the centred, normalised and
	// zero-padded inputs gives residuals² 4.5e-31 and 0.432295.

	// Output:
	// 0.000000
	// 0.432295
}

func ExampleResidual() {
	// Orthogonal rows of norms 1 and 2, against orthogonal rows of norms 1
	// and 1.5: the best rotation aligns them and leaves |2 − 1.5| = 0.5.
	a := mat.NewDense(2, 3, []float64{1, 0, 0, 0, 2, 0})
	b := mat.NewDense(2, 3, []float64{0, 1, 0, 0, 0, 1.5})
	res, rel, err := procrustes.Residual(a, b)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("res %.4f rel %.4f\n", res, rel)
	// Output:
	// res 0.5000 rel 0.1741
}

func ExampleResidualFromGrams() {
	// The Gram matrices AAᵀ and BBᵀ of the stacks in ExampleResidual.
	gA := mat.NewSymDense(2, []float64{1, 0, 0, 4})
	gB := mat.NewSymDense(2, []float64{1, 0, 0, 2.25})
	res, rel, err := procrustes.ResidualFromGrams(gA, gB)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("res %.4f rel %.4f\n", res, rel)
	// Output:
	// res 0.5000 rel 0.1741
}

func ExampleLayerResidual() {
	// The rows of b are those of a swapped: an orthogonal map of the rows
	// (a permutation) carries a onto b exactly.
	a := mat.NewDense(2, 3, []float64{1, 2, 0, 0, 1, 1})
	b := mat.NewDense(2, 3, []float64{0, 1, 1, 1, 2, 0})
	res, rel, err := procrustes.LayerResidual(a, b)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("res %.4f rel %.4f\n", res, rel)
	// Output:
	// res 0.0000 rel 0.0000
}
