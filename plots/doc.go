// Package plots draws the results of a layer-similarity study (package
// lcka/study) as interactive charts and writes them, with the tables of
// metrics.json, into one self-contained HTML report.
//
// # The study's measure
//
// A study compares layers by CKA, or by a measure that took CKA's place
// (analyze --measure svcca, shape:1, …: Metrics.Measure); its values then
// fill every field of metrics.json named for CKA. Charts, tables and the
// report name the measure (MeasureName: "CKA" for any CKA variant, the
// measure's own name otherwise) and say when it is a distance, where lower
// is closer (MeasureIsDistance). The report files the per-model heatmaps of
// Metrics.Measure as the study's, and the joint heatmap of each measure
// computed beside it (Metrics.ExtraMeasures) in that measure's section.
//
// # Charts
//
//	Heatmap            a layer×layer matrix (the study's measure, RSA or a
//	                   measure computed beside them; within a model, across
//	                   languages, across models or joint): labelled axes, a colour
//	                   scale, the value under the pointer
//	Projector          the joint 3D embedding (ECharts GL): points coloured per
//	                   model (a darker shade and another symbol per language),
//	                   marker size growing with relative depth d = i/(L−1) for
//	                   the i-th of a model's L layers; toggles per model and
//	                   language; links between layer k in two languages; depth
//	                   lines through a model's layers in order; tooltips with
//	                   model, language, layer, coordinates and the pair's value
//	                   of the study's measure and distance, the partner ringed;
//	                   a panel of statistics over what is visible; a
//	                   reset-view button
//	DistanceHistogram  the 3D distances between layer k in two languages, for
//	                   all models (stacked by model) or one
//	CrossLingualCurves the study's measure (and RSA) across languages of layer
//	                   k against k
//	LastLayerCurves    the study's measure of each layer to the last, per model
//	                   and language
//
// Each is a *Chart: Render writes a standalone page, Snippet returns a
// fragment for a notebook cell (package gonb displays it). Report and
// WriteReport put every chart of a results folder on one page.
//
// # Panel statistics
//
// Over the visible models and languages, with pairs (k, model, a, b) whose
// model and both languages are visible: their number, the mean and median of
// their values s_k of the study's measure and of their distances ‖x_a,k − x_b,k‖₂, and the
// language-axis correlation r: Pearson's correlation, over the visible
// points, of the coordinate Metrics.LanguageAxis.Component with the label +1
// for the study's first language and −1 for the second. With everything
// visible r is the study's corr_overall; with one model visible, its
// corr_per_model. The median of an even count is the mean of the two middle
// values, as in the study.
//
// # Histogram bins
//
// k = ⌈log₂ n⌉ + 1 equal-width bins (Sturges' rule, at most 40) over
// [min, max] of all n distances; bin i is [e_i, e_{i+1}), the last one closed.
// Single-model histograms use the same bins.
//
// # No network when viewed
//
// ECharts 5.6.0 and ECharts GL 2.0.9, pinned by plots/js/package-lock.json,
// are inlined into every page and snippet; scripts/setup installs them with
// npm ci. They are read at run time from $LAYERSIM_JS_DIR, else from plots/js
// of the module found by walking up from the working directory, else from
// next to this package's source; without them the functions that write HTML
// return an error wrapping ErrNoAssets that says to run scripts/setup.
//
// Options of the 2D charts are built with go-echarts and carried as JSON in a
// <script type="application/json"> element, which is also how the tests read
// the data back; a small runtime of this package (runtime.js) adds tooltip
// formatters and draws the projector.
//
// # Notebooks
//
// Jupyter Notebook 6 and nbconvert's HTML export load RequireJS, whose
// define.amd makes UMD bundles register as AMD modules instead of setting
// window.echarts. The inlined bundles therefore run with window.define set to
// undefined and restored afterwards. A snippet loads the bundles and the
// runtime only if the page lacks them, gets fresh element ids on every Snippet
// call, and finds its element by a data attribute, so the same snippet can be
// inserted twice into one page.
//
// # Tests
//
// Besides reading the data back from the HTML, the tests open pages in
// headless Chromium (Debian's chromium, installed by scripts/setup; skipped
// with a message when it or the bundles are missing, and in -short mode):
// they count the pixels of each model's colour in the projector's canvas,
// compare its panel with statistics computed from metrics.json, click its
// toggles, and draw snippets under a RequireJS define stub. Set
// LAYERSIM_SCREENSHOT_DIR to keep the pages and screenshots.
package plots
