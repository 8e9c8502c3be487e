package study

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/artifacts"
)

// heatmaps cuts the CKA (or Options.Main's) and RSA matrices into the
// study's heatmaps: within a model per language, across languages within a
// model, and across models per language.
func heatmaps(res *Result, blocks []block) []Heatmap {
	m := &res.Metrics
	var out []Heatmap
	add := func(s mat.Symmetric, metric string, a, b block, kind string) {
		la, lb := len(a.set.Layers), len(b.set.Layers)
		h := Heatmap{
			Matrix: make([][]float64, la), Metric: metric,
			ModelA: m.Models[a.model].ID, ModelB: m.Models[b.model].ID,
			Info: HeatmapInfo{LangA: a.lang, LangB: b.lang, Kind: kind, N: m.N},
		}
		for i := 0; i < la; i++ {
			h.YLabels = append(h.YLabels, fmt.Sprintf("L%d", a.set.Layers[i]))
			row := make([]float64, lb)
			for j := 0; j < lb; j++ {
				row[j] = s.At(a.first+i, b.first+j)
			}
			h.Matrix[i] = row
		}
		for j := 0; j < lb; j++ {
			h.XLabels = append(h.XLabels, fmt.Sprintf("L%d", b.set.Layers[j]))
		}
		// CKA and RSA by their kind; a measure of Options.Main by its name,
		// parameter included (shape:0.5).
		upper := strings.ToUpper(strings.SplitN(metric, ":", 2)[0])
		main := metric == m.Measure && m.MeasureFormula != ""
		if main {
			upper = metric
		}
		switch kind {
		case "within-model":
			h.Title = fmt.Sprintf("%s %s (%s)", upper, h.ModelA, a.lang)
		case "cross-lingual":
			h.Title = fmt.Sprintf("%s %s: %s vs %s", upper, h.ModelA, a.lang, b.lang)
		default:
			h.Title = fmt.Sprintf("%s %s vs %s (%s)", upper, h.ModelA, h.ModelB, a.lang)
		}
		prefix := "cka"
		switch {
		case main:
			prefix = fileSafe(metric)
		case strings.HasPrefix(metric, "rsa"):
			prefix = "rsa"
		}
		h.File = fmt.Sprintf("%s_%s_%s__%s_%s.json", prefix, m.Models[a.model].Slug, a.lang, m.Models[b.model].Slug, b.lang)
		out = append(out, h)
	}
	for _, mx := range []struct {
		s      *mat.SymDense
		metric string
	}{{res.CKA, m.Measure}, {res.RSA, m.RSAMethod}} {
		if mx.s == nil {
			continue
		}
		for i, a := range blocks {
			for _, b := range blocks[i:] {
				switch {
				case a.model == b.model && a.lang == b.lang:
					add(mx.s, mx.metric, a, b, "within-model")
				case a.model == b.model:
					add(mx.s, mx.metric, a, b, "cross-lingual")
				case a.lang == b.lang:
					add(mx.s, mx.metric, a, b, "cross-model")
				}
			}
		}
	}
	return out
}

// Write stores the results under dir: metrics.json, joint_coords.json and
// heatmaps/*.json, each atomically.
func Write(dir string, res *Result) error {
	if err := os.MkdirAll(filepath.Join(dir, "heatmaps"), 0o755); err != nil {
		return err
	}
	for _, h := range res.Heatmaps {
		if err := artifacts.WriteJSON(filepath.Join(dir, "heatmaps", h.File), h); err != nil {
			return err
		}
	}
	if err := artifacts.WriteJSON(filepath.Join(dir, "joint_coords.json"), res.Metrics.Joint); err != nil {
		return err
	}
	return artifacts.WriteJSON(filepath.Join(dir, "metrics.json"), res.Metrics)
}
