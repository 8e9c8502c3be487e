package plots

import (
	"fmt"
	"math"

	"github.com/layersim/layersim/lcka/study"
)

// palette colours the models, in the order of Metrics.Models (Tableau 10).
var palette = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

// ModelColor returns the colour of the i-th model in every chart.
func ModelColor(i int) string { return palette[((i%len(palette))+len(palette))%len(palette)] }

// ProjectorData is what the 3D projector draws: the points of the joint
// embedding and the cross-lingual pairs between them. Indices refer to
// Models, Languages and Points.
type ProjectorData struct {
	Title     string           `json:"title"`
	Method    string           `json:"method"`
	Explained []float64        `json:"explained"`
	Languages []string         `json:"languages"`
	Models    []ProjectorModel `json:"models"`
	Points    []ProjectorPoint `json:"points"`
	Pairs     []ProjectorPair  `json:"pairs"`
	Axis      *ProjectorAxis   `json:"axis"`
	// Measure names the study's measure, whose values the pairs carry
	// (MeasureName: "CKA", or svcca, shape:1, …); Distance says that it is
	// a distance (lower is closer) rather than a similarity.
	Measure  string `json:"measure"`
	Distance bool   `json:"distance,omitempty"`
	// Bounds, when set, is a box the projector's axes span at least: pages
	// that show several projectors side by side give them all the same
	// one, so that they share one scale. Left out, the axes span the points.
	Bounds *ProjectorBounds `json:"bounds,omitempty"`
}

// ProjectorBounds is a box in the embedding's coordinates.
type ProjectorBounds struct {
	Min [3]float64 `json:"min"`
	Max [3]float64 `json:"max"`
}

// ProjectorModel is one model, with its colour.
type ProjectorModel struct {
	ID     string `json:"id"`
	Slug   string `json:"slug"`
	Layers int    `json:"layers"`
	Color  string `json:"color"`
}

// ProjectorPoint is one layer of a model in a language. Depth is its position
// among the model's layers scaled to [0, 1] (0 first, 1 last).
type ProjectorPoint struct {
	Model int        `json:"m"`
	Lang  int        `json:"l"`
	Layer int        `json:"layer"`
	Depth float64    `json:"depth"`
	XYZ   [3]float64 `json:"xyz"`
}

// ProjectorPair joins layer k of a model in two languages: points A and B.
// CKA is the pair's value of the study's measure (ProjectorData.Measure).
type ProjectorPair struct {
	Model int     `json:"m"`
	LangA int     `json:"la"`
	LangB int     `json:"lb"`
	A     int     `json:"a"`
	B     int     `json:"b"`
	CKA   float64 `json:"cka"`
	D3    float64 `json:"d3"`
}

// ProjectorAxis is the language axis: the coordinate most correlated with
// the language label, +1 for Languages[LabelLang] and -1 for the other.
type ProjectorAxis struct {
	Component    int                `json:"component"`
	LabelLang    int                `json:"label_lang"`
	CorrOverall  float64            `json:"corr_overall"`
	CorrPerModel map[string]float64 `json:"corr_per_model"`
}

// NewProjectorData checks the joint embedding and pairs of m and arranges them
// for the projector.
func NewProjectorData(m *study.Metrics) (*ProjectorData, error) {
	if m == nil {
		return nil, fmt.Errorf("plots: no metrics")
	}
	j := m.Joint
	if len(j.Rows) == 0 {
		return nil, fmt.Errorf("plots: the joint embedding has no points")
	}
	if len(j.XYZ) != len(j.Rows) {
		return nil, fmt.Errorf("plots: the joint embedding has %d rows but %d coordinates", len(j.Rows), len(j.XYZ))
	}
	d := &ProjectorData{Title: "Joint 3D embedding of all layers", Method: j.Method, Explained: j.Explained, Languages: m.Languages,
		Measure: MeasureName(m), Distance: MeasureIsDistance(m)}
	langIdx := map[string]int{}
	for i, l := range m.Languages {
		if _, dup := langIdx[l]; dup {
			return nil, fmt.Errorf("plots: language %q listed twice", l)
		}
		langIdx[l] = i
	}
	modelIdx := map[string]int{}
	for i, mo := range m.Models {
		if _, dup := modelIdx[mo.ID]; dup {
			return nil, fmt.Errorf("plots: model %q listed twice", mo.ID)
		}
		modelIdx[mo.ID] = i
		d.Models = append(d.Models, ProjectorModel{ID: mo.ID, Slug: mo.Slug, Layers: mo.Layers, Color: ModelColor(i)})
	}
	// block[model][lang] lists the points of one activation set in row order.
	block := make([][][]int, len(m.Models))
	for i := range block {
		block[i] = make([][]int, len(m.Languages))
	}
	for i, r := range j.Rows {
		mi, ok := modelIdx[r.Model]
		if !ok {
			return nil, fmt.Errorf("plots: joint row %d: model %q is not among the models", i, r.Model)
		}
		li, ok := langIdx[r.Lang]
		if !ok {
			return nil, fmt.Errorf("plots: joint row %d: language %q is not among the languages", i, r.Lang)
		}
		for k, v := range j.XYZ[i] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("plots: joint row %d: coordinate %d is %g", i, k, v)
			}
		}
		block[mi][li] = append(block[mi][li], len(d.Points))
		d.Points = append(d.Points, ProjectorPoint{Model: mi, Lang: li, Layer: r.Layer, XYZ: j.XYZ[i]})
	}
	for _, langs := range block {
		for _, idx := range langs {
			for pos, i := range idx {
				d.Points[i].Depth = 1
				if len(idx) > 1 {
					d.Points[i].Depth = float64(pos) / float64(len(idx)-1)
				}
			}
		}
	}
	for pi, p := range m.Pairs {
		mi, ok := modelIdx[p.Model]
		la, okA := langIdx[p.LangA]
		lb, okB := langIdx[p.LangB]
		if !ok || !okA || !okB {
			return nil, fmt.Errorf("plots: pair %d (%s %s–%s) names an unknown model or language", pi, p.Model, p.LangA, p.LangB)
		}
		a, b := block[mi][la], block[mi][lb]
		if len(a) != len(b) || len(p.CKAPerLayer) != len(a) || len(p.D3PerLayer) != len(a) {
			return nil, fmt.Errorf("plots: pair %s %s–%s: %d and %d layers, %d %s and %d distance values",
				p.Model, p.LangA, p.LangB, len(a), len(b), len(p.CKAPerLayer), d.Measure, len(p.D3PerLayer))
		}
		for k := range a {
			if err := finite(p.CKAPerLayer[k], p.D3PerLayer[k]); err != nil {
				return nil, fmt.Errorf("plots: pair %s %s–%s layer %d: %w", p.Model, p.LangA, p.LangB, k, err)
			}
			d.Pairs = append(d.Pairs, ProjectorPair{Model: mi, LangA: la, LangB: lb, A: a[k], B: b[k], CKA: p.CKAPerLayer[k], D3: p.D3PerLayer[k]})
		}
	}
	if ax := m.LanguageAxis; ax != nil && len(m.Languages) == 2 {
		if ax.Component < 0 || ax.Component > 2 {
			return nil, fmt.Errorf("plots: language axis component %d is not 0, 1 or 2", ax.Component)
		}
		d.Axis = &ProjectorAxis{Component: ax.Component, LabelLang: 0, CorrOverall: ax.CorrOverall, CorrPerModel: ax.CorrPerModel}
	}
	return d, nil
}

func finite(vs ...float64) error {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("value %g", v)
		}
	}
	return nil
}

// Projector returns the 3D projector of the joint embedding in m: points
// coloured per model and language, sized by layer depth; toggles per model
// and language; links between layer k in two languages; depth lines through
// a model's layers; tooltips with the pair's value of the study's measure
// (CKA, or Metrics.Measure) and distance (the partner is highlighted); a
// panel of statistics over what is visible; a reset button.
//
// Three colour modes: "model × language" (the model's colour, a shade of it
// and a symbol per language; the six symbols and seven shades make 42
// combinations that do not repeat), "language" (one colour per language,
// picked far apart in CIELAB, and a symbol per model) and "layer depth".
// Up to six languages the first is the default, above six the second: the
// shades of one colour that tell the seventh and later languages apart in
// the first mode are hard to see.
func Projector(m *study.Metrics) (*Chart, error) {
	d, err := NewProjectorData(m)
	if err != nil {
		return nil, err
	}
	return projectorChart(d), nil
}

// projectorChart returns the chart that draws d.
func projectorChart(d *ProjectorData) *Chart {
	return &Chart{Title: d.Title, Height: 620, kind: "projector", gl: true, payload: payload{Kind: "projector", Data: d}}
}
