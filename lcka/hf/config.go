package hf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Config is the architecture description of a decoder-only model, read from
// its config.json. Fields of the supported families (llama, mistral, qwen2,
// qwen3) are checked by Validate; the raw JSON is kept for other families.
type Config struct {
	ModelType     string
	Architectures []string

	HiddenSize            int
	IntermediateSize      int
	NumHiddenLayers       int
	NumAttentionHeads     int
	NumKeyValueHeads      int // Defaults to NumAttentionHeads.
	HeadDim               int // Defaults to HiddenSize / NumAttentionHeads.
	VocabSize             int
	MaxPositionEmbeddings int
	HiddenAct             string // Defaults to "silu".

	RMSNormEps  float64
	RopeTheta   float64
	RopeScaling *RopeScaling // nil when absent or of type "default".

	TieWordEmbeddings bool
	DType             string // torch_dtype or dtype, e.g. "bfloat16".

	BOSTokenIDs []int
	EOSTokenIDs []int
	PadTokenIDs []int

	AttentionBias bool // attention_bias as written.
	QKVBias       bool // Bias on the q, k and v projections (attention_bias, or always for qwen2).
	OutputBias    bool // Bias on the attention output projection.
	MLPBias       bool
	QKNorm        bool // RMS norm of queries and keys per head (qwen3).

	// Sliding-window attention: the window (0 = none), whether it is used,
	// the qwen2 layer limit and per-layer attention kinds when given.
	SlidingWindow    int
	UseSlidingWindow bool
	MaxWindowLayers  int
	LayerTypes       []string

	// Mixture of experts (gpt_oss and others).
	NumLocalExperts  int
	NumExpertsPerTok int

	// Raw holds every field of config.json, for families and fields this
	// type does not name.
	Raw map[string]json.RawMessage

	headDimGiven bool
}

// RopeScaling describes a rotary-embedding scaling from rope_scaling (or
// the newer rope_parameters).
type RopeScaling struct {
	Type                          string // "llama3", "yarn", "linear", "dynamic", ...
	Factor                        float64
	LowFreqFactor                 float64 // llama3
	HighFreqFactor                float64 // llama3
	OriginalMaxPositionEmbeddings int     // llama3, yarn
	BetaFast                      float64 // yarn, default 32
	BetaSlow                      float64 // yarn, default 1
	AttentionFactor               float64 // yarn, 0 when absent
	MScale                        float64 // yarn, 0 when absent
	MScaleAllDim                  float64 // yarn, 0 when absent
	Truncate                      *bool   // yarn, nil when absent
}

// Families whose config.json is fully checked.
var supportedFamilies = map[string]bool{"llama": true, "mistral": true, "qwen2": true, "qwen3": true}

// Supported reports whether the model family is one this package checks fully.
func (c *Config) Supported() bool { return supportedFamilies[c.ModelType] }

// LoadConfig reads and validates dir/config.json.
func LoadConfig(dir string) (*Config, error) {
	path := filepath.Join(dir, ConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hf: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// rawConfig lists the fields read from config.json; pointers tell absent
// fields from zero values.
type rawConfig struct {
	ModelType             *string         `json:"model_type"`
	Architectures         []string        `json:"architectures"`
	HiddenSize            *int            `json:"hidden_size"`
	IntermediateSize      *int            `json:"intermediate_size"`
	NumHiddenLayers       *int            `json:"num_hidden_layers"`
	NumAttentionHeads     *int            `json:"num_attention_heads"`
	NumKeyValueHeads      *int            `json:"num_key_value_heads"`
	HeadDim               *int            `json:"head_dim"`
	VocabSize             *int            `json:"vocab_size"`
	MaxPositionEmbeddings *int            `json:"max_position_embeddings"`
	HiddenAct             *string         `json:"hidden_act"`
	RMSNormEps            *float64        `json:"rms_norm_eps"`
	RopeTheta             *float64        `json:"rope_theta"`
	RopeScaling           json.RawMessage `json:"rope_scaling"`
	RopeParameters        json.RawMessage `json:"rope_parameters"`
	TieWordEmbeddings     *bool           `json:"tie_word_embeddings"`
	TorchDType            *string         `json:"torch_dtype"`
	DType                 *string         `json:"dtype"`
	BOSTokenID            json.RawMessage `json:"bos_token_id"`
	EOSTokenID            json.RawMessage `json:"eos_token_id"`
	PadTokenID            json.RawMessage `json:"pad_token_id"`
	AttentionBias         *bool           `json:"attention_bias"`
	MLPBias               *bool           `json:"mlp_bias"`
	SlidingWindow         *int            `json:"sliding_window"`
	UseSlidingWindow      *bool           `json:"use_sliding_window"`
	MaxWindowLayers       *int            `json:"max_window_layers"`
	LayerTypes            []string        `json:"layer_types"`
	NumLocalExperts       *int            `json:"num_local_experts"`
	NumExpertsPerTok      *int            `json:"num_experts_per_tok"`
}

type rawRope struct {
	Type                          *string  `json:"type"`
	RopeType                      *string  `json:"rope_type"`
	RopeTheta                     *float64 `json:"rope_theta"`
	Factor                        *float64 `json:"factor"`
	LowFreqFactor                 *float64 `json:"low_freq_factor"`
	HighFreqFactor                *float64 `json:"high_freq_factor"`
	OriginalMaxPositionEmbeddings *int     `json:"original_max_position_embeddings"`
	BetaFast                      *float64 `json:"beta_fast"`
	BetaSlow                      *float64 `json:"beta_slow"`
	AttentionFactor               *float64 `json:"attention_factor"`
	MScale                        *float64 `json:"mscale"`
	MScaleAllDim                  *float64 `json:"mscale_all_dim"`
	Truncate                      *bool    `json:"truncate"`
}

// ParseConfig parses the bytes of a config.json and validates the result.
func ParseConfig(data []byte) (*Config, error) {
	var rawAll map[string]json.RawMessage
	if err := json.Unmarshal(data, &rawAll); err != nil {
		return nil, fmt.Errorf("hf: config.json is not a JSON object: %v", err)
	}
	if rawAll == nil {
		return nil, errors.New("hf: config.json is null")
	}
	var r rawConfig
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("hf: config.json: %v", describeJSONError(err))
	}
	if r.ModelType == nil || *r.ModelType == "" {
		return nil, errors.New("hf: config.json: missing model_type")
	}
	c := &Config{
		ModelType:     *r.ModelType,
		Architectures: r.Architectures,
		HiddenAct:     "silu",
		RMSNormEps:    1e-6,
		RopeTheta:     10000,
		LayerTypes:    r.LayerTypes,
		Raw:           rawAll,
	}
	setInt := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	setInt(&c.HiddenSize, r.HiddenSize)
	setInt(&c.IntermediateSize, r.IntermediateSize)
	setInt(&c.NumHiddenLayers, r.NumHiddenLayers)
	setInt(&c.NumAttentionHeads, r.NumAttentionHeads)
	setInt(&c.VocabSize, r.VocabSize)
	setInt(&c.MaxPositionEmbeddings, r.MaxPositionEmbeddings)
	setInt(&c.SlidingWindow, r.SlidingWindow)
	setInt(&c.MaxWindowLayers, r.MaxWindowLayers)
	setInt(&c.NumLocalExperts, r.NumLocalExperts)
	setInt(&c.NumExpertsPerTok, r.NumExpertsPerTok)
	c.NumKeyValueHeads = c.NumAttentionHeads
	setInt(&c.NumKeyValueHeads, r.NumKeyValueHeads)
	if r.HeadDim != nil {
		c.HeadDim, c.headDimGiven = *r.HeadDim, true
	} else if c.NumAttentionHeads > 0 {
		c.HeadDim = c.HiddenSize / c.NumAttentionHeads
	}
	if r.HiddenAct != nil {
		c.HiddenAct = *r.HiddenAct
	}
	if r.RMSNormEps != nil {
		c.RMSNormEps = *r.RMSNormEps
	}
	if r.RopeTheta != nil {
		c.RopeTheta = *r.RopeTheta
	}
	if r.TieWordEmbeddings != nil {
		c.TieWordEmbeddings = *r.TieWordEmbeddings
	}
	if r.DType != nil {
		c.DType = *r.DType
	} else if r.TorchDType != nil {
		c.DType = *r.TorchDType
	}
	if r.AttentionBias != nil {
		c.AttentionBias = *r.AttentionBias
	}
	if r.MLPBias != nil {
		c.MLPBias = *r.MLPBias
	}
	if r.UseSlidingWindow != nil {
		c.UseSlidingWindow = *r.UseSlidingWindow
	} else {
		c.UseSlidingWindow = c.SlidingWindow > 0 && c.ModelType != "qwen2" && c.ModelType != "qwen3"
	}
	c.QKVBias, c.OutputBias = c.AttentionBias, c.AttentionBias
	switch c.ModelType {
	case "qwen2":
		c.QKVBias, c.OutputBias = true, false
	case "qwen3":
		c.QKNorm = true
	}
	var err error
	for _, tok := range []struct {
		name string
		raw  json.RawMessage
		dst  *[]int
	}{{"bos_token_id", r.BOSTokenID, &c.BOSTokenIDs}, {"eos_token_id", r.EOSTokenID, &c.EOSTokenIDs}, {"pad_token_id", r.PadTokenID, &c.PadTokenIDs}} {
		if *tok.dst, err = parseTokenIDs(tok.raw); err != nil {
			return nil, fmt.Errorf("hf: config.json: %s: %v", tok.name, err)
		}
	}
	if err := c.parseRope(r); err != nil {
		return nil, fmt.Errorf("hf: config.json: %v", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// describeJSONError names the field of a type mismatch.
func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("field %s: got a JSON %s, want %s", te.Field, te.Value, te.Type)
	}
	return err.Error()
}

// parseTokenIDs accepts null, an integer or a list of integers.
func parseTokenIDs(raw json.RawMessage) ([]int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one int
	if err := json.Unmarshal(raw, &one); err == nil {
		if one < 0 {
			return nil, fmt.Errorf("negative token id %d", one)
		}
		return []int{one}, nil
	}
	var many []int
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("want an integer or a list of integers, got %.40s", raw)
	}
	for _, id := range many {
		if id < 0 {
			return nil, fmt.Errorf("negative token id %d", id)
		}
	}
	return many, nil
}

func (c *Config) parseRope(r rawConfig) error {
	// rope_parameters (newer files) holds rope_theta and the scaling.
	var p rawRope
	if raw := bytes.TrimSpace(r.RopeParameters); len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("rope_parameters: %v", describeJSONError(err))
		}
		if p.RopeTheta != nil {
			c.RopeTheta = *p.RopeTheta
		}
	}
	if raw := bytes.TrimSpace(r.RopeScaling); len(raw) > 0 && string(raw) != "null" {
		p = rawRope{}
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("rope_scaling: %v", describeJSONError(err))
		}
	}
	typ := ""
	if p.RopeType != nil {
		typ = *p.RopeType
	} else if p.Type != nil {
		typ = *p.Type
	}
	if typ == "" || typ == "default" {
		if p.Factor != nil {
			return errors.New("rope_scaling: factor given without type or rope_type")
		}
		return nil
	}
	s := &RopeScaling{Type: typ, BetaFast: 32, BetaSlow: 1}
	get := func(dst *float64, src *float64) {
		if src != nil {
			*dst = *src
		}
	}
	get(&s.Factor, p.Factor)
	get(&s.LowFreqFactor, p.LowFreqFactor)
	get(&s.HighFreqFactor, p.HighFreqFactor)
	get(&s.BetaFast, p.BetaFast)
	get(&s.BetaSlow, p.BetaSlow)
	get(&s.AttentionFactor, p.AttentionFactor)
	get(&s.MScale, p.MScale)
	get(&s.MScaleAllDim, p.MScaleAllDim)
	if p.OriginalMaxPositionEmbeddings != nil {
		s.OriginalMaxPositionEmbeddings = *p.OriginalMaxPositionEmbeddings
	}
	s.Truncate = p.Truncate
	need := func(name string, ok bool) error {
		if !ok {
			return fmt.Errorf("rope_scaling of type %q: missing or invalid %s", typ, name)
		}
		return nil
	}
	positive := func(v *float64) bool { return v != nil && *v > 0 && !math.IsInf(*v, 0) }
	switch typ {
	case "llama3":
		if err := errors.Join(
			need("factor (> 0)", positive(p.Factor)),
			need("low_freq_factor (> 0)", positive(p.LowFreqFactor)),
			need("high_freq_factor (> low_freq_factor)", positive(p.HighFreqFactor) && p.LowFreqFactor != nil && *p.HighFreqFactor > *p.LowFreqFactor),
			need("original_max_position_embeddings (> 0)", s.OriginalMaxPositionEmbeddings > 0),
		); err != nil {
			return err
		}
	case "yarn":
		if err := errors.Join(
			need("factor (> 0)", positive(p.Factor)),
			need("beta_fast and beta_slow (> 0)", s.BetaFast > 0 && s.BetaSlow > 0),
		); err != nil {
			return err
		}
	case "linear", "dynamic":
		if err := need("factor (> 0)", positive(p.Factor)); err != nil {
			return err
		}
	case "longrope":
		// Factor lists are kept in Raw.
	default:
		return fmt.Errorf("rope_scaling: unknown type %q", typ)
	}
	c.RopeScaling = s
	return nil
}

// Validate checks the sizes and constants of the configuration. Fields
// required by the supported families must be present and consistent; for
// other families only the fields present are checked.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	strict := c.Supported()
	for _, f := range []struct {
		name string
		v    int
	}{
		{"hidden_size", c.HiddenSize}, {"intermediate_size", c.IntermediateSize},
		{"num_hidden_layers", c.NumHiddenLayers}, {"num_attention_heads", c.NumAttentionHeads},
		{"vocab_size", c.VocabSize},
	} {
		switch {
		case f.v < 0:
			bad("%s is negative (%d)", f.name, f.v)
		case f.v == 0 && strict:
			bad("missing or zero %s", f.name)
		}
	}
	if c.NumAttentionHeads > 0 {
		if c.NumKeyValueHeads <= 0 {
			bad("num_key_value_heads must be positive, got %d", c.NumKeyValueHeads)
		} else if c.NumAttentionHeads%c.NumKeyValueHeads != 0 {
			bad("num_key_value_heads (%d) does not divide num_attention_heads (%d)", c.NumKeyValueHeads, c.NumAttentionHeads)
		}
		// A Config built in Go (no Raw) counts a set HeadDim as given.
		given := c.headDimGiven || (c.Raw == nil && c.HeadDim > 0)
		if c.HeadDim <= 0 && (given || c.HiddenSize > 0) {
			bad("head_dim must be positive, got %d", c.HeadDim)
		}
		if !given && c.HiddenSize%c.NumAttentionHeads != 0 {
			bad("num_attention_heads (%d) does not divide hidden_size (%d) and head_dim is not given", c.NumAttentionHeads, c.HiddenSize)
		}
		if (given || c.HiddenSize%c.NumAttentionHeads == 0) && c.HeadDim%2 != 0 {
			bad("head_dim (%d) must be even for rotary embeddings", c.HeadDim)
		}
	}
	if c.MaxPositionEmbeddings < 0 {
		bad("max_position_embeddings is negative (%d)", c.MaxPositionEmbeddings)
	}
	if !(c.RMSNormEps > 0) || math.IsInf(c.RMSNormEps, 0) {
		bad("rms_norm_eps must be positive, got %v", c.RMSNormEps)
	}
	if !(c.RopeTheta > 0) || math.IsInf(c.RopeTheta, 0) {
		bad("rope_theta must be positive, got %v", c.RopeTheta)
	}
	if c.SlidingWindow < 0 {
		bad("sliding_window is negative (%d)", c.SlidingWindow)
	}
	if c.LayerTypes != nil && len(c.LayerTypes) != c.NumHiddenLayers {
		bad("layer_types has %d entries for %d layers", len(c.LayerTypes), c.NumHiddenLayers)
	}
	if c.NumLocalExperts < 0 || c.NumExpertsPerTok < 0 || c.NumExpertsPerTok > c.NumLocalExperts && c.NumLocalExperts > 0 {
		bad("num_experts_per_tok (%d) must lie in [0, num_local_experts (%d)]", c.NumExpertsPerTok, c.NumLocalExperts)
	}
	for _, id := range append(append(append([]int(nil), c.BOSTokenIDs...), c.EOSTokenIDs...), c.PadTokenIDs...) {
		if strict && c.VocabSize > 0 && id >= c.VocabSize {
			bad("special token id %d is outside the vocabulary (%d)", id, c.VocabSize)
			break
		}
	}
	if strict && c.HiddenAct != "silu" && c.HiddenAct != "swish" {
		bad("hidden_act %q is not supported for %s (want silu)", c.HiddenAct, c.ModelType)
	}
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("hf: invalid %s config.json: %s", c.ModelType, strings.Join(msgs, "; "))
}
