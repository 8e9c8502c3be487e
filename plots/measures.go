package plots

import (
	"fmt"

	"github.com/layersim/layersim/lcka/study"
)

// isOtherMeasure says whether a metric names a measure other than CKA and
// RSA (one study.ParseExtraMeasure parses: svcca, shape:0.5, …). Such a
// measure is either the study's own (Metrics.Measure) or one computed beside
// it (Metrics.ExtraMeasures): heatmapGroup tells them apart.
func isOtherMeasure(metric string) bool {
	_, err := study.ParseExtraMeasure(metric)
	return err == nil
}

// MeasureName is the short name of the study's measure (m.Measure),
// whose values the embedding, the pairs, the depth maps and the language
// matrices hold: "CKA" for a CKA variant (or none named), the measure's own
// name otherwise (svcca, cknna:10, shape:1, …). Charts and tables name it
// so.
func MeasureName(m *study.Metrics) string {
	if m == nil || m.Measure == "" {
		return "CKA"
	}
	return metricName(m.Measure)
}

// MeasureIsDistance says whether the study's measure is a distance (0 for
// the same shape; the shape metrics, in radians) rather than a similarity:
// Metrics.MeasureDistance, or what its name says when metrics.json does not.
func MeasureIsDistance(m *study.Metrics) bool {
	if m == nil {
		return false
	}
	e, err := study.ParseExtraMeasure(m.Measure)
	return m.MeasureDistance || err == nil && e.Distance()
}

// measureAxis is the name of a value axis that carries the study's measure:
// its name, said to be a distance when it is one.
func measureAxis(m *study.Metrics) string {
	if MeasureIsDistance(m) {
		return MeasureName(m) + " (distance, rad)"
	}
	return MeasureName(m)
}

// heatmapGroup is where the report files heatmap h of m.
type heatmapGroup int

const (
	groupMain  heatmapGroup = iota // the study's measure (Metrics.Measure)
	groupRSA                       // the study's RSA method
	groupExtra                     // the joint heatmap of an extra measure
	groupOther                     // none of these
)

// groupOf files h: the joint heatmap of a measure of m.ExtraMeasures (the
// file its Heatmap names) with that measure, whose section shows it; an RSA
// heatmap with RSA's; a heatmap of m.Measure that is not a joint one with
// the study's heatmaps (when the study's measure is CKA, any CKA heatmap,
// as before measures other than CKA could lead a study); any other in a
// group of its own.
func groupOf(m *study.Metrics, h study.Heatmap) heatmapGroup {
	for _, e := range m.ExtraMeasures {
		if h.File != "" && h.File == e.Heatmap {
			return groupExtra
		}
	}
	name := metricName(h.Metric)
	switch {
	case name == "RSA":
		return groupRSA
	case h.Metric == m.Measure && h.Info.Kind != "joint":
		return groupMain
	case name == "CKA" && MeasureName(m) == "CKA":
		return groupMain
	}
	return groupOther
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
// languages against k, one line per pair of languages, beside the study's
// measure (CKA, or Metrics.Measure) of the same layers (dashed). A distance
// (the shape metrics, in radians) falls where a similarity rises.
func ExtraMeasureCurves(m *study.Metrics, e study.MeasureResult, model string) (*Chart, error) {
	mi, err := measureModel(m, e, model)
	if err != nil {
		return nil, err
	}
	main := MeasureName(m)
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
				curves = append(curves, curve{name: name + " " + main, model: mi, dashed: true, layers: layers, values: q.CKAPerLayer})
			}
		}
	}
	yName := "similarity"
	switch dist := MeasureIsDistance(m); {
	case e.Distance && dist:
		yName = "distance (rad)"
	case e.Distance || dist:
		yName = "similarity / distance (rad)"
	}
	return lineChart(fmt.Sprintf("%s beside %s, layer k across languages, %s", e.Name, main, model), yName, curves)
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
// cross-lingual values beside the study's measure's.
func extraMeasureSections(r *Results, add func(*reportSection, *Chart, error, bool) error) ([]reportSection, error) {
	m := &r.Metrics
	main := MeasureName(m)
	var out []reportSection
	for i, e := range m.ExtraMeasures {
		kind := "a similarity"
		if e.Distance {
			kind = "a distance in radians (0: the same shape)"
		}
		sec := reportSection{ID: fmt.Sprintf("measure-%d", i+1), Title: e.Name, Wide: true,
			Intro: fmt.Sprintf("%s, %s: %s. Cost: %s; it took %.3g s. Reported beside %s: the embedding, the pairs table, the intervals and the depth maps are %[6]s's.", e.Name, kind, e.Formula, e.Cost, e.Seconds, main) + nullSentence(e)}
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
