package gonb

import (
	"strconv"

	"github.com/layersim/layersim/lcka/study"
	"github.com/layersim/layersim/plots"
)

// Heatmap displays one of the study's heatmaps (a layer×layer matrix, as
// study.Result.Heatmaps and the heatmaps/*.json files hold them) as an
// interactive chart of package plots. The chart is built, and so its input
// checked, in and out of a notebook; it is shown only in one.
func Heatmap(h study.Heatmap) error {
	c, err := plots.Heatmap(h)
	if err != nil {
		return err
	}
	return Chart(c)
}

// Matrix displays any matrix as a heatmap, row i labelled rowLabels[i] and
// column j colLabels[j]; nil labels number the rows or columns from 1. As
// Heatmap, it checks its input everywhere (a ragged or empty matrix, labels
// of the wrong length, NaN or Inf are errors) and shows it only in a
// notebook.
func Matrix(title string, m [][]float64, rowLabels, colLabels []string) error {
	number := func(n int) []string {
		l := make([]string, n)
		for i := range l {
			l[i] = strconv.Itoa(i + 1)
		}
		return l
	}
	if rowLabels == nil {
		rowLabels = number(len(m))
	}
	if colLabels == nil && len(m) > 0 {
		colLabels = number(len(m[0]))
	}
	return Heatmap(study.Heatmap{Matrix: m, YLabels: rowLabels, XLabels: colLabels, Title: title})
}
