package plots

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/layersim/layersim/internal/atomicfile"
	"github.com/layersim/layersim/lcka/study"
)

//go:embed report.html.tmpl
var reportTmpl string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"f4":   func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) },
	"pf4":  func(v *float64) string { return ptr(v, 4) },
	"pf2":  func(v *float64) string { return ptr(v, 2) },
	"ci":   ciString,
	"pval": pString,
	"join": strings.Join,
	"inc":  func(i int) int { return i + 1 },
	"pct": func(v float64) string {
		return strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
	},
}).Parse(reportTmpl))

func ptr(v *float64, digits int) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', digits, 64)
}

func ciString(v *[2]float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("[%.4f, %.4f]", v[0], v[1])
}

// pString writes a permutation p-value: small values in e-notation.
func pString(v *float64) string {
	switch {
	case v == nil:
		return "—"
	case *v < 1e-3:
		return strconv.FormatFloat(*v, 'e', 2, 64)
	default:
		return strconv.FormatFloat(*v, 'f', 4, 64)
	}
}

// reportChart is one chart of the report, drawn into a section.
type reportChart struct {
	HTML template.HTML
}

type reportSection struct {
	ID, Title, Intro string
	Charts           []reportChart
	Wide             bool // one chart per row
}

type reportAxisRow struct {
	Model string
	Corr  string
}

type reportData struct {
	Title     string
	Dir       string
	M         *study.Metrics
	Libraries template.HTML
	Style     template.CSS
	Sections  []reportSection
	AxisRows  []reportAxisRow
	Explained []float64
	NHeatmaps int
	// Calibrated: some pair has its permutation null (a table of it).
	Calibrated bool
}

// Report writes one self-contained HTML page for the results folder dir:
// the tables of metrics.json (models, cross-lingual pairs with confidence
// intervals and p-values, the language axis and discriminant, notes) and
// every chart (the 3D projector, the layer-wise curves, the distance
// histograms, the language × language matrices, the measures computed beside
// CKA and the heatmaps). Nothing is fetched when it is viewed.
func Report(dir string, w io.Writer) error {
	r, err := LoadResults(dir)
	if err != nil {
		return err
	}
	a, err := loadAssets()
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	d := reportData{Title: "layersim report: " + filepath.Base(abs), Dir: abs, M: &r.Metrics,
		Libraries: template.HTML(libraryScripts(a, true)), Style: template.CSS(styleCSS + pageCSS), NHeatmaps: len(r.Heatmaps)}
	for _, p := range r.Metrics.Pairs {
		d.Calibrated = d.Calibrated || p.PermNullMean != nil
	}
	m := &r.Metrics
	if ax := m.LanguageAxis; ax != nil {
		for _, mo := range m.Models {
			row := reportAxisRow{Model: mo.ID, Corr: "undefined"}
			if v, ok := ax.CorrPerModel[mo.ID]; ok {
				row.Corr = strconv.FormatFloat(v, 'f', 4, 64)
			}
			d.AxisRows = append(d.AxisRows, row)
		}
	}
	d.Explained = m.Joint.Explained

	add := func(sec *reportSection, c *Chart, err error, lazy bool) error {
		if err != nil {
			return err
		}
		frag, err := c.fragment(newID(c.kind), lazy)
		if err != nil {
			return err
		}
		sec.Charts = append(sec.Charts, reportChart{HTML: template.HTML(frag)})
		return nil
	}
	proj := reportSection{ID: "projector", Title: "Joint embedding", Wide: true,
		Intro: "Every layer of every model in every language, placed in 3D from the joint CKA matrix. Toggle models and languages; the panel follows what is visible."}
	c, err := Projector(m)
	if err := add(&proj, c, err, false); err != nil {
		return err
	}
	curves := reportSection{ID: "curves", Title: "Layer-wise curves", Wide: true}
	c, err = CrossLingualCurves(m)
	if len(m.Pairs) > 0 {
		if err := add(&curves, c, err, false); err != nil {
			return err
		}
		c, err = LastLayerCurves(m)
		if err := add(&curves, c, err, false); err != nil {
			return err
		}
	}
	// The depth maps: per model and pair of languages, the cross-lingual
	// CKA with its interval and change points.
	for _, dm := range m.Depth {
		c, err := DepthCurve(m, dm)
		if err := add(&curves, c, err, true); err != nil {
			return err
		}
	}
	if len(m.Depth) > 0 {
		curves.Intro = "The first two charts overlay every model; the others are the depth maps, one per model and pair of languages: the CKA between layer k in one language and layer k in the other, its 95% bootstrap interval over prompts (thin dashed lines) and the change points along depth (dotted lines, labelled with the change of mean CKA across them; metrics.json's depth entries)."
	}
	hist := reportSection{ID: "distances", Title: "Pair distances",
		Intro: "Distance in the 3D embedding between layer k of a model in one language and layer k in the other; all histograms share the bins."}
	if len(m.Pairs) > 0 {
		c, err = DistanceHistogram(m, "")
		if err := add(&hist, c, err, true); err != nil {
			return err
		}
		for _, mo := range m.Models {
			c, err = DistanceHistogram(m, mo.ID)
			if err := add(&hist, c, err, true); err != nil {
				return err
			}
		}
	}
	d.Sections = append(d.Sections, proj)
	if len(curves.Charts) > 0 {
		d.Sections = append(d.Sections, curves, hist)
	}
	langs := reportSection{ID: "language-matrices", Title: "Language × language CKA",
		Intro: "Per model, the mean over layers of the CKA between layer k in one language and layer k in another."}
	for _, lm := range m.LanguageMatrices {
		c, err := LanguageHeatmap(lm, m.Measure, m.N)
		if err := add(&langs, c, err, true); err != nil {
			return err
		}
	}
	if len(langs.Charts) > 0 {
		d.Sections = append(d.Sections, langs)
	}
	// The measures computed beside CKA: a joint heatmap and per-model curves each.
	extra, err := extraMeasureSections(r, add)
	if err != nil {
		return err
	}
	d.Sections = append(d.Sections, extra...)
	// Heatmaps: CKA before RSA, each by kind.
	kindTitle := map[string]string{"within-model": "within a model", "cross-lingual": "across languages", "cross-model": "across models"}
	for _, metric := range []string{"CKA", "RSA"} {
		for _, kind := range []string{"within-model", "cross-lingual", "cross-model", ""} {
			sec := reportSection{ID: strings.ToLower(metric) + "-" + kind, Title: metric + " heatmaps " + kindTitle[kind]}
			if kind == "" {
				sec.ID, sec.Title = strings.ToLower(metric)+"-other", metric+" heatmaps, other"
			}
			for _, h := range r.Heatmaps {
				k := h.Info.Kind
				if _, known := kindTitle[k]; !known {
					k = ""
				}
				if metricName(h.Metric) != metric || k != kind {
					continue
				}
				c, err := Heatmap(h)
				if err := add(&sec, c, err, true); err != nil {
					return err
				}
			}
			if len(sec.Charts) > 0 {
				d.Sections = append(d.Sections, sec)
			}
		}
	}
	return executePage(w, reportTemplate, d, "report")
}

// WriteReport writes the report of the results folder dir to path (dir's
// report.html when path is ""), atomically: a reader sees the old file or
// the whole new one.
func WriteReport(dir, path string) error {
	if path == "" {
		path = filepath.Join(dir, "report.html")
	}
	return writeAtomic(path, func(w io.Writer) error { return Report(dir, w) })
}

// executePage renders the page template t with d into memory and writes it
// to w, so that a template error writes nothing; what names the page in
// that error.
func executePage(w io.Writer, t *template.Template, d any, what string) error {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return fmt.Errorf("plots: %s: %w", what, err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeAtomic renders a page into memory and writes it to path atomically,
// so that a failed rendering leaves no half page behind.
func writeAtomic(path string, render func(io.Writer) error) error {
	var b bytes.Buffer
	if err := render(&b); err != nil {
		return err
	}
	if err := atomicfile.Write(path, b.Bytes()); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}
