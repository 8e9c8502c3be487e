package plots

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseMetrics checks that ParseMetrics never panics and that whatever it
// accepts, every chart of the metrics can be built and serialized.
func FuzzParseMetrics(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(synthResults(f), "metrics.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"languages":["en","hi"],"models":[{"id":"m","slug":"m","layers":1}],"joint":{"rows":[{"lang":"en","model":"m","layer":1},{"lang":"hi","model":"m","layer":1}],"xyz":[[0,0,0],[1,1,1]]},"pairs":[{"model":"m","lang_a":"en","lang_b":"hi","count":1,"cka_per_layer":[0.5],"d3_per_layer":[1.7],"cka_to_last_layer_a":[1],"cka_to_last_layer_b":[1]}],"language_axis":{"component":2}}`))
	f.Add([]byte(`{"languages":["en"],"models":[{"id":"m"}],"joint":{"rows":[{"lang":"en","model":"m"}],"xyz":[[0,0,0]]}}`))
	f.Add([]byte(`{"models":[],"pairs":null}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMetrics(b)
		if err != nil {
			return
		}
		build := func(name string, c *Chart, err error) {
			if err != nil {
				t.Fatalf("%s of accepted metrics: %v", name, err)
			}
			if _, err := c.fragment("x", false); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		c, err := Projector(m)
		build("projector", c, err)
		if len(m.Pairs) == 0 {
			return
		}
		c, err = CrossLingualCurves(m)
		build("cross-lingual curves", c, err)
		c, err = LastLayerCurves(m)
		build("last-layer curves", c, err)
		d, _ := distances(m, "")
		if len(d) == 0 {
			return
		}
		c, err = DistanceHistogram(m, "")
		build("histogram", c, err)
		for _, mo := range m.Models {
			c, err = DistanceHistogram(m, mo.ID)
			build("histogram of "+mo.ID, c, err)
		}
	})
}

// FuzzParseHeatmap checks that ParseHeatmap never panics and that whatever it
// accepts can be drawn.
func FuzzParseHeatmap(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(synthResults(f), "heatmaps", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatal("no heatmaps", err)
	}
	for _, p := range files[:3] {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"matrix":[[1]],"x_labels":["a"],"y_labels":["b"],"metric":"rsa"}`))
	f.Add([]byte(`{"matrix":[[1,2],[3]],"x_labels":["a","b"],"y_labels":["a","b"]}`))
	f.Add([]byte(`{"matrix":[],"x_labels":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeatmap(b)
		if err != nil {
			return
		}
		c, err := Heatmap(*h)
		if err != nil {
			t.Fatalf("accepted heatmap not drawn: %v", err)
		}
		html, err := c.fragment("x", false)
		if err != nil {
			t.Fatal(err)
		}
		// The payload reads back as JSON.
		var p struct {
			Kind string `json:"kind"`
		}
		cs := chartsIn(t, html)
		if len(cs) != 1 {
			t.Fatalf("%d charts in the fragment", len(cs))
		}
		for _, e := range cs {
			if err := json.Unmarshal(e.payload, &p); err != nil || p.Kind != "heatmap" {
				t.Fatalf("payload: %v %q", err, p.Kind)
			}
		}
	})
}
