package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/layersim/layersim/lcka/hf"
	"github.com/layersim/layersim/lcka/llm"
	"github.com/layersim/layersim/lcka/tinymodels"
)

// rawTensor is one tensor of a hand-written safetensors file.
type rawTensor struct {
	dtype string
	shape []int
	data  []byte
}

// encodeSafetensors writes F32 and U8 tensors (hf.WriteSafetensors writes
// floating-point tensors only): an 8-byte header length, the JSON header
// padded with spaces to a multiple of 8, then the data in name order.
func encodeSafetensors(tensors map[string]rawTensor) []byte {
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	header := map[string]any{}
	var body bytes.Buffer
	for _, n := range names {
		t := tensors[n]
		header[n] = map[string]any{"dtype": t.dtype, "shape": t.shape, "data_offsets": []int{body.Len(), body.Len() + len(t.data)}}
		body.Write(t.data)
	}
	h, _ := json.Marshal(header)
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(out, h...), body.Bytes()...)
}

// writeTinyGPTOSS writes a GPT-OSS-shaped model folder: hidden 64, 3 layers
// alternating sliding (window 4) and full attention, attention sinks, yarn
// RoPE, 4 MXFP4 experts (2 per token), and the tiny models' tokenizer.
func writeTinyGPTOSS(t *testing.T, dir string) {
	t.Helper()
	tok, err := tinymodels.TokenizerJSON()
	if err != nil {
		t.Fatal(err)
	}
	var vocab struct {
		Model struct {
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
	}
	json.Unmarshal(tok, &vocab)
	v := len(vocab.Model.Vocab) + 2
	cfgJSON := fmt.Sprintf(gptOSSConfig, "")
	cfgJSON = string(bytes.Replace([]byte(cfgJSON), []byte(`"vocab_size": 300`), []byte(fmt.Sprintf(`"vocab_size": %d`, v)), 1))
	c, err := hf.ParseConfig([]byte(cfgJSON))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LLMConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	rng := uint64(12345)
	next := func() uint64 { // SplitMix64
		rng += 0x9e3779b97f4a7c15
		z := rng
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	normal := func() float64 {
		u1 := (float64(next()>>11) + 0.5) / (1 << 53)
		u2 := (float64(next()>>11) + 0.5) / (1 << 53)
		return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
	}
	tensors := map[string]rawTensor{}
	names, shapes := llm.WeightShapes(cfg)
	for i, name := range names {
		n := 1
		for _, d := range shapes[i] {
			n *= d
		}
		mean, std := 0.0, 0.1
		switch {
		case len(shapes[i]) == 1 && (bytes.HasSuffix([]byte(name), []byte("norm.weight")) || bytes.HasSuffix([]byte(name), []byte("layernorm.weight"))):
			mean, std = 1, 0.2
		case bytes.HasSuffix([]byte(name), []byte("sinks")):
			std = 1
		case name == "model.embed_tokens.weight":
			std = 1
		case len(shapes[i]) == 2:
			std = 1 / math.Sqrt(float64(shapes[i][1]))
		}
		b := make([]byte, 4*n)
		for j := range n {
			binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(float32(mean+std*normal())))
		}
		tensors[name] = rawTensor{"F32", shapes[i], b}
	}
	bnames, bshapes := llm.Uint8WeightShapes(cfg)
	for i, name := range bnames {
		n := 1
		for _, d := range bshapes[i] {
			n *= d
		}
		b := make([]byte, n)
		for j := range b {
			if len(bshapes[i]) == 4 {
				b[j] = byte(next()) // two random E2M1 codes
			} else {
				b[j] = byte(121 + next()%4) // scales 2^-6 … 2^-3
			}
		}
		tensors[name] = rawTensor{"U8", bshapes[i], b}
	}
	os.MkdirAll(dir, 0o755)
	for name, b := range map[string][]byte{
		"config.json": []byte(cfgJSON), "tokenizer.json": tok, "model.safetensors": encodeSafetensors(tensors),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGPTOSSMatchesReference extracts a GPT-OSS-shaped model (sliding
// window shorter than the texts, attention sinks, MXFP4 experts read as U8
// through CheckpointWeights) in padded batches and compares every saved
// vector with llm's float64 reference on each text alone (1e-4 relative).
func TestGPTOSSMatchesReference(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tiny-gpt-oss")
	writeTinyGPTOSS(t, dir)
	m, err := Load(context.Background(), dir, LoadOptions{Backend: testBackend(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	set := promptSet(t, 6)
	set, _ = set.Select([]string{"en"})
	for _, pool := range []Pooling{PoolLast, PoolMean} {
		out := t.TempDir()
		if _, err := m.Extract(context.Background(), set, Options{Out: out, BatchSize: 3, Pooling: pool}); err != nil {
			t.Fatal(err)
		}
		_, layers := readSet(t, out, "tiny-gpt-oss", "en")
		enc, err := m.encode(set.Texts["en"], &Options{MaxLength: DefaultMaxLength})
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i, ids := range enc.ids {
			if len(ids) <= m.Config.SlidingWindow {
				t.Fatalf("text %d has %d tokens: the window would not matter", i, len(ids))
			}
			ref := refPooled(t, m, ids)[pool]
			for k, layer := range layers {
				worst = math.Max(worst, relErr(layer.Row(i), ref[k+1]))
			}
		}
		t.Logf("%s: worst relative error %.2g", pool, worst)
		if worst > 1e-4 {
			t.Errorf("%s: relative error %.3g > 1e-4", pool, worst)
		}
	}
}
