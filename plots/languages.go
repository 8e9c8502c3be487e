package plots

import (
	"fmt"

	"github.com/layersim/layersim/lcka/study"
)

// LanguageHeatmap returns the chart of one model's language × language
// matrix of mean cross-lingual CKA (metrics.json's language_matrices): entry
// (a, b) is the mean over layers of the CKA between layer k in language a
// and layer k in language b. measure names the CKA measure (Metrics.Measure).
func LanguageHeatmap(lm study.LanguageMatrix, measure string, n int) (*Chart, error) {
	if err := checkLanguageMatrix(lm); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	if measure == "" {
		measure = "cka"
	}
	return Heatmap(study.Heatmap{
		Matrix: lm.CKAMean, XLabels: lm.Languages, YLabels: lm.Languages, Metric: measure,
		Title:  "mean cross-lingual CKA per language pair, " + lm.Model,
		ModelA: lm.Model, ModelB: lm.Model,
		Info: study.HeatmapInfo{Kind: "languages", N: n},
	})
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
