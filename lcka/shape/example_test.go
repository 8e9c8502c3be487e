package shape_test

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/shape"
)

// y is x rotated by 90° and stretched along one axis: the Procrustes angle
// (α = 1) sees the stretch, the fully whitened one (α = 0) does not.
func ExampleAngular() {
	x := mat.NewDense(5, 2, []float64{1, 0, 0, 1, 1, 1, 2, 0, 0, 3})
	y := mat.NewDense(5, 2, []float64{0, 3, -1, 0, -1, 3, 0, 6, -3, 0})
	for _, alpha := range []float64{1, 0.5, 0} {
		theta, _ := shape.Angular(x, y, alpha)
		fmt.Printf("α = %.1f: θ = %.4f rad\n", alpha, theta)
	}
	// Output:
	// α = 1.0: θ = 0.3438 rad
	// α = 0.5: θ = 0.2852 rad
	// α = 0.0: θ = 0.0000 rad
}
