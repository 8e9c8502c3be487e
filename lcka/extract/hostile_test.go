package extract

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestHostileConfig: config.json values that disagree with the checkpoint
// or are out of range, however large, fail Load with an error naming the
// field; values that size nothing (a huge max_position_embeddings) load.
// Either way Load costs little memory: the checkpoint's header is all that
// is read before the checks.
func TestHostileConfig(t *testing.T) {
	checkHostile(t, tinyModel(t), []hostileCase{
		{"num_hidden_layers", 1_000_000_000, "num_hidden_layers"},
		{"num_hidden_layers", 1000, "num_hidden_layers 1000"},
		{"num_hidden_layers", 2, "num_hidden_layers 2"},
		{"num_hidden_layers", -1, "num_hidden_layers"},
		{"hidden_size", 1_000_000_000, "hidden_size"},
		{"hidden_size", 64, "hidden_size"},
		{"intermediate_size", 1_000_000_000_000, "intermediate_size"},
		{"vocab_size", 1_000_000_000_000, "vocab_size"},
		{"vocab_size", 7, "vocab_size"},
		{"num_attention_heads", 1_000_000_000, "num_attention_heads"},
		{"num_key_value_heads", 1_000_000_000, "num_key_value_heads"},
		{"head_dim", 1_000_000_000, "head_dim"},
		{"model_type", "mistral", ""}, // loads: a Mistral config of these shapes is the same model
		{"model_type", "bert", "model_type"},
		{"attention_bias", true, "q_proj.bias"},
		{"mlp_bias", true, "gate_proj.bias"},
		{"hidden_act", "gelu", "hidden_act"},
		{"torch_dtype", "int8", "torch_dtype"},
		{"tie_word_embeddings", false, ""}, // loads: the output head is never read
		{"layer_types", []string{"sliding_attention", "full_attention"}, "layer_types"},
		{"rope_theta", -1.0, "rope_theta must be positive"},
		{"rope_theta", 0.0, "rope_theta must be positive"},
		{"rms_norm_eps", -1.0, "rms_norm_eps must be positive"},
		{"max_position_embeddings", 1_000_000_000_000, ""}, // loads: nothing is sized by it,
		{"max_position_embeddings", -5, "max_position_embeddings"},
		{"sliding_window", 1_000_000_000_000, ""}, // loads: a Llama has no window,
		{"rope_scaling", map[string]any{"rope_type": "llama3", "factor": -5.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}, "invalid factor"},
		{"rope_scaling", map[string]any{"rope_type": "yarn", "factor": 1e30}, ""}, // loads: only the frequencies change,
	})
	// GPT-OSS's expert fields, on a tiny GPT-OSS folder.
	gptoss := t.TempDir()
	writeTinyGPTOSS(t, gptoss)
	checkHostile(t, gptoss, []hostileCase{
		{"num_local_experts", 1_000_000_000, "num_local_experts 1000000000"},
		{"num_local_experts", 3, "num_local_experts 3"},
		{"num_local_experts", -1, "num_local_experts"},
		{"num_experts_per_tok", 1_000_000_000, "num_experts_per_tok"},
		{"num_experts_per_tok", 0, "num_experts_per_tok"},
		{"num_hidden_layers", 1_000_000_000, "num_hidden_layers"},
		{"swiglu_limit", "x", "swiglu_limit"},
	})
}

// hostileCase is one config.json field set to one value; want is a part of
// the error, or "" when the folder must load.
type hostileCase struct {
	field string
	value any
	want  string
}

// checkHostile loads copies of the model folder src with each case's value
// in its config.json.
func checkHostile(t *testing.T, src string, cases []hostileCase) {
	t.Helper()
	base, err := os.ReadFile(filepath.Join(src, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.field+"="+strings.ReplaceAll(jsonString(tc.value), `"`, ""), func(t *testing.T) {
			var cfg map[string]any
			if err := json.Unmarshal(base, &cfg); err != nil {
				t.Fatal(err)
			}
			cfg[tc.field] = tc.value
			dir := t.TempDir()
			entries, err := os.ReadDir(src)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Name() != "config.json" {
					if err := os.Symlink(filepath.Join(src, e.Name()), filepath.Join(dir, e.Name())); err != nil {
						t.Fatal(err)
					}
				}
			}
			b, _ := json.Marshal(cfg)
			if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			m, err := Load(context.Background(), dir, LoadOptions{Backend: testBackend(t)})
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("%s = %v: %d MB allocated", tc.field, tc.value, alloc>>20)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				m.Close()
				return
			}
			if err == nil {
				m.Close()
				t.Fatalf("%s = %v: no error", tc.field, tc.value)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s = %v: error %q does not name %q", tc.field, tc.value, err, tc.want)
			}
		})
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
