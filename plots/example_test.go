package plots_test

import (
	"fmt"
	"log"
	"os"

	"github.com/layersim/layersim/lcka/study"
	"github.com/layersim/layersim/plots"
)

// tinyMetrics is a study of one two-layer model in two languages.
func tinyMetrics() *study.Metrics {
	return &study.Metrics{
		N: 8, Languages: []string{"en", "hi"},
		Models: []study.Model{{ID: "org/tiny", Slug: "tiny", Layers: 2}},
		Joint: study.Joint{
			Rows: []study.Row{{Lang: "en", Model: "org/tiny", Layer: 1}, {Lang: "en", Model: "org/tiny", Layer: 2},
				{Lang: "hi", Model: "org/tiny", Layer: 1}, {Lang: "hi", Model: "org/tiny", Layer: 2}},
			XYZ: [][3]float64{{0, 0, 0}, {1, 0, 0}, {0, 3, 4}, {1, 0, 1}},
		},
		Pairs: []study.Pair{{Model: "org/tiny", LangA: "en", LangB: "hi", Count: 2,
			CKAPerLayer: []float64{0.9, 0.7}, D3PerLayer: []float64{5, 1},
			CKALastLayer: []float64{0.8, 1}, CKALastLayerB: []float64{0.6, 1}}},
	}
}

func ExampleNewProjectorData() {
	d, err := plots.NewProjectorData(tinyMetrics())
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range d.Points {
		fmt.Printf("%s %s layer %d: depth %.1f at %v\n", d.Models[p.Model].ID, d.Languages[p.Lang], p.Layer, p.Depth, p.XYZ)
	}
	for _, q := range d.Pairs {
		fmt.Printf("points %d and %d: CKA %.1f, distance %.0f\n", q.A, q.B, q.CKA, q.D3)
	}
	// Output:
	// org/tiny en layer 1: depth 0.0 at [0 0 0]
	// org/tiny en layer 2: depth 1.0 at [1 0 0]
	// org/tiny hi layer 1: depth 0.0 at [0 3 4]
	// org/tiny hi layer 2: depth 1.0 at [1 0 1]
	// points 0 and 2: CKA 0.9, distance 5
	// points 1 and 3: CKA 0.7, distance 1
}

func ExampleHeatmap() {
	c, err := plots.Heatmap(study.Heatmap{
		Matrix:  [][]float64{{1, 0.42}, {0.42, 1}},
		XLabels: []string{"L1", "L2"}, YLabels: []string{"L1", "L2"},
		Metric: "cka-standardized", ModelA: "org/tiny", ModelB: "org/tiny",
		Info: study.HeatmapInfo{LangA: "en", LangB: "en", Kind: "within-model", N: 8},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Title)
	// Output:
	// CKA org/tiny (en) vs org/tiny (en)
}

func ExampleDistanceHistogram() {
	c, err := plots.DistanceHistogram(tinyMetrics(), "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Title)
	// Output:
	// Distance in 3D between layer k in two languages, all models (2 layer pairs)
}

// A notebook cell (for example with GoNB) shows a chart through its snippet.
func ExampleChart_Snippet() {
	r, err := plots.LoadResults("out/results")
	if err != nil {
		log.Fatal(err)
	}
	c, err := plots.Projector(&r.Metrics)
	if err != nil {
		log.Fatal(err)
	}
	html, err := c.Snippet() // ECharts inlined: the cell works offline
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(html) // or gonb.Chart(c) in a GoNB notebook
}

func ExampleWriteReport() {
	// The same as: layersim report --results out/results
	if err := plots.WriteReport("out/results", "out/results/report.html"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
