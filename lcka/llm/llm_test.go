package llm

import (
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
)

// testBackend is the Go backend configured as package extract runs it: ops
// one after the other, in the order the graph built them.
var testBackend = sync.OnceValue(func() compute.Backend {
	b, err := gobackend.New("ops_sequential,creation_order")
	if err != nil {
		panic(err)
	}
	return b
})

// smallConfigs are the architectures under test, all with hidden 64,
// 4 heads, 2 key/value heads, 3 layers and a 300-token vocabulary.
func smallConfigs() map[string]Config {
	base := Config{
		VocabSize: 300, HiddenSize: 64, IntermediateSize: 96, NumLayers: 3,
		NumHeads: 4, NumKVHeads: 2, RMSNormEps: 1e-5, RopeTheta: 10000, HiddenAct: "silu",
	}
	llama3 := base
	llama3.RopeTheta = 500000
	llama3.RopeScaling = &RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 64}
	llamaBias := base
	llamaBias.HeadDim = 24
	llamaBias.AttentionBias, llamaBias.AttentionOutputBias, llamaBias.MLPBias = true, true, true
	llamaBias.RopeScaling = &RopeScaling{Type: "linear", Factor: 2}
	qwen2 := base
	qwen2.RMSNormEps, qwen2.RopeTheta, qwen2.AttentionBias = 1e-6, 1e6, true
	qwen3 := base
	qwen3.HeadDim, qwen3.RMSNormEps, qwen3.RopeTheta, qwen3.QKNorm = 32, 1e-6, 1e6, true
	mha := base
	mha.NumKVHeads = 0 // multi-head attention: as many key/value heads as heads
	// A sliding window on a dense model (Mistral; Qwen2 with use_sliding_window).
	window := base
	window.LayerTypes = []string{"sliding_attention", "full_attention", "sliding_attention"}
	window.SlidingWindow = 3
	return map[string]Config{"llama3": llama3, "llama-bias": llamaBias, "qwen2": qwen2, "qwen3": qwen3, "mha": mha,
		"window": window, "gpt-oss": gptOSSConfig()}
}

// gptOSSConfig is a small GPT-OSS: 3 layers (sliding, full, sliding) with
// a window of 3 tokens, attention sinks, q/k/v/o biases, head_dim 24,
// yarn RoPE scaling as gpt-oss-20b's (factor 8 here) and 4 MXFP4 experts of
// which 2 are used per token.
func gptOSSConfig() Config {
	return Config{
		VocabSize: 300, HiddenSize: 64, IntermediateSize: 96, NumLayers: 3,
		NumHeads: 4, NumKVHeads: 2, HeadDim: 24, RMSNormEps: 1e-5, RopeTheta: 150000, HiddenAct: "silu",
		MaxPositionEmbeddings: 32768,
		RopeScaling:           &RopeScaling{Type: "yarn", Factor: 8, OriginalMaxPositionEmbeddings: 4096, BetaFast: 32, BetaSlow: 1, Truncate: new(false)},
		AttentionBias:         true, AttentionOutputBias: true,
		LayerTypes:     []string{"sliding_attention", "full_attention", "sliding_attention"},
		SlidingWindow:  3,
		AttentionSinks: true,
		MoE:            &MoE{NumExperts: 4, TopK: 2, SwiGLUAlpha: 1.702, SwiGLULimit: 7},
	}
}

// paddedBatch has a full row, a right-padded row and a left-padded row.
func paddedBatch() (tokens, mask [][]int32) {
	tokens = [][]int32{
		{17, 250, 3, 99, 42, 7, 128},
		{5, 6, 299, 0, 0, 0, 0},
		{0, 0, 11, 12, 13, 14, 200},
	}
	mask = [][]int32{
		{1, 1, 1, 1, 1, 1, 1},
		{1, 1, 1, 0, 0, 0, 0},
		{0, 0, 1, 1, 1, 1, 1},
	}
	return tokens, mask
}

func newTestModel(t testing.TB, cfg Config, w Weights) *Model {
	t.Helper()
	m, err := New(testBackend(), cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// maxRelErr returns max |got−want| / (|want| + rms(want)) over one layer: a
// relative error with the layer's RMS as the floor for elements near zero.
func maxRelErr(got []float32, want []float64) float64 {
	var ss float64
	for _, w := range want {
		ss += w * w
	}
	rms := math.Sqrt(ss / float64(len(want)))
	var worst float64
	for i, w := range want {
		e := math.Abs(float64(got[i])-w) / (math.Abs(w) + rms)
		if math.IsNaN(e) {
			return math.Inf(1)
		}
		worst = max(worst, e)
	}
	return worst
}

func TestHiddenStatesMatchReference(t *testing.T) {
	const tol = 1e-4
	tokens, mask := paddedBatch()
	for name, cfg := range smallConfigs() {
		t.Run(name, func(t *testing.T) {
			w := randomWeights{cfg: cfg, seed: 1, untied: name == "qwen3"}
			m := newTestModel(t, cfg, w)
			for _, pos := range []struct {
				name      string
				positions [][]int32
			}{
				{"fromMask", PositionsFromMask(mask)},
				{"default", nil},
				{"offset", [][]int32{{100, 101, 102, 103, 104, 105, 106}, {7, 8, 9, 10, 11, 12, 13}, {-1, -1, 40, 41, 42, 43, 44}}},
			} {
				got, err := m.HiddenStates(tokens, mask, pos.positions)
				if err != nil {
					t.Fatal(err)
				}
				want, err := ReferenceHiddenStates(cfg, w, tokens, mask, pos.positions)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != cfg.NumLayers+1 || len(want) != cfg.NumLayers+1 {
					t.Fatalf("%s: got %d and %d states, want %d", pos.name, len(got), len(want), cfg.NumLayers+1)
				}
				var worst float64
				for l := range got {
					if len(got[l]) != 3*7*cfg.HiddenSize {
						t.Fatalf("%s: layer %d has %d values", pos.name, l, len(got[l]))
					}
					e := maxRelErr(got[l], want[l])
					if e > tol {
						t.Errorf("%s: layer %d: max relative error %.3g > %g", pos.name, l, e, tol)
					}
					worst = max(worst, e)
				}
				t.Logf("%s: max relative error over all layers %.2g", pos.name, worst)
			}
		})
	}
}

// TestPaddingInvariance checks that with PositionsFromMask each real token
// of a padded batch has the states it has when its prompt runs alone.
func TestPaddingInvariance(t *testing.T) {
	const tol = 1e-5
	tokens, mask := paddedBatch()
	for name, cfg := range smallConfigs() {
		t.Run(name, func(t *testing.T) {
			m := newTestModel(t, cfg, randomWeights{cfg: cfg, seed: 2})
			batched, err := m.HiddenStates(tokens, mask, PositionsFromMask(mask))
			if err != nil {
				t.Fatal(err)
			}
			seq, hid := len(tokens[0]), cfg.HiddenSize
			for b := range tokens {
				var alone []int32
				var cols []int
				for s, v := range mask[b] {
					if v == 1 {
						alone = append(alone, tokens[b][s])
						cols = append(cols, s)
					}
				}
				single, err := m.HiddenStates([][]int32{alone}, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				for l := range single {
					for i, s := range cols {
						got := batched[l][(b*seq+s)*hid : (b*seq+s+1)*hid]
						want := single[l][i*hid : (i+1)*hid]
						w64 := make([]float64, hid)
						for j, v := range want {
							w64[j] = float64(v)
						}
						if e := maxRelErr(got, w64); e > tol {
							t.Errorf("row %d token %d layer %d: padded vs alone relative error %.3g > %g", b, i, l, e, tol)
						}
					}
				}
			}
		})
	}
}

func TestPooledHiddenStates(t *testing.T) {
	const tol = 1e-6
	cfg := smallConfigs()["llama3"]
	m := newTestModel(t, cfg, randomWeights{cfg: cfg, seed: 3})
	tokens, mask := paddedBatch()
	pos := PositionsFromMask(mask)
	states, err := m.HiddenStates(tokens, mask, pos)
	if err != nil {
		t.Fatal(err)
	}
	pooled, err := m.PooledHiddenStates(tokens, mask, pos)
	if err != nil {
		t.Fatal(err)
	}
	seq, hid := len(tokens[0]), cfg.HiddenSize
	lastCol := []int{6, 2, 6}
	for l := range states {
		for b := range tokens {
			for j := range hid {
				var sum float64
				var n int
				mx := math.Inf(-1)
				for s := range seq {
					if mask[b][s] == 1 {
						v := float64(states[l][(b*seq+s)*hid+j])
						sum += v
						mx = max(mx, v)
						n++
					}
				}
				last := states[l][(b*seq+lastCol[b])*hid+j]
				checks := []struct {
					what      string
					got, want float64
				}{
					{"last", float64(pooled.Last[l][b][j]), float64(last)},
					{"mean", float64(pooled.Mean[l][b][j]), sum / float64(n)},
					{"max", float64(pooled.Max[l][b][j]), mx},
				}
				for _, c := range checks {
					if math.Abs(c.got-c.want) > tol*(1+math.Abs(c.want)) {
						t.Fatalf("layer %d row %d dim %d: %s pooled %v, want %v", l, b, j, c.what, c.got, c.want)
					}
				}
			}
		}
	}
	if len(pooled.Last) != cfg.NumLayers+1 || len(pooled.Mean[0]) != 3 || len(pooled.Max[0][0]) != hid {
		t.Fatalf("pooled shapes: %d layers, %d rows, %d dims", len(pooled.Last), len(pooled.Mean[0]), len(pooled.Max[0][0]))
	}
}

func TestInvFreq(t *testing.T) {
	for name, cfg := range smallConfigs() {
		f32, f64 := invFreq32(cfg), invFreq64(cfg)
		if len(f32) != cfg.headDim()/2 || len(f64) != len(f32) {
			t.Fatalf("%s: %d and %d frequencies, want %d", name, len(f32), len(f64), cfg.headDim()/2)
		}
		for i := range f32 {
			if e := math.Abs(float64(f32[i])-f64[i]) / f64[i]; e > 1e-6 {
				t.Errorf("%s: inv_freq[%d] float32 %v vs float64 %v (rel %.2g)", name, i, f32[i], f64[i], e)
			}
		}
	}
	// llama3 scaling, checked by hand for theta 500000, head_dim 64, factor 8,
	// low 1, high 4, original context 8192 (Llama-3.2's values): the first
	// frequency (wavelength 2π < 2048) is unchanged, the last (wavelength
	// 2π·500000^(62/64) > 8192) is divided by 8.
	cfg := Config{HiddenSize: 64, NumHeads: 1, RopeTheta: 500000,
		RopeScaling: &RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192}}
	f := invFreq64(cfg)
	if f[0] != 1 {
		t.Errorf("llama3 inv_freq[0] = %v, want 1", f[0])
	}
	if want := math.Pow(500000, -62.0/64) / 8; math.Abs(f[31]-want) > 1e-15*want {
		t.Errorf("llama3 inv_freq[31] = %v, want %v", f[31], want)
	}
	// A medium frequency interpolates: for i = 13 the wavelength 2π·500000^(26/64) ≈ 1305...
	// lies below 2048, so pick the one that lies between 2048 and 8192.
	for i := range f {
		base := math.Pow(500000, -float64(2*i)/64)
		wl := 2 * math.Pi / base
		if wl > 2048 && wl < 8192 {
			s := (8192/wl - 1) / 3
			if want := (1-s)*base/8 + s*base; math.Abs(f[i]-want) > 1e-15*want {
				t.Errorf("llama3 medium inv_freq[%d] = %v, want %v", i, f[i], want)
			}
			if !(f[i] < base && f[i] > base/8) {
				t.Errorf("llama3 medium inv_freq[%d] = %v not between %v and %v", i, f[i], base/8, base)
			}
		}
	}
}

func TestPositionsFromMask(t *testing.T) {
	_, mask := paddedBatch()
	got := PositionsFromMask(mask)
	want := [][]int32{{0, 1, 2, 3, 4, 5, 6}, {0, 1, 2, 1, 1, 1, 1}, {1, 1, 0, 1, 2, 3, 4}}
	for b := range want {
		for s := range want[b] {
			if got[b][s] != want[b][s] {
				t.Fatalf("PositionsFromMask = %v, want %v", got, want)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	cfg := smallConfigs()["qwen2"]
	w := materialize(randomWeights{cfg: cfg, seed: 4}, cfg)
	m := newTestModel(t, cfg, w)
	tokens, mask := paddedBatch()
	callCases := []struct {
		name              string
		tokens, mask, pos [][]int32
		pooled            bool
		want              string
	}{
		{"empty batch", nil, nil, nil, false, "empty batch"},
		{"empty rows", [][]int32{{}}, nil, nil, false, "empty sequences"},
		{"ragged", [][]int32{{1, 2}, {3}}, nil, nil, false, "row 1 has length"},
		{"token too large", [][]int32{{1, 300}}, nil, nil, false, "outside the vocabulary"},
		{"negative token", [][]int32{{-1, 2}}, nil, nil, false, "outside the vocabulary"},
		{"mask rows", tokens, mask[:2], nil, false, "mask has 2 rows"},
		{"mask value", [][]int32{{1, 2}}, [][]int32{{1, 2}}, nil, false, "not 0 or 1"},
		{"positions length", [][]int32{{1, 2}}, nil, [][]int32{{0}}, false, "positions row 0"},
		{"position range", [][]int32{{1, 2}}, nil, [][]int32{{0, 1 << 25}}, false, "out of range"},
		{"nothing to pool", [][]int32{{1, 2}}, [][]int32{{0, 0}}, nil, true, "no real token"},
	}
	for _, c := range callCases {
		var err error
		if c.pooled {
			_, err = m.PooledHiddenStates(c.tokens, c.mask, c.pos)
		} else {
			_, err = m.HiddenStates(c.tokens, c.mask, c.pos)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	// A fully padded row is allowed without pooling and gives finite states.
	states, err := m.HiddenStates([][]int32{{1, 2}}, [][]int32{{0, 0}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range states[len(states)-1] {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("non-finite state %v for a fully padded row", v)
		}
	}

	withTensor := func(name string, data []float32, shape []int) mapWeights {
		c := mapWeights{}
		for k, v := range w {
			c[k] = v
		}
		if data == nil && shape == nil {
			delete(c, name)
		} else {
			c[name] = struct {
				data  []float32
				shape []int
			}{data, shape}
		}
		return c
	}
	nan := append([]float32(nil), w["model.norm.weight"].data...)
	nan[5] = float32(math.NaN())
	badCfg := cfg
	badCfg.RopeScaling = &RopeScaling{Type: "longrope", Factor: 4}
	gqaCfg := cfg
	gqaCfg.NumKVHeads = 3
	actCfg := cfg
	actCfg.HiddenAct = "gelu"
	newCases := []struct {
		name string
		cfg  Config
		w    Weights
		opts []Option
		want string
	}{
		{"missing weight", cfg, withTensor("model.layers.1.self_attn.k_proj.bias", nil, nil), nil, "k_proj.bias"},
		{"wrong shape", cfg, withTensor("model.norm.weight", make([]float32, 63), []int{63}), nil, "has shape [63]"},
		{"short data", cfg, withTensor("model.norm.weight", make([]float32, 10), []int{64}), nil, "10 values"},
		{"nan weight", cfg, withTensor("model.norm.weight", nan, []int{64}), nil, "non-finite"},
		{"rope type", badCfg, w, nil, "longrope"},
		{"kv heads", gqaCfg, w, nil, "not a multiple"},
		{"activation", actCfg, w, nil, "gelu"},
		{"int32 dtype", cfg, w, []Option{WithDType(dtypes.Int32)}, "not implemented"},
		{"nil weights", cfg, nil, nil, "nil weights"},
	}
	for _, c := range newCases {
		_, err := New(testBackend(), c.cfg, c.w, c.opts...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	if _, err := New(nil, cfg, w); err == nil {
		t.Error("nil backend: no error")
	}
	m2 := newTestModel(t, cfg, w)
	m2.Close()
	if _, err := m2.HiddenStates(tokens, mask, nil); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("closed model: error %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	good := smallConfigs()["llama3"]
	cases := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"ok", func(*Config) {}, ""},
		{"zero layers", func(c *Config) { c.NumLayers = 0 }, "must be positive"},
		{"odd head dim", func(c *Config) { c.HeadDim = 15 }, "even"},
		{"hidden not multiple", func(c *Config) { c.HiddenSize = 66; c.NumHeads = 4 }, "not a multiple"},
		{"eps", func(c *Config) { c.RMSNormEps = 0 }, "rms_norm_eps"},
		{"theta", func(c *Config) { c.RopeTheta = math.NaN() }, "rope_theta"},
		{"llama3 factors", func(c *Config) {
			c.RopeScaling = &RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 4, HighFreqFactor: 1, OriginalMaxPositionEmbeddings: 8192}
		}, "llama3"},
		{"linear factor", func(c *Config) { c.RopeScaling = &RopeScaling{Type: "linear"} }, "linear"},
	}
	for _, c := range cases {
		cfg := good
		c.modify(&cfg)
		err := cfg.Validate()
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: Validate() = %v, want error containing %q", c.name, err, c.want)
		}
	}
}

// TestConcurrentCalls runs the same model from several goroutines, on two
// shapes, and expects the results of serial calls: the one-graph pass
// (float32 Qwen2), the block-by-block pass of a mixture of experts
// (GPT-OSS, both dequantization routes) and, where the CPU has AMX, the
// bfloat16 pass on the AMX kernel.
func TestConcurrentCalls(t *testing.T) {
	for _, c := range []struct {
		name    string
		cfg     Config
		opts    []Option
		dequant expertDequant
	}{
		{"one graph", smallConfigs()["qwen2"], nil, dequantAuto},
		{"experts, host", gptOSSConfig(), nil, dequantHost},
		{"experts, graph", gptOSSConfig(), nil, dequantInGraph},
		{"bfloat16", smallConfigs()["qwen2"], []Option{WithDType(dtypes.BFloat16)}, dequantAuto},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := New(testBackend(), c.cfg, randomWeights{cfg: c.cfg, seed: 6}, c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.sparse != nil {
				m.sparse.dequant = c.dequant
			}
			concurrentCalls(t, m)
		})
	}
}

func concurrentCalls(t *testing.T, m *Model) {
	tokens, mask := paddedBatch()
	inputs := [][2][][]int32{{tokens, mask}, {tokens[:2], mask[:2]}}
	want := make([][][]float32, len(inputs))
	for i, in := range inputs {
		var err error
		if want[i], err = m.HiddenStates(in[0], in[1], nil); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			i := g % len(inputs)
			got, err := m.HiddenStates(inputs[i][0], inputs[i][1], nil)
			if err != nil {
				errs <- err.Error()
				return
			}
			for l := range got {
				for j := range got[l] {
					if got[l][j] != want[i][l][j] {
						errs <- "concurrent result differs from the serial one"
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
