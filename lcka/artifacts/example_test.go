package artifacts_test

import (
	"fmt"
	"log"
	"os"

	"github.com/layersim/layersim/lcka/artifacts"
)

// This example writes a two-layer set for one model and language, then
// finds it again and reads it one layer at a time.
func Example() {
	root, err := os.MkdirTemp("", "artifacts-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)

	meta := artifacts.Meta{ModelID: "org/tiny-model", Dtype: "float32", MaxLength: 64, Subset: "demo"}
	layers := []artifacts.Matrix{
		{Rows: 2, Cols: 3, Data: []float32{1, 2, 3, 4, 5, 6}},
		{Rows: 2, Cols: 3, Data: []float32{0.5, 0, -0.5, 1, 0, -1}},
	}
	texts := []string{"Hello.", "How are you?"}
	if err := artifacts.Write(root, meta, "org__tiny-model", "en", "test", layers, texts); err != nil {
		log.Fatal(err)
	}

	sets, err := artifacts.Discover(root)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range sets {
		fmt.Printf("%s (%s) lang=%s split=%s: %d layers of %d rows, %v\n",
			s.Model, s.Slug, s.Lang, s.Split, len(s.Layers), s.Rows, s.Format)
		for _, k := range s.Layers {
			m, err := s.Layer(k)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("layer_%d: %d×%d, row 1 = %v\n", k, m.Rows, m.Cols, m.Row(1))
		}
		texts, err := s.Texts()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("texts: %q (texts_count %d)\n", texts, s.Meta.TextsCount)
	}
	// Output:
	// org/tiny-model (org__tiny-model) lang=en split=test: 2 layers of 2 rows, npz
	// layer_1: 2×3, row 1 = [4 5 6]
	// layer_2: 2×3, row 1 = [1 0 -1]
	// texts: ["Hello." "How are you?"] (texts_count 2)
}
