package cca

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
	reps := []mat.Matrix{densetest.Normal(rng, 40, 5), densetest.Normal(rng, 40, 8), densetest.Normal(rng, 40, 5)}
	for _, m := range []Measure{MeasureSVCCA, MeasurePWCCA} {
		all, kept, err := AllPairs(reps, m, Keep{Variance: 0.9})
		if err != nil {
			t.Fatal(err)
		}
		for i := range reps {
			for j := range reps {
				var r Result
				if m == MeasureSVCCA {
					r, err = SVCCA(reps[i], reps[j], Keep{Variance: 0.9})
				} else {
					r, err = PWCCA(reps[i], reps[j])
				}
				if err != nil || math.Abs(all.At(i, j)-r.Value) > 1e-12 || kept[i] != r.KeptX {
					t.Errorf("measure %d (%d, %d): AllPairs %v (kept %d), pair %v (kept %d) %v", m, i, j, all.At(i, j), kept[i], r.Value, r.KeptX, err)
				}
			}
		}
	}
	if _, _, err := AllPairs([]mat.Matrix{reps[0], densetest.Normal(rng, 39, 5)}, MeasurePWCCA, Keep{}); err == nil {
		t.Error("AllPairs with different n: no error")
	}
}

// BenchmarkAllPairs: n = 400 inputs of width 2048, as in the study; each
// pair costs an SVD of up to 399×399, so the full 200 layers take long:
// docs/benchmarks.md scales the L = 20 figure by the number of pairs.
func BenchmarkAllPairs(b *testing.B) {
	const n, d, L = 400, 2048, 20
	rng := rand.New(rand.NewPCG(400, 20))
	reps := make([]mat.Matrix, L)
	for l := range reps {
		reps[l] = densetest.Normal(rng, n, d)
	}
	for _, m := range []Measure{MeasureSVCCA, MeasurePWCCA} {
		b.Run(fmt.Sprintf("measure=%d/n=%d/d=%d/L=%d", m, n, d, L), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := AllPairs(reps, m, Paper); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
