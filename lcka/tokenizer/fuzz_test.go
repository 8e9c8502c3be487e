package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// minimalJSON is a small valid tokenizer.json: a Llama-3-like layout over a
// handful of byte-level tokens, used as a fuzzing seed.
const minimalJSON = `{"version":"1.0","truncation":null,"padding":null,
"added_tokens":[{"id":9,"content":"<s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
 {"id":10,"content":"[m]","single_word":true,"lstrip":true,"rstrip":true,"normalized":true,"special":false}],
"normalizer":{"type":"Sequence","normalizers":[{"type":"NFC"}]},
"pre_tokenizer":{"type":"Sequence","pretokenizers":[
 {"type":"Split","pattern":{"Regex":"(?i:'s)|\\p{L}+|\\s+(?!\\S)|\\s+|."},"behavior":"Isolated","invert":false},
 {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]},
"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
 "pair":[],"special_tokens":{"<s>":{"id":"<s>","ids":[9],"tokens":["<s>"]}}},
"decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},
"model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,
 "fuse_unk":false,"byte_fallback":false,"ignore_merges":true,
 "vocab":{"a":0,"b":1,"Ġ":2,"ab":3,"Ġa":4,"Ġab":5,"'":6,"s":7,"'s":8},
 "merges":["a b","Ġ a","Ġa b","' s"]}}`

func fuzzSeeds(f *testing.F) {
	f.Add([]byte(minimalJSON))
	f.Add([]byte(strings.Replace(minimalJSON, `"merges":["a b","Ġ a","Ġa b","' s"]`, `"merges":[["a","b"],["Ġ","a"]]`, 1)))
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{},"merges":[]}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	names, _ := filepath.Glob(filepath.Join("testdata", "tiny", "*.json"))
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
}

// FuzzParse checks that any tokenizer.json, corrupt or not, gives a tokenizer
// or an error, and that a parsed tokenizer encodes and decodes without panics.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := Parse(data)
		if err != nil {
			if tok != nil {
				t.Fatal("non-nil tokenizer with an error")
			}
			return
		}
		for _, s := range []string{"", "ab 's a", "<s> [m] x", "नमस्ते\r\n  "} {
			ids, err := tok.Encode(s, true)
			if err != nil {
				continue
			}
			tok.Decode(ids)
			tok.DecodeSkipSpecial(ids)
			tok.EncodeTruncated(s, true, 3)
		}
		tok.VocabSize()
		tok.BOS()
	})
}

// FuzzEncode checks Encode on arbitrary (also invalid) UTF-8 with the committed
// small tokenizers: no panics nor errors, truncation bounds, and for
// tiny-gptoss (byte-level, no normalizer, no stripping added tokens) the exact
// round trip Decode(Encode(s)) == s after the lossy UTF-8 repair.
func FuzzEncode(f *testing.F) {
	texts := loadTexts(f)
	for _, s := range texts["hard"] {
		f.Add(s)
	}
	f.Add(texts["hi"][0])
	f.Add("\xe0\xa4 \xff\xfe <|endoftext|>\xf0\x9f")
	var toks []*Tokenizer
	for _, name := range []string{"tiny-gptoss", "tiny-llama3", "tiny-qwen3", "tiny-gpt2", "tiny-unk"} {
		tok, err := Load(filepath.Join("testdata", "tiny", name+".json"))
		if err != nil {
			f.Fatal(err)
		}
		toks = append(toks, tok)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i, tok := range toks {
			ids, err := tok.Encode(s, true)
			if err != nil {
				t.Fatalf("tokenizer %d: Encode(%q): %v", i, s, err)
			}
			tr, err := tok.EncodeTruncated(s, true, 5)
			if err != nil || len(tr) > 5 {
				t.Fatalf("tokenizer %d: EncodeTruncated(%q, 5) = %v, %v", i, s, tr, err)
			}
			if _, err := tok.Decode(ids); err != nil {
				t.Fatalf("tokenizer %d: Decode: %v", i, err)
			}
		}
		plain, _ := toks[0].Encode(s, false)
		got, err := toks[0].Decode(plain)
		want := toValidUTF8([]byte(s))
		if err != nil || got != want || !utf8.ValidString(got) {
			t.Fatalf("round trip of %q: got %q, %v", s, got, err)
		}
	})
}

// FuzzRegex checks that compiling and running any pattern gives matches or an
// error, never a panic, and that matches are ordered, within bounds and on
// rune boundaries.
func FuzzRegex(f *testing.F) {
	for _, p := range []string{gpt2Pattern, `(?i:'s|'t)|\p{L}+|\s+(?!\S)`, `a{2,3}?b|(?>x+)y|[^\s\d]++`, `(a|b?)c`, `[\p{Lu}-]`} {
		f.Add(p, "It's  a TEST 123 x\n\ny")
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		re, err := compileRegex(pattern)
		if err != nil {
			return
		}
		if !utf8.ValidString(s) {
			s = toValidUTF8([]byte(s))
		}
		ms, err := re.findAll(s, nil)
		if err != nil {
			return
		}
		prev := 0
		for _, m := range ms {
			onBoundary := func(i int) bool { return i == len(s) || utf8.RuneStart(s[i]) }
			if m[0] < prev || m[1] < m[0] || m[1] > len(s) || !onBoundary(m[0]) || !onBoundary(m[1]) {
				t.Fatalf("bad match %v after %d in %q", m, prev, s)
			}
			prev = m[1]
		}
	})
}
