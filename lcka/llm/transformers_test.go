package llm

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"testing"
)

// transformersFixture is testdata/transformers-*.json: hidden states that
// Hugging Face transformers computed for small random models (see the note
// field and testdata/README.md for the provenance).
type transformersFixture struct {
	Note                string    `json:"note"`
	TransformersVersion string    `json:"transformers_version"`
	TransformersCommit  string    `json:"transformers_commit"`
	InputIDs            [][]int32 `json:"input_ids"`
	AttentionMask       [][]int32 `json:"attention_mask"`
	Models              []struct {
		Name           string               `json:"name"`
		ModelType      string               `json:"model_type"`
		Seed           uint64               `json:"seed"`
		Untied         bool                 `json:"untied"`
		Config         hfConfig             `json:"config"`
		InvFreq        string               `json:"inv_freq"`
		GeneratorCheck map[string][]float64 `json:"generator_check"`
		Runs           []struct {
			Name         string    `json:"name"`
			PositionIDs  [][]int32 `json:"position_ids"`
			HiddenStates []string  `json:"hidden_states"`
		} `json:"runs"`
	} `json:"models"`
}

// hfConfig holds the config.json keys the fixtures use.
type hfConfig struct {
	VocabSize         int     `json:"vocab_size"`
	HiddenSize        int     `json:"hidden_size"`
	IntermediateSize  int     `json:"intermediate_size"`
	NumHiddenLayers   int     `json:"num_hidden_layers"`
	NumAttentionHeads int     `json:"num_attention_heads"`
	NumKeyValueHeads  int     `json:"num_key_value_heads"`
	HeadDim           int     `json:"head_dim"`
	HiddenAct         string  `json:"hidden_act"`
	RMSNormEps        float64 `json:"rms_norm_eps"`
	RopeTheta         float64 `json:"rope_theta"`
	RopeScaling       *struct {
		RopeType                      string  `json:"rope_type"`
		Factor                        float64 `json:"factor"`
		LowFreqFactor                 float64 `json:"low_freq_factor"`
		HighFreqFactor                float64 `json:"high_freq_factor"`
		OriginalMaxPositionEmbeddings int     `json:"original_max_position_embeddings"`
	} `json:"rope_scaling"`
	AttentionBias bool   `json:"attention_bias"`
	MLPBias       bool   `json:"mlp_bias"`
	ModelType     string `json:"model_type"`
}

// toConfig maps the Hugging Face fields to Config as transformers' Llama,
// Qwen2 and Qwen3 modules use them.
func (h hfConfig) toConfig() Config {
	c := Config{
		VocabSize: h.VocabSize, HiddenSize: h.HiddenSize, IntermediateSize: h.IntermediateSize,
		NumLayers: h.NumHiddenLayers, NumHeads: h.NumAttentionHeads, NumKVHeads: h.NumKeyValueHeads,
		HeadDim: h.HeadDim, HiddenAct: h.HiddenAct, RMSNormEps: h.RMSNormEps, RopeTheta: h.RopeTheta,
	}
	if r := h.RopeScaling; r != nil {
		c.RopeScaling = &RopeScaling{Type: r.RopeType, Factor: r.Factor, LowFreqFactor: r.LowFreqFactor,
			HighFreqFactor: r.HighFreqFactor, OriginalMaxPositionEmbeddings: r.OriginalMaxPositionEmbeddings}
	}
	switch h.ModelType {
	case "llama":
		c.AttentionBias, c.AttentionOutputBias, c.MLPBias = h.AttentionBias, h.AttentionBias, h.MLPBias
	case "qwen2":
		c.AttentionBias = true
	case "qwen3":
		c.AttentionBias, c.AttentionOutputBias, c.QKNorm = h.AttentionBias, h.AttentionBias, true
	}
	return c
}

func decodeFloat32s(t *testing.T, s string) []float32 {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b)%4 != 0 {
		t.Fatalf("bad base64 float32 array: %v", err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// TestTransformersFixtures compares Model (and the float64 reference) with
// the hidden states of transformers 4.47.1 (Llama, Qwen2) and 4.51.3 (Qwen3)
// on padded batches, at every position (padding included), every layer,
// with default, mask-derived and offset position ids, to 1e-4 relative.
func TestTransformersFixtures(t *testing.T) {
	const tol = 1e-4
	for _, file := range []string{"testdata/transformers-4.47.1.json", "testdata/transformers-4.51.3.json"} {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var fx transformersFixture
		if err := json.Unmarshal(raw, &fx); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(fx.Models) == 0 || fx.TransformersCommit == "" {
			t.Fatalf("%s: no models or no provenance", file)
		}
		for _, fm := range fx.Models {
			t.Run(fx.TransformersVersion+"/"+fm.Name, func(t *testing.T) {
				cfg := fm.Config.toConfig()
				w := randomWeights{cfg: cfg, seed: fm.Seed, untied: fm.Untied}
				// The Python copy of the generator must give the same weights.
				embed, _, err := w.Tensor("model.embed_tokens.weight")
				if err != nil {
					t.Fatal(err)
				}
				for i, v := range fm.GeneratorCheck["embed_tokens[0:3]"] {
					if float64(embed[i]) != v {
						t.Fatalf("generator mismatch: embed[%d] = %v, Python gave %v", i, embed[i], v)
					}
				}
				// inv_freq: the float32 emulation of transformers' arithmetic is bit-exact here.
				wantInv := decodeFloat32s(t, fm.InvFreq)
				gotInv := invFreq32(cfg)
				if len(gotInv) != len(wantInv) {
					t.Fatalf("inv_freq: %d values, transformers has %d", len(gotInv), len(wantInv))
				}
				for i := range wantInv {
					if d := math.Abs(float64(gotInv[i] - wantInv[i])); d > 0 {
						t.Errorf("inv_freq[%d] = %v, transformers %v", i, gotInv[i], wantInv[i])
					}
				}

				m := newTestModel(t, cfg, w)
				var worstModel, worstRef float64
				for _, run := range fm.Runs {
					got, err := m.HiddenStates(fx.InputIDs, fx.AttentionMask, run.PositionIDs)
					if err != nil {
						t.Fatal(err)
					}
					ref, err := ReferenceHiddenStates(cfg, w, fx.InputIDs, fx.AttentionMask, run.PositionIDs)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != len(run.HiddenStates) {
						t.Fatalf("%s: %d states, transformers has %d", run.Name, len(got), len(run.HiddenStates))
					}
					for l, enc := range run.HiddenStates {
						hf := decodeFloat32s(t, enc)
						if len(hf) != len(got[l]) {
							t.Fatalf("%s layer %d: %d values, transformers has %d", run.Name, l, len(got[l]), len(hf))
						}
						want := make([]float64, len(hf))
						for i, v := range hf {
							want[i] = float64(v)
						}
						eModel := maxRelErr(got[l], want)
						refAs32 := make([]float32, len(ref[l]))
						for i, v := range ref[l] {
							refAs32[i] = float32(v)
						}
						eRef := maxRelErr(refAs32, want)
						if eModel > tol || eRef > tol {
							t.Errorf("%s layer %d: relative error vs transformers: model %.3g, reference %.3g (tol %g)",
								run.Name, l, eModel, eRef, tol)
						}
						worstModel, worstRef = max(worstModel, eModel), max(worstRef, eRef)
					}
				}
				t.Logf("max relative error vs transformers over all runs and layers: model %.2g, reference %.2g", worstModel, worstRef)
			})
		}
	}
}
