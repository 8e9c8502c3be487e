package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/gomlx/compute/dtypes"

	"github.com/layersim/layersim/lcka/hf"
	"github.com/layersim/layersim/lcka/llm"
)

// ErrUnsupported is wrapped by the errors about models that package llm
// cannot run exactly: other architectures, quantized checkpoints other than
// GPT-OSS's MXFP4 experts, RoPE types it does not implement.
var ErrUnsupported = errors.New("unsupported model")

// GPT-OSS's clamped SwiGLU: transformers v4.55.4 (GptOssExperts) fixes
// alpha; config.json gives the limit as swiglu_limit (7.0 when absent).
const (
	gptOSSSwiGLUAlpha = 1.702
	gptOSSSwiGLULimit = 7.0
)

// LLMConfig converts a Hugging Face configuration to the llm one. It
// accepts model types llama, mistral, qwen2, qwen3 and gpt_oss, and
// refuses, with an error wrapping ErrUnsupported:
//
//   - other model types, and mixture-of-experts MLPs outside gpt_oss;
//   - quantized checkpoints (quantization_config), except gpt_oss with
//     quant_method mxfp4;
//   - rope_scaling types other than default, linear, llama3 and yarn
//     (dynamic, longrope), and partial_rotary_factor other than 1;
//   - activations other than silu (swish is the same function).
//
// Sliding-window attention becomes llm's per-layer LayerTypes, as
// transformers (v4.55) sets layer_types: the file's layer_types when
// given; else for mistral every layer when sliding_window is set; for qwen2
// and qwen3 the layers from max_window_layers on when use_sliding_window is
// true; for gpt_oss every even layer (0, 2, …); never for llama.
// maxLayers bounds num_hidden_layers (the largest supported models have
// a few hundred).
const maxLayers = 4096

func LLMConfig(c *hf.Config) (llm.Config, error) {
	if c == nil {
		return llm.Config{}, errors.New("extract: nil config")
	}
	unsupported := func(format string, args ...any) error {
		return fmt.Errorf("extract: %w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
	}
	// Bounded before anything is sized by it (layer types, weight lists);
	// extract.Load then compares it with the layers the checkpoint holds.
	if c.NumHiddenLayers < 1 || c.NumHiddenLayers > maxLayers {
		return llm.Config{}, fmt.Errorf("extract: config.json: num_hidden_layers %d is outside 1–%d", c.NumHiddenLayers, maxLayers)
	}
	gptOSS := c.ModelType == "gpt_oss"
	switch c.ModelType {
	case "llama", "mistral", "qwen2", "qwen3", "gpt_oss":
	default:
		return llm.Config{}, unsupported("model_type %q (supported: llama, mistral, qwen2, qwen3, gpt_oss)", c.ModelType)
	}
	if c.NumLocalExperts > 0 && !gptOSS {
		return llm.Config{}, unsupported("mixture-of-experts MLP in a %s model (num_local_experts %d)", c.ModelType, c.NumLocalExperts)
	}
	if gptOSS && c.NumLocalExperts == 0 {
		return llm.Config{}, unsupported("gpt_oss config without num_local_experts")
	}
	if raw, ok := c.Raw["quantization_config"]; ok && !isNull(raw) {
		var q struct {
			Method string `json:"quant_method"`
		}
		_ = json.Unmarshal(raw, &q)
		if !gptOSS || q.Method != "mxfp4" {
			return llm.Config{}, unsupported("quantized checkpoint (quant_method %q); only GPT-OSS's mxfp4 experts are read", q.Method)
		}
	}
	act := c.HiddenAct
	if act == "swish" {
		act = "silu"
	}
	if act != "silu" {
		return llm.Config{}, unsupported("hidden_act %q (only silu)", c.HiddenAct)
	}
	if raw, ok := c.Raw["partial_rotary_factor"]; ok && !isNull(raw) {
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil || f != 1 {
			return llm.Config{}, unsupported("partial_rotary_factor %s (only 1)", raw)
		}
	}
	cfg := llm.Config{
		VocabSize:             c.VocabSize,
		HiddenSize:            c.HiddenSize,
		IntermediateSize:      c.IntermediateSize,
		NumLayers:             c.NumHiddenLayers,
		NumHeads:              c.NumAttentionHeads,
		NumKVHeads:            c.NumKeyValueHeads,
		HeadDim:               c.HeadDim,
		RMSNormEps:            c.RMSNormEps,
		RopeTheta:             c.RopeTheta,
		HiddenAct:             act,
		AttentionBias:         c.QKVBias,
		AttentionOutputBias:   c.OutputBias,
		MLPBias:               c.MLPBias,
		QKNorm:                c.QKNorm,
		MaxPositionEmbeddings: c.MaxPositionEmbeddings,
		LayerTypes:            layerTypes(c),
		AttentionSinks:        gptOSS,
	}
	if cfg.LayerTypes != nil {
		cfg.SlidingWindow = c.SlidingWindow
	}
	if gptOSS {
		limit := gptOSSSwiGLULimit
		if raw, ok := c.Raw["swiglu_limit"]; ok && !isNull(raw) {
			if err := json.Unmarshal(raw, &limit); err != nil {
				return llm.Config{}, fmt.Errorf("extract: config.json: swiglu_limit %s is not a number", raw)
			}
		}
		cfg.MoE = &llm.MoE{NumExperts: c.NumLocalExperts, TopK: c.NumExpertsPerTok, SwiGLUAlpha: gptOSSSwiGLUAlpha, SwiGLULimit: limit}
	}
	if s := c.RopeScaling; s != nil {
		switch s.Type {
		case "linear", "llama3", "yarn":
			cfg.RopeScaling = &llm.RopeScaling{
				Type: s.Type, Factor: s.Factor, LowFreqFactor: s.LowFreqFactor,
				HighFreqFactor: s.HighFreqFactor, OriginalMaxPositionEmbeddings: s.OriginalMaxPositionEmbeddings,
				BetaFast: s.BetaFast, BetaSlow: s.BetaSlow, AttentionFactor: s.AttentionFactor,
				MScale: s.MScale, MScaleAllDim: s.MScaleAllDim, Truncate: s.Truncate,
			}
		case "default", "":
		default:
			return llm.Config{}, unsupported("rope_scaling type %q (supported: default, linear, llama3, yarn)", s.Type)
		}
	}
	if err := cfg.Validate(); err != nil {
		return llm.Config{}, fmt.Errorf("extract: %w", err)
	}
	return cfg, nil
}

// layerTypes returns the attention kind of every layer, or nil when every
// layer attends fully (see LLMConfig).
func layerTypes(c *hf.Config) []string {
	if c.LayerTypes != nil {
		if !slices.Contains(c.LayerTypes, "sliding_attention") {
			return nil
		}
		return slices.Clone(c.LayerTypes)
	}
	windowed := func(i int) bool {
		switch c.ModelType {
		case "mistral":
			return c.SlidingWindow > 0
		case "qwen2", "qwen3":
			return c.UseSlidingWindow && c.SlidingWindow > 0 && i >= c.MaxWindowLayers
		case "gpt_oss":
			return c.SlidingWindow > 0 && i%2 == 0
		}
		return false
	}
	var types []string
	any := false
	for i := range c.NumHiddenLayers {
		t := "full_attention"
		if windowed(i) {
			t, any = "sliding_attention", true
		}
		types = append(types, t)
	}
	if !any {
		return nil
	}
	return types
}

func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// checkpointWeights reads the weights llm asks for from a checkpoint.
type checkpointWeights struct{ c *hf.Checkpoint }

// CheckpointWeights adapts an open checkpoint to llm.Weights,
// llm.Uint8Weights, llm.RawWeights and llm.WeightReleaser. Raw serves
// F32, BF16 and F16 tensors as their stored bytes (llm.New converts them to
// the compute dtype tensor by tensor); Tensor converts to new float32
// slices (exactly from BF16, F16 and F32); uint8 tensors (MXFP4 blocks and
// scales) alias the checkpoint's memory map and stay valid until it is
// closed (llm.New copies them). Release drops a copied tensor's mapped
// pages from the resident set.
func CheckpointWeights(c *hf.Checkpoint) CheckpointReader { return checkpointWeights{c} }

// CheckpointReader is what CheckpointWeights returns.
type CheckpointReader interface {
	llm.Uint8Weights
	llm.RawWeights
	llm.WeightReleaser
}

func (w checkpointWeights) Raw(name string) (dtypes.DType, []byte, []int, error) {
	t, err := w.c.Tensor(name)
	if err != nil {
		return 0, nil, nil, err
	}
	var dt dtypes.DType
	switch t.DType {
	case hf.F32:
		dt = dtypes.Float32
	case hf.BF16:
		dt = dtypes.BFloat16
	case hf.F16:
		dt = dtypes.Float16
	default:
		return 0, nil, nil, fmt.Errorf("extract: tensor %s has dtype %s, want F32, BF16 or F16", name, t.DType)
	}
	raw, err := t.Bytes()
	if err != nil {
		return 0, nil, nil, err
	}
	return dt, raw, slices.Clone(t.Shape), nil
}

func (w checkpointWeights) Release(name string) {
	if t, err := w.c.Tensor(name); err == nil {
		t.DropPages()
	}
}

func (w checkpointWeights) Tensor(name string) ([]float32, []int, error) {
	t, err := w.c.Tensor(name)
	if err != nil {
		return nil, nil, err
	}
	if !t.DType.IsFloat() {
		return nil, nil, fmt.Errorf("extract: tensor %s has dtype %s, want a floating-point type", name, t.DType)
	}
	data, err := t.Float32()
	if err != nil {
		return nil, nil, err
	}
	return data, slices.Clone(t.Shape), nil
}

func (w checkpointWeights) Uint8(name string) ([]uint8, []int, error) {
	t, err := w.c.Tensor(name)
	if err != nil {
		return nil, nil, err
	}
	if t.DType != hf.U8 {
		return nil, nil, fmt.Errorf("extract: tensor %s has dtype %s, want U8", name, t.DType)
	}
	data, err := t.Uint8()
	if err != nil {
		return nil, nil, err
	}
	return data, slices.Clone(t.Shape), nil
}
