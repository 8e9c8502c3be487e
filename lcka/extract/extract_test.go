package extract

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"codeberg.org/sbinet/npyio"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/data"
	"github.com/layersim/layersim/lcka/llm"
	"github.com/layersim/layersim/lcka/tinymodels"
)

var (
	tinyOnce sync.Once
	tinyDir  string
	tinyErr  error
	backend  compute.Backend
)

func TestMain(m *testing.M) {
	code := m.Run()
	if tinyDir != "" {
		os.RemoveAll(filepath.Dir(tinyDir))
	}
	os.Exit(code)
}

// tinyModel returns the folder of tinymodels' tiny-a (seed 1), written once.
func tinyModel(t testing.TB) string {
	t.Helper()
	tinyOnce.Do(func() {
		root, err := os.MkdirTemp("", "extract-test")
		if err != nil {
			tinyErr = err
			return
		}
		tinyDir = filepath.Join(root, "tiny-a")
		tinyErr = tinymodels.Generate(tinyDir, "tiny-a", 1)
		if tinyErr == nil {
			backend, tinyErr = NewGoBackend()
		}
	})
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return tinyDir
}

// testBackend returns the Go backend shared by the tests.
func testBackend(t testing.TB) compute.Backend {
	tinyModel(t)
	return backend
}

// loadTiny loads tiny-a on the shared backend and closes it with the test.
func loadTiny(t testing.TB) *Model {
	t.Helper()
	m, err := Load(context.Background(), tinyModel(t), LoadOptions{Backend: backend})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// promptSet returns n items of the built-in set chosen to vary in length:
// every k-th item, so that short and long texts mix.
func promptSet(t testing.TB, n int) *data.Parallel {
	t.Helper()
	b := data.Builtin()
	p := &data.Parallel{Name: "builtin-sample", Langs: b.Langs, Texts: map[string][]string{}}
	step := b.Len() / n
	for i := 0; i < n; i++ {
		j := i * step
		p.IDs = append(p.IDs, b.IDs[j])
		for _, lang := range b.Langs {
			p.Texts[lang] = append(p.Texts[lang], b.Texts[lang][j])
		}
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

// readSet reads every layer of a written set.
func readSet(t testing.TB, root, slug, lang string) (*artifacts.Set, []artifacts.Matrix) {
	t.Helper()
	s, err := artifacts.Open(root, slug, lang, "test")
	if err != nil {
		t.Fatal(err)
	}
	var layers []artifacts.Matrix
	for _, k := range s.Layers {
		m, err := s.Layer(k)
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, m)
	}
	return s, layers
}

// refPooled runs llm.ReferenceHiddenStates (float64) on one text alone and
// pools every state: [pooling][layer 0..L][hidden].
func refPooled(t *testing.T, m *Model, ids []int32) map[Pooling][][]float64 {
	t.Helper()
	states, err := llm.ReferenceHiddenStates(m.Config, CheckpointWeights(m.ckpt), [][]int32{ids}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	H, S := m.Config.HiddenSize, len(ids)
	out := map[Pooling][][]float64{}
	for _, st := range states {
		last := slices.Clone(st[(S-1)*H : S*H])
		mean := make([]float64, H)
		mx := slices.Clone(st[:H])
		for s := range S {
			for j := range H {
				v := st[s*H+j]
				mean[j] += v / float64(S)
				mx[j] = math.Max(mx[j], v)
			}
		}
		out[PoolLast] = append(out[PoolLast], last)
		out[PoolMean] = append(out[PoolMean], mean)
		out[PoolMax] = append(out[PoolMax], mx)
	}
	return out
}

// relErr is max|got−want| / max|want| over one vector.
func relErr(got []float32, want []float64) float64 {
	var d, w float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-want[i]))
		w = math.Max(w, math.Abs(want[i]))
	}
	return d / w
}

// TestExtractMatchesReference extracts 12 texts per language with every
// pooling, in padded batches of 5, and compares each saved vector with the
// float64 reference forward pass of the text alone: relative error (max
// abs difference over max abs value, per vector) at most 1e-4. It also
// checks the embedding layer file (read with npyio), texts.json and
// meta.json.
func TestExtractMatchesReference(t *testing.T) {
	m := loadTiny(t)
	set := promptSet(t, 12)
	for _, pool := range []Pooling{PoolLast, PoolMean, PoolMax} {
		t.Run(string(pool), func(t *testing.T) {
			out := t.TempDir()
			res, err := m.Extract(context.Background(), set, Options{Out: out, Pooling: pool, BatchSize: 5, EmbeddingLayer: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 2 || res[0].Computed != 12 || res[0].Forward != 3 || res[0].Skipped || res[0].Resumed != 0 {
				t.Fatalf("results %+v", res)
			}
			worst := 0.0
			for _, lang := range set.Langs {
				s, layers := readSet(t, out, "tiny-a", lang)
				if len(layers) != m.Config.NumLayers || s.Rows != 12 || s.Cols[0] != m.Config.HiddenSize {
					t.Fatalf("set %+v", s)
				}
				f, err := os.Open(filepath.Join(out, "models", "tiny-a", lang, "activations", "tiny-a_"+lang+"_test.layer_0.npy"))
				if err != nil {
					t.Fatal(err)
				}
				var layer0 []float32
				r, err := npyio.NewReader(f)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(r.Header.Descr.Shape, []int{12, m.Config.HiddenSize}) {
					t.Fatalf("layer_0 shape %v", r.Header.Descr.Shape)
				}
				if err := r.Read(&layer0); err != nil {
					t.Fatal(err)
				}
				f.Close()
				enc, err := m.encode(set.Texts[lang], &Options{MaxLength: DefaultMaxLength})
				if err != nil {
					t.Fatal(err)
				}
				for i, ids := range enc.ids {
					ref := refPooled(t, m, ids)[pool]
					H := m.Config.HiddenSize
					worst = math.Max(worst, relErr(layer0[i*H:(i+1)*H], ref[0]))
					for k, layer := range layers {
						worst = math.Max(worst, relErr(layer.Row(i), ref[k+1]))
					}
				}
				texts, err := s.Texts()
				if err != nil || !slices.Equal(texts, set.Texts[lang]) {
					t.Errorf("texts.json: %v", err)
				}
				checkMeta(t, s.Meta, m, pool, enc.stats)
			}
			t.Logf("%s: worst relative error %.2g", pool, worst)
			if worst > 1e-4 {
				t.Errorf("%s: relative error %.3g > 1e-4", pool, worst)
			}
		})
	}
}

func checkMeta(t *testing.T, meta artifacts.Meta, m *Model, pool Pooling, stats TokenStats) {
	t.Helper()
	if meta.ModelID != m.ID || meta.NumLayers != 4 || meta.Dtype != "float32" || meta.MaxLength != 256 ||
		meta.TextsCount != 12 || meta.Subset != "builtin-sample" {
		t.Errorf("meta %+v", meta)
	}
	want := map[string]string{
		"pooling":            fmt.Sprintf("%q", pool),
		"add_special_tokens": "true",
		"embedding_layer":    "",
		"tokens_per_text": fmt.Sprintf(`{"mean":%v,"median":%v,"min":%d,"max":%d,"total":%d,"truncated":0}`,
			stats.Mean, stats.Median, stats.Min, stats.Max, stats.Total),
	}
	for k, v := range want {
		got, ok := meta.Extra[k]
		if !ok || v != "" && string(got) != v {
			t.Errorf("meta %s = %s, want %s", k, got, v)
		}
	}
	if _, ok := meta.Extra["revision"]; ok {
		t.Error("a local folder has no revision")
	}
}

// TestTokenStats checks the token summary against counts made by hand.
func TestTokenStats(t *testing.T) {
	var s TokenStats
	s.summarize([]int{7, 3, 5, 9})
	if s.Mean != 6 || s.Median != 6 || s.Min != 3 || s.Max != 9 || s.Total != 24 {
		t.Errorf("%+v", s)
	}
	var odd TokenStats
	odd.summarize([]int{4, 1, 10})
	if odd.Median != 4 || odd.Mean != 5 {
		t.Errorf("%+v", odd)
	}
}

// TestTruncation cuts texts to 8 tokens: the saved count and the model
// input agree with the tokenizer's truncation.
func TestTruncation(t *testing.T) {
	m := loadTiny(t)
	set := promptSet(t, 6)
	enc, err := m.encode(set.Texts["en"], &Options{MaxLength: 8})
	if err != nil {
		t.Fatal(err)
	}
	full, _ := m.Tokenizer.EncodeBatch(set.Texts["en"], true)
	wantTrunc := 0
	for i, ids := range enc.ids {
		if len(full[i]) > 8 {
			wantTrunc++
		}
		if len(ids) != min(len(full[i]), 8) || int(ids[0]) != full[i][0] {
			t.Errorf("text %d: %d ids", i, len(ids))
		}
	}
	if wantTrunc == 0 || enc.stats.Truncated != wantTrunc || enc.stats.Max != 8 {
		t.Errorf("stats %+v, want %d truncated", enc.stats, wantTrunc)
	}
}

// TestPaddedBatchesEqualSingle compares batches of 8 (padded on the right)
// with batches of 1 (no padding): every value within 1e-5 relative to the
// vector's largest value.
func TestPaddedBatchesEqualSingle(t *testing.T) {
	m := loadTiny(t)
	set := promptSet(t, 16)
	set, _ = set.Select([]string{"hi"})
	batched, single := t.TempDir(), t.TempDir()
	for _, run := range []struct {
		out   string
		batch int
	}{{batched, 8}, {single, 1}} {
		if _, err := m.Extract(context.Background(), set, Options{Out: run.out, BatchSize: run.batch, Pooling: PoolMean}); err != nil {
			t.Fatal(err)
		}
	}
	_, a := readSet(t, batched, "tiny-a", "hi")
	_, b := readSet(t, single, "tiny-a", "hi")
	worst := 0.0
	for k := range a {
		for i := range a[k].Rows {
			want := make([]float64, a[k].Cols)
			for j, v := range b[k].Row(i) {
				want[j] = float64(v)
			}
			worst = math.Max(worst, relErr(a[k].Row(i), want))
		}
	}
	t.Logf("worst relative difference %.2g", worst)
	if worst > 1e-5 {
		t.Errorf("padded and single runs differ by %.3g", worst)
	}
}

// countingForward wraps m's forward pass, counting calls and rows, and
// calling before (when set) first; before may fail the call.
type countingForward struct {
	calls, rows int
	before      func(rows int) error
}

func (c *countingForward) wrap(m *Model) {
	inner := m.forward
	m.forward = func(tokens, mask, positions [][]int32, pooling Pooling) (*llm.Pooled, error) {
		c.calls++
		if c.before != nil {
			if err := c.before(len(tokens)); err != nil {
				return nil, err
			}
		}
		c.rows += len(tokens)
		return inner(tokens, mask, positions, pooling)
	}
}

// TestResume stops a run after 3 of 6 batches by cancelling its context
// from the progress callback, then runs again: only the 3 missing batches
// run, and the artifact equals, bit for bit, that of a run never stopped.
// A third run finds the artifact up to date and runs nothing; another
// pooling runs again.
func TestResume(t *testing.T) {
	m := loadTiny(t)
	set := promptSet(t, 24)
	set, _ = set.Select([]string{"en"})
	out, ref := t.TempDir(), t.TempDir()
	if _, err := m.Extract(context.Background(), set, Options{Out: ref, BatchSize: 4}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	batches := 0
	progress := func(p Progress) {
		if p.Note == "" && p.Done > 0 {
			if batches++; batches == 3 {
				cancel() // as if the process were killed after 3 batches
			}
		}
	}
	var first countingForward
	first.wrap(m)
	_, err := m.Extract(ctx, set, Options{Out: out, BatchSize: 4, Progress: progress})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v, want context.Canceled", err)
	}
	if first.calls != 3 {
		t.Fatalf("first run made %d forward calls, want 3", first.calls)
	}
	partial := filepath.Join(out, "models", "tiny-a", "en", "activations", "tiny-a_en_test.partial")
	if _, err := os.Stat(filepath.Join(partial, manifestFile)); err != nil {
		t.Fatalf("no manifest after the interruption: %v", err)
	}
	if _, err := artifacts.Open(out, "tiny-a", "en", "test"); err == nil {
		t.Fatal("an interrupted run wrote the set")
	}
	if sets, _ := artifacts.Discover(out); len(sets) != 0 {
		t.Fatalf("Discover sees %d sets in an interrupted run", len(sets))
	}

	m2 := loadTiny(t)
	var second countingForward
	second.wrap(m2)
	res, err := m2.Extract(context.Background(), set, Options{Out: out, BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	if second.calls != 3 || second.rows != 12 || res[0].Resumed != 12 || res[0].Computed != 12 {
		t.Fatalf("second run: %d calls on %d rows, result %+v", second.calls, second.rows, res[0])
	}
	if _, err := os.Stat(partial); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the checkpoint folder was not removed: %v", err)
	}
	_, got := readSet(t, out, "tiny-a", "en")
	_, want := readSet(t, ref, "tiny-a", "en")
	for k := range want {
		if !slices.Equal(got[k].Data, want[k].Data) {
			t.Errorf("layer %d differs from the uninterrupted run", k+1)
		}
	}

	var third countingForward
	third.wrap(m2)
	res, err = m2.Extract(context.Background(), set, Options{Out: out, BatchSize: 4})
	if err != nil || !res[0].Skipped || third.calls != 0 {
		t.Fatalf("third run: %v, %+v, %d calls", err, res, third.calls)
	}
	res, err = m2.Extract(context.Background(), set, Options{Out: out, BatchSize: 4, Pooling: PoolMax})
	if err != nil || res[0].Skipped || third.calls != 6 {
		t.Fatalf("another pooling: %v, %+v, %d calls", err, res, third.calls)
	}
	res, err = m2.Extract(context.Background(), set, Options{Out: out, BatchSize: 4, Pooling: PoolMax, Force: true})
	if err != nil || res[0].Skipped || third.calls != 12 {
		t.Fatalf("forced run: %v, %+v, %d calls", err, res, third.calls)
	}
}

// TestResumeDamagedCheckpoint: a listed batch whose file is damaged is
// computed again, a file the manifest does not list is ignored, and a
// checkpoint of another run (other texts) is discarded.
func TestResumeDamagedCheckpoint(t *testing.T) {
	m := loadTiny(t)
	set := promptSet(t, 12)
	set, _ = set.Select([]string{"en"})
	out, ref := t.TempDir(), t.TempDir()
	if _, err := m.Extract(context.Background(), set, Options{Out: ref, BatchSize: 4}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	batches := 0
	_, err := m.Extract(ctx, set, Options{Out: out, BatchSize: 4, Progress: func(p Progress) {
		if p.Note == "" && p.Done > 0 {
			if batches++; batches == 2 {
				cancel()
			}
		}
	}})
	cancel()
	if !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	partial := filepath.Join(out, "models", "tiny-a", "en", "activations", "tiny-a_en_test.partial")
	// Damage the second batch and leave an unlisted file behind.
	if err := os.Truncate(filepath.Join(partial, "chunk-000001.npy"), 100); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(partial, "chunk-000007.npy"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	var c countingForward
	c.wrap(m)
	res, err := m.Extract(context.Background(), set, Options{Out: out, BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	if c.calls != 2 || res[0].Resumed != 4 {
		t.Errorf("%d calls, %d resumed; want 2 and 4", c.calls, res[0].Resumed)
	}
	_, got := readSet(t, out, "tiny-a", "en")
	_, want := readSet(t, ref, "tiny-a", "en")
	for k := range want {
		if !slices.Equal(got[k].Data, want[k].Data) {
			t.Errorf("layer %d differs from the uninterrupted run", k+1)
		}
	}

	// A checkpoint of other texts is discarded.
	ctx, cancel = context.WithCancel(context.Background())
	batches = 0
	other := promptSet(t, 12)
	other, _ = other.Select([]string{"en"})
	other.Texts["en"][0] = "A different first text."
	out2 := t.TempDir()
	_, _ = m.Extract(ctx, other, Options{Out: out2, BatchSize: 4, Progress: func(p Progress) {
		if p.Note == "" && p.Done > 0 {
			cancel()
		}
	}})
	cancel()
	var c2 countingForward
	c2.wrap(m)
	res, err = m.Extract(context.Background(), set, Options{Out: out2, BatchSize: 4})
	if err != nil || !res[0].Stale || res[0].Resumed != 0 || c2.calls != 3 {
		t.Errorf("stale checkpoint: %v, %+v, %d calls", err, res, c2.calls)
	}
}

// TestOutOfMemoryHalving injects a forward pass that runs out of memory on
// more than 2 rows: the first batch of 8 is halved twice, the following
// batches run with 2 rows, and the result equals a run with batch size 2.
func TestOutOfMemoryHalving(t *testing.T) {
	m := loadTiny(t)
	set := promptSet(t, 12)
	set, _ = set.Select([]string{"en"})
	out, ref := t.TempDir(), t.TempDir()
	if _, err := m.Extract(context.Background(), set, Options{Out: ref, BatchSize: 2}); err != nil {
		t.Fatal(err)
	}
	var c countingForward
	c.before = func(rows int) error {
		if rows > 2 {
			return fmt.Errorf("llm: RESOURCE_EXHAUSTED: Out of memory while trying to allocate %d bytes", rows<<30)
		}
		return nil
	}
	c.wrap(m)
	var notes []string
	res, err := m.Extract(context.Background(), set, Options{Out: out, BatchSize: 8, Progress: func(p Progress) {
		if strings.Contains(p.Note, "out of memory") {
			notes = append(notes, p.Note)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if len(r.Halvings) != 2 || r.Halvings[0].From != 8 || r.Halvings[0].To != 4 || r.Halvings[1].To != 2 || r.Batch != 2 {
		t.Fatalf("halvings %+v, batch %d", r.Halvings, r.Batch)
	}
	if c.calls != 2+6 || c.rows != 12 || r.Forward != 8 || len(notes) != 2 {
		t.Errorf("%d calls on %d rows (result says %d), notes %q", c.calls, c.rows, r.Forward, notes)
	}
	_, got := readSet(t, out, "tiny-a", "en")
	_, want := readSet(t, ref, "tiny-a", "en")
	for k := range want {
		if !slices.Equal(got[k].Data, want[k].Data) {
			t.Errorf("layer %d differs from the run with batch size 2", k+1)
		}
	}

	// One text that does not fit is an error, and other errors are not retried.
	for _, tt := range []struct {
		err   error
		calls int
	}{{ErrOutOfMemory, 4}, {errors.New("device lost"), 1}} {
		c := countingForward{before: func(int) error { return tt.err }}
		c.wrap(m)
		_, err := m.Extract(context.Background(), set, Options{Out: t.TempDir(), BatchSize: 8})
		if !errors.Is(err, tt.err) || c.calls != tt.calls {
			t.Errorf("failing forward %v: error %v after %d calls, want %d", tt.err, err, c.calls, tt.calls)
		}
	}
}

// TestMemoryLimit halves batches whose estimate exceeds the limit before
// running them.
func TestMemoryLimit(t *testing.T) {
	m := loadTiny(t)
	set := promptSet(t, 12)
	set, _ = set.Select([]string{"hi"})
	enc, err := m.encode(set.Texts["hi"], &Options{MaxLength: DefaultMaxLength})
	if err != nil {
		t.Fatal(err)
	}
	longest := enc.stats.Max
	limit := EstimateBatchBytes(m.Config, 3, longest) // 12 and 6 rows do not fit, 3 do
	var c countingForward
	c.wrap(m)
	res, err := m.Extract(context.Background(), set, Options{Out: t.TempDir(), BatchSize: 12, MemoryLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if len(r.Halvings) != 2 || r.Batch != 3 || c.calls != 4 || !strings.Contains(r.Halvings[0].Reason, "memory limit") {
		t.Errorf("halvings %+v, batch %d, %d calls", r.Halvings, r.Batch, c.calls)
	}
	// The estimate grows with batch and length as its formula says.
	cfg := m.Config
	h, i, q := int64(cfg.HiddenSize), int64(cfg.IntermediateSize), int64(cfg.NumHeads+2*cfg.NumKVHeads)*32
	if got, want := EstimateBatchBytes(cfg, 2, 10), 2*10*4*(4*h+4*q+3*i)+16*2*int64(cfg.NumHeads)*100; got != want {
		t.Errorf("EstimateBatchBytes = %d, want %d", got, want)
	}
	if got, want := EstimateBatchBytesDType(cfg, dtypes.BFloat16, 2, 10), 2*10*(2*(4*h+4*q+3*i)+4*(2*h+2*i))+16*2*int64(cfg.NumHeads)*100; got != want {
		t.Errorf("EstimateBatchBytesDType(bfloat16) = %d, want %d", got, want)
	}
}

// TestBadInputs checks the errors for missing or unsupported models and for
// unusable prompts and options.
func TestBadInputs(t *testing.T) {
	ctx := context.Background()
	dir := tinyModel(t)
	copyModel := func(t *testing.T, edit func(dir string)) string {
		d := t.TempDir()
		for _, f := range []string{"config.json", "tokenizer.json", "model.safetensors"} {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		edit(d)
		return d
	}
	editConfig := func(from, to string) func(string) {
		return func(d string) {
			p := filepath.Join(d, "config.json")
			b, _ := os.ReadFile(p)
			s := strings.Replace(string(b), from, to, 1)
			if s == string(b) {
				t.Fatalf("config.json has no %q", from)
			}
			os.WriteFile(p, []byte(s), 0o644)
		}
	}
	loads := []struct {
		name, model, want string
		opts              LoadOptions
	}{
		{"missing folder", filepath.Join(t.TempDir(), "nothing-here"), "neither an existing folder nor a hub id", LoadOptions{}},
		{"empty id", "", "no model given", LoadOptions{}},
		{"unsupported model_type", copyModel(t, editConfig(`"model_type": "llama"`, `"model_type": "gpt_neox"`)), "unsupported model: model_type \"gpt_neox\"", LoadOptions{}},
		{"dynamic rope", copyModel(t, editConfig(`"rope_scaling": null`, `"rope_scaling": {"rope_type": "dynamic", "factor": 4}`)), "rope_scaling type \"dynamic\"", LoadOptions{}},
		{"no tokenizer", copyModel(t, func(d string) { os.Remove(filepath.Join(d, "tokenizer.json")) }), "has no tokenizer.json", LoadOptions{}},
		{"no weights", copyModel(t, func(d string) { os.Remove(filepath.Join(d, "model.safetensors")) }), "safetensors", LoadOptions{}},
		{"unknown dtype", dir, "unknown dtype \"float8\" (one of auto, float32, bfloat16, float16)", LoadOptions{DType: "float8"}},
		{"bad torch_dtype", copyModel(t, editConfig(`"torch_dtype": "float32"`, `"torch_dtype": "int8"`)), "torch_dtype \"int8\" is not one of", LoadOptions{}},
	}
	for _, tt := range loads {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Load(ctx, tt.model, tt.opts)
			if err == nil {
				m.Close()
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}

	m := loadTiny(t)
	good := promptSet(t, 4)
	blank := promptSet(t, 4)
	blank.Texts["hi"][2] = "  "
	empty := &data.Parallel{Name: "empty", Langs: []string{"en"}, Texts: map[string][]string{"en": {}}}
	mismatched := promptSet(t, 4)
	mismatched.Texts["hi"] = mismatched.Texts["hi"][:3]
	out := t.TempDir()
	runs := []struct {
		name string
		set  *data.Parallel
		opts Options
		want string
	}{
		{"blank text", blank, Options{Out: out}, "hi"},
		{"no items", empty, Options{Out: out}, "item"},
		{"unequal languages", mismatched, Options{Out: out}, "hi"},
		{"nil set", nil, Options{Out: out}, "no prompt set"},
		{"no output", good, Options{}, "no output folder"},
		{"bad pooling", good, Options{Out: out, Pooling: "median"}, "unknown pooling"},
		{"negative batch", good, Options{Out: out, BatchSize: -1}, "must be positive"},
		{"max length of BOS only", good, Options{Out: out, MaxLength: 1}, "no room for text"},
		{"bad split", good, Options{Out: out, Split: "te.st"}, "split"},
	}
	for _, tt := range runs {
		t.Run(tt.name, func(t *testing.T) {
			res, err := m.Extract(ctx, tt.set, tt.opts)
			if err == nil {
				t.Fatalf("accepted: %+v", res)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			t.Log(err)
		})
	}
	if sets, _ := artifacts.Discover(out); len(sets) != 0 {
		t.Errorf("failed runs wrote %d sets", len(sets))
	}

	// Without special tokens an empty text gives no token at all.
	if _, err := m.encode([]string{""}, &Options{MaxLength: 8, NoSpecialTokens: true}); err == nil || !strings.Contains(err.Error(), "no tokens") {
		t.Errorf("empty text without special tokens: %v", err)
	}
}

// TestFingerprint: the model fingerprint changes with the weights and the
// tokenizer, and not with unrelated files.
func TestFingerprint(t *testing.T) {
	dir := t.TempDir()
	if err := tinymodels.Generate(dir, "tiny-a", 1); err != nil {
		t.Fatal(err)
	}
	fp := func() string {
		s, err := fingerprint(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := fp()
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fp() != base {
		t.Error("an unrelated file changed the fingerprint")
	}
	if err := tinymodels.Generate(dir, "tiny-a", 2); err != nil {
		t.Fatal(err)
	}
	if fp() == base {
		t.Error("other weights, same fingerprint")
	}
	// A snapshot file linking into a hub cache's blobs counts by blob name.
	cache := t.TempDir()
	blobs := filepath.Join(cache, "blobs")
	snap := filepath.Join(cache, "snapshots", "abc")
	os.MkdirAll(blobs, 0o755)
	os.MkdirAll(snap, 0o755)
	for _, f := range []string{"config.json", "tokenizer.json", "model.safetensors"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		os.WriteFile(filepath.Join(blobs, "etag-"+f), b, 0o644)
		if err := os.Symlink(filepath.Join("..", "..", "blobs", "etag-"+f), filepath.Join(snap, f)); err != nil {
			t.Fatal(err)
		}
	}
	id, err := fileIdentity(filepath.Join(snap, "model.safetensors"))
	if err != nil || !strings.HasSuffix(id, " blob etag-model.safetensors") {
		t.Errorf("identity %q, %v", id, err)
	}
}
