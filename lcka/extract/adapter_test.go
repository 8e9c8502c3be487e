package extract

import (
	"errors"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/hf"
)

// baseConfig is a valid Llama config.json body; tests add or override keys.
const baseConfig = `"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 3,
	"num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300,
	"rms_norm_eps": 1e-5, "rope_theta": 10000, "max_position_embeddings": 4096`

func TestLLMConfig(t *testing.T) {
	tests := []struct {
		name      string
		json      string
		maxTokens int
		wantErr   string // "" for success; ErrUnsupported is checked when it is "unsupported"
		check     func(t *testing.T, c *hf.Config)
	}{
		{name: "llama", json: `{"model_type": "llama", ` + baseConfig + `}`, maxTokens: 256},
		{name: "llama3 rope", json: `{"model_type": "llama", "rope_scaling": {"rope_type": "llama3", "factor": 32,
			"low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8192}, ` + baseConfig + `}`, maxTokens: 256},
		{name: "linear rope", json: `{"model_type": "llama", "rope_scaling": {"type": "linear", "factor": 2}, ` + baseConfig + `}`},
		{name: "qwen2 biases", json: `{"model_type": "qwen2", "use_sliding_window": false, "sliding_window": 4096, "max_window_layers": 28, ` + baseConfig + `}`},
		{name: "qwen2 window from a later layer only", json: `{"model_type": "qwen2", "use_sliding_window": true, "sliding_window": 16,
			"max_window_layers": 3, ` + baseConfig + `}`},
		{name: "qwen3", json: `{"model_type": "qwen3", "head_dim": 32, ` + baseConfig + `}`},
		{name: "mistral window longer than inputs", json: `{"model_type": "mistral", "sliding_window": 4096, ` + baseConfig + `}`, maxTokens: 256},
		{name: "swish", json: `{"model_type": "llama", "hidden_act": "swish", ` + baseConfig + `}`},
		{name: "llama ignores sliding_window", json: `{"model_type": "llama", "sliding_window": 8, ` + baseConfig + `}`, maxTokens: 256},

		{name: "gpt_oss", json: `{"model_type": "gpt_oss", "num_local_experts": 32, "num_experts_per_tok": 4, ` + baseConfig + `}`, wantErr: "unsupported"},
		{name: "gemma", json: `{"model_type": "gemma", ` + baseConfig + `}`, wantErr: "unsupported"},
		{name: "moe in a llama config", json: `{"model_type": "mistral", "num_local_experts": 8, "num_experts_per_tok": 2, ` + baseConfig + `}`, wantErr: "unsupported"},
		{name: "yarn", json: `{"model_type": "qwen3", "rope_scaling": {"rope_type": "yarn", "factor": 4,
			"original_max_position_embeddings": 32768}, ` + baseConfig + `}`, wantErr: "unsupported"},
		{name: "dynamic", json: `{"model_type": "llama", "rope_scaling": {"type": "dynamic", "factor": 2}, ` + baseConfig + `}`, wantErr: "unsupported"},
		{name: "partial rotary", json: `{"model_type": "llama", "partial_rotary_factor": 0.5, ` + baseConfig + `}`, wantErr: "unsupported"},
		{name: "mistral window shorter than inputs", json: `{"model_type": "mistral", "sliding_window": 128, ` + baseConfig + `}`, maxTokens: 256, wantErr: "unsupported"},
		{name: "window and unknown length", json: `{"model_type": "mistral", "sliding_window": 4096, ` + baseConfig + `}`, maxTokens: 0, wantErr: "unsupported"},
		{name: "qwen2 window in use", json: `{"model_type": "qwen2", "use_sliding_window": true, "sliding_window": 16,
			"max_window_layers": 1, ` + baseConfig + `}`, maxTokens: 256, wantErr: "unsupported"},
		{name: "layer_types", json: `{"model_type": "qwen3", "sliding_window": 64, "layer_types": ["full_attention", "sliding_attention", "full_attention"], ` +
			baseConfig + `}`, maxTokens: 256, wantErr: "unsupported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := hf.ParseConfig([]byte(tt.json))
			if err != nil {
				t.Fatalf("hf.ParseConfig: %v", err)
			}
			cfg, err := LLMConfig(c, tt.maxTokens)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.NumLayers != 3 || cfg.HiddenSize != 64 || cfg.NumKVHeads != 2 || cfg.VocabSize != 300 {
					t.Errorf("config %+v", cfg)
				}
				if cfg.AttentionBias != (c.ModelType == "qwen2") || cfg.QKNorm != (c.ModelType == "qwen3") || cfg.HiddenAct != "silu" {
					t.Errorf("%s: bias %v, qk norm %v, act %q", c.ModelType, cfg.AttentionBias, cfg.QKNorm, cfg.HiddenAct)
				}
				if (c.RopeScaling != nil) != (cfg.RopeScaling != nil) || cfg.RopeScaling != nil && cfg.RopeScaling.Factor != c.RopeScaling.Factor {
					t.Errorf("rope scaling %+v from %+v", cfg.RopeScaling, c.RopeScaling)
				}
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
	} {
		if got := IsOutOfMemory(tt.err); got != tt.want {
			t.Errorf("IsOutOfMemory(%v) = %v", tt.err, got)
		}
	}
}
