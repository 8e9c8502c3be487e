package plots

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/layersim/layersim/lcka/study"
)

// LanguageHeatmap returns the chart of one model's language × language
// matrix of the mean cross-lingual value of the study's measure
// (metrics.json's language_matrices): entry (a, b) is the mean over layers
// of the measure between layer k in language a and layer k in language b.
// measure is Metrics.Measure: a CKA variant ("" reads as cka), or the
// measure that took CKA's place (svcca, shape:1, …), which the titles name.
// When the matrix has its per-layer values (cka_per_layer), a slider under
// the chart (an ECharts timeline: "mean", then layers 1..L) shows the
// matrix of each layer, on one colour scale that spans them all, and the
// chart's title follows it.
func LanguageHeatmap(lm study.LanguageMatrix, measure string, n int) (*Chart, error) {
	if err := checkLanguageMatrix(lm); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	if measure == "" {
		measure = "cka"
	}
	c, err := Heatmap(study.Heatmap{
		Matrix: lm.CKAMean, XLabels: lm.Languages, YLabels: lm.Languages, Metric: measure,
		Title:  languageTitle(metricName(measure), lm.Model, 0),
		ModelA: lm.Model, ModelB: lm.Model,
		Info: study.HeatmapInfo{Kind: "languages", N: n},
	})
	if err != nil || len(lm.CKAPerLayer) == 0 {
		return c, err
	}
	if err := addLayerSlider(c, lm, metricName(measure)); err != nil {
		return nil, fmt.Errorf("plots: language matrix of %s: %w", lm.Model, err)
	}
	return c, nil
}

// languageTitle is the title of a language heatmap of the measure named
// name showing the mean over layers (layer 0) or layer k, counted from 1 as
// the slider counts.
func languageTitle(name, model string, layer int) string {
	if layer == 0 {
		return "mean cross-lingual " + name + " per language pair, " + model
	}
	return fmt.Sprintf("cross-lingual %s at layer %d per language pair, %s", name, layer, model)
}

// sliderMeta is the meta of a language heatmap with a layer slider: the
// heatmap's, and the chart's title for each slider entry.
type sliderMeta struct {
	heatmapMeta
	Titles []string `json:"titles"`
}

// addLayerSlider adds to a language heatmap the timeline of its per-layer
// matrices: the base option keeps the mean (timeline entry "mean"), entry
// k+1 replaces the series' data with layer k+1's, and the colour scale is
// widened to every layer's values (rounded outwards to two decimals, as
// Heatmap rounds). The meta gets each entry's title, which the page puts
// above the chart when the slider moves; name names the measure in them.
func addLayerSlider(c *Chart, lm study.LanguageMatrix, name string) error {
	hm, ok := c.payload.Meta.(heatmapMeta)
	if !ok {
		return fmt.Errorf("the heatmap has no meta")
	}
	meta := sliderMeta{heatmapMeta: hm, Titles: []string{languageTitle(name, lm.Model, 0)}}
	var o map[string]any
	if err := json.Unmarshal(c.payload.Option, &o); err != nil {
		return err
	}
	lo, hi := 0.0, 1.0
	labels := []string{"mean"}
	cells := func(m [][]float64) []any {
		var out []any
		for i, row := range m {
			for j, v := range row {
				out = append(out, map[string]any{"value": [3]float64{float64(j), float64(i), v}})
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		return out
	}
	cells(lm.CKAMean)
	options := []any{map[string]any{"series": []any{map[string]any{"data": cells(lm.CKAMean)}}}}
	for k, m := range lm.CKAPerLayer {
		labels = append(labels, strconv.Itoa(k+1))
		meta.Titles = append(meta.Titles, languageTitle(name, lm.Model, k+1))
		options = append(options, map[string]any{"series": []any{map[string]any{"data": cells(m)}}})
	}
	vm, ok := o["visualMap"].([]any)
	if !ok || len(vm) != 1 {
		return fmt.Errorf("the heatmap has no colour scale")
	}
	scale := vm[0].(map[string]any)
	scale["min"], scale["max"] = math.Floor(lo*100)/100, math.Ceil(hi*100)/100
	o["timeline"] = map[string]any{
		"axisType": "category", "data": labels, "currentIndex": 0, "autoPlay": false, "playInterval": 1200,
		"left": 20, "right": 20, "bottom": 4, "height": 40, "label": map[string]any{"fontSize": 10},
	}
	o["options"] = options
	if grid, ok := o["grid"].([]any); ok && len(grid) == 1 {
		grid[0].(map[string]any)["bottom"] = "112"
	}
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	c.payload.Option = b
	c.payload.Meta = meta
	c.Height += 50
	c.MaxWidth = max(c.MaxWidth, 480)
	return nil
}

// checkLanguageMatrix checks that a language matrix is square over its
// languages, mean and per layer, with finite values.
func checkLanguageMatrix(lm study.LanguageMatrix) error {
	k := len(lm.Languages)
	check := func(what string, s [][]float64) error {
		if len(s) != k {
			return fmt.Errorf("language matrix of %s: %s has %d rows for %d languages", lm.Model, what, len(s), k)
		}
		for i, row := range s {
			if len(row) != k {
				return fmt.Errorf("language matrix of %s: %s row %d has %d values for %d languages", lm.Model, what, i, len(row), k)
			}
			if err := finite(row...); err != nil {
				return fmt.Errorf("language matrix of %s: %s: %w", lm.Model, what, err)
			}
		}
		return nil
	}
	if k == 0 {
		return fmt.Errorf("language matrix of %s: no languages", lm.Model)
	}
	if err := check("cka_mean", lm.CKAMean); err != nil {
		return err
	}
	for l, s := range lm.CKAPerLayer {
		if err := check(fmt.Sprintf("cka_per_layer[%d]", l), s); err != nil {
			return err
		}
	}
	return nil
}

// checkDiscriminant checks that the language discriminant has a ratio, an η²
// and a centroid per language for each direction, all finite.
func checkDiscriminant(d *study.LanguageDiscriminant) error {
	nd := len(d.Directions)
	if len(d.Ratio) != nd || len(d.Eta2) != nd {
		return fmt.Errorf("language discriminant: %d directions, %d ratios, %d η²", nd, len(d.Ratio), len(d.Eta2))
	}
	vals := append(append([]float64(nil), d.Ratio...), d.Eta2...)
	for _, v := range d.Directions {
		vals = append(vals, v[:]...)
	}
	for _, l := range d.Languages {
		c, ok := d.Centroids[l]
		if !ok || len(c) != nd {
			return fmt.Errorf("language discriminant: language %s has %d centroid values for %d directions", l, len(c), nd)
		}
		vals = append(vals, c...)
	}
	if err := finite(vals...); err != nil {
		return fmt.Errorf("language discriminant: %w", err)
	}
	return nil
}
