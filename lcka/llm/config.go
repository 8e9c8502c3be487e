package llm

import (
	"fmt"
	"math"
)

// Config describes a decoder-only transformer of the Llama family. Field
// names follow the Hugging Face config.json keys given in the comments.
type Config struct {
	VocabSize        int // vocab_size
	HiddenSize       int // hidden_size
	IntermediateSize int // intermediate_size
	NumLayers        int // num_hidden_layers
	NumHeads         int // num_attention_heads
	NumKVHeads       int // num_key_value_heads; 0 means NumHeads
	HeadDim          int // head_dim; 0 means HiddenSize/NumHeads

	RMSNormEps float64 // rms_norm_eps
	RopeTheta  float64 // rope_theta

	// RopeScaling is rope_scaling; nil means the default (unscaled) RoPE.
	RopeScaling *RopeScaling

	// HiddenAct is hidden_act; only "silu" (or "", meaning "silu") is supported.
	HiddenAct string

	// AttentionBias selects biases on the q, k and v projections
	// (Llama's and Qwen3's attention_bias; always true for Qwen2).
	AttentionBias bool
	// AttentionOutputBias selects a bias on o_proj (Llama's and Qwen3's
	// attention_bias; false for Qwen2).
	AttentionOutputBias bool
	// MLPBias selects biases on gate_proj, up_proj and down_proj (Llama's mlp_bias).
	MLPBias bool
	// QKNorm selects Qwen3's per-head RMSNorm of queries and keys
	// (self_attn.q_norm, self_attn.k_norm) applied before RoPE.
	QKNorm bool
}

// RopeScaling is the rope_scaling entry of a Hugging Face config.
type RopeScaling struct {
	// Type is rope_type (or the older "type"): "default", "linear" or "llama3".
	Type string
	// Factor is the scaling factor (linear, llama3).
	Factor float64
	// LowFreqFactor, HighFreqFactor and OriginalMaxPositionEmbeddings are the
	// llama3 parameters low_freq_factor, high_freq_factor and
	// original_max_position_embeddings.
	LowFreqFactor                 float64
	HighFreqFactor                float64
	OriginalMaxPositionEmbeddings int
}

// headDim returns the per-head dimension.
func (c *Config) headDim() int {
	if c.HeadDim > 0 {
		return c.HeadDim
	}
	if c.NumHeads > 0 {
		return c.HiddenSize / c.NumHeads
	}
	return 0
}

// numKVHeads returns the number of key/value heads.
func (c *Config) numKVHeads() int {
	if c.NumKVHeads > 0 {
		return c.NumKVHeads
	}
	return c.NumHeads
}

// Validate reports the first inconsistency of c, or nil.
func (c *Config) Validate() error {
	switch {
	case c.VocabSize <= 0, c.HiddenSize <= 0, c.IntermediateSize <= 0, c.NumLayers <= 0, c.NumHeads <= 0:
		return fmt.Errorf("llm: vocab, hidden, intermediate sizes and numbers of layers and heads must be positive: %+v", *c)
	case c.NumKVHeads < 0 || c.HeadDim < 0:
		return fmt.Errorf("llm: negative num_key_value_heads (%d) or head_dim (%d)", c.NumKVHeads, c.HeadDim)
	case c.NumHeads%c.numKVHeads() != 0:
		return fmt.Errorf("llm: num_attention_heads (%d) is not a multiple of num_key_value_heads (%d)", c.NumHeads, c.numKVHeads())
	case c.HeadDim == 0 && c.HiddenSize%c.NumHeads != 0:
		return fmt.Errorf("llm: hidden_size (%d) is not a multiple of num_attention_heads (%d) and head_dim is unset", c.HiddenSize, c.NumHeads)
	case c.headDim()%2 != 0:
		return fmt.Errorf("llm: head_dim (%d) must be even for rotary embeddings", c.headDim())
	case !(c.RMSNormEps > 0) || math.IsInf(c.RMSNormEps, 0):
		return fmt.Errorf("llm: rms_norm_eps must be positive and finite, got %g", c.RMSNormEps)
	case !(c.RopeTheta > 1) || math.IsInf(c.RopeTheta, 0):
		return fmt.Errorf("llm: rope_theta must be finite and > 1, got %g", c.RopeTheta)
	case c.HiddenAct != "" && c.HiddenAct != "silu":
		return fmt.Errorf("llm: hidden_act %q is not supported (only silu)", c.HiddenAct)
	}
	if s := c.RopeScaling; s != nil {
		switch s.Type {
		case "", "default":
		case "linear":
			if !(s.Factor > 0) || math.IsInf(s.Factor, 0) {
				return fmt.Errorf("llm: linear rope_scaling needs a positive finite factor, got %g", s.Factor)
			}
		case "llama3":
			if !(s.Factor > 0) || math.IsInf(s.Factor, 0) || !(s.LowFreqFactor > 0) || !(s.HighFreqFactor > s.LowFreqFactor) ||
				math.IsInf(s.HighFreqFactor, 0) || s.OriginalMaxPositionEmbeddings <= 0 {
				return fmt.Errorf("llm: llama3 rope_scaling needs factor > 0, 0 < low_freq_factor < high_freq_factor "+
					"and original_max_position_embeddings > 0, got %+v", *s)
			}
		default:
			return fmt.Errorf("llm: rope_scaling type %q is not supported (default, linear, llama3)", s.Type)
		}
	}
	return nil
}

// Weights gives the parameters of a model by their Hugging Face names
// (for example "model.layers.0.self_attn.q_proj.weight"), as row-major
// float32 data and their shape. The loader converts bf16/f16 to float32.
type Weights interface {
	Tensor(name string) (data []float32, shape []int, err error)
}

// WeightShapes lists the parameters that a model with configuration c
// reads, by Hugging Face name, with their expected shapes. The output
// head (lm_head.weight) is never read: hidden states do not depend on it,
// so tied and untied checkpoints are handled alike.
func WeightShapes(c Config) (names []string, shapes [][]int) {
	h, inter, d := c.HiddenSize, c.IntermediateSize, c.headDim()
	q, kv := c.NumHeads*d, c.numKVHeads()*d
	add := func(name string, shape ...int) {
		names = append(names, name)
		shapes = append(shapes, shape)
	}
	add("model.embed_tokens.weight", c.VocabSize, h)
	for i := range c.NumLayers {
		p := fmt.Sprintf("model.layers.%d.", i)
		add(p+"input_layernorm.weight", h)
		add(p+"self_attn.q_proj.weight", q, h)
		add(p+"self_attn.k_proj.weight", kv, h)
		add(p+"self_attn.v_proj.weight", kv, h)
		if c.AttentionBias {
			add(p+"self_attn.q_proj.bias", q)
			add(p+"self_attn.k_proj.bias", kv)
			add(p+"self_attn.v_proj.bias", kv)
		}
		if c.QKNorm {
			add(p+"self_attn.q_norm.weight", d)
			add(p+"self_attn.k_norm.weight", d)
		}
		add(p+"self_attn.o_proj.weight", h, q)
		if c.AttentionOutputBias {
			add(p+"self_attn.o_proj.bias", h)
		}
		add(p+"post_attention_layernorm.weight", h)
		add(p+"mlp.gate_proj.weight", inter, h)
		add(p+"mlp.up_proj.weight", inter, h)
		add(p+"mlp.down_proj.weight", h, inter)
		if c.MLPBias {
			add(p+"mlp.gate_proj.bias", inter)
			add(p+"mlp.up_proj.bias", inter)
			add(p+"mlp.down_proj.bias", h)
		}
	}
	add("model.norm.weight", h)
	return names, shapes
}
