package llm

import (
	"fmt"
	"time"

	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"

	"github.com/layersim/layersim/internal/simdrt"
)

// BenchmarkLlama1BShapeForward runs a random-weight model shaped like
// Llama-3.2-1B (hidden 2048, 16 layers, 32 heads, 8 key/value heads,
// intermediate 8192, llama3 rope scaling) on a right-padded batch and
// reports tokens per second for PooledHiddenStates with last-token pooling
// of all 17 states (what extraction runs), and the process's peak resident
// memory. Sub-benchmarks: dtype (float32, bfloat16 on the backend's kernel
// in one graph, bfloat16 with the linear layers on the AMX kernel where the
// CPU has it: amxpass.go), batch and sequence
// length; 8×64 is the historical shape, 16×96 the study's (batches of 16
// questions of about 60–130 tokens). The vocabulary is shrunk from 128256
// to 32768 to save memory; it only changes the embedding lookup. Run one
// sub-benchmark at a time with -benchtime=2x: a pass is long on few cores.
func BenchmarkLlama1BShapeForward(b *testing.B) {
	warnPreemption(b)
	cfg := Config{
		VocabSize: 32768, HiddenSize: 2048, IntermediateSize: 8192, NumLayers: 16,
		NumHeads: 32, NumKVHeads: 8, HeadDim: 64, RMSNormEps: 1e-5, RopeTheta: 500000,
		RopeScaling: &RopeScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192},
		HiddenAct:   "silu",
	}
	for _, run := range []struct {
		name string
		dt   dtypes.DType
		opts []Option
	}{
		{"dtype=Float32", dtypes.Float32, nil},
		{"dtype=BFloat16/amx=false", dtypes.BFloat16, []Option{WithoutAMX()}},
		{"dtype=BFloat16", dtypes.BFloat16, nil}, // on the AMX kernel where the CPU has it
	} {
		for _, shape := range [][2]int{{8, 64}, {16, 96}} {
			batch, seq := shape[0], shape[1]
			b.Run(fmt.Sprintf("%s/batch=%d/seq=%d", run.name, batch, seq), func(b *testing.B) {
				debug.FreeOSMemory() // the previous sub-benchmark's model
				resetPeakMemory()
				m, err := New(testBackend(), cfg, randomWeights{cfg: cfg, seed: 7}, append(run.opts, WithDType(run.dt))...)
				if err != nil {
					b.Fatal(err)
				}
				defer m.Close()
				tokens := make([][]int32, batch)
				mask := make([][]int32, batch)
				for i := range tokens {
					tokens[i] = make([]int32, seq)
					mask[i] = make([]int32, seq)
					// Right-padded as extraction pads: rows a few tokens shorter than the longest.
					for j := range tokens[i] {
						tokens[i][j] = int32((i*7919 + j*104729) % cfg.VocabSize)
						if j < seq-i%4 {
							mask[i][j] = 1
						}
					}
				}
				pos := PositionsFromMask(mask)
				start := time.Now()
				if _, err := m.PooledHiddenStates(tokens, mask, pos, PoolLast); err != nil { // compiles
					b.Fatal(err)
				}
				first := time.Since(start)
				b.ResetTimer()
				for b.Loop() {
					if _, err := m.PooledHiddenStates(tokens, mask, pos, PoolLast); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch*seq)/b.Elapsed().Seconds(), "tokens/s")
				// The first call: building and compiling the graph for this shape, and one pass.
				b.ReportMetric(first.Seconds(), "first-call-s")
				reportPeakMemory(b)
			})
		}
	}
}

// reportPeakMemory reports the process's peak resident memory (VmHWM,
// Linux) in GiB.
// resetPeakMemory starts a new peak of resident memory for the process
// (Linux: clear_refs 5 resets VmHWM), so that each sub-benchmark reports
// its own.
func resetPeakMemory() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func reportPeakMemory(b *testing.B) {
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.Lines(string(status)) {
			if strings.HasPrefix(line, "VmHWM:") {
				var kb float64
				fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%f", &kb)
				b.ReportMetric(kb/(1<<20), "peak-GiB")
			}
		}
	}
}

// gptOSS20BConfig is openai/gpt-oss-20b's architecture (its config.json,
// with transformers 4.55.4's SwiGLU constants).
func gptOSS20BConfig() Config {
	types := make([]string, 24)
	for i := range types {
		types[i] = "sliding_attention"
		if i%2 == 1 {
			types[i] = "full_attention"
		}
	}
	return Config{
		VocabSize: 201088, HiddenSize: 2880, IntermediateSize: 2880, NumLayers: 24,
		NumHeads: 64, NumKVHeads: 8, HeadDim: 64, RMSNormEps: 1e-5, RopeTheta: 150000, HiddenAct: "silu",
		MaxPositionEmbeddings: 131072,
		RopeScaling: &RopeScaling{Type: "yarn", Factor: 32, OriginalMaxPositionEmbeddings: 4096,
			BetaFast: 32, BetaSlow: 1, Truncate: new(false)},
		AttentionBias: true, AttentionOutputBias: true, AttentionSinks: true,
		LayerTypes: types, SlidingWindow: 128,
		MoE: &MoE{NumExperts: 32, TopK: 4, SwiGLUAlpha: 1.702, SwiGLULimit: 7},
	}
}

// BenchmarkGptOSS20BLayerForward runs one gpt-oss-20b block (hidden 2880,
// 64 heads, 32 MXFP4 experts, top-4; vocabulary shrunk to 1024) with random
// weights and reports tokens per second, the first call's time (compiling
// and one pass) and the process's peak resident memory (VmHWM, Linux).
// Sub-benchmarks: experts=dense evaluates every expert on every token in
// one graph, as transformers does in eval mode (WithDenseExperts);
// experts=sparse runs only the selected experts, dequantized on the host
// (dequant=host, the Go backend's default) or inside the expert's graph
// (dequant=graph); batch×seq 4×32 is the historical shape, 16×64 a batch
// of the study's English questions. Run with -benchtime=1x.
func BenchmarkGptOSS20BLayerForward(b *testing.B) {
	warnPreemption(b)
	cfg := gptOSS20BConfig()
	cfg.VocabSize, cfg.NumLayers, cfg.LayerTypes = 1024, 1, cfg.LayerTypes[:1]
	variants := []struct {
		name    string
		dense   bool
		dequant expertDequant
	}{{"dense", true, dequantAuto}, {"sparse/dequant=host", false, dequantHost}, {"sparse/dequant=graph", false, dequantInGraph}}
	for _, shape := range [][2]int{{4, 32}, {16, 64}} {
		for _, v := range variants {
			batch, seq := shape[0], shape[1]
			b.Run(fmt.Sprintf("batch=%d/seq=%d/experts=%s", batch, seq, v.name), func(b *testing.B) {
				debug.FreeOSMemory()
				resetPeakMemory()
				var opts []Option
				if v.dense {
					opts = append(opts, WithDenseExperts())
				}
				m, err := New(testBackend(), cfg, randomWeights{cfg: cfg, seed: 9}, opts...)
				if err != nil {
					b.Fatal(err)
				}
				defer m.Close()
				if m.sparse != nil {
					m.sparse.dequant = v.dequant
				}
				tokens := make([][]int32, batch)
				for i := range tokens {
					tokens[i] = make([]int32, seq)
					for j := range tokens[i] {
						tokens[i][j] = int32((i*7919 + j*104729) % cfg.VocabSize)
					}
				}
				start := time.Now()
				if _, err := m.PooledHiddenStates(tokens, nil, nil, PoolLast); err != nil { // compiles
					b.Fatal(err)
				}
				first := time.Since(start)
				b.ResetTimer()
				for b.Loop() {
					if _, err := m.PooledHiddenStates(tokens, nil, nil, PoolLast); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch*seq)/b.Elapsed().Seconds(), "tokens/s")
				b.ReportMetric(first.Seconds(), "first-call-s")
				reportPeakMemory(b)
			})
		}
	}
}

// warnPreemption says when the benchmark runs without
// GODEBUG=asyncpreemptoff=1, whose absence slows every op but the matrix
// products several times over in a simd build (internal/simdrt).
func warnPreemption(b *testing.B) {
	if simdrt.NeedsReExec() {
		b.Logf("GODEBUG lacks %s: the figures include the Go runtime's AVX-to-SSE penalty (see internal/simdrt)", simdrt.Setting)
	}
}
