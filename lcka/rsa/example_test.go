package rsa_test

import (
	"fmt"
	"log"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/rsa"
)

func ExampleRDM() {
	x := mat.NewDense(4, 2, []float64{
		0, 0,
		1, 0,
		0, 2,
		3, 2,
	})
	d, err := rsa.RDM(x, rsa.Euclidean)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(mat.Formatted(d))
	// Output:
	// ⎡ 0   1   4  13⎤
	// ⎢ 1   0   5   8⎥
	// ⎢ 4   5   0   9⎥
	// ⎣13   8   9   0⎦
}

func ExampleCompare() {
	// Four samples; y is x rotated by 90° and scaled, so its cosine RDM is
	// the same and the RSA similarity is 1. z changes the geometry
	// (scipy.stats.spearmanr on pdist RDMs gives -0.13235).
	x := mat.NewDense(4, 2, []float64{1, 0, 1, 1, 0, 1, 2, 1})
	y := mat.NewDense(4, 2, []float64{0, 3, -3, 3, -3, 0, -3, 6})
	z := mat.NewDense(4, 2, []float64{1, 0, 0, 1, 1, 1, 1, 2})
	for _, other := range []*mat.Dense{y, z} {
		r, err := rsa.Compare(x, other, rsa.Cosine, rsa.Spearman)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%.4f\n", r)
	}
	// Output:
	// 1.0000
	// -0.1324
}

func ExampleAllPairs() {
	layers := []mat.Matrix{
		mat.NewDense(4, 2, []float64{1, 0, 1, 1, 0, 1, 2, 1}),
		mat.NewDense(4, 2, []float64{1, 0, 0, 1, 1, 1, 1, 2}),
		mat.NewDense(4, 3, []float64{1, 0, 1, 1, 1, 0, 0, 1, 1, 2, 1, 2}),
	}
	m, err := rsa.ParseMethod("rsa-kendall-tau-a:euclidean")
	if err != nil {
		log.Fatal(err)
	}
	s, err := rsa.AllPairs(layers, m.Dissimilarity, m.Comparison)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n%.3f\n", m, mat.Formatted(s))
	// Each RDM's 6 dissimilarities contain 4 tied pairs (of 15), so τ_a of
	// a layer with itself is 1 − 4/15. A naive numpy τ_a on pdist RDMs gives
	// the same matrix.

	// Output:
	// rsa-kendall-tau-a:euclidean
	// ⎡ 0.733  -0.133   0.267⎤
	// ⎢-0.133   0.733   0.133⎥
	// ⎣ 0.267   0.133   0.733⎦
}

func ExampleAllPairsFromGrams() {
	// The samples of ExampleCompare, as float32 rows, n = 4 and d = 2; the
	// Gram matrices X̃X̃ᵀ of the rows as GramInput prepares them (here for
	// Cosine: unchanged) are all AllPairsFromGrams needs.
	reps := [][]float32{{1, 0, 1, 1, 0, 1, 2, 1}, {0, 3, -3, 3, -3, 0, -3, 6}, {1, 0, 0, 1, 1, 1, 1, 2}}
	const n, d = 4, 2
	var grams [][]float32
	for _, x := range reps {
		if err := rsa.GramInput(x, x, n, d, rsa.Cosine); err != nil {
			log.Fatal(err)
		}
		g := make([]float32, n*n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				g[i*n+j] = x[i*d]*x[j*d] + x[i*d+1]*x[j*d+1]
			}
		}
		grams = append(grams, g)
	}
	s, err := rsa.AllPairsFromGrams(grams, n, rsa.Cosine, rsa.Spearman)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.4f\n", mat.Formatted(s))
	// Output:
	// ⎡ 1.0000   1.0000  -0.1324⎤
	// ⎢ 1.0000   1.0000  -0.1324⎥
	// ⎣-0.1324  -0.1324   1.0000⎦
}
