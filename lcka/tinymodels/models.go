package tinymodels

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/layersim/layersim/lcka/hf"
	"github.com/layersim/layersim/lcka/llm"
)

// Spec is the architecture of a tiny model.
type Spec struct {
	Name             string
	HiddenSize       int
	NumLayers        int
	NumHeads         int
	NumKVHeads       int
	IntermediateSize int
}

// specs are the built-in sizes.
var specs = []Spec{
	{Name: "tiny-a", HiddenSize: 128, NumLayers: 4, NumHeads: 4, NumKVHeads: 2, IntermediateSize: 384},
	{Name: "tiny-b", HiddenSize: 192, NumLayers: 6, NumHeads: 6, NumKVHeads: 3, IntermediateSize: 512},
}

// Sizes returns the names of the built-in sizes.
func Sizes() []string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return names
}

// Lookup returns the spec of a built-in size.
func Lookup(size string) (Spec, error) {
	for _, s := range specs {
		if s.Name == size {
			return s, nil
		}
	}
	return Spec{}, fmt.Errorf("tinymodels: unknown size %q (known: %v)", size, Sizes())
}

// Constants shared by all sizes.
const (
	rmsNormEps     = 1e-5
	ropeTheta      = 10000
	maxPositions   = 2048
	headDim        = 32
	embeddingScale = 1.0  // std of the embedding rows
	attnGain       = 1.0  // std of the attention output relative to the residual
	mlpGain        = 1.0  // std of the MLP output relative to the residual
	qkGain         = 2.0  // sharpens the attention: std of q and k coordinates
	normJitter     = 0.25 // RMSNorm weights are 1 + normJitter·N(0, 1)
)

// Config returns the llm configuration of a size with the tiny tokenizer.
func (s Spec) Config() (llm.Config, error) {
	v, err := vocabSize()
	if err != nil {
		return llm.Config{}, err
	}
	return llm.Config{
		VocabSize: v, HiddenSize: s.HiddenSize, IntermediateSize: s.IntermediateSize,
		NumLayers: s.NumLayers, NumHeads: s.NumHeads, NumKVHeads: s.NumKVHeads, HeadDim: headDim,
		RMSNormEps: rmsNormEps, RopeTheta: ropeTheta, HiddenAct: "silu",
	}, nil
}

// Weights returns the weights of size s for seed, by Hugging Face name, in
// the order of llm.WeightShapes. See the package documentation for the
// initialization.
func (s Spec) Weights(seed int64) ([]hf.TensorData, error) {
	cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	names, shapes := llm.WeightShapes(cfg)
	out := make([]hf.TensorData, len(names))
	for i, name := range names {
		shape := shapes[i]
		n := 1
		for _, d := range shape {
			n *= d
		}
		r := stream(seed, name)
		vals := make([]float32, n)
		var std, mean float64
		switch kind := weightKind(name); kind {
		case "norm":
			mean, std = 1, normJitter
		case "embed":
			std = embeddingScale
		case "q", "k":
			// q = RMSNorm(x)·Wᵀ has coordinates of variance σ²·hidden.
			std = qkGain / math.Sqrt(float64(shape[1]))
		case "v", "gate", "up":
			std = 1 / math.Sqrt(float64(shape[1]))
		case "o":
			std = attnGain / math.Sqrt(float64(shape[1]))
		case "down":
			// silu(g)·u has second moment about 0.35 for standard normal g and u.
			std = mlpGain / math.Sqrt(0.35*float64(shape[1]))
		default:
			return nil, fmt.Errorf("tinymodels: internal error: no initialization for %s", name)
		}
		for j := range vals {
			vals[j] = float32(mean + std*r.normal())
		}
		out[i] = hf.TensorData{Name: name, DType: hf.F32, Shape: slices.Clone(shape), Values: vals}
	}
	return out, nil
}

// weightKind classifies a parameter name of llm.WeightShapes.
func weightKind(name string) string {
	for _, k := range []struct{ suffix, kind string }{
		{"layernorm.weight", "norm"}, {"model.norm.weight", "norm"},
		{"embed_tokens.weight", "embed"},
		{"q_proj.weight", "q"}, {"k_proj.weight", "k"}, {"v_proj.weight", "v"}, {"o_proj.weight", "o"},
		{"gate_proj.weight", "gate"}, {"up_proj.weight", "up"}, {"down_proj.weight", "down"},
	} {
		if len(name) >= len(k.suffix) && name[len(name)-len(k.suffix):] == k.suffix {
			return k.kind
		}
	}
	return ""
}

// Generate writes the tiny model of the given size, made from seed, as a
// Hugging Face model folder: config.json, model.safetensors (float32, tied
// embeddings, so no lm_head.weight), tokenizer.json and
// tokenizer_config.json. The folder is created if needed; existing files of
// these names are replaced, each atomically. The same size and seed always
// give the same files.
func Generate(dir, size string, seed int64) error {
	spec, err := Lookup(size)
	if err != nil {
		return err
	}
	tok, err := tokenizerJSON()
	if err != nil {
		return err
	}
	cfg, err := spec.Config()
	if err != nil {
		return err
	}
	weights, err := spec.Weights(seed)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tinymodels: %w", err)
	}
	bos, eos := cfg.VocabSize-2, cfg.VocabSize-1
	config := map[string]any{
		"architectures":           []string{"LlamaForCausalLM"},
		"model_type":              "llama",
		"hidden_size":             cfg.HiddenSize,
		"intermediate_size":       cfg.IntermediateSize,
		"num_hidden_layers":       cfg.NumLayers,
		"num_attention_heads":     cfg.NumHeads,
		"num_key_value_heads":     cfg.NumKVHeads,
		"head_dim":                cfg.HeadDim,
		"vocab_size":              cfg.VocabSize,
		"max_position_embeddings": maxPositions,
		"hidden_act":              "silu",
		"rms_norm_eps":            rmsNormEps,
		"rope_theta":              float64(ropeTheta),
		"rope_scaling":            nil,
		"attention_bias":          false,
		"attention_dropout":       0.0,
		"mlp_bias":                false,
		"tie_word_embeddings":     true,
		"torch_dtype":             "float32",
		"bos_token_id":            bos,
		"eos_token_id":            eos,
		"layersim_tiny":           map[string]any{"size": size, "seed": seed},
	}
	tokConfig := map[string]any{
		"bos_token":        BOS,
		"eos_token":        EOS,
		"add_bos_token":    true,
		"model_max_length": maxPositions,
		"tokenizer_class":  "PreTrainedTokenizerFast",
	}
	meta := map[string]string{"format": "pt", "generator": "layersim tinymodels", "size": size, "seed": strconv.FormatInt(seed, 10)}
	if err := hf.WriteSafetensors(filepath.Join(dir, hf.SafetensorsFile), weights, meta); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    any
	}{{hf.ConfigFile, config}, {hf.TokenizerConfigFile, tokConfig}} {
		b, err := json.MarshalIndent(f.v, "", "  ")
		if err != nil {
			return fmt.Errorf("tinymodels: %w", err)
		}
		if err := hf.WriteFileAtomic(filepath.Join(dir, f.name), append(b, '\n')); err != nil {
			return err
		}
	}
	return hf.WriteFileAtomic(filepath.Join(dir, hf.TokenizerFile), tok)
}

// GenerateAll writes every built-in size under root, in root/<size>, and
// returns the folders.
func GenerateAll(root string, seed int64) ([]string, error) {
	var dirs []string
	var errs []error
	for _, size := range Sizes() {
		dir := filepath.Join(root, size)
		if err := Generate(dir, size, seed); err != nil {
			errs = append(errs, err)
			continue
		}
		dirs = append(dirs, dir)
	}
	return dirs, errors.Join(errs...)
}
