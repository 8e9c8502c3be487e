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
	// Measure is the short name of the study's measure (MeasureName), which
	// heads the pairs' columns; MeasureIntro says what it is when it is not
	// CKA (its formula, and which way a distance reads).
	Measure      string
	MeasureIntro string
	// Distance: the study's measure is a distance.
	Distance bool
}

// measureIntro describes the study's measure: its formula
// (Metrics.MeasureFormula) and, when it is not CKA, that it fills CKA's
// place and which way a distance reads; "" for CKA without a formula.
func measureIntro(m *study.Metrics) string {
	cka := MeasureName(m) == "CKA"
	if cka && m.MeasureFormula == "" {
		return ""
	}
	s := "The study's measure is " + m.Measure
	if m.MeasureFormula != "" {
		s += ": " + m.MeasureFormula
	}
	s += "."
	if !cka {
		s += " It takes CKA's place throughout: the joint embedding is placed from its joint matrix, and the pairs, their intervals and p-values, the depth maps, the curves and the language matrices hold its values."
	}
	if MeasureIsDistance(m) {
		s += " It is a distance in radians (0 for the same shape): lower is closer, and the embedding is placed from cos θ."
	}
	return s
}

// Report writes one self-contained HTML page for the results folder dir:
// the tables of metrics.json (models, cross-lingual pairs with confidence
// intervals and p-values, the language axis and discriminant, notes) and
// every chart (the 3D projector, the layer-wise curves, the distance
// histograms, the language × language matrices, the measures computed beside
// the study's and the heatmaps). The study's measure is CKA or the measure
// that took its place (Metrics.Measure: svcca, shape:1, …); the page names
// it throughout. Nothing is fetched when it is viewed.
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
		Libraries: template.HTML(libraryScripts(a, true)), Style: template.CSS(styleCSS + pageCSS), NHeatmaps: len(r.Heatmaps),
		Measure: MeasureName(&r.Metrics), MeasureIntro: measureIntro(&r.Metrics), Distance: MeasureIsDistance(&r.Metrics)}
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
	from := "the joint " + d.Measure + " matrix"
	if d.Distance {
		from = "the cosine of the joint " + d.Measure + " distance matrix"
	}
	proj := reportSection{ID: "projector", Title: "Joint embedding", Wide: true,
		Intro: "Every layer of every model in every language, placed in 3D from " + from + ". Toggle models and languages; the panel follows what is visible."}
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
	// value of the study's measure with its interval and change points.
	for _, dm := range m.Depth {
		c, err := DepthCurve(m, dm)
		if err := add(&curves, c, err, true); err != nil {
			return err
		}
	}
	if len(m.Depth) > 0 {
		curves.Intro = fmt.Sprintf("The first two charts overlay every model; the others are the depth maps, one per model and pair of languages: the %s between layer k in one language and layer k in the other, its 95%% bootstrap interval over prompts (thin dashed lines) and the change points along depth (dotted lines, labelled with the change of mean %[1]s across them; metrics.json's depth entries).", d.Measure)
	}
	if d.Distance {
		if curves.Intro != "" {
			curves.Intro += " "
		}
		curves.Intro += d.Measure + " is a distance: lower is closer."
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
	langs := reportSection{ID: "language-matrices", Title: "Language × language " + d.Measure,
		Intro: "Per model, the mean over layers of the " + d.Measure + " between layer k in one language and layer k in another."}
	if d.Distance {
		langs.Intro += " A distance: lower is closer."
	}
	for _, lm := range m.LanguageMatrices {
		c, err := LanguageHeatmap(lm, m.Measure, m.N)
		if err := add(&langs, c, err, true); err != nil {
			return err
		}
	}
	if len(langs.Charts) > 0 {
		d.Sections = append(d.Sections, langs)
	}
	// The measures computed beside the study's: a joint heatmap and
	// per-model curves each.
	extra, err := extraMeasureSections(r, add)
	if err != nil {
		return err
	}
	d.Sections = append(d.Sections, extra...)
	// Heatmaps: the study's measure's before RSA's, each by kind (the
	// joint heatmaps of the extra measures are in their sections), then
	// any other.
	kindTitle := map[string]string{"within-model": "within a model", "cross-lingual": "across languages", "cross-model": "across models"}
	for _, g := range []struct {
		group heatmapGroup
		name  string
	}{{groupMain, d.Measure}, {groupRSA, "RSA"}} {
		id := sectionID(g.name)
		for _, kind := range []string{"within-model", "cross-lingual", "cross-model", ""} {
			sec := reportSection{ID: id + "-" + kind, Title: g.name + " heatmaps " + kindTitle[kind]}
			if kind == "" {
				sec.ID, sec.Title = id+"-other", g.name+" heatmaps, other"
			}
			for _, h := range r.Heatmaps {
				k := h.Info.Kind
				if _, known := kindTitle[k]; !known {
					k = ""
				}
				if groupOf(m, h) != g.group || k != kind {
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
	other := reportSection{ID: "other-heatmaps", Title: "Other heatmaps",
		Intro: "Heatmaps of the results folder that are neither " + d.Measure + "'s nor RSA's, nor the joint heatmap of a measure of metrics.json's extra_measures."}
	for _, h := range r.Heatmaps {
		if groupOf(m, h) == groupOther {
			c, err := Heatmap(h)
			if err := add(&other, c, err, true); err != nil {
				return err
			}
		}
	}
	if len(other.Charts) > 0 {
		d.Sections = append(d.Sections, other)
	}
	return executePage(w, reportTemplate, d, "report")
}

// sectionID is the id of a report section of the heatmaps of a measure:
// its name in lower case, every run of characters other than letters and
// digits a hyphen (cka, rsa, svcca, shape-1, cknna-10).
func sectionID(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
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
