package cka

import (
	"math"
	"sync"
	"testing"

	"github.com/layersim/layersim/lcka/internal/grampanel/grampaneltest"
)

// sinkSlice is a Slice that keeps the Gram matrices AllPairs hands back.
type sinkSlice struct {
	Slice
	mu    sync.Mutex
	grams map[int][]float32
}

func (s *sinkSlice) Gram(i int, g []float32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grams[i] = g
}

// TestGramSink: on the signatures route a Source that implements GramSink
// receives every layer's centred (standardized) Gram matrix, equal to
// CenteredGram in float64 up to float32 rounding, for n across several
// row panels.
func TestGramSink(t *testing.T) { grampaneltest.Both(t, testGramSink) }

func testGramSink(t *testing.T) {
	for _, m := range []Measure{MeasureStandardized, MeasureLinear, MeasureDebiased} {
		layers, dense := randomLayers(7, 300, []int{5, 9, 16})
		src := &sinkSlice{Slice: layers, grams: map[int][]float32{}}
		res, err := AllPairs(src, Options{Measure: m})
		if err != nil {
			t.Fatal(err)
		}
		if res.Route != "signatures" || len(src.grams) != len(layers) {
			t.Fatalf("%v: route %s, %d Gram matrices for %d layers", m, res.Route, len(src.grams), len(layers))
		}
		for i, x := range dense {
			want, err := CenteredGram(x, m == MeasureStandardized)
			if err != nil {
				t.Fatal(err)
			}
			g := src.grams[i]
			n := want.SymmetricDim()
			scale := math.Abs(want.At(0, 0))
			for a := 0; a < n; a++ {
				for b := 0; b < n; b++ {
					if d := math.Abs(float64(g[a*n+b]) - want.At(a, b)); d > 1e-5*scale {
						t.Fatalf("%v layer %d (%d, %d): %g, CenteredGram %g", m, i, a, b, g[a*n+b], want.At(a, b))
					}
				}
			}
		}
	}
}
