package cka

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// benchLayers makes L random layers of n×d float32 values.
func benchLayers(n, d, L int) Slice {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(L)))
	s := make(Slice, L)
	for k := range s {
		data := make([]float32, n*d)
		for i := range data {
			data[i] = float32(rng.NormFloat64())
		}
		s[k] = Matrix{Rows: n, Cols: d, Data: data}
	}
	return s
}

// BenchmarkAllPairs: the study's layer map (standardized CKA, all pairs).
// docs/benchmarks.md records the figures and the numpy comparison.
func BenchmarkAllPairs(b *testing.B) {
	for _, c := range []struct{ n, d, L, tile int }{
		{400, 2048, 20, 0},
		{400, 2048, 200, 0},
		{400, 2048, 200, 400},
		{400, 2048, 200, 100},
	} {
		b.Run(fmt.Sprintf("n=%d/d=%d/L=%d/tile=%d", c.n, c.d, c.L, c.tile), func(b *testing.B) {
			layers := benchLayers(c.n, c.d, c.L)
			b.ResetTimer()
			for b.Loop() {
				if _, err := AllPairs(layers, Options{TileSize: c.tile}); err != nil {
					b.Fatal(err)
				}
			}
			flops := 2 * float64(c.n) * float64(c.n) * float64(c.d) * float64(c.L)
			b.ReportMetric(flops/b.Elapsed().Seconds()*float64(b.N)/1e9, "gram-GFLOP/s")
		})
	}
}

// BenchmarkAllPairsLargeN: n = 20,000 inputs, where the study's n×n
// signatures (1.6 GB per layer) no longer fit; run with -benchtime=1x.
func BenchmarkAllPairsLargeN(b *testing.B) {
	const n, d, L = 20000, 2048, 4
	layers := benchLayers(n, d, L)
	b.ResetTimer()
	for b.Loop() {
		res, err := AllPairs(layers, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.TileSize), "tile")
	}
}

// BenchmarkAllPairsSpilled: layers (24 × 20,000 × 256 float32 = 492 MB) four
// times over a 256 MB budget, so they live in a scratch file and are read
// one row block at a time; run under /usr/bin/time -v to see the peak memory.
func BenchmarkAllPairsSpilled(b *testing.B) {
	const n, d, L = 20000, 256, 24
	layers := benchLayers(n, d, L)
	b.ResetTimer()
	for b.Loop() {
		res, err := AllPairs(layers, Options{MemoryBudget: 256 << 20})
		if err != nil {
			b.Fatal(err)
		}
		if !res.Spilled {
			b.Fatal("layers were not spilled")
		}
		b.ReportMetric(float64(res.TileSize), "tile")
	}
}

// genSource makes L layers of n×d float32 values on demand, so that a
// 200-layer, 20,000-input job needs no 33 GB input in memory: layer i is
// base + (i/L)·noise_i, with base and noise_i standard normal, so the CKA
// of layer 0 with later layers falls as i grows.
type genSource struct {
	n, d, L int
	base    []float32
}

func newGenSource(n, d, L int) *genSource {
	rng := rand.New(rand.NewPCG(1, 2))
	base := make([]float32, n*d)
	for i := range base {
		base[i] = float32(rng.NormFloat64())
	}
	return &genSource{n: n, d: d, L: L, base: base}
}

func (g *genSource) Len() int          { return g.L }
func (g *genSource) Name(i int) string { return fmt.Sprintf("gen/layer_%d", i+1) }
func (g *genSource) Layer(i int) (Matrix, error) {
	rng := rand.New(rand.NewPCG(uint64(i), 3))
	s := float32(i) / float32(g.L)
	data := make([]float32, len(g.base))
	for k, b := range g.base {
		data[k] = b + s*float32(rng.NormFloat64())
	}
	return Matrix{Rows: g.n, Cols: g.d, Data: data}, nil
}

// BenchmarkAllPairsFullScale: the whole n = 20,000, d = 2048, 200-layer job
// (33 GB of float32 layers, spilled to a scratch file in TMPDIR), as the
// study would need it for 20,000 prompts. It takes tens of minutes: run it
// alone, with -benchtime=1x, under /usr/bin/time -v. It logs progress and
// checks two entries against the float64 pairwise Standardized.
func BenchmarkAllPairsFullScale(b *testing.B) {
	const n, d, L = 20000, 2048, 200
	src := newGenSource(n, d, L)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		next := 0.0
		res, err := AllPairs(src, Options{Progress: func(done, total int) {
			if f := float64(done) / float64(total); f >= next {
				b.Logf("%s: %d/%d tiles", time.Since(start).Round(time.Second), done, total)
				next = f + 0.05
			}
		}})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.Logf("route %s, tile %d, spilled %v, %d row blocks held at once, %s",
			res.Route, res.TileSize, res.Spilled, res.BlocksHeld, time.Since(start).Round(time.Second))
		worst := 0.0
		for _, j := range []int{1, L - 1} {
			x, _ := src.Layer(0)
			y, _ := src.Layer(j)
			want, err := Standardized(x.Dense(), y.Dense())
			if err != nil {
				b.Fatal(err)
			}
			got := res.CKA.At(0, j)
			b.Logf("CKA(layer 1, layer %d) = %.8f, float64 pairwise %.8f", j+1, got, want)
			worst = max(worst, math.Abs(got-want))
		}
		b.ReportMetric(worst, "max-abs-diff")
		b.StartTimer()
	}
}
