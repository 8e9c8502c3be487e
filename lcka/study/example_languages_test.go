package study_test

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/study"
)

// Three languages whose points differ only along z: the first discriminant
// lies nearly along z (the within-language scatter tilts it slightly), and
// the second has no between-language scatter left, so it is dropped.
func ExampleFisherLDA() {
	x := mat.NewDense(9, 3, []float64{
		1, 0, 0, -1, 1, 0.1, 0, -1, -0.1, // language 0 around z = 0
		1, 1, 2.1, -1, 0, 1.9, 0, -1, 2, // language 1 around z = 2
		0, 1, 4, 1, -1, 4.1, -1, 0, 3.9, // language 2 around z = 4
	})
	label := []int{0, 0, 0, 1, 1, 1, 2, 2, 2}
	dirs, ratio, err := study.FisherLDA(x, label, 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	z := dirs.At(2, 0)
	if z < 0 {
		z = -z
	}
	fmt.Printf("|z| of the first direction %.3f, λ1 %.0f, %d direction(s)\n", z, ratio[0], len(ratio))
	// Output:
	// |z| of the first direction 0.997, λ1 700, 1 direction(s)
}
