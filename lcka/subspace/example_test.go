package subspace_test

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/subspace"
)

// The second language is the first plus a per-prompt offset along one
// direction c (and a constant shift, which CKA ignores): removing the one
// direction of the differences makes the two identical (numpy gives
// 0.6903 before).
func ExampleMeasure() {
	a := mat.NewDense(6, 3, []float64{
		1, 0.5, 0.2,
		2, -1.0, 0.1,
		3, 0.3, -0.4,
		4, 1.2, 0.3,
		5, -0.7, 0.0,
		6, 0.1, -0.2,
	})
	u := []float64{3, -1, 2, -4, 0.5, 1}
	b := mat.DenseCopyOf(a)
	c := []float64{0.6, 0, 0.8}
	for i, x := range u {
		for j := range c {
			b.Set(i, j, b.At(i, j)+x*c[j]+10)
		}
	}
	cv, err := subspace.Measure(a, b, []int{0, 1}, cka.Standardized)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("CKA %.3f; after removing 1 direction %.3f (it holds %.0f%% of the differences' variance)\n",
		cv.Before, cv.After[1], 100*cv.Fraction[1])
	// Output:
	// CKA 0.690; after removing 1 direction 1.000 (it holds 100% of the differences' variance)
}
