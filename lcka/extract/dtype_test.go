package extract

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layersim/layersim/internal/amx"
	"github.com/layersim/layersim/lcka/hf"
)

// bf16Copy writes tiny-a with its weights stored as BF16 and config.json's
// torch_dtype set to bfloat16, as hub checkpoints of the study's models are.
func bf16Copy(t *testing.T) string {
	t.Helper()
	src := tinyModel(t)
	dir := filepath.Join(t.TempDir(), "tiny-a-bf16")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json", "config.json"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "config.json" {
			s := strings.Replace(string(b), `"torch_dtype": "float32"`, `"torch_dtype": "bfloat16"`, 1)
			if s == string(b) {
				t.Fatal("config.json has no float32 torch_dtype")
			}
			b = []byte(s)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := hf.OpenSafetensors(filepath.Join(src, hf.SafetensorsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []hf.TensorData
	for _, name := range f.Names() {
		tn, _ := f.Tensor(name)
		v, err := tn.Float32()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, hf.TensorData{Name: name, DType: hf.BF16, Shape: tn.Shape, Values: v})
	}
	if err := hf.WriteSafetensors(filepath.Join(dir, hf.SafetensorsFile), out, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDTypes checks which dtype a model runs in: auto follows config.json
// (float32 for tiny-a, bfloat16 for its BF16 copy), an explicit dtype wins,
// and meta.json records it.
func TestDTypes(t *testing.T) {
	ctx := context.Background()
	bf := bf16Copy(t)
	for _, c := range []struct {
		dir, requested, want string
	}{
		{tinyModel(t), "", "float32"},
		{tinyModel(t), "auto", "float32"},
		{tinyModel(t), "bf16", "bfloat16"},
		{bf, "", "bfloat16"},
		{bf, "float32", "float32"},
		{bf, "float16", "float16"},
	} {
		m, err := Load(ctx, c.dir, LoadOptions{Backend: testBackend(t), DType: c.requested})
		if err != nil {
			t.Fatal(err)
		}
		if m.DType != c.want {
			t.Errorf("%s with dtype %q runs in %s, want %s", filepath.Base(c.dir), c.requested, m.DType, c.want)
		}
		m.Close()
	}
}

// TestExtractBFloat16 extracts the BF16 copy of tiny-a in bfloat16 (its
// auto dtype) and compares every saved vector with the float64 reference
// forward pass on the same bfloat16 weights. bfloat16 keeps 8 significant
// bits (relative rounding 2⁻⁹ ≈ 0.002 per operation); through 4 layers
// with the residual stream rounded at every addition the observed error
// is a few percent of the vector's largest value, so the bound is 0.06.
// The comparison with transformers' own bfloat16 computation is in
// package llm.
func TestExtractBFloat16(t *testing.T) {
	m, err := Load(context.Background(), bf16Copy(t), LoadOptions{Backend: testBackend(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	set := promptSet(t, 8)
	out := t.TempDir()
	if _, err := m.Extract(context.Background(), set, Options{Out: out, BatchSize: 3}); err != nil {
		t.Fatal(err)
	}
	kernel := `"backend"`
	if amx.Available() {
		kernel = `"amx"`
	}
	worst := 0.0
	for _, lang := range set.Langs {
		s, layers := readSet(t, out, "tiny-a-bf16", lang)
		if s.Meta.Dtype != "bfloat16" {
			t.Errorf("meta.json dtype %q, want bfloat16", s.Meta.Dtype)
		}
		if got := string(s.Meta.Extra["linear_kernel"]); got != kernel {
			t.Errorf("meta.json linear_kernel %s, want %s", got, kernel)
		}
		enc, err := m.encode(set.Texts[lang], &Options{MaxLength: DefaultMaxLength})
		if err != nil {
			t.Fatal(err)
		}
		for i, ids := range enc.ids {
			ref := refPooled(t, m, ids)[PoolLast]
			for k, layer := range layers {
				worst = math.Max(worst, relErr(layer.Row(i), ref[k+1]))
			}
		}
	}
	t.Logf("worst relative error %.3g", worst)
	if worst > 0.06 || worst == 0 {
		t.Errorf("relative error %.3g vs the float64 reference, want in (0, 0.06]", worst)
	}
}

// TestExtractNoAMX checks that LoadOptions.NoAMX keeps the backend's
// kernel, and that meta.json says so.
func TestExtractNoAMX(t *testing.T) {
	dir := bf16Copy(t)
	m, err := Load(context.Background(), dir, LoadOptions{Backend: testBackend(t), NoAMX: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	set := promptSet(t, 3)
	out := t.TempDir()
	if _, err := m.Extract(context.Background(), set, Options{Out: out, BatchSize: 3}); err != nil {
		t.Fatal(err)
	}
	s, _ := readSet(t, out, "tiny-a-bf16", set.Langs[0])
	if got := string(s.Meta.Extra["linear_kernel"]); got != `"backend"` {
		t.Errorf("meta.json linear_kernel %s, want \"backend\"", got)
	}
	if m.model == nil || m.model.UsesAMX() {
		t.Error("NoAMX: the loaded model runs on the AMX kernel")
	}
	// The same folder again without NoAMX: where the CPU has AMX the saved
	// sets were made by the other kernel and are recomputed, not reused.
	again, err := Load(context.Background(), dir, LoadOptions{Backend: testBackend(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if fpOff, fpOn := m.runFingerprint("en", []string{"x"}, &Options{}), again.runFingerprint("en", []string{"x"}, &Options{}); (fpOff != fpOn) != amx.Available() {
		t.Errorf("fingerprints with and without NoAMX equal: %v; AMX available: %v", fpOff == fpOn, amx.Available())
	}
}
