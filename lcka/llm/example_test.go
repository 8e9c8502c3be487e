package llm_test

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/gobackend"

	"github.com/layersim/layersim/lcka/llm"
)

// sineWeights fills every tensor with deterministic values sin(i·k), a
// stand-in for a checkpoint reader.
type sineWeights struct{ cfg llm.Config }

func (w sineWeights) Tensor(name string) ([]float32, []int, error) {
	names, shapes := llm.WeightShapes(w.cfg)
	for i, n := range names {
		if n != name {
			continue
		}
		size := 1
		for _, d := range shapes[i] {
			size *= d
		}
		data := make([]float32, size)
		for j := range data {
			data[j] = float32(0.5 * math.Sin(float64(j)*0.37+float64(i)))
		}
		return data, shapes[i], nil
	}
	return nil, nil, fmt.Errorf("no tensor %s", name)
}

func ExampleModel_PooledHiddenStates() {
	cfg := llm.Config{
		VocabSize: 50, HiddenSize: 16, IntermediateSize: 32, NumLayers: 2,
		NumHeads: 4, NumKVHeads: 2, RMSNormEps: 1e-5, RopeTheta: 10000,
	}
	backend, err := gobackend.New("")
	if err != nil {
		panic(err)
	}
	m, err := llm.New(backend, cfg, sineWeights{cfg})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	// Two prompts, the second left-padded; PositionsFromMask makes each real
	// token see the positions it has alone.
	tokens := [][]int32{{3, 1, 4, 1}, {0, 0, 2, 7}}
	mask := [][]int32{{1, 1, 1, 1}, {0, 0, 1, 1}}
	pooled, err := m.PooledHiddenStates(tokens, mask, llm.PositionsFromMask(mask))
	if err != nil {
		panic(err)
	}
	alone, err := m.PooledHiddenStates([][]int32{{2, 7}}, nil, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d states (embeddings + %d blocks), %d prompts, hidden %d\n",
		len(pooled.Mean), cfg.NumLayers, len(pooled.Mean[0]), len(pooled.Mean[0][0]))
	var worst float64
	for l := range pooled.Mean {
		for j, v := range pooled.Mean[l][1] {
			worst = max(worst, math.Abs(float64(v-alone.Mean[l][0][j])))
		}
	}
	fmt.Println("padded prompt equals the prompt alone:", worst < 1e-5)
	// Output:
	// 3 states (embeddings + 2 blocks), 2 prompts, hidden 16
	// padded prompt equals the prompt alone: true
}

func ExamplePositionsFromMask() {
	mask := [][]int32{
		{1, 1, 1, 0, 0}, // right padding
		{0, 0, 1, 1, 1}, // left padding
	}
	fmt.Println(llm.PositionsFromMask(mask))
	// Output:
	// [[0 1 2 1 1] [1 1 0 1 2]]
}

// ExampleUint8WeightShapes lists the MXFP4 expert tensors of gpt-oss-20b
// and the memory its weights take in a Model: the experts stay MXFP4
// (4.25 bits a value), the other weights are float32.
func ExampleUint8WeightShapes() {
	layerTypes := make([]string, 24)
	for i := range layerTypes {
		layerTypes[i] = []string{"sliding_attention", "full_attention"}[i%2]
	}
	cfg := llm.Config{ // openai/gpt-oss-20b's config.json
		VocabSize: 201088, HiddenSize: 2880, IntermediateSize: 2880, NumLayers: 24,
		NumHeads: 64, NumKVHeads: 8, HeadDim: 64, RMSNormEps: 1e-5, RopeTheta: 150000,
		MaxPositionEmbeddings: 131072,
		RopeScaling: &llm.RopeScaling{Type: "yarn", Factor: 32, OriginalMaxPositionEmbeddings: 4096,
			BetaFast: 32, BetaSlow: 1, Truncate: new(false)},
		AttentionBias: true, AttentionOutputBias: true, AttentionSinks: true,
		LayerTypes: layerTypes, SlidingWindow: 128,
		MoE: &llm.MoE{NumExperts: 32, TopK: 4, SwiGLUAlpha: 1.702, SwiGLULimit: 7},
	}
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	size := func(shape []int) int64 {
		n := int64(1)
		for _, d := range shape {
			n *= int64(d)
		}
		return n
	}
	names, shapes := llm.Uint8WeightShapes(cfg)
	var mxfp4 int64
	for i, name := range names {
		if i < 4 {
			fmt.Println(name, shapes[i])
		}
		mxfp4 += size(shapes[i])
	}
	_, floatShapes := llm.WeightShapes(cfg)
	var floats int64
	for _, s := range floatShapes {
		floats += 4 * size(s)
	}
	fmt.Printf("MXFP4 experts: %.2f GB, float32 weights: %.2f GB, total %.2f GB\n",
		float64(mxfp4)/1e9, float64(floats)/1e9, float64(mxfp4+floats)/1e9)
	// Output:
	// model.layers.0.mlp.experts.gate_up_proj_blocks [32 5760 90 16]
	// model.layers.0.mlp.experts.gate_up_proj_scales [32 5760 90]
	// model.layers.0.mlp.experts.down_proj_blocks [32 2880 90 16]
	// model.layers.0.mlp.experts.down_proj_scales [32 2880 90]
	// MXFP4 experts: 10.15 GB, float32 weights: 4.90 GB, total 15.05 GB
}
