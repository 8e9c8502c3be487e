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

// Two layers; in each, the second language is the first plus a per-prompt
// offset along one direction. Removing that direction puts layer k of the
// two languages on the same point of the joint embedding (numpy, with
// testdata/gen_embed_ref.py's functions, gives 0.584 before).
func ExampleJointEmbedding() {
	layer1 := mat.NewDense(6, 3, []float64{
		1, 0.5, 0.2,
		2, -1.0, 0.1,
		3, 0.3, -0.4,
		4, 1.2, 0.3,
		5, -0.7, 0.0,
		6, 0.1, -0.2,
	})
	layer2 := mat.NewDense(6, 3, nil)
	layer2.Apply(func(i, j int, v float64) float64 { return v*v + layer1.At(i, (j+1)%3) }, layer1)
	u := []float64{3, -1, 2, -4, 0.5, 1}
	c := []float64{0.6, 0, 0.8}
	var ls subspace.LayerSlice
	for _, a := range []*mat.Dense{layer1, layer2} {
		b := mat.DenseCopyOf(a)
		b.Apply(func(i, j int, v float64) float64 { return v + u[i]*c[j] }, a)
		ls.A, ls.B = append(ls.A, a), append(ls.B, b)
	}
	j, err := subspace.JointEmbedding(ls, []int{1}, subspace.JointOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("distance between the languages, mean over layers: %.2f before, %.2f after\n",
		j.Before.MeanPairDistance, j.After[0].MeanPairDistance)
	// Output:
	// distance between the languages, mean over layers: 0.58 before, 0.00 after
}
