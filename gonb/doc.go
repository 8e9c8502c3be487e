// Package gonb shows layersim's results in GoNB notebooks (GoNB is a Go
// kernel for Jupyter; this package uses its gonbui library, v0.11.4).
//
// A GoNB cell is a Go program; when GoNB runs it, gonbui.IsNotebook is true
// and HTML sent through gonbui appears as the cell's output. Everything here
// also works in an ordinary program, where it does nothing or falls back to
// plain text on TextOut (os.Stderr by default):
//
//	function            in a notebook                        elsewhere
//	HTML, Chart         displays the fragment / the chart    nothing
//	Heatmap, Matrix     displays a heatmap (package plots)   nothing (the input is still checked)
//	Table, Metrics      displays an HTML table               aligned text on TextOut
//	Progress.Update     redraws a bar in place               a line on TextOut, throttled
//
// Chart takes anything with a Snippet() (string, error) method, as the
// charts of package plots have. Metrics shows the cross-lingual results of
// a study.Metrics, one row per model and pair of languages (MetricsTable
// gives the same table as strings), its columns and caption named for the
// study's measure: CKA, or the measure that took its place (svcca, shape:1,
// …; a distance says so). A Progress is the progress callback of
// study.Options.Progress; its Extract method is the progress callback of
// lcka/extract (extract.Options.Progress), with speed, time left and the
// extraction's events listed under the bar.
//
// The notebooks under notebooks/ use this package; scripts/gonb-setup
// installs GoNB and registers a kernel that imports layersim from the
// checkout.
package gonb
