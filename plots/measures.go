package plots

import (
	"fmt"

	"github.com/layersim/layersim/lcka/study"
)

// isExtraMeasure says whether a heatmap's metric is one of the measures
// computed beside CKA (metrics.json's extra_measures), so that its heatmap
// is not filed with CKA's.
func isExtraMeasure(metric string) bool {
	_, err := study.ParseExtraMeasure(metric)
	return err == nil
}

// checkExtraMeasure checks that an extra measure of metrics.json has, per
// pair, a finite value for each layer of its model.
func checkExtraMeasure(m *study.Metrics, e study.MeasureResult) error {
	for _, p := range e.Pairs {
		if modelIndex(m, p.Model) < 0 {
			return fmt.Errorf("measure %s: pair names unknown model %q", e.Name, p.Model)
		}
		if n := len(layerNumbers(m, p.Model, p.LangA)); len(p.PerLayer) != n {
			return fmt.Errorf("measure %s: pair %s %s–%s has %d values for %d layers", e.Name, p.Model, p.LangA, p.LangB, len(p.PerLayer), n)
		}
		if err := finite(append([]float64{p.Mean}, p.PerLayer...)...); err != nil {
			return fmt.Errorf("measure %s: pair %s %s–%s: %w", e.Name, p.Model, p.LangA, p.LangB, err)
		}
		if nl := p.Null; nl != nil {
			for _, v := range [][]float64{nl.PerLayerMean, nl.PerLayerSD, nl.PerLayerCalibrated, nl.PerLayerP} {
				if len(v) != len(p.PerLayer) {
					return fmt.Errorf("measure %s: pair %s %s–%s: a null of %d values for %d layers", e.Name, p.Model, p.LangA, p.LangB, len(v), len(p.PerLayer))
				}
				if err := finite(v...); err != nil {
					return fmt.Errorf("measure %s: pair %s %s–%s: null: %w", e.Name, p.Model, p.LangA, p.LangB, err)
				}
			}
		}
	}
	return nil
}

// measureModel checks the extra measure e of m and returns the index of
// model in m.
func measureModel(m *study.Metrics, e study.MeasureResult, model string) (int, error) {
	if m == nil {
		return -1, fmt.Errorf("plots: no metrics")
	}
	if err := checkExtraMeasure(m, e); err != nil {
		return -1, fmt.Errorf("plots: %w", err)
	}
	mi := modelIndex(m, model)
	if mi < 0 {
		return -1, fmt.Errorf("plots: unknown model %q", model)
	}
	return mi, nil
}

// ExtraMeasureCurves returns, for one model and one extra measure of
// metrics.json (extra_measures), the measure between layer k in two
// languages against k, one line per pair of languages, beside the CKA of the
// same layers (dashed). A distance (the shape metrics, in radians) falls
// where CKA rises.
func ExtraMeasureCurves(m *study.Metrics, e study.MeasureResult, model string) (*Chart, error) {
	mi, err := measureModel(m, e, model)
	if err != nil {
		return nil, err
	}
	var curves []curve
	for _, p := range e.Pairs {
		if p.Model != model {
			continue
		}
		layers := layerNumbers(m, p.Model, p.LangA)
		name := fmt.Sprintf("%s–%s", p.LangA, p.LangB)
		curves = append(curves, curve{name: name + " " + e.Name, model: mi, layers: layers, values: p.PerLayer})
		for _, q := range m.Pairs {
			if q.Model == p.Model && q.LangA == p.LangA && q.LangB == p.LangB {
				curves = append(curves, curve{name: name + " CKA", model: mi, dashed: true, layers: layers, values: q.CKAPerLayer})
			}
		}
	}
	yName := "similarity"
	if e.Distance {
		yName = "similarity / distance (rad)"
	}
	return lineChart(fmt.Sprintf("%s beside CKA, layer k across languages, %s", e.Name, model), yName, curves)
}

// ExtraMeasureCalibrated returns, for one model and one extra measure whose
// pairs have their permutation null (analyze --also-null), the calibrated
// value (value − null mean) / null sd of layer k across languages against k,
// one line per pair of languages: 0 is what shuffled prompts give. For a
// distance it is negative where the layers are closer than chance.
func ExtraMeasureCalibrated(m *study.Metrics, e study.MeasureResult, model string) (*Chart, error) {
	mi, err := measureModel(m, e, model)
	if err != nil {
		return nil, err
	}
	var curves []curve
	for _, p := range e.Pairs {
		if p.Model == model && p.Null != nil {
			curves = append(curves, curve{name: fmt.Sprintf("%s–%s calibrated", p.LangA, p.LangB), model: mi,
				layers: layerNumbers(m, p.Model, p.LangA), values: p.Null.PerLayerCalibrated})
		}
	}
	yName := "(value − null mean) / null sd"
	if e.Distance {
		yName += ", < 0: closer than chance"
	}
	return lineChart(fmt.Sprintf("%s calibrated against its permutation null, layer k across languages, %s", e.Name, model), yName, curves)
}

// nullSentence describes an extra measure's permutation null, or says
// nothing when its pairs have none.
func nullSentence(e study.MeasureResult) string {
	for _, p := range e.Pairs {
		if nl := p.Null; nl != nil {
			return fmt.Sprintf(" Each cross-lingual value is set against its permutation null: the measure with the second language's prompts shuffled, %d times (seed %d), the same shuffles for every layer; the calibrated value is (value − null mean) / null sd, and metrics.json holds the null's mean, spread and one-sided p per layer and for the mean over layers.", nl.Permutations, nl.Seed)
		}
	}
	return ""
}

// extraMeasureSections returns a report section per extra measure: what it
// is and what it cost, its joint heatmap and a chart per model of its
// cross-lingual values beside CKA's.
func extraMeasureSections(r *Results, add func(*reportSection, *Chart, error, bool) error) ([]reportSection, error) {
	m := &r.Metrics
	var out []reportSection
	for i, e := range m.ExtraMeasures {
		kind := "a similarity"
		if e.Distance {
			kind = "a distance in radians (0: the same shape)"
		}
		sec := reportSection{ID: fmt.Sprintf("measure-%d", i+1), Title: e.Name, Wide: true,
			Intro: fmt.Sprintf("%s, %s: %s. Cost: %s; it took %.3g s. Reported beside CKA: the embedding, the pairs table, the intervals and the depth maps are CKA's.", e.Name, kind, e.Formula, e.Cost, e.Seconds) + nullSentence(e)}
		found := false
		for _, h := range r.Heatmaps {
			if h.File == e.Heatmap {
				c, err := Heatmap(h)
				if err := add(&sec, c, err, true); err != nil {
					return nil, err
				}
				found = true
				break
			}
		}
		if !found {
			sec.Intro += fmt.Sprintf(" (Its joint heatmap, heatmaps/%s, is missing.)", e.Heatmap)
		}
		for _, mo := range m.Models {
			has := false
			for _, p := range e.Pairs {
				has = has || p.Model == mo.ID
			}
			if !has {
				continue
			}
			c, err := ExtraMeasureCurves(m, e, mo.ID)
			if err := add(&sec, c, err, true); err != nil {
				return nil, err
			}
			hasNull := false
			for _, p := range e.Pairs {
				hasNull = hasNull || p.Model == mo.ID && p.Null != nil
			}
			if hasNull {
				c, err := ExtraMeasureCalibrated(m, e, mo.ID)
				if err := add(&sec, c, err, true); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, sec)
	}
	return out, nil
}
