package hf_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/layersim/layersim/lcka/hf"
)

func ExampleWriteSafetensors() {
	dir, err := os.MkdirTemp("", "hf-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")
	err = hf.WriteSafetensors(path, []hf.TensorData{
		{Name: "embed.weight", DType: hf.BF16, Shape: []int{2, 2}, Values: []float32{1, 0.1, -2, 3.14159}},
		{Name: "norm.weight", DType: hf.F16, Shape: []int{2}, Values: []float32{1, 1e-5}},
	}, map[string]string{"format": "pt"})
	if err != nil {
		log.Fatal(err)
	}
	ck, err := hf.OpenCheckpoint(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer ck.Close()
	for _, name := range ck.Names() {
		t, _ := ck.Tensor(name)
		v, _ := t.Float32()
		fmt.Println(name, t.DType, t.Shape, v)
	}
	// Output:
	// embed.weight BF16 [2 2] [1 0.100097656 -2 3.140625]
	// norm.weight F16 [2] [1 1.001358e-05]
}

func ExampleParseConfig() {
	cfg, err := hf.ParseConfig([]byte(`{
		"model_type": "qwen3", "hidden_size": 1024, "intermediate_size": 3072,
		"num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8,
		"head_dim": 128, "vocab_size": 151936, "rms_norm_eps": 1e-6, "rope_theta": 1000000,
		"eos_token_id": 151645, "tie_word_embeddings": true}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.ModelType, cfg.NumHiddenLayers, cfg.HeadDim, cfg.NumAttentionHeads/cfg.NumKeyValueHeads, cfg.QKNorm, cfg.QKVBias, cfg.EOSTokenIDs)

	_, err = hf.ParseConfig([]byte(`{"model_type": "llama", "hidden_size": 4096, "intermediate_size": 1,
		"num_hidden_layers": 1, "num_attention_heads": 7, "vocab_size": 10}`))
	fmt.Println(err)
	// Output:
	// qwen3 28 128 2 true false [151645]
	// hf: invalid llama config.json: num_attention_heads (7) does not divide hidden_size (4096) and head_dim is not given
}
