package shape

import (
	"context"
	"errors"
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
	// Every pair equals AngularOf on the same whitened layers to the bit:
	// packed once per layer and svdvals.ProductBatch pairs at a time, with
	// the larger basis on the left, or not (without the host kernel).
	reps = append(reps, densetest.Normal(rng, 30, 40), densetest.Normal(rng, 30, 2))
	for _, alpha := range []float64{1, 0.5} {
		all, err := AllPairs(reps, alpha)
		if err != nil {
			t.Fatal(err)
		}
		ws := make([]*Whitened, len(reps))
		for i, r := range reps {
			if ws[i], err = Whiten(r, alpha); err != nil {
				t.Fatal(err)
			}
		}
		for i := range reps {
			for j := range reps {
				if i == j {
					continue
				}
				want, err := AngularOf(ws[i], ws[j])
				if err != nil || all.At(i, j) != want {
					t.Errorf("α = %v, (%d, %d): AllPairs %.17g, AngularOf %.17g (%v)", alpha, i, j, all.At(i, j), want, err)
				}
			}
		}
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

// TestAllPairsProgress: the reports rise to the number of layers and pairs,
// the values equal AllPairs', and a done context stops the job with its
// error.
func TestAllPairsProgress(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	reps := []mat.Matrix{densetest.Normal(rng, 25, 8), densetest.Normal(rng, 25, 30), densetest.Normal(rng, 25, 12), densetest.Normal(rng, 25, 5)}
	const total = 4 + 6
	var last int
	got, err := AllPairsProgress(context.Background(), reps, 0.5, func(done, all int) {
		if all != total || done < last {
			t.Errorf("report %d of %d after %d, want a total of %d", done, all, last, total)
		}
		last = done
	})
	if err != nil {
		t.Fatal(err)
	}
	if last != total {
		t.Errorf("last report %d, want %d", last, total)
	}
	if want, _ := AllPairs(reps, 0.5); !mat.Equal(got, want) {
		t.Errorf("%v, AllPairs %v", mat.Formatted(got), mat.Formatted(want))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := AllPairsProgress(ctx, reps, 0.5, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
