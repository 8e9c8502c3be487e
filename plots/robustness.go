package plots

import (
	"encoding/json"
	"fmt"
	"github.com/layersim/layersim/internal/describe"
	"html/template"
	"io"
	"math"
	"strconv"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/layersim/layersim/lcka/robust"
)

// diverging is the colour scale of difference heatmaps (ColorBrewer's RdBu,
// reversed: blue below zero, white at zero, red above).
var diverging = []string{"#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b"}

// RobustnessCharts returns the charts of one model of a format-robustness
// comparison (package lcka/robust): the per-layer CKA between the two
// formats, the cross-lingual curves under each, the difference of each
// language's layer map (B − A) and the length-matched cross-lingual curves.
func RobustnessCharts(rep *robust.Report, m robust.Model) ([]*Chart, error) {
	if rep == nil {
		return nil, fmt.Errorf("plots: no robustness report")
	}
	var out []*Chart
	var ab []curve
	for i, lg := range m.Languages {
		ab = append(ab, curve{name: lg.Lang, model: i, dashed: i > 0, layers: m.Layers, values: lg.AB})
	}
	c, err := lineChart(m.Slug+": CKA of layer k under format A vs format B, same questions", "CKA A vs B", ab)
	if err != nil {
		return nil, err
	}
	out = append(out, c)
	pair := rep.Langs[0] + "–" + rep.Langs[1]
	c, err = lineChart(m.Slug+": cross-lingual CKA ("+pair+") of layer k under each format", "CKA", []curve{
		{name: "format A", model: 0, layers: m.Layers, values: m.CrossA},
		{name: "format B", model: 1, layers: m.Layers, values: m.CrossB},
	})
	if err != nil {
		return nil, err
	}
	out = append(out, c)
	for _, lg := range m.Languages {
		c, err := diffHeatmap(m.Slug+" · "+lg.Lang+": layer map under B minus under A", lg.MapDiff, m.Layers, m.Slug+" · "+lg.Lang)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	var lm []curve
	for r, s := range m.LengthMatched {
		root := "A"
		if r == 1 {
			root = "B"
		}
		lm = append(lm,
			curve{name: root + ": all " + strconv.Itoa(s.Of), model: r, layers: m.Layers, values: s.Whole},
			curve{name: root + ": matched " + strconv.Itoa(s.N), model: r, dashed: true, layers: m.Layers, values: s.Matched})
	}
	c, err = lineChart(m.Slug+": cross-lingual CKA ("+pair+") on the length-matched questions", "CKA", lm)
	if err != nil {
		return nil, err
	}
	out = append(out, c)
	for r, s := range m.LengthMatched {
		b := s.Baseline
		if b == nil {
			continue
		}
		root := string("AB"[r])
		c, err := lineChart(fmt.Sprintf("%s: format %s, cross-lingual CKA (%s) on the %d length-matched questions against %d random subsets of %d",
			m.Slug, root, pair, s.N, b.Subsets, b.Size), "CKA", []curve{
			{name: "length-matched", model: r, layers: m.Layers, values: s.Matched},
			{name: "random subsets, mean", model: 2, dashed: true, layers: m.Layers, values: b.Mean},
			{name: "random subsets, 2.5%", model: 2, thin: true, layers: m.Layers, values: b.Lo},
			{name: "random subsets, 97.5%", model: 2, thin: true, layers: m.Layers, values: b.Hi},
		})
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// outsideLayers lists the layers where the length-matched curve lies
// outside the baseline's band, or says that there are none.
func outsideLayers(b *robust.Baseline) string {
	if len(b.Outside) == 0 {
		return "none"
	}
	s := ""
	for i, k := range b.Outside {
		if i > 0 {
			s += ", "
		}
		s += strconv.Itoa(k)
	}
	return s
}

// diffHeatmap draws a layer×layer difference map on a diverging scale
// symmetric about zero.
func diffHeatmap(title string, d [][]float64, layers []int, axis string) (*Chart, error) {
	labels := make([]string, len(layers))
	for i, k := range layers {
		labels[i] = strconv.Itoa(k)
	}
	h := heatmapInput{matrix: d, labels: labels}
	span, err := h.check(title)
	if err != nil {
		return nil, err
	}
	// At least ±0.01, rounded outwards to two decimals.
	span = math.Max(0.01, math.Ceil(span*100)/100)
	data := make([]opts.HeatMapData, 0, len(d)*len(d))
	for i, row := range d {
		for j, v := range row {
			data = append(data, opts.HeatMapData{Value: [3]any{j, i, v}})
		}
	}
	c := charts.NewHeatMap()
	c.SetGlobalOptions(
		charts.WithInitializationOpts(opts.Initialization{Width: "100%", Height: "100%"}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "72", Right: "90", Top: "12", Bottom: "62"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Data: labels, Name: axis, NameLocation: "middle", NameGap: 32,
			SplitArea: &opts.SplitArea{Show: opts.Bool(true)}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Data: labels, Name: axis, NameLocation: "middle", NameGap: 48,
			SplitArea: &opts.SplitArea{Show: opts.Bool(true)}}),
		charts.WithVisualMapOpts(opts.VisualMap{
			Type: "continuous", Calculable: opts.Bool(true), Min: float32(-span), Max: float32(span),
			Orient: "vertical", Right: "0", Top: "center",
			InRange: &opts.VisualMapInRange{Color: diverging},
		}),
	)
	c.AddSeries("CKA B − A", data, charts.WithEmphasisOpts(opts.Emphasis{ItemStyle: &opts.ItemStyle{BorderColor: "#000", BorderWidth: 1}}))
	option, err := optionJSON(func() map[string]any {
		o := c.JSON()
		// Two decimals on the scale's handles (go-echarts has no field
		// for ECharts' visualMap.precision).
		if b, err := json.Marshal(o["visualMap"]); err == nil {
			var vm []map[string]any
			if json.Unmarshal(b, &vm) == nil && len(vm) == 1 {
				vm[0]["precision"] = 2
				o["visualMap"] = vm
			}
		}
		return o
	})
	if err != nil {
		return nil, fmt.Errorf("plots: heatmap %q: %w", title, err)
	}
	n := len(d)
	meta := heatmapMeta{XLabels: labels, YLabels: labels, XName: axis, YName: axis, Metric: "CKA B − A", Kind: "format-difference", CellLabels: n <= 16}
	cell := max(14, min(44, 560/max(n, 1)))
	return &Chart{Title: title, Height: n*cell + 85, MaxWidth: n*cell + 170, kind: "heatmap",
		payload: payload{Kind: "heatmap", Option: option, Meta: meta}}, nil
}

// heatmapInput is a square matrix with its labels.
type heatmapInput struct {
	matrix [][]float64
	labels []string
}

// check checks that the matrix is square over its labels with finite
// values and returns the largest |value|.
func (h heatmapInput) check(title string) (float64, error) {
	n := len(h.labels)
	if n == 0 || len(h.matrix) != n {
		return 0, fmt.Errorf("plots: heatmap %q: %d rows for %d layers", title, len(h.matrix), n)
	}
	span := 0.0
	for i, row := range h.matrix {
		if len(row) != n {
			return 0, fmt.Errorf("plots: heatmap %q: row %d has %d values, want %d", title, i, len(row), n)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, fmt.Errorf("plots: heatmap %q: value (%d, %d) is %g", title, i, j, v)
			}
			span = math.Max(span, math.Abs(v))
		}
	}
	return span, nil
}

var robustnessTemplate = template.Must(template.New("robustness").Funcs(template.FuncMap{
	"f4": func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) },
	"pf4": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return strconv.FormatFloat(*v, 'f', 4, 64)
	},
	"f3":   func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) },
	"mean": describe.Mean,
	"minOf": func(v []float64) float64 {
		m := math.Inf(1)
		for _, x := range v {
			m = math.Min(m, x)
		}
		return m
	},
	"root":    func(r int) string { return string("AB"[r]) },
	"outside": outsideLayers,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>layersim: prompt format and length robustness</title>
<style>{{.Style}}
</style>
{{.Libraries}}</head>
<body class="layersim-report">
<h1>Prompt format and length robustness</h1>
<table class="data">
<tr><th class="t">format A</th><td class="t">{{.R.RootA}}</td></tr>
<tr><th class="t">format B</th><td class="t">{{.R.RootB}}</td></tr>
<tr><th class="t">languages</th><td class="t">{{index .R.Langs 0}}, {{index .R.Langs 1}} (split {{.R.Split}})</td></tr>
<tr><th class="t">CKA measure</th><td class="t">{{.R.Measure}}</td></tr>
<tr><th class="t">length-matched subsets</th><td class="t">log length ratio {{index .R.Langs 1}}/{{index .R.Langs 0}} within its {{f3 .R.Quantile}} and {{f3 .Upper}} quantiles; lengths in {{.R.LengthUnit}}</td></tr>
</table>
{{if .R.Notes}}<ul>{{range .R.Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{range .Models}}<h2 id="{{.M.Slug}}">{{.M.Slug}} <span class="sub">{{.M.ID}}, {{len .M.Layers}} layers, n = {{.M.N}}</span></h2>
<p class="sub">Per language: the CKA of layer k under A against layer k under B (mean over layers), and how the layer×layer map moves from A to B over the pairs of distinct layers (r: correlation of the two maps; |Δ|: absolute differences).</p>
<table class="data">
<tr><th class="t">language</th><th>CKA A vs B, mean</th><th>min</th><th>map r</th><th>max |Δ|</th><th>at layers</th><th>mean |Δ|</th></tr>
{{range .M.Languages}}<tr><td class="t">{{.Lang}}{{if .SameTexts}} (same texts){{end}}</td><td>{{f4 .ABMean}}</td><td>{{f4 (minOf .AB)}}</td><td>{{pf4 .Movement.Corr}}</td><td>{{f4 .Movement.MaxAbs}}</td><td>{{index .Movement.MaxAt 0}}, {{index .Movement.MaxAt 1}}</td><td>{{f4 .Movement.MeanAbs}}</td></tr>
{{end}}</table>
<div style="overflow-x:auto"><table class="data">
<tr><th class="t">cross-lingual CKA, mean over layers</th><th>all questions</th><th>length-matched</th><th>subset size</th><th>ratio bounds</th><th>median ratio</th><th>mean lengths (all)</th><th>mean lengths (subset)</th></tr>
{{range $r, $s := .M.LengthMatched}}<tr><td class="t">format {{root $r}}</td><td>{{f4 (mean $s.Whole)}}</td><td>{{f4 (mean $s.Matched)}}</td><td>{{$s.N}} of {{$s.Of}}</td><td>{{f3 $s.RatioLo}}–{{f3 $s.RatioHi}}</td><td>{{f3 $s.MedianRatio}}</td><td>{{printf "%.1f, %.1f" (index $s.MeanLength 0) (index $s.MeanLength 1)}}</td><td>{{printf "%.1f, %.1f" (index $s.SubsetMeanLength 0) (index $s.SubsetMeanLength 1)}}</td></tr>
{{end}}</table></div>
{{range $r, $s := .M.LengthMatched}}{{with $s.Baseline}}<p class="sub">Format {{root $r}}: a smaller sample moves CKA by itself; on {{.Subsets}} random subsets of {{.Size}} questions (seed {{.Seed}}, the same rows in both languages) the cross-lingual CKA averages {{f4 (mean .Mean)}} over layers, against {{f4 (mean $s.Matched)}} on the length-matched ones. Layers where the length-matched curve lies outside the subsets' 2.5–97.5% band: {{outside .}}.</p>
{{end}}{{end}}<div class="grid">{{range .Charts}}{{.}}{{end}}</div>
{{end}}</body>
</html>
`))

type robustnessModel struct {
	M      robust.Model
	Charts []template.HTML
}

// Robustness writes one self-contained HTML page of a format-robustness
// comparison: the settings, then per model its tables and the charts of
// RobustnessCharts.
func Robustness(rep *robust.Report, w io.Writer) error {
	if rep == nil {
		return fmt.Errorf("plots: no robustness report")
	}
	a, err := loadAssets()
	if err != nil {
		return err
	}
	d := struct {
		R         *robust.Report
		Upper     float64
		Models    []robustnessModel
		Style     template.CSS
		Libraries template.HTML
	}{R: rep, Upper: 1 - rep.Quantile, Style: template.CSS(styleCSS + pageCSS), Libraries: template.HTML(libraryScripts(a, false))}
	for _, m := range rep.Models {
		cs, err := RobustnessCharts(rep, m)
		if err != nil {
			return err
		}
		rm := robustnessModel{M: m}
		for i, c := range cs {
			frag, err := c.fragment(newID(c.kind), i > 1)
			if err != nil {
				return err
			}
			rm.Charts = append(rm.Charts, template.HTML(frag))
		}
		d.Models = append(d.Models, rm)
	}
	return executePage(w, robustnessTemplate, d, "robustness page")
}

// WriteRobustness writes the page of Robustness to path, atomically.
func WriteRobustness(rep *robust.Report, path string) error {
	return writeAtomic(path, func(w io.Writer) error { return Robustness(rep, w) })
}
