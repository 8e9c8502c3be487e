package extract

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/hf"
	"github.com/layersim/layersim/lcka/llm"
)

// baseConfig is a valid Llama config.json body; tests add or override keys.
const baseConfig = `"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 3,
	"num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300,
	"rms_norm_eps": 1e-5, "rope_theta": 10000, "max_position_embeddings": 4096`

// gptOSSConfig is a small config.json in the layout of openai/gpt-oss-20b's.
const gptOSSConfig = `{"model_type": "gpt_oss", "attention_bias": true, "head_dim": 16, "hidden_size": 64,
	"intermediate_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2,
	"num_local_experts": 4, "num_experts_per_tok": 2, "experts_per_token": 2, "max_position_embeddings": 256,
	"quantization_config": {"quant_method": "mxfp4", "modules_to_not_convert": ["model.layers.*.self_attn"]},
	"rms_norm_eps": 1e-05, "rope_theta": 150000, "sliding_window": 4, "swiglu_limit": 6.5, "vocab_size": 300,
	"rope_scaling": {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 4.0, "original_max_position_embeddings": 64,
		"rope_type": "yarn", "truncate": false}%s}`

func TestLLMConfig(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		wantErr bool // the error must wrap ErrUnsupported
		check   func(t *testing.T, c llm.Config)
	}{
		{name: "llama", json: `{"model_type": "llama", ` + baseConfig + `}`, check: func(t *testing.T, c llm.Config) {
			if c.AttentionBias || c.QKNorm || c.LayerTypes != nil || c.MoE != nil || c.AttentionSinks || c.RopeScaling != nil {
				t.Errorf("%+v", c)
			}
		}},
		{name: "llama3 rope", json: `{"model_type": "llama", "rope_scaling": {"rope_type": "llama3", "factor": 32,
			"low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8192}, ` + baseConfig + `}`,
			check: func(t *testing.T, c llm.Config) {
				want := llm.RopeScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192, BetaFast: 32, BetaSlow: 1}
				if c.RopeScaling == nil || *c.RopeScaling != want {
					t.Errorf("rope %+v", c.RopeScaling)
				}
			}},
		{name: "linear rope", json: `{"model_type": "llama", "rope_scaling": {"type": "linear", "factor": 2}, ` + baseConfig + `}`,
			check: func(t *testing.T, c llm.Config) {
				if c.RopeScaling == nil || c.RopeScaling.Type != "linear" || c.RopeScaling.Factor != 2 {
					t.Errorf("rope %+v", c.RopeScaling)
				}
			}},
		{name: "llama biases", json: `{"model_type": "llama", "attention_bias": true, "mlp_bias": true, ` + baseConfig + `}`,
			check: func(t *testing.T, c llm.Config) {
				if !c.AttentionBias || !c.AttentionOutputBias || !c.MLPBias {
					t.Errorf("%+v", c)
				}
			}},
		{name: "qwen2 biases, window off", json: `{"model_type": "qwen2", "use_sliding_window": false, "sliding_window": 4096,
			"max_window_layers": 28, ` + baseConfig + `}`, check: func(t *testing.T, c llm.Config) {
			if !c.AttentionBias || c.AttentionOutputBias || c.LayerTypes != nil || c.SlidingWindow != 0 {
				t.Errorf("%+v", c)
			}
		}},
		{name: "qwen2 window from layer 1", json: `{"model_type": "qwen2", "use_sliding_window": true, "sliding_window": 16,
			"max_window_layers": 1, ` + baseConfig + `}`, check: func(t *testing.T, c llm.Config) {
			if !slices.Equal(c.LayerTypes, []string{"full_attention", "sliding_attention", "sliding_attention"}) || c.SlidingWindow != 16 {
				t.Errorf("layers %v, window %d", c.LayerTypes, c.SlidingWindow)
			}
		}},
		{name: "qwen2 window past the last layer", json: `{"model_type": "qwen2", "use_sliding_window": true, "sliding_window": 16,
			"max_window_layers": 3, ` + baseConfig + `}`, check: func(t *testing.T, c llm.Config) {
			if c.LayerTypes != nil || c.SlidingWindow != 0 {
				t.Errorf("layers %v, window %d", c.LayerTypes, c.SlidingWindow)
			}
		}},
		{name: "qwen3", json: `{"model_type": "qwen3", "head_dim": 32, ` + baseConfig + `}`, check: func(t *testing.T, c llm.Config) {
			if !c.QKNorm || c.AttentionBias || c.HeadDim != 32 {
				t.Errorf("%+v", c)
			}
		}},
		{name: "qwen3 layer_types", json: `{"model_type": "qwen3", "sliding_window": 64, "layer_types": ["full_attention",
			"sliding_attention", "full_attention"], ` + baseConfig + `}`, check: func(t *testing.T, c llm.Config) {
			if !slices.Equal(c.LayerTypes, []string{"full_attention", "sliding_attention", "full_attention"}) || c.SlidingWindow != 64 {
				t.Errorf("layers %v, window %d", c.LayerTypes, c.SlidingWindow)
			}
		}},
		{name: "layer_types all full", json: `{"model_type": "qwen3", "layer_types": ["full_attention", "full_attention",
			"full_attention"], ` + baseConfig + `}`, check: func(t *testing.T, c llm.Config) {
			if c.LayerTypes != nil {
				t.Errorf("layers %v", c.LayerTypes)
			}
		}},
		{name: "mistral window", json: `{"model_type": "mistral", "sliding_window": 4096, ` + baseConfig + `}`, check: func(t *testing.T, c llm.Config) {
			if len(c.LayerTypes) != 3 || slices.Contains(c.LayerTypes, "full_attention") || c.SlidingWindow != 4096 {
				t.Errorf("layers %v, window %d", c.LayerTypes, c.SlidingWindow)
			}
		}},
		{name: "mistral without window", json: `{"model_type": "mistral", "sliding_window": null, ` + baseConfig + `}`,
			check: func(t *testing.T, c llm.Config) {
				if c.LayerTypes != nil {
					t.Errorf("layers %v", c.LayerTypes)
				}
			}},
		{name: "llama ignores sliding_window", json: `{"model_type": "llama", "sliding_window": 8, ` + baseConfig + `}`,
			check: func(t *testing.T, c llm.Config) {
				if c.LayerTypes != nil {
					t.Errorf("layers %v", c.LayerTypes)
				}
			}},
		{name: "swish", json: `{"model_type": "llama", "hidden_act": "swish", ` + baseConfig + `}`, check: func(t *testing.T, c llm.Config) {
			if c.HiddenAct != "silu" {
				t.Errorf("act %q", c.HiddenAct)
			}
		}},
		{name: "gpt_oss", json: fmt.Sprintf(gptOSSConfig, ""), check: func(t *testing.T, c llm.Config) {
			f := false
			wantRope := llm.RopeScaling{Type: "yarn", Factor: 4, OriginalMaxPositionEmbeddings: 64, BetaFast: 32, BetaSlow: 1, Truncate: &f}
			if c.MoE == nil || *c.MoE != (llm.MoE{NumExperts: 4, TopK: 2, SwiGLUAlpha: 1.702, SwiGLULimit: 6.5}) {
				t.Errorf("moe %+v", c.MoE)
			}
			if !c.AttentionSinks || !c.AttentionBias || !c.AttentionOutputBias || c.MaxPositionEmbeddings != 256 || c.SlidingWindow != 4 {
				t.Errorf("%+v", c)
			}
			if !slices.Equal(c.LayerTypes, []string{"sliding_attention", "full_attention", "sliding_attention"}) {
				t.Errorf("layers %v", c.LayerTypes)
			}
			if r := c.RopeScaling; r == nil || r.Truncate == nil || *r.Truncate || (func() bool { x := *r; x.Truncate = &f; return x != wantRope })() {
				t.Errorf("rope %+v", c.RopeScaling)
			}
		}},
		{name: "gpt_oss layer_types", json: fmt.Sprintf(gptOSSConfig, `, "layer_types": ["full_attention", "full_attention", "sliding_attention"]`),
			check: func(t *testing.T, c llm.Config) {
				if !slices.Equal(c.LayerTypes, []string{"full_attention", "full_attention", "sliding_attention"}) {
					t.Errorf("layers %v", c.LayerTypes)
				}
			}},
		{name: "gpt_oss without experts", json: `{"model_type": "gpt_oss", ` + baseConfig + `}`, wantErr: true},
		{name: "gemma", json: `{"model_type": "gemma", ` + baseConfig + `}`, wantErr: true},
		{name: "mixtral-like experts in mistral", json: `{"model_type": "mistral", "num_local_experts": 8, "num_experts_per_tok": 2, ` + baseConfig + `}`, wantErr: true},
		{name: "gptq", json: `{"model_type": "llama", "quantization_config": {"quant_method": "gptq", "bits": 4}, ` + baseConfig + `}`, wantErr: true},
		{name: "dynamic", json: `{"model_type": "llama", "rope_scaling": {"type": "dynamic", "factor": 2}, ` + baseConfig + `}`, wantErr: true},
		{name: "longrope", json: `{"model_type": "llama", "rope_scaling": {"type": "longrope", "factor": 2}, ` + baseConfig + `}`, wantErr: true},
		{name: "partial rotary", json: `{"model_type": "llama", "partial_rotary_factor": 0.5, ` + baseConfig + `}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := hf.ParseConfig([]byte(tt.json))
			if err != nil {
				t.Fatalf("hf.ParseConfig: %v", err)
			}
			cfg, err := LLMConfig(c)
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.NumLayers != 3 || cfg.HiddenSize != 64 || cfg.NumKVHeads != 2 || cfg.VocabSize != 300 || cfg.HiddenAct != "silu" {
					t.Errorf("config %+v", cfg)
				}
				tt.check(t, cfg)
				return
			}
			if err == nil {
				t.Fatalf("accepted: %+v", cfg)
			}
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "unsupported") {
				t.Errorf("error %v does not wrap ErrUnsupported", err)
			}
			t.Log(err)
		})
	}
}

// TestLLMConfigActivation: hf refuses other activations for the supported
// families; a Config made in Go is checked again.
func TestLLMConfigActivation(t *testing.T) {
	c, err := hf.ParseConfig([]byte(`{"model_type": "llama", ` + baseConfig + `}`))
	if err != nil {
		t.Fatal(err)
	}
	c.HiddenAct = "gelu_pytorch_tanh"
	if _, err := LLMConfig(c); !errors.Is(err, ErrUnsupported) {
		t.Errorf("gelu accepted: %v", err)
	}
	if _, err := LLMConfig(nil); err == nil {
		t.Error("nil config accepted")
	}
}

func TestSlug(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"meta-llama/Llama-3.2-1B", "meta-llama__Llama-3.2-1B"},
		{"Qwen/Qwen3-0.6B@main", "Qwen__Qwen3-0.6B"},
		{"gpt2", "gpt2"},
		{"/models/tiny-a", "tiny-a"},
		{"./models/tiny b/", "tiny_b"},
		{"/x/.hidden", "hidden"},
		{"/", "model"},
	} {
		if got := Slug(tt.in); got != tt.want {
			t.Errorf("Slug(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsOutOfMemory(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("llm: shape mismatch"), false},
		{ErrOutOfMemory, true},
		{errors.Join(errors.New("batch 3"), ErrOutOfMemory), true},
		{errors.New("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 1.2GiB"), true},
		{errors.New("CUDA error: out of memory"), true},
		{errors.New("XLA: Failed to allocate request for 3.00GiB"), true},
		// go-xla's wording of a PJRT error (pjrt/error.go, toError), code 8 =
		// PJRT_Error_Code_RESOURCE_EXHAUSTED in pjrt_c_api.h.
		{fmt.Errorf("llm: %w", errors.New("PJRT error (code=8): Attempting to reserve 12.5G at the bottom of memory")), true},
		{errors.New("PJRT error (code=3): INVALID_ARGUMENT: shape mismatch"), false},
	} {
		if got := IsOutOfMemory(tt.err); got != tt.want {
			t.Errorf("IsOutOfMemory(%v) = %v", tt.err, got)
		}
	}
}
