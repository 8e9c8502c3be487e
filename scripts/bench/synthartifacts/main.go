// Command synthartifacts writes synthetic activations in the study's layout
// (ROOT/models/<slug>/<lang>/activations/<slug>_<lang>_test.npz), for timing
// `layersim analyze` at sizes no real run here can produce:
//
//	GOEXPERIMENT=simd go run ./scripts/bench/synthartifacts -out /tmp/art20k -n 20000 -d 1024 -layers 10 -models 2
//
// Model m's layer k in each language is a shared standard-normal base plus
// independent noise of scale 0.2 + 0.15·k, so languages agree less with
// depth. Seeds are fixed: the same flags give the same files.
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/layersim/layersim/lcka/artifacts"
)

func main() {
	out := flag.String("out", "", "the artifacts root to write")
	n := flag.Int("n", 20000, "prompts")
	d := flag.Int("d", 1024, "features per layer")
	layers := flag.Int("layers", 10, "layers per model")
	models := flag.Int("models", 2, "models")
	flag.Parse()
	if *out == "" || *n < 2 || *d < 1 || *layers < 1 || *models < 1 {
		log.Fatal("synthartifacts: want -out, and positive -n (≥ 2), -d, -layers, -models")
	}
	for mi := 0; mi < *models; mi++ {
		slug := fmt.Sprintf("synthetic-%d", mi+1)
		base := make([]float32, *n**d)
		rng := rand.New(rand.NewPCG(uint64(mi), 1))
		for i := range base {
			base[i] = float32(rng.NormFloat64())
		}
		for li, lang := range []string{"en", "hi"} {
			meta := artifacts.Meta{ModelID: "synthetic/" + slug, NumLayers: *layers, Dtype: "float32", MaxLength: 256, TextsCount: *n, Subset: "synthetic"}
			w, err := artifacts.Create(*out, meta, slug, lang, "test", artifacts.NPZ)
			if err != nil {
				log.Fatal(err)
			}
			noise := rand.New(rand.NewPCG(uint64(mi), uint64(2+li)))
			for k := 0; k < *layers; k++ {
				s := float32(0.2 + 0.15*float64(k))
				data := make([]float32, len(base))
				for i, v := range base {
					data[i] = v + s*float32(noise.NormFloat64())
				}
				if err := w.WriteLayer(artifacts.Matrix{Rows: *n, Cols: *d, Data: data}); err != nil {
					w.Abort()
					log.Fatal(err)
				}
			}
			if err := w.Commit(nil); err != nil {
				log.Fatal(err)
			}
			fmt.Printf("%s/%s: %d layers of %d × %d\n", slug, lang, *layers, *n, *d)
		}
	}
}
