package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/layersim/layersim/lcka/hf"
	"github.com/layersim/layersim/lcka/llm"
)

// ErrUnsupported is wrapped by the errors about models that package llm
// cannot run exactly: other architectures, mixture-of-experts MLPs,
// sliding-window attention that would change the result, RoPE types it does
// not implement.
var ErrUnsupported = errors.New("unsupported model")

// LLMConfig converts a Hugging Face configuration to the llm one. It
// refuses, with an error wrapping ErrUnsupported, what llm does not compute:
//
//   - model types other than llama, mistral, qwen2 and qwen3;
//   - mixture-of-experts MLPs (num_local_experts > 0);
//   - rope_scaling types other than default, linear and llama3 (yarn,
//     dynamic, longrope), and partial_rotary_factor other than 1;
//   - activations other than silu (swish is the same function);
//   - sliding-window attention in use in some layer, unless its window is at
//     least maxTokens, the longest input that will be run: a window of w
//     lets query t see keys t−w+1 … t, so inputs of at most w tokens see
//     every earlier key and the result is that of full attention. With
//     maxTokens 0 every window in use is refused.
func LLMConfig(c *hf.Config, maxTokens int) (llm.Config, error) {
	cfg, err := convertConfig(c)
	if err != nil {
		return llm.Config{}, err
	}
	if err := checkWindow(c, maxTokens); err != nil {
		return llm.Config{}, err
	}
	return cfg, nil
}

// convertConfig is LLMConfig without the sliding-window check.
func convertConfig(c *hf.Config) (llm.Config, error) {
	if c == nil {
		return llm.Config{}, errors.New("extract: nil config")
	}
	unsupported := func(format string, args ...any) error {
		return fmt.Errorf("extract: %w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
	}
	switch c.ModelType {
	case "llama", "mistral", "qwen2", "qwen3":
	default:
		return llm.Config{}, unsupported("model_type %q (supported: llama, mistral, qwen2, qwen3)", c.ModelType)
	}
	if c.NumLocalExperts > 0 {
		return llm.Config{}, unsupported("mixture-of-experts MLP (num_local_experts %d)", c.NumLocalExperts)
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
		VocabSize:           c.VocabSize,
		HiddenSize:          c.HiddenSize,
		IntermediateSize:    c.IntermediateSize,
		NumLayers:           c.NumHiddenLayers,
		NumHeads:            c.NumAttentionHeads,
		NumKVHeads:          c.NumKeyValueHeads,
		HeadDim:             c.HeadDim,
		RMSNormEps:          c.RMSNormEps,
		RopeTheta:           c.RopeTheta,
		HiddenAct:           act,
		AttentionBias:       c.QKVBias,
		AttentionOutputBias: c.OutputBias,
		MLPBias:             c.MLPBias,
		QKNorm:              c.QKNorm,
	}
	if s := c.RopeScaling; s != nil {
		switch s.Type {
		case "linear", "llama3":
			cfg.RopeScaling = &llm.RopeScaling{
				Type: s.Type, Factor: s.Factor, LowFreqFactor: s.LowFreqFactor,
				HighFreqFactor: s.HighFreqFactor, OriginalMaxPositionEmbeddings: s.OriginalMaxPositionEmbeddings,
			}
		case "default", "":
		default:
			return llm.Config{}, unsupported("rope_scaling type %q (supported: default, linear, llama3)", s.Type)
		}
	}
	if err := cfg.Validate(); err != nil {
		return llm.Config{}, fmt.Errorf("extract: %w", err)
	}
	return cfg, nil
}

// checkWindow refuses sliding-window attention that inputs of maxTokens
// tokens would feel.
func checkWindow(c *hf.Config, maxTokens int) error {
	var layers []int
	for i := range c.NumHiddenLayers {
		if windowed(c, i) {
			layers = append(layers, i)
		}
	}
	if len(layers) == 0 {
		return nil
	}
	if c.SlidingWindow > 0 && maxTokens > 0 && c.SlidingWindow >= maxTokens {
		return nil // every input fits in the window: full attention
	}
	why := "the input length is not known"
	if maxTokens > 0 {
		why = fmt.Sprintf("inputs of up to %d tokens would be cut by it", maxTokens)
	}
	return fmt.Errorf("extract: %w: sliding-window attention (window %d) in %d of %d layers, and %s",
		ErrUnsupported, c.SlidingWindow, len(layers), c.NumHiddenLayers, why)
}

// windowed reports whether layer i uses sliding-window attention, following
// transformers: layer_types when given; otherwise a set window is used by
// Mistral, by Qwen2 and Qwen3 only with use_sliding_window and from layer
// max_window_layers on, and never by Llama.
func windowed(c *hf.Config, i int) bool {
	if c.LayerTypes != nil {
		return c.LayerTypes[i] == "sliding_attention"
	}
	if !c.UseSlidingWindow || c.SlidingWindow <= 0 {
		return false
	}
	switch c.ModelType {
	case "qwen2", "qwen3":
		return i >= c.MaxWindowLayers
	case "llama":
		return false
	}
	return true
}

func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// checkpointWeights reads the weights llm asks for from a checkpoint,
// converting them to float32.
type checkpointWeights struct{ c *hf.Checkpoint }

// CheckpointWeights adapts an open checkpoint to llm.Weights: each tensor
// is converted to a new float32 slice (exactly from BF16, F16 and F32).
func CheckpointWeights(c *hf.Checkpoint) llm.Weights { return checkpointWeights{c} }

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
