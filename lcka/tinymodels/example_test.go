package tinymodels_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/layersim/layersim/lcka/hf"
	"github.com/layersim/layersim/lcka/tinymodels"
	"github.com/layersim/layersim/lcka/tokenizer"
)

func ExampleGenerate() {
	root, err := os.MkdirTemp("", "tiny")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	dir := filepath.Join(root, "tiny-a")
	if err := tinymodels.Generate(dir, "tiny-a", 1); err != nil {
		panic(err)
	}
	// The folder reads like any Hugging Face model folder.
	cfg, err := hf.LoadConfig(dir)
	if err != nil {
		panic(err)
	}
	tok, err := tokenizer.Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		panic(err)
	}
	ids, err := tok.Encode("Water boils at 100 degrees.", true)
	if err != nil {
		panic(err)
	}
	text, _ := tok.DecodeSkipSpecial(ids)
	fmt.Printf("%s: %d layers, hidden %d, vocabulary %d\n", cfg.ModelType, cfg.NumHiddenLayers, cfg.HiddenSize, cfg.VocabSize)
	fmt.Printf("%d ids, BOS first: %v; decoded: %s\n", len(ids), ids[0] == cfg.BOSTokenIDs[0], text)
	// Output:
	// llama: 4 layers, hidden 128, vocabulary 1550
	// 10 ids, BOS first: true; decoded: Water boils at 100 degrees.
}
