package knn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/densetest"
)

// BenchmarkAllPairs: 200 layers of n = 400 inputs, width 2048, k = 10, as
// the study's layer map (docs/benchmarks.md).
func BenchmarkAllPairs(b *testing.B) {
	const n, d, L, k = 400, 2048, 200, 10
	rng := rand.New(rand.NewPCG(400, 200))
	reps := make([]mat.Matrix, L)
	for l := range reps {
		reps[l] = densetest.Normal(rng, n, d)
	}
	for _, m := range []Measure{Mutual, Kernel} {
		b.Run(fmt.Sprintf("measure=%d/n=%d/d=%d/L=%d/k=%d", m, n, d, L, k), func(b *testing.B) {
			for b.Loop() {
				if _, err := AllPairs(reps, k, Cosine, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
