package tokenizer

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/layersim/layersim/internal/testenv"
)

func loadTiny(t testing.TB, name string) *Tokenizer {
	t.Helper()
	tok, err := Load(filepath.Join("testdata", "tiny", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestFileTruncation checks the "truncation" field of tokenizer.json against
// Hugging Face tokenizers 0.22.2 (testdata/ref/truncation.ref.json.gz).
func TestFileTruncation(t *testing.T) {
	var ref struct {
		Cases []struct {
			Tokenizer  string          `json:"tokenizer"`
			Truncation json.RawMessage `json:"truncation"`
			Text       string          `json:"text"`
			AddSpecial bool            `json:"add_special"`
			IDs        []int           `json:"ids"`
		} `json:"cases"`
	}
	readGzJSON(t, filepath.Join("testdata", "ref", "truncation.ref.json.gz"), &ref)
	if len(ref.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range ref.Cases {
		data, err := os.ReadFile(filepath.Join("testdata", "tiny", c.Tokenizer+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(data, &obj); err != nil {
			t.Fatal(err)
		}
		obj["truncation"] = c.Truncation
		data, _ = json.Marshal(obj)
		tok, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tok.Encode(c.Text, c.AddSpecial)
		if err != nil || !slices.Equal(got, c.IDs) {
			t.Errorf("%s %s special=%v %q: got %v, %v; want %v", c.Tokenizer, c.Truncation, c.AddSpecial, snippet(c.Text), got, err, c.IDs)
		}
	}
}

func TestEncodeTruncatedLimits(t *testing.T) {
	tok := loadTiny(t, "tiny-llama3") // its template adds <|begin_of_text|>
	bos, ok := tok.BOS()
	if !ok || tok.SpecialTokensAdded() != 1 {
		t.Fatalf("BOS() = %d, %v; SpecialTokensAdded() = %d", bos, ok, tok.SpecialTokensAdded())
	}
	text := "The quick brown fox jumps over the lazy dog"
	full, err := tok.Encode(text, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		max     int
		special bool
		want    []int
		fail    bool
	}{
		{max: -1, fail: true},
		{max: 0, special: true, fail: true}, // below the one added token
		{max: 1, special: true, want: []int{bos}},
		{max: 3, special: true, want: append([]int{bos}, full[:2]...)},
		{max: 3, special: false, want: full[:3]},
		{max: 0, special: false, want: []int{}},
		{max: 1000, special: true, want: append([]int{bos}, full...)},
	} {
		got, err := tok.EncodeTruncated(text, tc.special, tc.max)
		if (err != nil) != tc.fail || (!tc.fail && !slices.Equal(got, tc.want)) {
			t.Errorf("EncodeTruncated(max=%d, special=%v) = %v, %v; want %v (error %v)", tc.max, tc.special, got, err, tc.want, tc.fail)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tok := loadTiny(t, "tiny-llama3")
	for _, ids := range [][]int{{-1}, {1 << 40}, {5, tok.VocabSize() + 7}} {
		if _, err := tok.Decode(ids); err == nil {
			t.Errorf("Decode(%v): no error", ids)
		}
	}
	if s, err := tok.Decode(nil); err != nil || s != "" {
		t.Errorf("Decode(nil) = %q, %v", s, err)
	}
}

// TestToValidUTF8 checks the replacement of maximal invalid subparts (Unicode
// chapter 3, "U+FFFD Substitution of Maximal Subparts"), which Rust's
// String::from_utf8_lossy follows.
func TestToValidUTF8(t *testing.T) {
	const R = "\uFFFD"
	for _, tc := range []struct{ in, want string }{
		{"abc", "abc"},
		{"\xe0\xa4A", R + "A"},      // truncated 3-byte sequence: one U+FFFD
		{"\xe0A", R + "A"},          // E0 needs A0..BF next
		{"\xe0\x80A", R + R + "A"},  // E0 80 is not a prefix of a valid sequence
		{"\xed\xa0\x80", R + R + R}, // surrogates are invalid: ED needs 80..9F
		{"\xf0\x9f\x98", R},         // truncated 4-byte sequence
		{"\xf0\x9f\x98\x80\xf0\x9f", "😀" + R},
		{"\xf4\x90\x80\x80", R + R + R + R}, // above U+10FFFF
		{"\xc0\x80", R + R},                 // overlong
		{"\x80\x80A", R + R + "A"},
		{"\xff", R},
		{"a\xc3", "a" + R},
	} {
		if got := toValidUTF8([]byte(tc.in)); got != tc.want {
			t.Errorf("toValidUTF8(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestInvalidUTF8Input(t *testing.T) {
	tok := loadTiny(t, "tiny-gptoss")
	a, err := tok.Encode("x\xe0\xa4y\xff", false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tok.Encode("x\uFFFDy\uFFFD", false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Errorf("invalid UTF-8 encodes as %v, want %v (U+FFFD replacement)", a, b)
	}
}

func TestTokenLookups(t *testing.T) {
	tok := loadTiny(t, "tiny-llama3")
	for _, s := range []string{"<|begin_of_text|>", "Ġthe", "a", "<mask>"} {
		id, ok := tok.TokenID(s)
		if !ok {
			t.Errorf("TokenID(%q) not found", s)
			continue
		}
		if back, ok := tok.Token(id); !ok || back != s {
			t.Errorf("Token(TokenID(%q)) = %q, %v", s, back, ok)
		}
	}
	if _, ok := tok.TokenID("no such token"); ok {
		t.Error("TokenID found a missing token")
	}
	added := tok.AddedTokens()
	var contents []string
	for _, a := range added {
		contents = append(contents, a.Content)
	}
	// Special tokens first, each group in file order (Hugging Face's order).
	want := []string{"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<mask>", "[R]", "word"}
	if !slices.Equal(contents, want) {
		t.Errorf("AddedTokens contents = %q, want %q", contents, want)
	}
	if !added[3].LStrip || !added[4].RStrip || !added[5].SingleWord || added[5].Special {
		t.Errorf("AddedTokens flags wrong: %+v", added)
	}
}

// TestAddedTokenIDs checks Hugging Face's id assignment: ids written in
// added_tokens are ignored; a content in the vocabulary keeps its vocabulary
// id, the others are numbered from the vocabulary size on.
func TestAddedTokenIDs(t *testing.T) {
	data := strings.Replace(minimalJSON, `{"id":9,"content":"<s>"`, `{"id":77,"content":"<s>"`, 1)
	data = strings.Replace(data, `"id":10,"content":"[m]"`, `"id":3,"content":"ab"`, 1)
	tok, err := Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := tok.TokenID("<s>"); id != 9 { // vocab has 9 entries
		t.Errorf("<s> id = %d, want 9", id)
	}
	if id, _ := tok.TokenID("ab"); id != 3 {
		t.Errorf("ab id = %d, want 3", id)
	}
	if n := tok.VocabSize(); n != 10 {
		t.Errorf("VocabSize = %d, want 10", n)
	}
}

func TestParseErrors(t *testing.T) {
	base := minimalJSON
	edit := func(old, new string) string {
		if !strings.Contains(base, old) {
			t.Fatalf("seed lacks %q", old)
		}
		return strings.Replace(base, old, new, 1)
	}
	for _, tc := range []struct {
		name, json  string
		unsupported bool
	}{
		{"empty", ``, false},
		{"not an object", `[]`, false},
		{"trailing data", base + `{}`, false},
		{"no model", `{"version":"1.0"}`, false},
		{"bad version", edit(`"version":"1.0"`, `"version":"2.0"`), false},
		{"model type", edit(`"type":"BPE"`, `"type":"WordPiece"`), true},
		{"dropout", edit(`"dropout":null`, `"dropout":0.1`), true},
		{"byte fallback", edit(`"byte_fallback":false`, `"byte_fallback":true`), true},
		{"padding", edit(`"padding":null`, `"padding":{"strategy":"BatchLongest"}`), true},
		{"normalizer", edit(`{"type":"NFC"}`, `{"type":"Lowercase"}`), true},
		{"pre-tokenizer", edit(`{"type":"ByteLevel","add_prefix_space":false`, `{"type":"Whitespace","add_prefix_space":false`), true},
		{"post-processor", edit(`"post_processor":{"type":"TemplateProcessing"`, `"post_processor":{"type":"BertProcessing"`), true},
		{"decoder", edit(`"decoder":{"type":"ByteLevel"`, `"decoder":{"type":"WordPiece"`), true},
		{"regex syntax", edit(`(?i:'s)`, `(?<=x)`), true},
		{"regex error", edit(`(?i:'s)`, `(?i:'s))`), false},
		{"merge not in vocab", edit(`"a b","Ġ a"`, `"a b","Ġ q"`), false},
		{"merged not in vocab", edit(`"a b","Ġ a"`, `"a b","b a"`), false},
		{"merge line", edit(`"a b","Ġ a"`, `"a b c","Ġ a"`), false},
		{"merge pair", edit(`"merges":["a b","Ġ a","Ġa b","' s"]`, `"merges":[["a","b","c"]]`), false},
		{"duplicate id", edit(`"b":1,`, `"b":0,`), false},
		{"negative id", edit(`"b":1,`, `"b":-1,`), false},
		{"fractional id", edit(`"b":1,`, `"b":1.5,`), false},
		{"missing special token", edit(`{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence"`, `{"SpecialToken":{"id":"</s>","type_id":0}},{"Sequence"`), false},
		{"sequence B in single", edit(`{"Sequence":{"id":"A","type_id":0}}`, `{"Sequence":{"id":"B","type_id":0}}`), false},
		{"added token field", edit(`"single_word":false,`, ``), false},
		{"split behavior", edit(`"behavior":"Isolated"`, `"behavior":"Sideways"`), false},
		{"truncation strategy", edit(`"truncation":null`, `"truncation":{"max_length":5,"strategy":"Random","stride":0}`), false},
		{"lone surrogate", edit(`"a":0`, `"\ud800":0`), false},
		{"bad escape", edit(`"a":0`, `"\q":0`), false},
	} {
		_, err := Parse([]byte(tc.json))
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if errors.Is(err, ErrUnsupported) != tc.unsupported {
			t.Errorf("%s: error %v; want ErrUnsupported: %v", tc.name, err, tc.unsupported)
		}
	}
	if _, err := Parse([]byte(base)); err != nil {
		t.Fatalf("seed: %v", err)
	}
}

func TestUnkTokenMissing(t *testing.T) {
	data := strings.Replace(minimalJSON, `"unk_token":null`, `"unk_token":"<unk>"`, 1)
	tok, err := Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	// "a b" only has vocabulary characters; "z" needs the absent unk token.
	if _, err := tok.Encode("ab", false); err != nil {
		t.Errorf("Encode(ab): %v", err)
	}
	if _, err := tok.EncodeBatch([]string{"ab", "z"}, false); err == nil {
		t.Error("EncodeBatch with an unknown character and a missing unk token: no error")
	}
}

func TestConfig(t *testing.T) {
	tok := loadTiny(t, "tiny-qwen3")
	c, err := ParseConfig([]byte(`{"bos_token": null, "eos_token": "<|im_end|>",
		"pad_token": {"__type": "AddedToken", "content": "<|endoftext|>"}, "unk_token": null}`))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := tok.SpecialIDs(c)
	if err != nil {
		t.Fatal(err)
	}
	eos, _ := tok.TokenID("<|im_end|>")
	pad, _ := tok.TokenID("<|endoftext|>")
	if want := (SpecialIDs{BOS: -1, EOS: eos, Pad: pad, Unk: -1}); ids != want {
		t.Errorf("SpecialIDs = %+v, want %+v", ids, want)
	}
	if _, ok := tok.BOS(); ok {
		t.Error("tiny-qwen3 has no template, but BOS() reports one")
	}
	if _, err := tok.SpecialIDs(Config{EOS: "<nope>"}); err == nil {
		t.Error("SpecialIDs with an unknown token: no error")
	}
	for _, bad := range []string{`{"eos_token": 3}`, `{"eos_token": {"x": 1}}`, `[`} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("ParseConfig(%s): no error", bad)
		}
	}
}

// TestRealConfigs reads the tokenizer_config.json files of the npm reference
// packages, when installed.
func TestRealConfigs(t *testing.T) {
	for _, tc := range []struct{ name, bos, eos, pad string }{
		{"llama3_1", "<|begin_of_text|>", "<|eot_id|>", ""},
		{"qwen3", "", "<|im_end|>", "<|endoftext|>"},
		{"gptoss", "<|startoftext|>", "<|return|>", "<|endoftext|>"},
	} {
		dir := filepath.Dir(realTokenizerPath(tc.name))
		c, err := LoadConfig(filepath.Join(dir, "tokenizer_config.json"))
		if errors.Is(err, os.ErrNotExist) {
			testenv.Missing(t, "%s absent: run `npm ci` in testdata/ref", dir)
		}
		if err != nil {
			t.Fatal(err)
		}
		if c.BOS != tc.bos || c.EOS != tc.eos || c.Pad != tc.pad {
			t.Errorf("%s: config %+v", tc.name, c)
		}
	}
}
