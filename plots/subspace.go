package plots

import (
	"fmt"
	"github.com/layersim/layersim/internal/describe"
	"html/template"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/embed"
	"github.com/layersim/layersim/lcka/study"
	"github.com/layersim/layersim/lcka/subspace"
)

// subspaceMetrics dresses one map of a subspace embedding file as the
// metrics of a one-model study, so that Projector draws it: the points are
// the file's layers in its two languages, the pairs join layer k across
// them with the map's CKA and 3D distance, and the language axis is
// computed on the map's coordinates.
func subspaceMetrics(f *subspace.EmbeddingFile, em subspace.EmbeddingMap) *study.Metrics {
	id := f.ModelID
	if id == "" {
		id = f.Model
	}
	l := len(f.Layers)
	m := &study.Metrics{N: f.N, Languages: f.Langs[:], Split: f.Split, Measure: f.Measure,
		Models: []study.Model{{ID: id, Slug: f.Model, Layers: l}},
		Joint:  study.Joint{Method: f.Method, XYZ: em.XYZ, Eigenvalues: em.Eigenvalues, Explained: em.Explained},
		Pairs:  []study.Pair{{Model: id, LangA: f.Langs[0], LangB: f.Langs[1], Count: l, CKAPerLayer: em.CKA, D3PerLayer: em.PairDistance}},
	}
	label := make([]float64, 2*l)
	groups := make([]string, 2*l)
	for li, lang := range f.Langs {
		for k, layer := range f.Layers {
			m.Joint.Rows = append(m.Joint.Rows, study.Row{Lang: lang, Model: id, Layer: layer})
			label[li*l+k] = float64(1 - 2*li)
			groups[li*l+k] = id
		}
	}
	if ax, err := embed.LanguageAxis(denseXYZ(em.XYZ), label, groups); err == nil {
		m.LanguageAxis = &study.LanguageAxis{Component: ax.Component, CorrOverall: ax.Corr[ax.Component], CorrPerAxis: ax.Corr, CorrPerModel: ax.PerGroup}
	}
	return m
}

// SubspaceProjectors returns the 3D projectors of a subspace embedding
// file: the joint embedding before the removal, then one per r after it
// (rotated onto the one before; r = 0, identical to it, is left out). They
// share one box, the range of every point they show, so that side by side
// they are on one scale.
func SubspaceProjectors(f *subspace.EmbeddingFile) ([]*Chart, error) {
	if err := f.Check(); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	var shown []subspace.EmbeddingMap
	for i, em := range append([]subspace.EmbeddingMap{f.Before}, f.After...) {
		if i == 0 || em.R != 0 {
			shown = append(shown, em)
		}
	}
	b := &ProjectorBounds{}
	for k := range 3 {
		b.Min[k], b.Max[k] = math.Inf(1), math.Inf(-1)
	}
	for _, em := range shown {
		for _, p := range em.XYZ {
			for k, v := range p {
				b.Min[k], b.Max[k] = math.Min(b.Min[k], v), math.Max(b.Max[k], v)
			}
		}
	}
	var out []*Chart
	for i, em := range shown {
		d, err := NewProjectorData(subspaceMetrics(f, em))
		if err != nil {
			return nil, err
		}
		d.Bounds = b
		c := projectorChart(d)
		c.Title = fmt.Sprintf("%s: before the removal", f.Model)
		if i > 0 {
			c.Title = fmt.Sprintf("%s: %d direction(s) removed, rotated onto the embedding before", f.Model, em.R)
		}
		c.Height = 520
		out = append(out, c)
	}
	return out, nil
}

// SubspaceSeparation returns the chart of the distance in the embedding
// between layer k in the two languages, before and after each removal.
func SubspaceSeparation(f *subspace.EmbeddingFile) (*Chart, error) {
	if err := f.Check(); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	curves := []curve{{name: "before", model: 0, layers: f.Layers, values: f.Before.PairDistance}}
	for i, em := range f.After {
		curves = append(curves, curve{name: "r = " + strconv.Itoa(em.R), model: i + 1, dashed: em.R == 0, layers: f.Layers, values: em.PairDistance})
	}
	return lineChart(fmt.Sprintf("%s: 3D distance between layer k in %s and in %s", f.Model, f.Langs[0], f.Langs[1]), "distance", curves)
}

var subspaceTemplate = template.Must(template.New("subspace").Funcs(template.FuncMap{
	"f4":   func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) },
	"mean": describe.Mean,
	"at":   func(v []float64, k int) float64 { return v[k] },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>layersim: {{.F.Model}}, joint embedding before and after removing the language subspace</title>
<style>{{.Style}}
body.layersim-report{max-width:1600px}
.layersim-report .side{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:4px 24px}
</style>
{{.Libraries}}</head>
<body class="layersim-report">
<h1>{{.F.Model}}: the joint embedding before and after removing the language subspace</h1>
<table class="data">
<tr><th class="t">model</th><td class="t">{{.F.ModelID}} ({{len .F.Layers}} layers, n = {{.F.N}})</td></tr>
<tr><th class="t">languages</th><td class="t">{{index .F.Langs 0}}, {{index .F.Langs 1}} (split {{.F.Split}})</td></tr>
<tr><th class="t">CKA measure</th><td class="t">{{.F.Measure}}</td></tr>
<tr><th class="t">embedding</th><td class="t">{{.F.Method}}; each embedding after a removal rotated onto the one before (orthogonal Procrustes)</td></tr>
<tr><th class="t">directions</th><td class="t">{{if .F.CrossFit}}cross-fitted: estimated on one random half of the prompts (seed {{.Seed}}), the joint CKA matrix computed on the other half, both ways round, averaged{{else}}estimated on all prompts, the joint CKA matrix on the same prompts{{end}}</td></tr>
</table>
<h2 id="separation">Language separation</h2>
<p class="sub">Mean over layers of the cross-lingual CKA (layer k in one language against layer k in the other) and of the 3D distance between the two points of layer k; η²: the share of the points' scatter between the two languages' centroids.</p>
<table class="data">
<tr><th class="t">directions removed</th><th>CKA, mean</th><th>distance, mean</th><th>η²</th></tr>
<tr><td class="t">none (before)</td><td>{{f4 (mean .F.Before.CKA)}}</td><td>{{f4 .F.Before.MeanPairDistance}}</td><td>{{f4 .F.Before.Eta2}}</td></tr>
{{range .F.After}}<tr><td class="t">r = {{.R}}</td><td>{{f4 (mean .CKA)}}</td><td>{{f4 .MeanPairDistance}}</td><td>{{f4 .Eta2}}</td></tr>
{{end}}</table>
<div style="overflow-x:auto"><table class="data">
<tr><th class="t">layer</th><th>distance before</th>{{range .F.After}}<th>r = {{.R}}</th>{{end}}<th>CKA before</th>{{range .F.After}}<th>r = {{.R}}</th>{{end}}</tr>
{{range $k, $layer := .F.Layers}}<tr><td class="t">{{$layer}}</td><td>{{f4 (at $.F.Before.PairDistance $k)}}</td>{{range $.F.After}}<td>{{f4 (at .PairDistance $k)}}</td>{{end}}<td>{{f4 (at $.F.Before.CKA $k)}}</td>{{range $.F.After}}<td>{{f4 (at .CKA $k)}}</td>{{end}}</tr>
{{end}}</table></div>
{{.Curve}}
<h2 id="projectors">Joint embedding, before and after</h2>
<p class="sub">Every layer in both languages, placed in 3D from the joint CKA matrix before the removal (first) and after it, all on the same axes; the thin lines join layer k across the languages.</p>
<div class="side">{{range .Projectors}}{{.}}{{end}}</div>
</body>
</html>
`))

// Subspace writes one self-contained HTML page of a subspace embedding
// file: the settings, the language separation before and after each
// removal (table and curve), and the projectors side by side.
func Subspace(f *subspace.EmbeddingFile, w io.Writer) error {
	if err := f.Check(); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	a, err := loadAssets()
	if err != nil {
		return err
	}
	d := struct {
		F          *subspace.EmbeddingFile
		Seed       string
		Style      template.CSS
		Libraries  template.HTML
		Curve      template.HTML
		Projectors []template.HTML
	}{F: f, Style: template.CSS(styleCSS + pageCSS), Libraries: template.HTML(libraryScripts(a, true))}
	if f.Seed != nil {
		d.Seed = strconv.FormatUint(*f.Seed, 10)
	}
	c, err := SubspaceSeparation(f)
	if err != nil {
		return err
	}
	frag, err := c.fragment(newID(c.kind), false)
	if err != nil {
		return err
	}
	d.Curve = template.HTML(frag)
	ps, err := SubspaceProjectors(f)
	if err != nil {
		return err
	}
	for _, p := range ps {
		frag, err := p.fragment(newID(p.kind), false)
		if err != nil {
			return err
		}
		d.Projectors = append(d.Projectors, template.HTML(frag))
	}
	return executePage(w, subspaceTemplate, d, "subspace page")
}

// WriteSubspace writes the page of Subspace to path, atomically.
func WriteSubspace(f *subspace.EmbeddingFile, path string) error {
	return writeAtomic(path, func(w io.Writer) error { return Subspace(f, w) })
}

// denseXYZ returns points as a k × 3 matrix.
func denseXYZ(xyz [][3]float64) *mat.Dense {
	m := mat.NewDense(len(xyz), 3, nil)
	for i, p := range xyz {
		m.SetRow(i, p[:])
	}
	return m
}
