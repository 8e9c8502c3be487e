package cka

import (
	"fmt"
	"math/rand/v2"
	"testing"
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
