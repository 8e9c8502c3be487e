package knn_test

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/knn"
)

// Mutual k-NN counts the neighbours two representations agree on. Four
// points on a circle: in x, 0 and 1 are close (0°, 10°) and so are 2 and 3
// (90°, 100°); y moves point 3 to 50°, whose nearest neighbour becomes 1.
// Inputs 0, 1 and 2 keep their nearest neighbour, 3 does not.
func ExampleMutualKNN() {
	at := func(deg ...float64) *mat.Dense {
		m := mat.NewDense(len(deg), 2, nil)
		for i, d := range deg {
			m.SetRow(i, []float64{math.Cos(d * math.Pi / 180), math.Sin(d * math.Pi / 180)})
		}
		return m
	}
	x := at(0, 10, 90, 100)
	y := at(0, 10, 95, 50)
	same, _ := knn.MutualKNN(x, x, 1, knn.Cosine)
	moved, _ := knn.MutualKNN(x, y, 1, knn.Cosine)
	fmt.Printf("identical: %.2f\nmoved: %.2f\n", same, moved)
	// Output:
	// identical: 1.00
	// moved: 0.75
}
