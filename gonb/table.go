package gonb

import (
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/janpfeifer/gonb/gonbui"

	"github.com/layersim/layersim/lcka/study"
	"github.com/layersim/layersim/plots"
)

// Missing is the cell text of a value that was not computed (for example a
// permutation p-value when the statistics were skipped).
const Missing = "—"

// MetricsHeader is the header of MetricsTable when the study's measure is
// CKA; for another measure MetricsTable names that measure where this
// header says CKA.
var MetricsHeader = []string{
	"model", "languages", "layers",
	"CKA mean", "CKA median", "CKA min", "CKA 95% CI", "perm. p", "stats n",
	"3D dist. mean", "3D dist. std", "3D dist. max",
	"Procrustes res", "Procrustes rel", "RSA mean", "lang. axis r",
}

// MetricsTable returns the cross-lingual results of m as a table: one row
// per model and pair of languages, in the order of m.Pairs, with the columns
// of MetricsHeader, named for the study's measure (plots.MeasureName: CKA,
// or the measure that took its place, svcca, shape:1, …; a distance says so
// in its first column's header); a model without a pair (one language only)
// gets a row with its layer count and Missing elsewhere. Values are rounded
// to four decimals, p-values to three significant digits.
func MetricsTable(m *study.Metrics) (header []string, rows [][]string) {
	header = append([]string(nil), MetricsHeader...)
	if m == nil {
		return header, nil
	}
	name, dist := plots.MeasureName(m), plots.MeasureIsDistance(m)
	for i, h := range header {
		if rest, ok := strings.CutPrefix(h, "CKA "); ok {
			header[i] = name + " " + rest
			if dist && rest == "mean" {
				header[i] += " (distance, rad)"
			}
		}
	}
	axis := func(model string) string {
		if m.LanguageAxis == nil {
			return Missing
		}
		r, ok := m.LanguageAxis.CorrPerModel[model]
		if !ok {
			return Missing
		}
		return f4(r)
	}
	layers := map[string]int{}
	for _, md := range m.Models {
		layers[md.ID] = md.Layers
	}
	paired := map[string]bool{}
	for _, p := range m.Pairs {
		paired[p.Model] = true
		row := []string{
			p.Model, p.LangA + "–" + p.LangB, fmt.Sprint(p.Count),
			f4(p.CKAMean), f4(p.CKAMedian), f4(p.CKAMin), Missing, Missing, Missing,
			f4(p.D3Mean), Missing, f4(p.D3Max),
			pf4(p.ProcrustesRes), pf4(p.ProcrustesRel), Missing, axis(p.Model),
		}
		if p.CKACI95 != nil {
			row[6] = "[" + f4(p.CKACI95[0]) + ", " + f4(p.CKACI95[1]) + "]"
		}
		if p.PermP != nil {
			row[7] = fmt.Sprintf("%.3g", *p.PermP)
		}
		if p.StatsN > 0 {
			row[8] = fmt.Sprint(p.StatsN)
		}
		if p.D3Std != nil {
			row[10] = f4(*p.D3Std)
		}
		if p.RSAMeanOverAll != nil {
			row[14] = f4(*p.RSAMeanOverAll)
		}
		rows = append(rows, row)
	}
	for _, md := range m.Models {
		if paired[md.ID] {
			continue
		}
		row := make([]string, len(header))
		for i := range row {
			row[i] = Missing
		}
		row[0], row[2] = md.ID, fmt.Sprint(md.Layers)
		rows = append(rows, row)
	}
	return header, rows
}

// f4 formats a value with four decimals.
func f4(v float64) string { return fmt.Sprintf("%.4f", v) }

// pf4 is f4 of *v, Missing for nil.
func pf4(v *float64) string {
	if v == nil {
		return Missing
	}
	return f4(*v)
}

// TableHTML returns a table as an HTML fragment: a <table> with an optional
// <caption>, one header row and the rows, every text escaped. Cells that
// parse as numbers are right-aligned.
func TableHTML(caption string, header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString(`<table class="layersim-table" style="border-collapse:collapse;font-family:sans-serif;font-size:13px">`)
	if caption != "" {
		b.WriteString(`<caption style="text-align:left;font-weight:bold;padding:4px 0">`)
		b.WriteString(html.EscapeString(caption))
		b.WriteString(`</caption>`)
	}
	b.WriteString(`<thead><tr>`)
	for _, h := range header {
		b.WriteString(`<th style="border-bottom:2px solid #555;padding:3px 8px;text-align:left">`)
		b.WriteString(html.EscapeString(h))
		b.WriteString(`</th>`)
	}
	b.WriteString(`</tr></thead><tbody>`)
	for _, r := range rows {
		b.WriteString(`<tr>`)
		for _, c := range r {
			align := "left"
			if numeric(c) {
				align = "right"
			}
			fmt.Fprintf(&b, `<td style="border-bottom:1px solid #ddd;padding:3px 8px;text-align:%s">`, align)
			b.WriteString(html.EscapeString(c))
			b.WriteString(`</td>`)
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table>`)
	return b.String()
}

// numeric reports whether a cell reads as a number or an interval of them.
func numeric(c string) bool {
	c = strings.TrimSuffix(strings.TrimPrefix(c, "["), "]")
	for _, part := range strings.Split(c, ", ") {
		if _, err := strconv.ParseFloat(part, 64); err != nil {
			return false
		}
	}
	return true
}

// WriteTableText writes a table as aligned plain text.
func WriteTableText(w io.Writer, caption string, header []string, rows [][]string) error {
	if caption != "" {
		if _, err := fmt.Fprintln(w, caption); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// Table displays a table in the running cell; outside a notebook it writes
// the table as plain text to TextOut.
func Table(caption string, header []string, rows [][]string) {
	if gonbui.IsNotebook {
		gonbui.DisplayHTML(TableHTML(caption, header, rows))
		flush()
		return
	}
	_ = WriteTableText(textOut(), caption, header, rows)
}

// Metrics displays the MetricsTable of m, with its notes below it; outside a
// notebook it writes both as plain text to TextOut.
func Metrics(m *study.Metrics) {
	header, rows := MetricsTable(m)
	caption := "Cross-lingual results"
	if m != nil {
		caption = fmt.Sprintf("Cross-lingual results (n = %d prompts, %s)", m.N, m.Measure)
		if plots.MeasureIsDistance(m) {
			caption = fmt.Sprintf("Cross-lingual results (n = %d prompts, %s, a distance in radians: lower is closer)", m.N, m.Measure)
		}
	}
	var notes []string
	if m != nil {
		notes = m.Notes
	}
	if !gonbui.IsNotebook {
		w := textOut()
		_ = WriteTableText(w, caption, header, rows)
		for _, n := range notes {
			fmt.Fprintln(w, "note:", n)
		}
		return
	}
	var b strings.Builder
	b.WriteString(TableHTML(caption, header, rows))
	if len(notes) > 0 {
		b.WriteString(`<ul class="layersim-notes" style="font-family:sans-serif;font-size:12px;color:#555">`)
		for _, n := range notes {
			b.WriteString(`<li>` + html.EscapeString(n) + `</li>`)
		}
		b.WriteString(`</ul>`)
	}
	gonbui.DisplayHTML(b.String())
	flush()
}
