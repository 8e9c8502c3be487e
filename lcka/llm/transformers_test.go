package llm

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
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
		Name             string               `json:"name"`
		ModelType        string               `json:"model_type"`
		Seed             uint64               `json:"seed"`
		Untied           bool                 `json:"untied"`
		Config           hfConfig             `json:"config"`
		InvFreq          string               `json:"inv_freq"`
		AttentionScaling *float64             `json:"attention_scaling"`
		GeneratorCheck   map[string][]float64 `json:"generator_check"`
		DequantChecks    map[string]struct {
			Shape  []int     `json:"shape"`
			SHA256 string    `json:"sha256"`
			First  []float64 `json:"first"`
		} `json:"dequant_checks"`
		Runs []struct {
			Name         string    `json:"name"`
			PositionIDs  [][]int32 `json:"position_ids"`
			HiddenStates []string  `json:"hidden_states"`
		} `json:"runs"`
	} `json:"models"`
	RopeChecks []struct {
		Name            string   `json:"name"`
		Config          hfConfig `json:"config"`
		InvFreq         string   `json:"inv_freq"`
		AttentionFactor float64  `json:"attention_factor"`
	} `json:"rope_checks"`
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
		BetaFast                      float64 `json:"beta_fast"`
		BetaSlow                      float64 `json:"beta_slow"`
		AttentionFactor               float64 `json:"attention_factor"`
		MScale                        float64 `json:"mscale"`
		MScaleAllDim                  float64 `json:"mscale_all_dim"`
		Truncate                      *bool   `json:"truncate"`
	} `json:"rope_scaling"`
	AttentionBias         bool     `json:"attention_bias"`
	MLPBias               bool     `json:"mlp_bias"`
	ModelType             string   `json:"model_type"`
	MaxPositionEmbeddings int      `json:"max_position_embeddings"`
	LayerTypes            []string `json:"layer_types"`
	SlidingWindow         int      `json:"sliding_window"`
	NumLocalExperts       int      `json:"num_local_experts"`
	NumExpertsPerTok      int      `json:"num_experts_per_tok"`
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
			HighFreqFactor: r.HighFreqFactor, OriginalMaxPositionEmbeddings: r.OriginalMaxPositionEmbeddings,
			BetaFast: r.BetaFast, BetaSlow: r.BetaSlow, AttentionFactor: r.AttentionFactor,
			MScale: r.MScale, MScaleAllDim: r.MScaleAllDim, Truncate: r.Truncate}
	}
	c.MaxPositionEmbeddings = h.MaxPositionEmbeddings
	switch h.ModelType {
	case "llama":
		c.AttentionBias, c.AttentionOutputBias, c.MLPBias = h.AttentionBias, h.AttentionBias, h.MLPBias
	case "qwen2":
		c.AttentionBias = true
	case "qwen3":
		c.AttentionBias, c.AttentionOutputBias, c.QKNorm = h.AttentionBias, h.AttentionBias, true
	case "mistral":
		// transformers 4.55 gives every Mistral layer the sliding window
		// when sliding_window is set.
		if h.SlidingWindow > 0 {
			c.LayerTypes = make([]string, h.NumHiddenLayers)
			for i := range c.LayerTypes {
				c.LayerTypes[i] = "sliding_attention"
			}
			c.SlidingWindow = h.SlidingWindow
		}
	case "gpt_oss":
		// GptOssConfig forces attention_bias; GptOssExperts (v4.55.4) fixes alpha
		// 1.702 and limit 7.0.
		c.AttentionBias, c.AttentionOutputBias, c.AttentionSinks = h.AttentionBias, h.AttentionBias, true
		c.LayerTypes, c.SlidingWindow = h.LayerTypes, h.SlidingWindow
		c.MoE = &MoE{NumExperts: h.NumLocalExperts, TopK: h.NumExpertsPerTok, SwiGLUAlpha: 1.702, SwiGLULimit: 7}
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
	for _, file := range []string{"testdata/transformers-4.47.1.json", "testdata/transformers-4.51.3.json",
		"testdata/transformers-4.55.4-gpt-oss.json"} {
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

				if a := fm.AttentionScaling; a != nil && math.Abs(attentionScaling(cfg)-*a) > 1e-15**a {
					t.Errorf("attention scaling %v, transformers %v", attentionScaling(cfg), *fm.AttentionScaling)
				}
				for name, want := range fm.DequantChecks {
					got := dequantizedExperts(t, w, name, want.Shape)
					if len(got) < len(want.First) {
						t.Fatalf("%s: %d values", name, len(got))
					}
					for i, v := range want.First {
						if math.Float64bits(float64(got[i])) != math.Float64bits(v) {
							t.Errorf("%s[%d] = %v, transformers %v", name, i, got[i], v)
						}
					}
					if sum := sha256Float32(got); sum != want.SHA256 {
						t.Errorf("%s: sha256 of the dequantized experts %s, transformers %s", name, sum, want.SHA256)
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

// TestTransformersYarn compares the yarn inverse frequencies and attention
// factor with those of transformers 4.55.4's _compute_yarn_parameters for
// several settings, gpt-oss-20b's among them: inv_freq to one float32 ulp
// (the power may round differently), the factor to 1e-15 relative.
func TestTransformersYarn(t *testing.T) {
	raw, err := os.ReadFile("testdata/transformers-4.55.4-gpt-oss.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx transformersFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.RopeChecks) == 0 {
		t.Fatal("no rope checks")
	}
	for _, rc := range fx.RopeChecks {
		cfg := rc.Config.toConfig()
		if cfg.RopeScaling == nil || cfg.RopeScaling.Type != "yarn" {
			t.Fatalf("%s: not a yarn config", rc.Name)
		}
		if a := attentionScaling(cfg); math.Abs(a-rc.AttentionFactor) > 1e-15*rc.AttentionFactor {
			t.Errorf("%s: attention factor %v, transformers %v", rc.Name, a, rc.AttentionFactor)
		}
		want := decodeFloat32s(t, rc.InvFreq)
		got, exact := invFreq32(cfg), invFreq64(cfg)
		if len(got) != len(want) {
			t.Fatalf("%s: %d frequencies, transformers %d", rc.Name, len(got), len(want))
		}
		exactBits := 0
		for i := range want {
			if got[i] == want[i] {
				exactBits++
			} else if math.Nextafter32(got[i], want[i]) != want[i] {
				t.Errorf("%s: inv_freq[%d] = %v, transformers %v", rc.Name, i, got[i], want[i])
			}
			if e := math.Abs(exact[i]-float64(want[i])) / float64(want[i]); e > 1e-6 {
				t.Errorf("%s: float64 inv_freq[%d] = %v, transformers %v (rel %.2g)", rc.Name, i, exact[i], want[i], e)
			}
		}
		t.Logf("%s: %d of %d float32 frequencies bit-identical, attention factor %.17g", rc.Name, exactBits, len(want), rc.AttentionFactor)
	}
}

// dequantizedExperts returns all experts of the MXFP4 matrix name
// ("model.layers.0.mlp.experts.gate_up_proj") of w, dequantized by the
// graph code (dequantizeMXFP4) and laid out as transformers holds them:
// [E, in, out], the transpose of the stored [E, out, in]. It also checks
// that the reference decoder gives the same values.
func dequantizedExperts(t *testing.T, w randomWeights, name string, shape []int) []float32 {
	t.Helper()
	blocks, bshape, err := w.Uint8(name + "_blocks")
	if err != nil {
		t.Fatal(err)
	}
	scales, sshape, err := w.Uint8(name + "_scales")
	if err != nil {
		t.Fatal(err)
	}
	experts, rows, cols := bshape[0], bshape[1], bshape[2]*32
	if !slices.Equal(shape, []int{experts, cols, rows}) {
		t.Fatalf("%s: transformers shape %v, blocks %v", name, shape, bshape)
	}
	exec, err := graph.NewExec(testBackend(), func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		var all []*graph.Node
		for e := range experts {
			all = append(all, graph.Transpose(dequantizeMXFP4(in[0], in[1], e, in[0]), 0, 1))
		}
		return []*graph.Node{graph.Stack(all, 0)}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	bt := tensors.FromShape(shapes.Make(dtypes.Uint8, bshape...))
	tensors.MutableFlatData(bt, func(f []uint8) { copy(f, blocks) })
	st := tensors.FromShape(shapes.Make(dtypes.Uint8, sshape...))
	tensors.MutableFlatData(st, func(f []uint8) { copy(f, scales) })
	outs, err := exec.Call(bt, st)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tensors.CopyFlatData[float32](outs[0])
	if err != nil {
		t.Fatal(err)
	}
	raw := map[string][]uint8{name + "_blocks": blocks, name + "_scales": scales}
	for e := range experts {
		ref := refMXFP4Matrix(raw, name, e, rows, cols)
		for r := range rows {
			for c := range cols {
				if v := got[(e*cols+c)*rows+r]; math.Float64bits(float64(v)) != math.Float64bits(ref[r*cols+c]) {
					t.Fatalf("%s expert %d [%d,%d]: graph %v, reference %v", name, e, r, c, v, ref[r*cols+c])
				}
			}
		}
	}
	if !strings.Contains(name, "experts.") {
		t.Fatalf("%s is not an expert matrix", name)
	}
	return got
}

func sha256Float32(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
