package plots

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/layersim/layersim/lcka/study"
)

// viridis is the colour scale of the heatmaps (matplotlib's viridis, sampled
// at ten points).
var viridis = []string{"#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"}

// heatmapMeta is what the heatmap's tooltip needs besides the option.
type heatmapMeta struct {
	XLabels    []string `json:"x_labels"`
	YLabels    []string `json:"y_labels"`
	XName      string   `json:"x_name"`
	YName      string   `json:"y_name"`
	Metric     string   `json:"metric"`
	Kind       string   `json:"kind"`
	CellLabels bool     `json:"cell_labels"`
}

// Heatmap returns the chart of one layer×layer matrix: rows are the layers of
// ModelA in LangA (y axis), columns those of ModelB in LangB (x axis). The
// colour scale spans [0, 1], widened to the data when values fall outside.
func Heatmap(h study.Heatmap) (*Chart, error) {
	lo, hi, err := checkHeatmap(h)
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	rows, cols := len(h.Matrix), len(h.Matrix[0])
	data := make([]opts.HeatMapData, 0, rows*cols)
	for i, row := range h.Matrix {
		for j, v := range row {
			data = append(data, opts.HeatMapData{Value: [3]any{j, i, v}})
		}
	}
	// Round the scale outwards to two decimals: nicer ends, and no value
	// falls outside the float32 bounds the option carries.
	lo, hi = math.Floor(lo*100)/100, math.Ceil(hi*100)/100
	metric := metricName(h.Metric)
	title := h.Title
	if title == "" {
		title = fmt.Sprintf("%s %s (%s) vs %s (%s)", metric, h.ModelA, h.Info.LangA, h.ModelB, h.Info.LangB)
	}
	xName := axisLabel(h.ModelB, h.Info.LangB)
	yName := axisLabel(h.ModelA, h.Info.LangA)
	c := charts.NewHeatMap()
	c.SetGlobalOptions(
		charts.WithInitializationOpts(opts.Initialization{Width: "100%", Height: "100%"}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "72", Right: "90", Top: "12", Bottom: "62"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Data: h.XLabels, Name: xName, NameLocation: "middle", NameGap: 32,
			SplitArea: &opts.SplitArea{Show: opts.Bool(true)}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Data: h.YLabels, Name: yName, NameLocation: "middle", NameGap: 48,
			SplitArea: &opts.SplitArea{Show: opts.Bool(true)}}),
		charts.WithVisualMapOpts(opts.VisualMap{
			Type: "continuous", Calculable: opts.Bool(true), Min: float32(lo), Max: float32(hi),
			Orient: "vertical", Right: "0", Top: "center",
			InRange: &opts.VisualMapInRange{Color: viridis},
		}),
	)
	c.AddSeries(metric, data, charts.WithEmphasisOpts(opts.Emphasis{ItemStyle: &opts.ItemStyle{BorderColor: "#000", BorderWidth: 1}}))
	option, err := optionJSON(c.JSON)
	if err != nil {
		return nil, fmt.Errorf("plots: heatmap %q: %w", title, err)
	}
	meta := heatmapMeta{XLabels: h.XLabels, YLabels: h.YLabels, XName: xName, YName: yName, Metric: metric, Kind: h.Info.Kind,
		CellLabels: rows <= 16 && cols <= 16}
	// Square cells of 14 to 44 pixels.
	cell := max(14, min(44, 560/max(rows, cols)))
	return &Chart{Title: title, Height: rows*cell + 85, MaxWidth: cols*cell + 170, kind: "heatmap",
		payload: payload{Kind: "heatmap", Option: option, Meta: meta}}, nil
}

// checkHeatmap checks the shape and values of h and returns the range of
// its colour scale: [0, 1] widened to the values.
func checkHeatmap(h study.Heatmap) (lo, hi float64, err error) {
	rows := len(h.Matrix)
	if rows == 0 {
		return 0, 0, fmt.Errorf("heatmap %q: empty matrix", h.Title)
	}
	cols := len(h.Matrix[0])
	if cols == 0 || len(h.YLabels) != rows || len(h.XLabels) != cols {
		return 0, 0, fmt.Errorf("heatmap %q: %d×%d matrix with %d y labels and %d x labels", h.Title, rows, cols, len(h.YLabels), len(h.XLabels))
	}
	lo, hi = 0, 1
	for i, row := range h.Matrix {
		if len(row) != cols {
			return 0, 0, fmt.Errorf("heatmap %q: row %d has %d values, want %d", h.Title, i, len(row), cols)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, 0, fmt.Errorf("heatmap %q: value (%d, %d) is %g", h.Title, i, j, v)
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return lo, hi, nil
}

// optionJSON marshals an option built with go-echarts. Options of this
// package carry no JavaScript functions (the runtime adds formatters), so the
// JSON is the whole option.
func optionJSON(build func() map[string]any) (json.RawMessage, error) {
	b, err := json.Marshal(build())
	if err != nil {
		return nil, err
	}
	if strings.Contains(string(b), "__f__") {
		return nil, fmt.Errorf("option carries a JavaScript function")
	}
	return b, nil
}

// metricName is the short name of a study metric: "CKA" for a CKA measure,
// "RSA" for an RSA method, the name itself for any other measure (svcca,
// shape:0.5, …), the study's own or one computed beside it.
func metricName(metric string) string {
	m := strings.ToLower(metric)
	switch {
	case strings.HasPrefix(m, "rsa"):
		return "RSA"
	case m == "":
		return "similarity"
	case isOtherMeasure(metric):
		return metric
	default:
		return "CKA"
	}
}

func axisLabel(model, lang string) string {
	switch {
	case model != "" && lang != "":
		return model + " · " + lang
	case model != "":
		return model
	default:
		return lang
	}
}
