package plots

import (
	"fmt"
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/layersim/layersim/lcka/study"
)

// layerNumbers returns the layer numbers of model in lang, in the order of
// the joint rows (the order of the per-layer values of a pair).
func layerNumbers(m *study.Metrics, model, lang string) []int {
	var out []int
	for _, r := range m.Joint.Rows {
		if r.Model == model && r.Lang == lang {
			out = append(out, r.Layer)
		}
	}
	return out
}

func modelIndex(m *study.Metrics, id string) int {
	for i, mo := range m.Models {
		if mo.ID == id {
			return i
		}
	}
	return -1
}

// curve is one line of a layer-wise chart.
type curve struct {
	name   string
	model  int
	dashed bool
	thin   bool // a bound of an interval: a thin dashed line without symbols
	layers []int
	values []float64
	marks  []opts.MarkLineNameXAxisItem // vertical lines at layers
}

func lineChart(title, yName string, curves []curve) (*Chart, error) {
	if len(curves) == 0 {
		return nil, fmt.Errorf("plots: %s: nothing to draw", title)
	}
	c := charts.NewLine()
	for _, cv := range curves {
		if len(cv.layers) != len(cv.values) {
			return nil, fmt.Errorf("plots: %s: %s has %d layers but %d values", title, cv.name, len(cv.layers), len(cv.values))
		}
		data := make([]opts.LineData, len(cv.values))
		for k, v := range cv.values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("plots: %s: %s layer %d: value %g", title, cv.name, cv.layers[k], v)
			}
			data[k] = opts.LineData{Value: []any{cv.layers[k], v}}
		}
		style := opts.LineStyle{Color: ModelColor(cv.model), Width: 2}
		if cv.dashed {
			style.Type = "dashed"
		}
		line := opts.LineChart{ShowSymbol: opts.Bool(true), SymbolSize: 5}
		if cv.thin {
			style.Width, style.Type, style.Opacity = 1, "dashed", opts.Float(0.6)
			line.ShowSymbol = opts.Bool(false)
		}
		so := []charts.SeriesOpts{charts.WithLineStyleOpts(style),
			charts.WithItemStyleOpts(opts.ItemStyle{Color: ModelColor(cv.model)}),
			charts.WithLineChartOpts(line)}
		if len(cv.marks) > 0 {
			so = append(so, charts.WithMarkLineNameXAxisItemOpts(cv.marks...),
				charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"},
					LineStyle: &opts.LineStyle{Color: "#444", Type: "dotted", Width: 1},
					Label:     &opts.Label{Show: opts.Bool(true), Position: "insideEndTop", Formatter: "{b}"}}))
		}
		c.AddSeries(cv.name, data, so...)
	}
	c.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Type: "scroll", Top: "0"}),
		charts.WithGridOpts(opts.Grid{Left: "60", Right: "30", Top: "45", Bottom: "50"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: "layer", NameLocation: "middle", NameGap: 28, MinInterval: 1, Min: "dataMin", Max: "dataMax"}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: yName, Scale: opts.Bool(true)}),
		charts.WithDataZoomOpts(opts.DataZoom{Type: "inside", XAxisIndex: []int{0}}),
	)
	option, err := optionJSON(c.JSON)
	if err != nil {
		return nil, fmt.Errorf("plots: %s: %w", title, err)
	}
	return &Chart{Title: title, Height: 380, kind: "echarts", payload: payload{Kind: "lines", Option: option}}, nil
}

// CrossLingualCurves returns the study's measure (CKA, or Metrics.Measure)
// between layer k in two languages against k, one line per model and pair
// of languages, with the RSA of the same layers as a dashed line when the
// study computed it.
func CrossLingualCurves(m *study.Metrics) (*Chart, error) {
	if m == nil {
		return nil, fmt.Errorf("plots: no metrics")
	}
	main := MeasureName(m)
	var curves []curve
	hasRSA := false
	for _, p := range m.Pairs {
		mi := modelIndex(m, p.Model)
		if mi < 0 {
			return nil, fmt.Errorf("plots: pair names unknown model %q", p.Model)
		}
		layers := layerNumbers(m, p.Model, p.LangA)
		name := fmt.Sprintf("%s %s–%s", p.Model, p.LangA, p.LangB)
		curves = append(curves, curve{name: name + " " + main, model: mi, layers: layers, values: p.CKAPerLayer})
		if len(p.RSAPerLayer) > 0 {
			hasRSA = true
			curves = append(curves, curve{name: name + " RSA", model: mi, dashed: true, layers: layers, values: p.RSAPerLayer})
		}
	}
	title, yName := "Cross-lingual similarity of layer k, per model", "similarity"
	if MeasureIsDistance(m) {
		title, yName = "Cross-lingual distance of layer k, per model", measureAxis(m)
		if hasRSA {
			title, yName = "Cross-lingual distance and similarity of layer k, per model", yName+" / RSA similarity"
		}
	}
	return lineChart(title, yName, curves)
}

// LastLayerCurves returns the study's measure (CKA, or Metrics.Measure) of
// every layer to the model's last layer, one line per model and language
// (dashed for languages after the first).
func LastLayerCurves(m *study.Metrics) (*Chart, error) {
	if m == nil {
		return nil, fmt.Errorf("plots: no metrics")
	}
	var curves []curve
	seen := map[[2]string]bool{}
	add := func(mi int, model, lang string, values []float64) {
		key := [2]string{model, lang}
		if seen[key] {
			return
		}
		seen[key] = true
		li := 0
		for i, l := range m.Languages {
			if l == lang {
				li = i
			}
		}
		curves = append(curves, curve{name: model + " " + lang, model: mi, dashed: li > 0, layers: layerNumbers(m, model, lang), values: values})
	}
	for _, p := range m.Pairs {
		mi := modelIndex(m, p.Model)
		if mi < 0 {
			return nil, fmt.Errorf("plots: pair names unknown model %q", p.Model)
		}
		add(mi, p.Model, p.LangA, p.CKALastLayer)
		add(mi, p.Model, p.LangB, p.CKALastLayerB)
	}
	main := MeasureName(m)
	return lineChart(main+" of each layer to the last layer, per model and language", measureAxis(m)+" to last layer", curves)
}

// DepthCurve returns the depth map of one model and pair of languages: the
// cross-lingual value of the study's measure (CKA, or Metrics.Measure) of
// layer k against k, the bounds of its 95% bootstrap interval as thin
// dashed lines, and a dotted vertical line at each change point, labelled
// with its effect (the change of the measure's mean across it).
func DepthCurve(m *study.Metrics, d study.Depth) (*Chart, error) {
	if m == nil {
		return nil, fmt.Errorf("plots: no metrics")
	}
	mi := modelIndex(m, d.Model)
	if mi < 0 {
		return nil, fmt.Errorf("plots: depth map names unknown model %q", d.Model)
	}
	mname := MeasureName(m)
	if err := checkDepth(d, mname); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	name := fmt.Sprintf("%s %s–%s", d.Model, d.Langs[0], d.Langs[1])
	main := curve{name: name + " " + mname, model: mi, layers: d.Layers, values: d.CKA}
	for _, cp := range d.ChangePoints {
		main.marks = append(main.marks, opts.MarkLineNameXAxisItem{Name: fmt.Sprintf("layer %d: %+.3f", cp.Layer, cp.Effect), XAxis: cp.Layer})
	}
	curves := []curve{main}
	if d.Lo != nil {
		curves = append(curves, curve{name: "95% interval, low", model: mi, thin: true, layers: d.Layers, values: d.Lo},
			curve{name: "95% interval, high", model: mi, thin: true, layers: d.Layers, values: d.Hi})
	}
	title := name + ": cross-lingual " + mname + " along depth"
	switch n := len(d.ChangePoints); {
	case d.ChangePoints == nil:
		title += " (no bootstrap: no change points)"
	case n == 1:
		title += ", 1 change point"
	default:
		title += fmt.Sprintf(", %d change points", n)
	}
	return lineChart(title, measureAxis(m), curves)
}
