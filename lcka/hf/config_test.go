package hf

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func loadTestConfig(t *testing.T, name string) *Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "configs", name))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

func TestParseConfigFamilies(t *testing.T) {
	type want struct {
		typ                                  string
		hidden, inter, layers, heads, kv, hd int
		vocab                                int
		eps, theta                           float64
		tie                                  bool
		bos, eos, pad                        []int
		qkvBias, oBias, qkNorm               bool
		window                               int
		useWindow                            bool
		rope                                 *RopeScaling
	}
	f := false
	for _, tc := range []struct {
		file string
		want want
	}{
		{"llama-3.2-1b.json", want{"llama", 2048, 8192, 16, 32, 8, 64, 128256, 1e-5, 500000, true,
			[]int{128000}, []int{128001}, nil, false, false, false, 0, false,
			&RopeScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192, BetaFast: 32, BetaSlow: 1}}},
		{"llama-3.1-8b-instruct.json", want{"llama", 4096, 14336, 32, 32, 8, 128, 128256, 1e-5, 500000, false,
			[]int{128000}, []int{128001, 128008, 128009}, nil, false, false, false, 0, false,
			&RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192, BetaFast: 32, BetaSlow: 1}}},
		{"qwen2.5-0.5b.json", want{"qwen2", 896, 4864, 24, 14, 2, 64, 151936, 1e-6, 1e6, true,
			[]int{151643}, []int{151643}, nil, true, false, false, 32768, false, nil}},
		{"qwen3-0.6b.json", want{"qwen3", 1024, 3072, 28, 16, 8, 128, 151936, 1e-6, 1e6, true,
			[]int{151643}, []int{151645}, nil, false, false, true, 0, false, nil}},
		{"mistral-7b-v0.3.json", want{"mistral", 4096, 14336, 32, 32, 8, 128, 32768, 1e-5, 1e6, false,
			[]int{1}, []int{2}, nil, false, false, false, 0, false, nil}},
		{"gpt-oss-20b.json", want{"gpt_oss", 2880, 2880, 24, 64, 8, 64, 201088, 1e-5, 150000, false,
			nil, []int{200002}, []int{199999}, true, true, false, 128, true,
			&RopeScaling{Type: "yarn", Factor: 32, OriginalMaxPositionEmbeddings: 4096, BetaFast: 32, BetaSlow: 1, Truncate: &f}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c := loadTestConfig(t, tc.file)
			w := tc.want
			got := want{c.ModelType, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads,
				c.NumKeyValueHeads, c.HeadDim, c.VocabSize, c.RMSNormEps, c.RopeTheta, c.TieWordEmbeddings,
				c.BOSTokenIDs, c.EOSTokenIDs, c.PadTokenIDs, c.QKVBias, c.OutputBias, c.QKNorm,
				c.SlidingWindow, c.UseSlidingWindow, c.RopeScaling}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("got  %+v\nwant %+v", got, w)
			}
			if c.DType != "bfloat16" && c.ModelType != "gpt_oss" {
				t.Errorf("dtype = %q", c.DType)
			}
			if c.Supported() != (c.ModelType != "gpt_oss") {
				t.Errorf("Supported() = %v", c.Supported())
			}
		})
	}
	g := loadTestConfig(t, "gpt-oss-20b.json")
	if g.NumLocalExperts != 32 || g.NumExpertsPerTok != 4 || len(g.LayerTypes) != 24 || g.LayerTypes[0] != "sliding_attention" || g.LayerTypes[1] != "full_attention" {
		t.Errorf("gpt_oss fields: experts %d/%d layer types %v", g.NumLocalExperts, g.NumExpertsPerTok, g.LayerTypes)
	}
	if _, ok := g.Raw["swiglu_limit"]; !ok {
		t.Error("raw JSON lost swiglu_limit")
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := ParseConfig([]byte(`{"model_type":"llama","hidden_size":64,"intermediate_size":128,
		"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,"dtype":"float32",
		"rope_parameters":{"rope_theta":123.0,"rope_type":"default"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.NumKeyValueHeads != 4 || c.HeadDim != 16 || c.RMSNormEps != 1e-6 || c.RopeTheta != 123 ||
		c.HiddenAct != "silu" || c.DType != "float32" || c.RopeScaling != nil || c.TieWordEmbeddings {
		t.Errorf("defaults: %+v", c)
	}
}

func TestConfigErrors(t *testing.T) {
	base := `"hidden_size":4096,"intermediate_size":11008,"num_hidden_layers":32,"vocab_size":32000`
	for _, tc := range []struct {
		name, json, want string
	}{
		{"not object", `[1,2]`, "not a JSON object"},
		{"null", `null`, "null"},
		{"no type", `{` + base + `}`, "missing model_type"},
		{"heads divide", `{"model_type":"llama",` + base + `,"num_attention_heads":7}`, "num_attention_heads (7) does not divide hidden_size (4096)"},
		{"kv divide", `{"model_type":"llama",` + base + `,"num_attention_heads":32,"num_key_value_heads":5}`, "num_key_value_heads (5) does not divide num_attention_heads (32)"},
		{"no heads", `{"model_type":"mistral",` + base + `}`, "missing or zero num_attention_heads"},
		{"no layers", `{"model_type":"qwen2","hidden_size":64,"intermediate_size":1,"num_attention_heads":4,"vocab_size":10}`, "missing or zero num_hidden_layers"},
		{"wrong type", `{"model_type":"llama",` + base + `,"num_attention_heads":"32"}`, "field num_attention_heads"},
		{"eps", `{"model_type":"llama",` + base + `,"num_attention_heads":32,"rms_norm_eps":0}`, "rms_norm_eps must be positive"},
		{"theta", `{"model_type":"llama",` + base + `,"num_attention_heads":32,"rope_theta":-1}`, "rope_theta must be positive"},
		{"llama3 missing", `{"model_type":"llama",` + base + `,"num_attention_heads":32,"rope_scaling":{"rope_type":"llama3","factor":8}}`, "low_freq_factor"},
		{"llama3 order", `{"model_type":"llama",` + base + `,"num_attention_heads":32,"rope_scaling":{"type":"llama3","factor":8,"low_freq_factor":4,"high_freq_factor":1,"original_max_position_embeddings":8192}}`, "high_freq_factor (> low_freq_factor)"},
		{"rope type", `{"model_type":"llama",` + base + `,"num_attention_heads":32,"rope_scaling":{"rope_type":"weird","factor":2}}`, `unknown type "weird"`},
		{"rope untyped", `{"model_type":"llama",` + base + `,"num_attention_heads":32,"rope_scaling":{"factor":2}}`, "without type"},
		{"token id", `{"model_type":"llama",` + base + `,"num_attention_heads":32,"eos_token_id":"x"}`, "eos_token_id"},
		{"token range", `{"model_type":"llama",` + base + `,"num_attention_heads":32,"eos_token_id":[1,32000]}`, "outside the vocabulary"},
		{"negative", `{"model_type":"llama",` + base + `,"num_attention_heads":32,"max_position_embeddings":-3}`, "max_position_embeddings is negative"},
		{"head dim odd", `{"model_type":"qwen3",` + base + `,"num_attention_heads":32,"head_dim":63}`, "must be even"},
		{"act", `{"model_type":"llama",` + base + `,"num_attention_heads":32,"hidden_act":"gelu"}`, `hidden_act "gelu"`},
		{"layer types", `{"model_type":"gpt_oss",` + base + `,"num_attention_heads":32,"layer_types":["full_attention"]}`, "layer_types has 1 entries for 32 layers"},
		{"experts", `{"model_type":"gpt_oss",` + base + `,"num_attention_heads":32,"num_local_experts":4,"num_experts_per_tok":8}`, "num_experts_per_tok (8)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// An explicit head_dim (Qwen3, Mistral Nemo) need not equal hidden/heads.
func TestConfigExplicitHeadDim(t *testing.T) {
	c, err := ParseConfig([]byte(`{"model_type":"mistral","hidden_size":5120,"intermediate_size":14336,
		"num_hidden_layers":40,"num_attention_heads":32,"num_key_value_heads":8,"head_dim":128,"vocab_size":131072}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.HeadDim != 128 {
		t.Errorf("head_dim = %d", c.HeadDim)
	}
	// A Config built in Go validates too.
	g := &Config{ModelType: "llama", HiddenSize: 10, IntermediateSize: 4, NumHiddenLayers: 1, NumAttentionHeads: 4,
		NumKeyValueHeads: 4, VocabSize: 5, RMSNormEps: 1e-5, RopeTheta: 1e4, HiddenAct: "silu"}
	if err := g.Validate(); err == nil || !strings.Contains(err.Error(), "does not divide") {
		t.Errorf("Validate = %v", err)
	}
	g.HeadDim = 4
	if err := g.Validate(); err != nil {
		t.Errorf("Validate with head_dim: %v", err)
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadConfig(dir); err == nil {
		t.Error("missing config.json: want an error")
	}
	os.WriteFile(filepath.Join(dir, ConfigFile), []byte(`{"model_type":"llama"}`), 0o644)
	_, err := LoadConfig(dir)
	if err == nil || !strings.Contains(err.Error(), "config.json") || !strings.Contains(err.Error(), "hidden_size") {
		t.Errorf("err = %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/configs/*.json")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"model_type":"llama","rope_scaling":{"rope_type":"yarn","factor":1e309}}`))
	f.Add([]byte(`{"model_type":"qwen3","num_attention_heads":0,"head_dim":-4}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		if c.Supported() && (c.HiddenSize <= 0 || c.NumAttentionHeads <= 0 || c.NumKeyValueHeads <= 0 ||
			c.NumAttentionHeads%c.NumKeyValueHeads != 0 || c.HeadDim <= 0 || !(c.RMSNormEps > 0)) {
			t.Fatalf("accepted an inconsistent config: %+v", c)
		}
	})
}
