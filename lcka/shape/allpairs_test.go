package shape

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/densetest"
)

func TestAllPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	reps := []mat.Matrix{densetest.Normal(rng, 30, 4), densetest.Normal(rng, 30, 9), densetest.Normal(rng, 30, 6)}
	all, err := AllPairs(reps, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	for i := range reps {
		for j := range reps {
			want, err := Angular(reps[i], reps[j], 0.5)
			if err != nil || math.Abs(all.At(i, j)-want) > 1e-7 {
				t.Errorf("(%d, %d): AllPairs %v, pair %v (%v)", i, j, all.At(i, j), want, err)
			}
		}
	}
	if _, err := AllPairs(reps, -1); err == nil {
		t.Error("AllPairs with α = −1: no error")
	}
}

// BenchmarkAllPairs: n = 400 inputs of width 2048, 20 and 200 layers, as in
// docs/benchmarks.md.
func BenchmarkAllPairs(b *testing.B) {
	const n, d = 400, 2048
	rng := rand.New(rand.NewPCG(400, 20))
	reps := make([]mat.Matrix, 200)
	for l := range reps {
		reps[l] = densetest.Normal(rng, n, d)
	}
	// L = 200 takes minutes: -bench 'AllPairs/./././L=20$' leaves it out.
	for _, L := range []int{20, 200} {
		for _, alpha := range []float64{1, 0.5} {
			b.Run(fmt.Sprintf("alpha=%v/n=%d/d=%d/L=%d", alpha, n, d, L), func(b *testing.B) {
				for b.Loop() {
					if _, err := AllPairs(reps[:L], alpha); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
