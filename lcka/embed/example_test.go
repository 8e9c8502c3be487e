package embed_test

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/embed"
)

// Four layers: two of one language close to each other, two of another.
// The first coordinate separates the languages. By hand: S has the
// eigenvectors (1,1,1,1) with 1+0.9+0.2+0.2 = 2.3, (1,1,−1,−1) with
// 1+0.9−0.2−0.2 = 1.5 and (1,−1,0,0), (0,0,1,−1) with 0.1; double centering
// removes the first, leaving 1.5 and 0.1.
func ExampleJoint() {
	s := mat.NewSymDense(4, []float64{
		1.0, 0.9, 0.2, 0.2,
		0.9, 1.0, 0.2, 0.2,
		0.2, 0.2, 1.0, 0.9,
		0.2, 0.2, 0.9, 1.0,
	})
	e, err := embed.Joint(s, embed.Options{Dims: 2, Classical: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	ax, err := embed.LanguageAxis(e.Coords, []float64{1, 1, -1, -1}, []string{"m", "m", "m", "m"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("eigenvalues %.2f\nlanguage axis: coordinate %d, |r| = %.2f\n", e.Eigenvalues[:2], ax.Component+1, abs(ax.Corr[ax.Component]))
	// Output:
	// eigenvalues [1.50 0.10]
	// language axis: coordinate 1, |r| = 1.00
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
