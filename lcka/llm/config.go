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

	// MaxPositionEmbeddings is max_position_embeddings. Only yarn RoPE
	// scaling reads it.
	MaxPositionEmbeddings int

	// LayerTypes is layer_types: per layer "full_attention" or
	// "sliding_attention"; nil means full attention everywhere. In a
	// sliding-window layer query t sees only the keys s with
	// t − SlidingWindow < s ≤ t (sequence indices, not position ids).
	LayerTypes []string
	// SlidingWindow is sliding_window, the window of the sliding-attention
	// layers.
	SlidingWindow int

	// AttentionSinks selects GPT-OSS's learned per-head logit
	// (self_attn.sinks) that joins every attention softmax and is dropped
	// after it.
	AttentionSinks bool

	// MoE, when not nil, replaces the SwiGLU MLP by GPT-OSS's mixture of
	// experts with MXFP4 expert weights.
	MoE *MoE
}

// MoE describes GPT-OSS's mixture-of-experts MLP: a router with bias picks
// TopK of NumExperts experts per token, each a clamped SwiGLU whose
// weights are stored as MXFP4 (read through Uint8Weights).
type MoE struct {
	NumExperts int // num_local_experts
	TopK       int // num_experts_per_tok
	// SwiGLUAlpha and SwiGLULimit are the constants of the clamped SwiGLU.
	// transformers v4.55.4 (GptOssExperts) fixes them to 1.702 and 7.0;
	// config.json gives the limit as swiglu_limit.
	SwiGLUAlpha float64
	SwiGLULimit float64
}

// RopeScaling is the rope_scaling entry of a Hugging Face config.
type RopeScaling struct {
	// Type is rope_type (or the older "type"): "default", "linear", "llama3"
	// or "yarn".
	Type string
	// Factor is the scaling factor (linear, llama3, yarn).
	Factor float64
	// LowFreqFactor, HighFreqFactor and OriginalMaxPositionEmbeddings are the
	// llama3 parameters low_freq_factor, high_freq_factor and
	// original_max_position_embeddings. Yarn reads
	// OriginalMaxPositionEmbeddings too (0: absent).
	LowFreqFactor                 float64
	HighFreqFactor                float64
	OriginalMaxPositionEmbeddings int

	// Yarn parameters, as in rope_scaling: beta_fast and beta_slow (0 means
	// the defaults 32 and 1), attention_factor (0: derived from the factor),
	// mscale and mscale_all_dim (0: absent) and truncate (nil: true).
	BetaFast        float64
	BetaSlow        float64
	AttentionFactor float64
	MScale          float64
	MScaleAllDim    float64
	Truncate        *bool
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
		case "yarn":
			finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
			switch {
			case !(s.Factor > 0) || !finite(s.Factor):
				return fmt.Errorf("llm: yarn rope_scaling needs a positive finite factor, got %g", s.Factor)
			case c.MaxPositionEmbeddings <= 0:
				return fmt.Errorf("llm: yarn rope_scaling needs max_position_embeddings > 0, got %d", c.MaxPositionEmbeddings)
			case s.OriginalMaxPositionEmbeddings < 0:
				return fmt.Errorf("llm: yarn original_max_position_embeddings is negative (%d)", s.OriginalMaxPositionEmbeddings)
			case !(s.BetaFast >= 0) || !(s.BetaSlow >= 0) || !finite(s.BetaFast) || !finite(s.BetaSlow):
				return fmt.Errorf("llm: yarn beta_fast (%g) and beta_slow (%g) must be finite and non-negative", s.BetaFast, s.BetaSlow)
			case !(s.AttentionFactor >= 0) || !finite(s.AttentionFactor) || !finite(s.MScale) || !finite(s.MScaleAllDim):
				return fmt.Errorf("llm: yarn attention_factor (%g) must be finite and non-negative, mscale (%g) and mscale_all_dim (%g) finite",
					s.AttentionFactor, s.MScale, s.MScaleAllDim)
			}
			if af := yarnOf(*c).attention; !(af > 0) || !finite(af) {
				return fmt.Errorf("llm: yarn attention factor %g is not positive and finite", af)
			}
		default:
			return fmt.Errorf("llm: rope_scaling type %q is not supported (default, linear, llama3, yarn)", s.Type)
		}
	}
	if c.LayerTypes != nil && len(c.LayerTypes) != c.NumLayers {
		return fmt.Errorf("llm: layer_types has %d entries for %d layers", len(c.LayerTypes), c.NumLayers)
	}
	sliding := false
	for i, t := range c.LayerTypes {
		switch t {
		case "full_attention":
		case "sliding_attention":
			sliding = true
		default:
			return fmt.Errorf("llm: layer_types[%d] is %q (full_attention or sliding_attention)", i, t)
		}
	}
	if c.SlidingWindow < 0 || sliding && c.SlidingWindow == 0 {
		return fmt.Errorf("llm: sliding_window must be positive when a layer uses it, got %d", c.SlidingWindow)
	}
	if e := c.MoE; e != nil {
		switch {
		case e.NumExperts <= 0 || e.TopK <= 0 || e.TopK > e.NumExperts:
			return fmt.Errorf("llm: mixture of experts needs 0 < num_experts_per_tok (%d) <= num_local_experts (%d)", e.TopK, e.NumExperts)
		case c.HiddenSize%mxfp4Group != 0 || c.IntermediateSize%mxfp4Group != 0:
			return fmt.Errorf("llm: MXFP4 experts need hidden_size (%d) and intermediate_size (%d) divisible by %d",
				c.HiddenSize, c.IntermediateSize, mxfp4Group)
		case !(e.SwiGLUAlpha > 0) || math.IsInf(e.SwiGLUAlpha, 0) || !(e.SwiGLULimit > 0) || math.IsInf(e.SwiGLULimit, 0):
			return fmt.Errorf("llm: swiglu alpha (%g) and limit (%g) must be positive and finite", e.SwiGLUAlpha, e.SwiGLULimit)
		}
	}
	return nil
}

// slidingLayer reports whether layer l uses sliding-window attention.
func (c *Config) slidingLayer(l int) bool {
	return c.LayerTypes != nil && c.LayerTypes[l] == "sliding_attention"
}

// Weights gives the parameters of a model by their Hugging Face names
// (for example "model.layers.0.self_attn.q_proj.weight"), as row-major
// float32 data and their shape. The loader converts bf16/f16 to float32.
type Weights interface {
	Tensor(name string) (data []float32, shape []int, err error)
}

// Uint8Weights is implemented by Weights that also serve uint8 tensors:
// the MXFP4 blocks and scales of mixture-of-experts models, listed by
// Uint8WeightShapes.
type Uint8Weights interface {
	Weights
	Uint8(name string) (data []uint8, shape []int, err error)
}

// WeightShapes lists the float parameters that a model with configuration
// c reads through Weights.Tensor, by Hugging Face name, with their expected
// shapes. The output head (lm_head.weight) is never read: hidden states do
// not depend on it, so tied and untied checkpoints are handled alike. The
// MXFP4 expert tensors of a mixture of experts are listed by
// Uint8WeightShapes instead.
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
		if c.AttentionSinks {
			add(p+"self_attn.sinks", c.NumHeads)
		}
		add(p+"post_attention_layernorm.weight", h)
		if e := c.MoE; e != nil {
			add(p+"mlp.router.weight", e.NumExperts, h)
			add(p+"mlp.router.bias", e.NumExperts)
			add(p+"mlp.experts.gate_up_proj_bias", e.NumExperts, 2*inter)
			add(p+"mlp.experts.down_proj_bias", e.NumExperts, h)
			continue
		}
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

// Uint8WeightShapes lists the uint8 parameters of a model with
// configuration c (read through Uint8Weights), by Hugging Face name, with
// their shapes: for a mixture of experts with E experts, hidden size H and
// intermediate size I, per layer
//
//	mlp.experts.gate_up_proj_blocks  [E, 2I, H/32, 16]   (two E2M1 values a byte)
//	mlp.experts.gate_up_proj_scales  [E, 2I, H/32]       (E8M0 exponents)
//	mlp.experts.down_proj_blocks     [E, H, I/32, 16]
//	mlp.experts.down_proj_scales     [E, H, I/32]
//
// It returns nothing for models without experts.
func Uint8WeightShapes(c Config) (names []string, shapes [][]int) {
	e := c.MoE
	if e == nil {
		return nil, nil
	}
	h, inter := c.HiddenSize, c.IntermediateSize
	add := func(name string, shape ...int) {
		names = append(names, name)
		shapes = append(shapes, shape)
	}
	for i := range c.NumLayers {
		p := fmt.Sprintf("model.layers.%d.mlp.experts.", i)
		add(p+"gate_up_proj_blocks", e.NumExperts, 2*inter, h/mxfp4Group, mxfp4Group/2)
		add(p+"gate_up_proj_scales", e.NumExperts, 2*inter, h/mxfp4Group)
		add(p+"down_proj_blocks", e.NumExperts, h, inter/mxfp4Group, mxfp4Group/2)
		add(p+"down_proj_scales", e.NumExperts, h, inter/mxfp4Group)
	}
	return names, shapes
}
