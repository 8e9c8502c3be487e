package llm

import (
	"testing"
)

// BenchmarkLlama1BShapeForward runs a random-weight model shaped like
// Llama-3.2-1B (hidden 2048, 16 layers, 32 heads, 8 key/value heads,
// intermediate 8192, llama3 rope scaling) on 8 prompts of 64 tokens and
// reports tokens per second for PooledHiddenStates (all 17 states, pooled
// in the graph). The vocabulary is shrunk from 128256 to 32768 to save
// 0.8 GB of memory; it only changes the embedding lookup. The weights take
// about 4.2 GB. Run it with -benchtime=1x: one pass is long on a few cores.
func BenchmarkLlama1BShapeForward(b *testing.B) {
	cfg := Config{
		VocabSize: 32768, HiddenSize: 2048, IntermediateSize: 8192, NumLayers: 16,
		NumHeads: 32, NumKVHeads: 8, HeadDim: 64, RMSNormEps: 1e-5, RopeTheta: 500000,
		RopeScaling: &RopeScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192},
		HiddenAct:   "silu",
	}
	m := newTestModel(b, cfg, randomWeights{cfg: cfg, seed: 7})
	const batch, seq = 8, 64
	tokens := make([][]int32, batch)
	mask := make([][]int32, batch)
	for i := range tokens {
		tokens[i] = make([]int32, seq)
		mask[i] = make([]int32, seq)
		for j := range tokens[i] {
			tokens[i][j] = int32((i*7919 + j*104729) % cfg.VocabSize)
			mask[i][j] = 1
		}
		// Left-pad half of the prompts by a few tokens, as a real batch would be.
		for j := 0; j < i%4; j++ {
			mask[i][j] = 0
		}
	}
	pos := PositionsFromMask(mask)
	if _, err := m.PooledHiddenStates(tokens, mask, pos); err != nil { // compiles
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.PooledHiddenStates(tokens, mask, pos); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch*seq)/b.Elapsed().Seconds(), "tokens/s")
}
