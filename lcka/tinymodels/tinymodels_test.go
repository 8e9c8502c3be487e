package tinymodels

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/compute/gobackend"
	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/data"
	"github.com/layersim/layersim/lcka/hf"
	"github.com/layersim/layersim/lcka/llm"
	"github.com/layersim/layersim/lcka/tokenizer"
)

// TestTrainBPEByHand checks the trainer on the corpus of Sennrich et al.
// (2016), one word per text, against merges worked out by hand.
//
// Pair counts: low×5, lower×2, newest×6, widest×3 give e s 9, s t 9, w e 8,
// l o 7, o w 7, n e 6, e w 6, w i 3, i d 3, d e 3, e r 2. The ties
// between e s and s t, and l o and o w, go to the left symbol that sorts
// first; after "newest" the counts 3 of d est, i dest and w idest, then 2
// of e r and low er, finish the other words; then no pair occurs twice.
func TestTrainBPEByHand(t *testing.T) {
	var texts []string
	for _, w := range []struct {
		word string
		n    int
	}{{"low", 5}, {"lower", 2}, {"newest", 6}, {"widest", 3}} {
		for range w.n {
			texts = append(texts, w.word)
		}
	}
	symbols, merges := trainBPE(texts, 100)
	want := [][2]string{
		{"e", "s"}, {"es", "t"}, {"l", "o"}, {"lo", "w"}, {"e", "w"}, {"ew", "est"}, {"n", "ewest"},
		{"d", "est"}, {"i", "dest"}, {"w", "idest"}, {"e", "r"}, {"low", "er"},
	}
	if !slices.Equal(merges, want) {
		t.Fatalf("merges\n got %q\nwant %q", merges, want)
	}
	if len(symbols) != 256+len(want) || symbols[256] != "es" || symbols[len(symbols)-1] != "lower" {
		t.Errorf("symbols: %d, first new %q, last %q", len(symbols), symbols[256], symbols[len(symbols)-1])
	}
	// The bound on merges is respected.
	if _, m := trainBPE(texts, 3); len(m) != 3 {
		t.Errorf("trainBPE(…, 3) made %d merges", len(m))
	}
}

// TestByteRunes checks GPT-2's bytes_to_unicode table: a bijection onto 256
// runes, identity on printable Latin-1, and the known images of a few bytes.
func TestByteRunes(t *testing.T) {
	seen := map[rune]bool{}
	for b, r := range byteRunes {
		if seen[r] {
			t.Fatalf("rune %q used twice", r)
		}
		seen[r] = true
		if b >= '!' && b <= '~' && r != rune(b) {
			t.Errorf("byte %d → %q", b, r)
		}
	}
	// ' ' → 'Ġ' (U+0120), '\n' → 'Ċ' (U+010A), 0 → 'Ā' (U+0100), 0xAD → 'Ń' (U+0143).
	for b, want := range map[byte]rune{' ': 'Ġ', '\n': 'Ċ', 0: 'Ā', 0xAD: 'Ń', 0x7F: 'ġ'} {
		if byteRunes[b] != want {
			t.Errorf("byte %#x → %q, want %q", b, byteRunes[b], want)
		}
	}
}

type hfRef struct {
	Source          string `json:"source"`
	TokenizerSHA256 string `json:"tokenizer_sha256"`
	VocabSize       int    `json:"vocab_size"`
	Cases           []struct {
		Text    string `json:"text"`
		IDs     []int  `json:"ids"`
		Special []int  `json:"special"`
		Decoded string `json:"decoded"`
	} `json:"cases"`
}

// TestTokenizerAgainstHF compares lcka/tokenizer on the generated
// tokenizer.json with Hugging Face tokenizers 0.22.2 (testdata/hf_ref.json,
// made by testdata/gen_ref.sh from the same file): exact ids with and
// without BOS, and decoded text, on the 264 built-in texts and 10 others.
func TestTokenizerAgainstHF(t *testing.T) {
	b, err := os.ReadFile("testdata/hf_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref hfRef
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	js, err := TokenizerJSON()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(js)
	if got := hex.EncodeToString(sum[:]); got != ref.TokenizerSHA256 {
		t.Fatalf("tokenizer.json has sha256 %s, the reference was made for %s: the trainer or the built-in prompts changed; "+
			"run lcka/tinymodels/testdata/gen_ref.sh", got, ref.TokenizerSHA256)
	}
	tok, err := tokenizer.Parse(js)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != ref.VocabSize {
		t.Errorf("vocab size %d, Hugging Face %d", tok.VocabSize(), ref.VocabSize)
	}
	if len(ref.Cases) < 270 {
		t.Fatalf("only %d reference cases", len(ref.Cases))
	}
	for i, c := range ref.Cases {
		ids, err := tok.Encode(c.Text, false)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		special, err := tok.Encode(c.Text, true)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !slices.Equal(ids, c.IDs) || !slices.Equal(special, c.Special) {
			t.Errorf("case %d %.40q:\n got %v / %v\nwant %v / %v", i, c.Text, ids, special, c.IDs, c.Special)
			continue
		}
		dec, err := tok.Decode(ids)
		if err != nil || dec != c.Decoded {
			t.Errorf("case %d: decoded %q (%v), want %q", i, dec, err, c.Decoded)
		}
	}
}

// TestTokenizerProperties checks what the models rely on: BOS first, ids
// inside the vocabulary, lossless decoding of the training texts, and that
// merges shorten the texts (fewer ids than bytes).
func TestTokenizerProperties(t *testing.T) {
	js, err := TokenizerJSON()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Parse(js)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vocabSize()
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != v || tok.SpecialTokensAdded() != 1 {
		t.Fatalf("vocab %d (want %d), special tokens added %d (want 1)", tok.VocabSize(), v, tok.SpecialTokensAdded())
	}
	bos, ok := tok.BOS()
	if !ok || bos != v-2 {
		t.Fatalf("BOS = %d, %v; want %d", bos, ok, v-2)
	}
	if id, _ := tok.TokenID(EOS); id != v-1 {
		t.Errorf("EOS id %d, want %d", id, v-1)
	}
	p := data.Builtin()
	for _, lang := range p.Langs {
		var nBytes, nIDs int
		for _, text := range p.Texts[lang] {
			ids, err := tok.Encode(text, true)
			if err != nil {
				t.Fatal(err)
			}
			if ids[0] != bos || slices.Contains(ids[1:], bos) || slices.Max(ids) >= v || slices.Min(ids) < 0 {
				t.Fatalf("%s %.30q: ids %v", lang, text, ids)
			}
			dec, err := tok.DecodeSkipSpecial(ids)
			if err != nil || dec != text {
				t.Fatalf("%s: decode gives %q (%v), want %q", lang, dec, err, text)
			}
			nBytes += len(text)
			nIDs += len(ids) - 1
		}
		// Merges must compress: ≥ 2.5 bytes per id on the training texts
		// (observed 2.89 for English, 4.78 for Hindi; bytes alone give 1).
		t.Logf("%s: %.2f bytes per id", lang, float64(nBytes)/float64(nIDs))
		if r := float64(nBytes) / float64(nIDs); r < 2.5 {
			t.Errorf("%s: %.2f bytes per id", lang, r)
		}
	}
}

// TestGenerateFolder checks the written folder: the files load with the
// project's readers, config.json matches the spec and the tokenizer, the
// weights have the shapes llm expects, the same seed gives the same bytes
// and another seed other weights.
func TestGenerateFolder(t *testing.T) {
	root := t.TempDir()
	dirs, err := GenerateAll(root, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) != len(Sizes()) {
		t.Fatalf("dirs %v", dirs)
	}
	for _, dir := range dirs {
		size := filepath.Base(dir)
		spec, err := Lookup(size)
		if err != nil {
			t.Fatal(err)
		}
		c, err := hf.LoadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := vocabSize()
		if c.ModelType != "llama" || c.HiddenSize != spec.HiddenSize || c.NumHiddenLayers != spec.NumLayers ||
			c.NumKeyValueHeads != spec.NumKVHeads || c.VocabSize != v || c.RopeScaling != nil || c.UseSlidingWindow {
			t.Errorf("%s: config %+v", size, c)
		}
		if _, err := tokenizer.Load(filepath.Join(dir, hf.TokenizerFile)); err != nil {
			t.Error(err)
		}
		tc, err := tokenizer.LoadConfig(filepath.Join(dir, hf.TokenizerConfigFile))
		if err != nil || tc.BOS != BOS || tc.EOS != EOS {
			t.Errorf("tokenizer_config: %+v, %v", tc, err)
		}
		ck, err := hf.OpenCheckpoint(dir)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := spec.Config()
		names, shapes := llm.WeightShapes(cfg)
		if got := ck.Names(); len(got) != len(names) {
			t.Errorf("%s: %d tensors, want %d", size, len(got), len(names))
		}
		for i, name := range names {
			tt, err := ck.Tensor(name)
			if err != nil {
				t.Fatal(err)
			}
			if tt.DType != hf.F32 || !slices.Equal(tt.Shape, shapes[i]) {
				t.Errorf("%s: %s is %s %v, want F32 %v", size, name, tt.DType, tt.Shape, shapes[i])
			}
		}
		ck.Close()
	}

	// Determinism and seed dependence.
	again := filepath.Join(t.TempDir(), "tiny-a")
	other := filepath.Join(t.TempDir(), "tiny-a")
	if err := Generate(again, "tiny-a", 7); err != nil {
		t.Fatal(err)
	}
	if err := Generate(other, "tiny-a", 8); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{hf.SafetensorsFile, hf.ConfigFile, hf.TokenizerFile, hf.TokenizerConfigFile} {
		a, _ := os.ReadFile(filepath.Join(root, "tiny-a", f))
		b, _ := os.ReadFile(filepath.Join(again, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with seed 7", f)
		}
	}
	a, _ := os.ReadFile(filepath.Join(root, "tiny-a", hf.SafetensorsFile))
	b, _ := os.ReadFile(filepath.Join(other, hf.SafetensorsFile))
	if bytes.Equal(a, b) {
		t.Error("seeds 7 and 8 give the same weights")
	}

	if err := Generate(t.TempDir(), "tiny-z", 1); err == nil {
		t.Error("unknown size accepted")
	}
}

// TestWeightScales checks the sample moments of every tensor against the
// initialization of the package documentation: mean within 4 standard
// errors, standard deviation within 3%.
func TestWeightScales(t *testing.T) {
	spec, _ := Lookup("tiny-b")
	ws, err := spec.Weights(3)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		var mean, std float64
		switch weightKind(w.Name) {
		case "norm":
			mean, std = 1, normJitter
		case "embed":
			std = 1
		case "q", "k":
			std = 2 / math.Sqrt(float64(w.Shape[1]))
		case "v", "gate", "up", "o":
			std = 1 / math.Sqrt(float64(w.Shape[1]))
		case "down":
			std = 1 / math.Sqrt(0.35*float64(w.Shape[1]))
		default:
			t.Fatalf("unclassified tensor %s", w.Name)
		}
		var s, ss float64
		for _, v := range w.Values {
			s += float64(v)
		}
		n := float64(len(w.Values))
		m := s / n
		for _, v := range w.Values {
			ss += (float64(v) - m) * (float64(v) - m)
		}
		sd := math.Sqrt(ss / (n - 1))
		if math.Abs(m-mean) > 4*std/math.Sqrt(n) || math.Abs(sd/std-1) > 0.03 && n > 1000 || math.Abs(sd/std-1) > 0.15 {
			t.Errorf("%s: mean %.4f sd %.4f, want %.4f and %.4f (n = %.0f)", w.Name, m, sd, mean, std, n)
		}
	}
}

// TestLayersDiffer runs tiny-a and tiny-b on the built-in English prompts
// (last-token pooling) and checks that the representations are neither
// exploding nor collapsing: finite, of moderate norm, and with
// standardized CKA between the embedding and the last layer at most 0.8 and
// between neighbouring layers at least 0.7.
func TestLayersDiffer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two models")
	}
	js, _ := TokenizerJSON()
	tok, err := tokenizer.Parse(js)
	if err != nil {
		t.Fatal(err)
	}
	texts := data.Builtin().Texts["en"][:64]
	ids, err := tok.EncodeBatch(texts, true)
	if err != nil {
		t.Fatal(err)
	}
	backend, err := gobackend.New("ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range Sizes() {
		spec, _ := Lookup(size)
		cfg, _ := spec.Config()
		ws, err := spec.Weights(1)
		if err != nil {
			t.Fatal(err)
		}
		m, err := llm.New(backend, cfg, tensorMap(ws))
		if err != nil {
			t.Fatal(err)
		}
		layers := make([]*mat.Dense, cfg.NumLayers+1)
		for l := range layers {
			layers[l] = mat.NewDense(len(texts), cfg.HiddenSize, nil)
		}
		for i := 0; i < len(ids); i += 16 {
			rows := ids[i:min(i+16, len(ids))]
			seq := 0
			for _, r := range rows {
				seq = max(seq, len(r))
			}
			tokens, mask := make([][]int32, len(rows)), make([][]int32, len(rows))
			for b, r := range rows {
				tokens[b], mask[b] = make([]int32, seq), make([]int32, seq)
				for s, id := range r {
					tokens[b][s], mask[b][s] = int32(id), 1
				}
			}
			p, err := m.PooledHiddenStates(tokens, mask, llm.PositionsFromMask(mask))
			if err != nil {
				t.Fatal(err)
			}
			for l := range layers {
				for b := range rows {
					for j, v := range p.Last[l][b] {
						if math.IsNaN(float64(v)) || math.Abs(float64(v)) > 1e3 {
							t.Fatalf("%s layer %d: value %v", size, l, v)
						}
						layers[l].Set(i+b, j, float64(v))
					}
				}
			}
		}
		m.Close()
		last := len(layers) - 1
		first, err := cka.Standardized(layers[0], layers[last])
		if err != nil {
			t.Fatal(err)
		}
		minAdj := 1.0
		for l := 0; l < last; l++ {
			c, err := cka.Standardized(layers[l], layers[l+1])
			if err != nil {
				t.Fatal(err)
			}
			minAdj = min(minAdj, c)
		}
		t.Logf("%s: CKA(embedding, last) = %.3f, min CKA of neighbours = %.3f", size, first, minAdj)
		if first > 0.8 || minAdj < 0.7 || minAdj-first < 0.2 {
			t.Errorf("%s: CKA(embedding, last) = %.3f, min CKA of neighbours = %.3f", size, first, minAdj)
		}
	}
}

// tensorMap serves weights from memory.
type tensorMap []hf.TensorData

func (m tensorMap) Tensor(name string) ([]float32, []int, error) {
	for _, w := range m {
		if w.Name == name {
			return w.Values, w.Shape, nil
		}
	}
	return nil, nil, os.ErrNotExist
}
