package plots

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/layersim/layersim/lcka/study"
)

// histogramMeta is what the histogram's tooltip needs: the bin edges.
type histogramMeta struct {
	Edges []float64 `json:"edges"`
}

// binEdges returns k+1 equal-width edges over [min(v), max(v)], with
// k = ⌈log₂ n⌉ + 1 bins (Sturges' rule) for n values, at most 40.
func binEdges(v []float64) []float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	k := 1
	if hi > lo {
		k = min(int(math.Ceil(math.Log2(float64(len(v)))))+1, 40)
	}
	edges := make([]float64, k+1)
	for i := range edges {
		edges[i] = lo + (hi-lo)*float64(i)/float64(k)
	}
	edges[k] = hi
	return edges
}

// binCounts counts v in the bins [e₀, e₁), [e₁, e₂), …, [e_{k-1}, e_k]: the
// last bin is closed. Values outside [e₀, e_k] are not counted.
func binCounts(v, edges []float64) []int {
	k := len(edges) - 1
	counts := make([]int, k)
	for _, x := range v {
		if x < edges[0] || x > edges[k] {
			continue
		}
		// The last bin whose lower edge is ≤ x.
		i := sort.Search(k, func(i int) bool { return edges[i] > x }) - 1
		counts[max(i, 0)]++
	}
	return counts
}

// distances returns the 3D distances of the layer pairs of model ("" for all
// models) and checks them.
func distances(m *study.Metrics, model string) ([]float64, error) {
	var d []float64
	for _, p := range m.Pairs {
		if model != "" && p.Model != model {
			continue
		}
		for k, v := range p.D3PerLayer {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return nil, fmt.Errorf("plots: pair %s %s–%s layer %d: distance %g", p.Model, p.LangA, p.LangB, k, v)
			}
			d = append(d, v)
		}
	}
	return d, nil
}

// DistanceHistogram returns the histogram of the 3D distances between layer k
// in two languages: of one model, or of all models ("") with a bar segment per
// model. The bins are those of all models' distances (Sturges' rule), so the
// histograms of single models line up with the overall one.
func DistanceHistogram(m *study.Metrics, model string) (*Chart, error) {
	if m == nil {
		return nil, fmt.Errorf("plots: no metrics")
	}
	all, err := distances(m, "")
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("plots: no cross-lingual pairs, so no distances")
	}
	edges := binEdges(all)
	labels := make([]string, len(edges)-1)
	for i := range labels {
		labels[i] = strconv.FormatFloat((edges[i]+edges[i+1])/2, 'f', 3, 64)
	}
	c := charts.NewBar()
	title := "Distance in 3D between layer k in two languages, all models"
	var models []int
	for i, mo := range m.Models {
		if model == "" || mo.ID == model {
			models = append(models, i)
		}
	}
	if model != "" {
		if len(models) == 0 {
			return nil, fmt.Errorf("plots: no model %q", model)
		}
		title = "Distance in 3D between layer k in two languages, " + model
	}
	n := 0
	for _, mi := range models {
		d, err := distances(m, m.Models[mi].ID)
		if err != nil {
			return nil, err
		}
		n += len(d)
		counts := binCounts(d, edges)
		data := make([]opts.BarData, len(counts))
		for i, c := range counts {
			data[i] = opts.BarData{Value: c}
		}
		c.AddSeries(m.Models[mi].ID, data, charts.WithItemStyleOpts(opts.ItemStyle{Color: ModelColor(mi)}),
			charts.WithBarChartOpts(opts.BarChart{Stack: "pairs", BarCategoryGap: "2%"}))
	}
	c.SetGlobalOptions(
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(model == ""), Type: "scroll", Top: "0"}),
		charts.WithGridOpts(opts.Grid{Left: "60", Right: "20", Top: "40", Bottom: "55"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Data: labels, Name: "3D distance (bin centre)", NameLocation: "middle", NameGap: 32}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "layer pairs", MinInterval: 1}),
	)
	option, err := optionJSON(c.JSON)
	if err != nil {
		return nil, fmt.Errorf("plots: %s: %w", title, err)
	}
	return &Chart{Title: fmt.Sprintf("%s (%d layer pairs)", title, n), Height: 340, kind: "echarts",
		payload: payload{Kind: "histogram", Option: option, Meta: histogramMeta{Edges: edges}}}, nil
}
