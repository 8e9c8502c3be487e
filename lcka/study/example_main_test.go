package study_test

import (
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/study"
)

// A study whose measure is the angular Procrustes distance (shape:1) in
// CKA's place, as `layersim analyze --measure shape:1` runs it: the Hindi
// layers are the English ones rotated and slightly perturbed, so layer k in
// the two languages lies close in shape, and the permutation test finds
// them closer than every shuffle of the prompts.
func Example_mainMeasure() {
	root, err := os.MkdirTemp("", "study-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(root)
	const n, d = 40, 6
	rng := rand.New(rand.NewPCG(1, 2))
	en, hi := make([]artifacts.Matrix, 3), make([]artifacts.Matrix, 3)
	for k := range en {
		x, y := make([]float32, n*d), make([]float32, n*d)
		for i := range n {
			for j := range d {
				x[i*d+j] = float32(rng.NormFloat64())
			}
			// y's row: x's row with its first two features rotated by 90°,
			// plus noise.
			row := x[i*d : (i+1)*d]
			copy(y[i*d:], row)
			y[i*d], y[i*d+1] = -row[1], row[0]
			for j := range d {
				y[i*d+j] += float32(0.1 * rng.NormFloat64())
			}
		}
		en[k], hi[k] = artifacts.Matrix{Rows: n, Cols: d, Data: x}, artifacts.Matrix{Rows: n, Cols: d, Data: y}
	}
	meta := artifacts.Meta{ModelID: "org/tiny", NumLayers: 3, Dtype: "float32", TextsCount: n, Subset: "example"}
	for lang, layers := range map[string][]artifacts.Matrix{"en": en, "hi": hi} {
		if err := artifacts.Write(root, meta, "tiny", lang, "test", layers, nil); err != nil {
			fmt.Println(err)
			return
		}
	}
	shape1, err := study.ParseExtraMeasure("shape:1")
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := study.Analyze(study.Options{Artifacts: root, Langs: []string{"en", "hi"}, RSA: "none", Main: shape1, Permutations: 99, Bootstrap: -1})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := res.Metrics
	p := m.Pairs[0]
	fmt.Printf("measure %s (a distance: %v), %d heatmaps\n", m.Measure, m.MeasureDistance, len(res.Heatmaps))
	fmt.Printf("%s en–hi: mean θ %.2f rad over %d layers, permutation p = %.2f\n", p.Model, p.CKAMean, p.Count, *p.PermP)
	// Output:
	// measure shape:1 (a distance: true), 3 heatmaps
	// org/tiny en–hi: mean θ 0.09 rad over 3 layers, permutation p = 0.01
}
