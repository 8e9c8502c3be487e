// Command synthartifacts writes synthetic activations in the study's layout
// (ROOT/models/<slug>/<lang>/activations/<slug>_<lang>_test.npz), for timing
// `layersim analyze` at sizes no real run here can produce:
//
//	GOEXPERIMENT=simd go run ./scripts/bench/synthartifacts -out /tmp/art20k -n 20000 -d 1024 -layers 10 -models 2
//
// -shapes gives each model its own layers×width instead, e.g. the study's four
// models (Llama-3.2-1B, Llama-3.2-3B, Llama-3.1-8B, gpt-oss-20b):
//
//	GOEXPERIMENT=simd go run ./scripts/bench/synthartifacts -out /tmp/study400 -n 400 -shapes 16x2048,28x3072,32x4096,24x2880
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
	"strings"

	"github.com/layersim/layersim/lcka/artifacts"
)

func main() {
	out := flag.String("out", "", "the artifacts root to write")
	n := flag.Int("n", 20000, "prompts")
	d := flag.Int("d", 1024, "features per layer")
	layers := flag.Int("layers", 10, "layers per model")
	models := flag.Int("models", 2, "models")
	shapeList := flag.String("shapes", "", "layers×width per model, e.g. 16x2048,28x3072 (overrides -layers, -d and -models)")
	flag.Parse()
	if *out == "" || *n < 2 || *d < 1 || *layers < 1 || *models < 1 {
		log.Fatal("synthartifacts: want -out, and positive -n (≥ 2), -d, -layers, -models")
	}
	type shape struct{ layers, d int }
	var shapes []shape
	if *shapeList == "" {
		for range *models {
			shapes = append(shapes, shape{*layers, *d})
		}
	} else {
		for _, s := range strings.Split(*shapeList, ",") {
			var sh shape
			if _, err := fmt.Sscanf(s, "%dx%d", &sh.layers, &sh.d); err != nil || sh.layers < 1 || sh.d < 1 {
				log.Fatalf("synthartifacts: shape %q: want LAYERSxWIDTH, both positive", s)
			}
			shapes = append(shapes, sh)
		}
	}
	for mi, sh := range shapes {
		slug := fmt.Sprintf("synthetic-%d", mi+1)
		base := make([]float32, *n*sh.d)
		rng := rand.New(rand.NewPCG(uint64(mi), 1))
		for i := range base {
			base[i] = float32(rng.NormFloat64())
		}
		for li, lang := range []string{"en", "hi"} {
			meta := artifacts.Meta{ModelID: "synthetic/" + slug, NumLayers: sh.layers, Dtype: "float32", MaxLength: 256, TextsCount: *n, Subset: "synthetic"}
			w, err := artifacts.Create(*out, meta, slug, lang, "test", artifacts.NPZ)
			if err != nil {
				log.Fatal(err)
			}
			noise := rand.New(rand.NewPCG(uint64(mi), uint64(2+li)))
			for k := 0; k < sh.layers; k++ {
				s := float32(0.2 + 0.15*float64(k))
				data := make([]float32, len(base))
				for i, v := range base {
					data[i] = v + s*float32(noise.NormFloat64())
				}
				if err := w.WriteLayer(artifacts.Matrix{Rows: *n, Cols: sh.d, Data: data}); err != nil {
					w.Abort()
					log.Fatal(err)
				}
			}
			if err := w.Commit(nil); err != nil {
				log.Fatal(err)
			}
			fmt.Printf("%s/%s: %d layers of %d × %d\n", slug, lang, sh.layers, *n, sh.d)
		}
	}
}
