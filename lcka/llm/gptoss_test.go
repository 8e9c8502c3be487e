package llm

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestGptOSSFeaturesMatter checks that each GPT-OSS feature changes the
// states of the test model on the padded batch, so that the agreement with
// the reference and with transformers covers it: turning one off (window
// wider than the input, no sinks, no SwiGLU clamp, no yarn, top-1 routing)
// must move the last layer by more than 1% of its RMS somewhere.
func TestGptOSSFeaturesMatter(t *testing.T) {
	base := gptOSSConfig()
	w := randomWeights{cfg: base, seed: 1}
	tokens, mask := paddedBatch()
	pos := PositionsFromMask(mask)
	want, err := ReferenceHiddenStates(base, w, tokens, mask, pos)
	if err != nil {
		t.Fatal(err)
	}
	last := want[len(want)-1]
	variants := []struct {
		name   string
		modify func(*Config)
	}{
		{"window 100", func(c *Config) { c.SlidingWindow = 100 }},
		{"no sinks", func(c *Config) { c.AttentionSinks = false }},
		{"no clamp", func(c *Config) { c.MoE.SwiGLULimit = 1e9 }},
		{"no yarn", func(c *Config) { c.RopeScaling = nil }},
		{"top-1", func(c *Config) { c.MoE.TopK = 1 }},
	}
	for _, v := range variants {
		cfg := base
		moe := *base.MoE
		cfg.MoE = &moe
		v.modify(&cfg)
		// The weights stay those of the base model (the sinks are just not read).
		got, err := ReferenceHiddenStates(cfg, w, tokens, mask, pos)
		if err != nil {
			t.Fatal(err)
		}
		var ss, worst float64
		for _, x := range last {
			ss += x * x
		}
		rms := math.Sqrt(ss / float64(len(last)))
		for i, x := range got[len(got)-1] {
			worst = max(worst, math.Abs(x-last[i])/rms)
		}
		if worst < 0.01 {
			t.Errorf("%s: the last layer moved by at most %.3g of its RMS", v.name, worst)
		}
		t.Logf("%s: last layer moved by up to %.2g of its RMS", v.name, worst)
	}
}

// TestSinkTakesFullyMaskedQueries checks transformers' result for a query
// that sees no key (a left-padding position) in a model with sinks: all
// the softmax weight goes to the sink, the attention output is zero and the
// block adds only the o_proj bias (then the MLP).
func TestSinkTakesFullyMaskedQueries(t *testing.T) {
	cfg := gptOSSConfig()
	cfg.NumLayers = 1
	cfg.LayerTypes = cfg.LayerTypes[:1]
	w := materialize(randomWeights{cfg: cfg, seed: 8}, cfg)
	// Zero experts output: router and expert biases 0 and MXFP4 codes 0 make the MLP add exactly 0.
	for name, tensor := range w {
		if strings.Contains(name, "mlp.") {
			clear(tensor.data)
		}
	}
	bytes := zeroBytes{w}
	m := newTestModel(t, cfg, bytes)
	states, err := m.HiddenStates([][]int32{{4, 5, 6}}, [][]int32{{0, 1, 1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.HiddenSize
	embed, bias := w["model.embed_tokens.weight"].data, w["model.layers.0.self_attn.o_proj.bias"].data
	ref, err := ReferenceHiddenStates(cfg, bytes, [][]int32{{4, 5, 6}}, [][]int32{{0, 1, 1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// states[1] is the final RMSNorm of the block's output; at position 0 that
	// output must be embed + o_proj bias.
	x := make([]float64, h)
	for i := range h {
		x[i] = float64(embed[4*h+i]) + float64(bias[i])
	}
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	r := 1 / math.Sqrt(ss/float64(h)+cfg.RMSNormEps)
	norm := w["model.norm.weight"].data
	for i := range h {
		want := x[i] * r * float64(norm[i])
		if math.Abs(ref[1][i]-want) > 1e-12*(1+math.Abs(want)) {
			t.Fatalf("reference [0,%d] = %v, want embed + o_proj bias normalized = %v", i, ref[1][i], want)
		}
		if math.Abs(float64(states[1][i])-want) > 1e-5*(1+math.Abs(want)) {
			t.Fatalf("model [0,%d] = %v, want embed + o_proj bias normalized = %v", i, states[1][i], want)
		}
	}
}

// zeroBytes serves float tensors from a map and all-zero MXFP4 blocks with
// scale 127 (every expert weight 0).
type zeroBytes struct{ mapWeights }

func (z zeroBytes) Uint8(name string) ([]uint8, []int, error) {
	names, shapes := Uint8WeightShapes(gptOSSConfig())
	for i, n := range names {
		if n == name {
			data := make([]uint8, numElements(shapes[i]))
			if strings.HasSuffix(name, "_scales") {
				for j := range data {
					data[j] = 127
				}
			}
			return data, shapes[i], nil
		}
	}
	return nil, nil, fmt.Errorf("no uint8 tensor %q", name)
}

func TestE2M1Table(t *testing.T) {
	// OCP MX v1.0, FP4 E2M1: exponent bias 1, one mantissa bit, no
	// infinities or NaN; subnormals 0 and 0.5.
	for code := range 16 {
		sign, exp, man := code>>3, (code>>1)&3, code&1
		want := float64(man) / 2
		if exp > 0 {
			want = math.Ldexp(1+float64(man)/2, exp-1)
		}
		if sign == 1 {
			want = -want
		}
		got := e2m1Values[code]
		if float64(got) != want || math.Signbit(float64(got)) != (sign == 1) {
			t.Errorf("E2M1 code %04b = %v, want %v", code, got, want)
		}
	}
	table := mxfp4ByteTable()
	for _, b := range []int{0x00, 0x17, 0x71, 0xF8, 0xFF} {
		if table[2*b] != e2m1Values[b&15] || table[2*b+1] != e2m1Values[b>>4] {
			t.Errorf("byte %#02x decodes to (%v, %v)", b, table[2*b], table[2*b+1])
		}
	}
	scales := e8m0Table()
	for s, want := range map[int]float64{0: math.Ldexp(1, -127), 1: math.Ldexp(1, -126), 127: 1, 128: 2, 254: math.Ldexp(1, 127)} {
		if float64(scales[s]) != want {
			t.Errorf("E8M0 %d = %v, want %v", s, scales[s], want)
		}
	}
}

func TestCheckMXFP4(t *testing.T) {
	block := func(b uint8) []uint8 {
		out := make([]uint8, 16)
		out[3] = b
		return out
	}
	cases := []struct {
		name   string
		blocks []uint8
		scale  uint8
		want   string
	}{
		{"ordinary", block(0x77), 127, ""},
		{"largest scale without overflow", block(0x77), 252, ""},             // 6·2^125
		{"small codes at 254", block(0x33), 254, ""},                         // 1.5·2^127 < MaxFloat32
		{"3 at 254 overflows", block(0x05), 254, "overflows"},                // 3·2^127
		{"zeros at 254", block(0x00), 254, ""},                               // 0
		{"6 at 253 overflows", block(0x70), 253, "overflows"},                // 6·2^126
		{"-4 at 254 overflows", block(0xE0), 254, "overflows"},               // −4·2^127
		{"scale 255 is NaN", block(0x00), 255, "255"},                        //
		{"smallest scale", block(0x11), 0, ""},                               // 0.5·2^−127 (subnormal, exact)
		{"short blocks", make([]uint8, 15), 127, "block bytes for 1 scales"}, //
	}
	for _, c := range cases {
		err := checkMXFP4("x", c.blocks, []uint8{c.scale})
		if (err == nil) != (c.want == "") || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestGptOSSErrors(t *testing.T) {
	cfg := gptOSSConfig()
	w := randomWeights{cfg: cfg, seed: 1}
	// Weights without Uint8.
	if _, err := New(testBackend(), cfg, materialize(w, cfg)); err == nil || !strings.Contains(err.Error(), "Uint8Weights") {
		t.Errorf("weights without Uint8: error %v", err)
	}
	// A NaN scale.
	bad := badScale{w}
	if _, err := New(testBackend(), cfg, bad); err == nil || !strings.Contains(err.Error(), "scale 255") {
		t.Errorf("scale 255: error %v", err)
	}
	if _, err := ReferenceHiddenStates(cfg, materialize(w, cfg), [][]int32{{1}}, nil, nil); err == nil {
		t.Error("reference without Uint8: no error")
	}
}

// badScale sets one E8M0 scale of layer 1's down_proj to 255.
type badScale struct{ randomWeights }

func (b badScale) Uint8(name string) ([]uint8, []int, error) {
	data, shape, err := b.randomWeights.Uint8(name)
	if err == nil && name == "model.layers.1.mlp.experts.down_proj_scales" {
		data[17] = 255
	}
	return data, shape, err
}

func TestGptOSSConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"ok", func(*Config) {}, ""},
		{"layer types length", func(c *Config) { c.LayerTypes = c.LayerTypes[:2] }, "layer_types has 2"},
		{"layer type", func(c *Config) { c.LayerTypes = []string{"full_attention", "chunked_attention", "full_attention"} }, "chunked"},
		{"window", func(c *Config) { c.SlidingWindow = 0 }, "sliding_window"},
		{"window unused", func(c *Config) { c.SlidingWindow = 0; c.LayerTypes = nil }, ""},
		{"top-k", func(c *Config) { c.MoE.TopK = 5 }, "num_experts_per_tok"},
		{"experts", func(c *Config) { c.MoE.NumExperts = 0 }, "num_experts_per_tok"},
		{"mxfp4 groups", func(c *Config) { c.IntermediateSize = 80 }, "divisible by 32"},
		{"limit", func(c *Config) { c.MoE.SwiGLULimit = 0 }, "swiglu"},
		{"alpha", func(c *Config) { c.MoE.SwiGLUAlpha = math.Inf(1) }, "swiglu"},
		{"yarn max positions", func(c *Config) { c.MaxPositionEmbeddings = 0 }, "max_position_embeddings"},
		{"yarn factor", func(c *Config) { c.RopeScaling.Factor = 0 }, "factor"},
		{"yarn beta", func(c *Config) { c.RopeScaling.BetaFast = -1 }, "beta_fast"},
		{"yarn attention factor", func(c *Config) { c.RopeScaling.AttentionFactor = math.NaN() }, "attention_factor"},
		{"yarn negative mscale ratio", func(c *Config) { c.RopeScaling.MScale, c.RopeScaling.MScaleAllDim = -100, 1 }, "attention factor"},
	}
	for _, c := range cases {
		cfg := gptOSSConfig()
		moe, rope := *cfg.MoE, *cfg.RopeScaling
		cfg.MoE, cfg.RopeScaling = &moe, &rope
		c.modify(&cfg)
		err := cfg.Validate()
		if (err == nil) != (c.want == "") || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate() = %v, want error containing %q", c.name, err, c.want)
		}
	}
}

// TestYarnByHand checks yarnOf on gpt-oss-20b's rope_scaling against values
// worked out from the formulas: d = 64, base 150000, L = 4096, factor 32,
// beta_fast 32, beta_slow 1, truncate false.
func TestYarnByHand(t *testing.T) {
	cfg := Config{HiddenSize: 2880, NumHeads: 64, HeadDim: 64, RopeTheta: 150000, MaxPositionEmbeddings: 131072,
		RopeScaling: &RopeScaling{Type: "yarn", Factor: 32, OriginalMaxPositionEmbeddings: 4096, BetaFast: 32, BetaSlow: 1, Truncate: new(false)}}
	y := yarnOf(cfg)
	dim := func(r float64) float64 { return 64 * math.Log(4096/(r*2*math.Pi)) / (2 * math.Log(150000)) }
	checks := []struct {
		name      string
		got, want float64
	}{
		{"factor", y.factor, 32},
		{"attention", y.attention, 0.1*math.Log(32) + 1}, // 1.3466
		{"low", y.low, dim(32)},                          // ≈ 8.09
		{"high", y.high, dim(1)},                         // ≈ 17.40
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > 1e-14*math.Abs(c.want) {
			t.Errorf("%s = %.17g, want %.17g", c.name, c.got, c.want)
		}
	}
	inv := invFreq64(cfg)
	for i, f := range inv {
		theta := math.Pow(150000, -float64(2*i)/64)
		switch {
		case float64(i) <= y.low && f != theta:
			t.Errorf("inv_freq[%d] = %v, want the unscaled %v", i, f, theta)
		case float64(i) >= y.high && math.Abs(f-theta/32) > 1e-15*theta:
			t.Errorf("inv_freq[%d] = %v, want θ/32 = %v", i, f, theta/32)
		case float64(i) > y.low && float64(i) < y.high && !(f < theta && f > theta/32):
			t.Errorf("inv_freq[%d] = %v not between θ/32 and θ", i, f)
		}
	}
	// Truncation (the default) rounds the bounds outwards.
	cfg.RopeScaling.Truncate = nil
	if y := yarnOf(cfg); y.low != 8 || y.high != 18 {
		t.Errorf("truncated bounds %v, %v; want 8, 18", y.low, y.high)
	}
}

// TestGptOSS20BSize counts gpt-oss-20b's weights from WeightShapes and
// Uint8WeightShapes: the MXFP4 bytes against the formula
// 24·32·(2·2880 + 2880) rows · 90 groups · (16 + 1) bytes, the parameters
// against OpenAI's gpt-oss model card (20.9B in total, 3.6B active per
// token), and the memory a Model holds against the 24 GB budget for CPU runs.
func TestGptOSS20BSize(t *testing.T) {
	cfg := gptOSS20BConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	names, shapes := WeightShapes(cfg)
	byteNames, byteShapes := Uint8WeightShapes(cfg)
	var floats, mxfp4, expertValues, embedding int64
	for i, s := range shapes {
		floats += int64(numElements(s))
		if names[i] == "model.embed_tokens.weight" {
			embedding = int64(numElements(s))
		}
	}
	for i, s := range byteShapes {
		mxfp4 += int64(numElements(s))
		if strings.HasSuffix(byteNames[i], "_blocks") {
			expertValues += 2 * int64(numElements(s))
		}
	}
	if want := int64(24 * 32 * (2*2880 + 2880) * 90 * 17); mxfp4 != want {
		t.Errorf("MXFP4 bytes %d, want %d", mxfp4, want)
	}
	lmHead := int64(201088 * 2880) // untied, never read
	total := floats + expertValues + lmHead
	active := floats - embedding + expertValues*4/32 + lmHead
	if math.Abs(float64(total)/20.9e9-1) > 0.005 || math.Abs(float64(active)/3.6e9-1) > 0.01 {
		t.Errorf("%d parameters (%d active), want about 20.9e9 (3.6e9)", total, active)
	}
	resident := 4*floats + mxfp4
	if resident > 16e9 {
		t.Errorf("weights take %.2f GB in a Model", float64(resident)/1e9)
	}
	t.Logf("parameters %.4g (active %.3g); Model weights %.2f GB = %.2f GB MXFP4 + %.2f GB float32",
		float64(total), float64(active), float64(resident)/1e9, float64(mxfp4)/1e9, 4*float64(floats)/1e9)
}
