package tokenizer_test

import (
	"fmt"
	"log"

	"github.com/layersim/layersim/lcka/tokenizer"
)

// The examples use a small byte-level BPE tokenizer with the Llama-3.1 layout
// (Split regex, ByteLevel, <|begin_of_text|> template), trained by
// testdata/ref/gen_ref.js; its outputs agree with Hugging Face tokenizers.

func ExampleTokenizer_Encode() {
	tok, err := tokenizer.Load("testdata/tiny/tiny-llama3.json")
	if err != nil {
		log.Fatal(err)
	}
	ids, err := tok.Encode("I'm here<|eot_id|>", false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ids)
	withBOS, _ := tok.Encode("I'm here<|eot_id|>", true)
	fmt.Println(withBOS)
	for _, id := range withBOS {
		s, _ := tok.Token(id)
		fmt.Printf("%q ", s)
	}
	fmt.Println()
	// Output:
	// [73 39 109 567 287 1258]
	// [1256 73 39 109 567 287 1258]
	// "<|begin_of_text|>" "I" "'" "m" "Ġhe" "re" "<|eot_id|>"
}

func ExampleTokenizer_EncodeTruncated() {
	tok, err := tokenizer.Load("testdata/tiny/tiny-llama3.json")
	if err != nil {
		log.Fatal(err)
	}
	// At most 4 ids, of which the post-processor's <|begin_of_text|> is one.
	ids, err := tok.EncodeTruncated("The quick brown fox", true, 4)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ids, tok.SpecialTokensAdded())
	text, _ := tok.Decode(ids)
	fmt.Printf("%q\n", text)
	// Output:
	// [1256 428 705 318] 1
	// "<|begin_of_text|>The quic"
}

func ExampleTokenizer_DecodeSkipSpecial() {
	tok, err := tokenizer.Load("testdata/tiny/tiny-llama3.json")
	if err != nil {
		log.Fatal(err)
	}
	ids, _ := tok.Encode("नमस्ते world", true)
	all, _ := tok.Decode(ids)
	text, _ := tok.DecodeSkipSpecial(ids)
	fmt.Printf("%q\n%q\n", all, text)
	// Output:
	// "<|begin_of_text|>नमस्ते world"
	// "नमस्ते world"
}

func ExampleParseConfig() {
	tok, err := tokenizer.Load("testdata/tiny/tiny-llama3.json")
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := tokenizer.ParseConfig([]byte(`{"bos_token": "<|begin_of_text|>",
		"eos_token": {"content": "<|eot_id|>", "special": true}, "pad_token": null}`))
	if err != nil {
		log.Fatal(err)
	}
	ids, err := tok.SpecialIDs(cfg)
	if err != nil {
		log.Fatal(err)
	}
	bos, _ := tok.BOS()
	fmt.Printf("%+v\n%+v\nBOS from the template: %d\n", cfg, ids, bos)
	// Output:
	// {BOS:<|begin_of_text|> EOS:<|eot_id|> Pad: Unk:}
	// {BOS:1256 EOS:1258 Pad:-1 Unk:-1}
	// BOS from the template: 1256
}
