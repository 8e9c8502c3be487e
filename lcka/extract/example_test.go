package extract_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/data"
	"github.com/layersim/layersim/lcka/extract"
	"github.com/layersim/layersim/lcka/tinymodels"
)

func ExampleModel_Extract() {
	root, err := os.MkdirTemp("", "extract-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	modelDir := filepath.Join(root, "tiny-a")
	if err := tinymodels.Generate(modelDir, "tiny-a", 1); err != nil {
		panic(err)
	}
	ctx := context.Background()
	m, err := extract.Load(ctx, modelDir, extract.LoadOptions{})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	prompts, err := data.Load("builtin", []string{"en", "hi"}, 8, data.Options{})
	if err != nil {
		panic(err)
	}
	out := filepath.Join(root, "artifacts")
	results, err := m.Extract(ctx, prompts, extract.Options{Out: out, BatchSize: 4})
	if err != nil {
		panic(err)
	}
	for _, r := range results {
		rel, _ := filepath.Rel(out, r.Path)
		fmt.Printf("%s: %d texts in %d forward passes, longest %d tokens → %s\n", r.Lang, r.Computed, r.Forward, r.Tokens.Max, rel)
	}
	sets, err := artifacts.Discover(out)
	if err != nil {
		panic(err)
	}
	for _, s := range sets {
		fmt.Printf("%s/%s: layers %v, %d×%d, pooling %s\n", s.Slug, s.Lang, s.Layers, s.Rows, s.Cols[0], s.Meta.Extra["pooling"])
	}
	// A second run finds the sets up to date.
	results, _ = m.Extract(ctx, prompts, extract.Options{Out: out, BatchSize: 4})
	fmt.Println("skipped:", results[0].Skipped, results[1].Skipped)
	// Output:
	// en: 8 texts in 2 forward passes, longest 76 tokens → models/tiny-a/en/activations/tiny-a_en_test.npz
	// hi: 8 texts in 2 forward passes, longest 118 tokens → models/tiny-a/hi/activations/tiny-a_hi_test.npz
	// tiny-a/en: layers [1 2 3 4], 8×128, pooling "last"
	// tiny-a/hi: layers [1 2 3 4], 8×128, pooling "last"
	// skipped: true true
}
