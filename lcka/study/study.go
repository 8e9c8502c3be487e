package study

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/gomlx/compute"
	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/embed"
	"github.com/layersim/layersim/lcka/rsa"
)

// ErrUnreadable is wrapped by Analyze's error when activation sets cannot
// be read and Options.SkipUnreadable is not set.
var ErrUnreadable = errors.New("activation sets that cannot be read (set SkipUnreadable to leave them out)")

// Options configures Analyze. Artifacts and Langs are required.
type Options struct {
	Artifacts string   // the artifacts root (holding models/)
	Langs     []string // e.g. ["en", "hi"]; the first gets label +1 on the language axis
	Split     string   // "" means "test"
	Measure   cka.Measure
	// RSA is the RSA method, e.g. "rsa-spearman:correlation"; "none" skips
	// RSA; "" means rsa-spearman:correlation, skipped above 5,000 prompts.
	RSA string
	// Bootstrap and Permutations are the resample counts (0 means 1000, or
	// none with Main; a negative value skips them). StatsMaxN caps the
	// prompts they use (0 means 2000): a larger set is subsampled at random,
	// reported in Notes.
	Bootstrap, Permutations, StatsMaxN int
	Seed                               uint64
	Classical                          bool // classical MDS instead of the study's uncentered embedding
	// Minibatch > 0 computes every CKA as minibatch CKA (Nguyen et al. 2021):
	// unbiased HSIC averaged over consecutive batches of this many prompts,
	// after the columns are standardized (MeasureStandardized) or centered
	// (the others) over all prompts. Metrics.Measure then reads
	// "cka-standardized-minibatch:<b>" or "cka-minibatch:<b>".
	Minibatch int
	Backend   compute.Backend
	// MemoryBudget bounds the bytes the CKA engine holds (0: 60% of the
	// available memory); layers beyond half of it go to a scratch file in
	// TempDir ("" means the system's).
	MemoryBudget int64
	TempDir      string
	// Checkpoint, if set, is the file where the CKA engine saves its
	// progress on large jobs and resumes from (cka.Options.Checkpoint);
	// Context, if set, stops it there when cancelled, and the extra
	// measures between two pairs of layers.
	Checkpoint string
	Context    context.Context
	// Progress, if set, is told what the job is doing.
	Progress func(stage string, done, total int)
	// SkipUnreadable leaves out the activation sets that cannot be read
	// (a truncated .npz, a member of an unsupported dtype, a broken
	// meta.json), with a note in Metrics.Notes naming each; by default any
	// such set fails the study, since its results would silently lack it.
	SkipUnreadable bool
	// Main, unless it is the zero value, is the study's measure in place of
	// CKA (Measure then does not apply, and Minibatch, MemoryBudget, TempDir
	// and Checkpoint are an error): its joint matrix gives the heatmaps, the
	// embedding, the pairs, the language matrices and the depth map (see the
	// package documentation, Other measures). Make it with
	// ParseExtraMeasure.
	Main ExtraMeasure
	// ExtraMeasures are computed beside the study's measure, all pairs over
	// the joint rows (Metrics.ExtraMeasures, a joint heatmap each); make
	// them with ParseExtraMeasures. The study's measure alone drives the
	// embedding, pairs, bootstrap and permutations. They, and Main, hold
	// every joint layer in memory at once, in float32 (n·d·4 bytes each),
	// where the CKA engine streams the layers.
	ExtraMeasures []ExtraMeasure
	// ExtraMeasureNull > 1 puts each extra measure's cross-lingual values
	// beside their permutation null over that many shuffles of the rows of
	// the second language, seeded by Seed (MeasurePair.Null); 0 skips it.
	ExtraMeasureNull int
}

// Metrics is metrics.json.
type Metrics struct {
	N         int      `json:"n"`
	Languages []string `json:"languages"`
	Split     string   `json:"split"`
	// Measure is the study's measure: a CKA variant, or the name of
	// Options.Main, whose values then fill every field named for CKA.
	Measure string `json:"measure"`
	// MeasureFormula is Options.Main's definition with its reference, and
	// MeasureDistance says that it is a distance (0 for the same shape)
	// rather than a similarity; both are empty for CKA.
	MeasureFormula  string        `json:"measure_formula,omitempty"`
	MeasureDistance bool          `json:"measure_distance,omitempty"`
	RSAMethod       string        `json:"rsa_method,omitempty"`
	Models          []Model       `json:"models"`
	Joint           Joint         `json:"joint"`
	LanguageAxis    *LanguageAxis `json:"language_axis,omitempty"`
	// LanguageDiscriminant is the language axis for any number of
	// languages (Fisher LDA on the joint coordinates).
	LanguageDiscriminant *LanguageDiscriminant `json:"language_discriminant,omitempty"`
	Pairs                []Pair                `json:"pairs"`
	// LanguageMatrices holds each model's language × language matrix of
	// cross-lingual CKA, mean and per layer.
	LanguageMatrices []LanguageMatrix `json:"language_matrices"`
	// Depth is, per model and pair of languages, the depth map of
	// cross-lingual CKA: per layer with its bootstrap interval, and the
	// layers where it changes (see Depth).
	Depth []Depth `json:"depth"`
	// ExtraMeasures are the measures of Options.ExtraMeasures, reported
	// beside CKA.
	ExtraMeasures []MeasureResult `json:"extra_measures,omitempty"`
	Notes         []string        `json:"notes,omitempty"`
}

// Model is one model of the study.
type Model struct {
	ID     string `json:"id"`
	Slug   string `json:"slug"`
	Layers int    `json:"layers"`
	// Tokens holds, per language, the tokens per prompt that the extraction
	// recorded in meta.json ("tokens_per_text"), when it did.
	Tokens map[string]*TokenStats `json:"tokens_per_text,omitempty"`
}

// TokenStats summarizes the tokens per prompt of one language.
type TokenStats struct {
	Mean      float64 `json:"mean"`
	Median    float64 `json:"median"`
	Max       int     `json:"max"`
	Truncated int     `json:"truncated"`
}

// TokenSummary reads the mean tokens per prompt by language, with the ratio
// of each language to the first, e.g. "en 42.5, hi 101.2 (2.38×)"; "" when
// the extraction recorded none.
func (m Model) TokenSummary(langs []string) string {
	var parts []string
	var base float64
	for i, l := range langs {
		t := m.Tokens[l]
		if t == nil {
			continue
		}
		p := fmt.Sprintf("%s %.1f", l, t.Mean)
		if i == 0 {
			base = t.Mean
		} else if base > 0 {
			p += fmt.Sprintf(" (%.2f×)", t.Mean/base)
		}
		if t.Truncated > 0 {
			p += fmt.Sprintf(", %d truncated", t.Truncated)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// Row names one point of the joint embedding: a layer of a model in a language.
type Row struct {
	Lang  string `json:"lang"`
	Model string `json:"model"`
	Layer int    `json:"layer"`
}

// Joint is the joint 3D embedding.
type Joint struct {
	Method      string       `json:"method"`
	Rows        []Row        `json:"rows"`
	XYZ         [][3]float64 `json:"xyz"`
	Eigenvalues []float64    `json:"eigenvalues"`
	Explained   []float64    `json:"explained"`
}

// LanguageAxis reports the coordinate most correlated with the language.
type LanguageAxis struct {
	Component    int                `json:"component"`
	CorrOverall  float64            `json:"corr_overall"`
	CorrPerAxis  []float64          `json:"corr_per_component"`
	CorrPerModel map[string]float64 `json:"corr_per_model"`
}

// Pair holds the cross-lingual statistics of one model and two languages.
type Pair struct {
	Model string `json:"model"`
	LangA string `json:"lang_a"`
	LangB string `json:"lang_b"`
	Count int    `json:"count"`
	// CKAMean, CKAMedian and CKAMin summarize CKAPerLayer, the measure of
	// layer k in LangA against layer k in LangB (for a distance, the min is
	// the closest layer).
	CKAMean     float64   `json:"cka_mean"`
	CKAMedian   float64   `json:"cka_median"`
	CKAMin      float64   `json:"cka_min"`
	CKAPerLayer []float64 `json:"cka_per_layer"`
	D3Mean      float64   `json:"d3_mean"`
	D3Median    float64   `json:"d3_median"`
	D3Std       *float64  `json:"d3_std"` // null for a single pair (ddof 1)
	D3Max       float64   `json:"d3_max"`
	D3PerLayer  []float64 `json:"d3_per_layer"`
	// ProcrustesRes and ProcrustesRel are the original study's Procrustes
	// residual: min over orthogonal Q (L×L) of ‖QA − B‖_F for the signature
	// stacks A (LangB) and B (LangA), from the cross-lingual block of the CKA
	// matrix (procrustes.LayerResidualFromCross), and its relative value.
	// With Options.Main they are computed from its similarity matrix in
	// CKA's place, when the pair's block of it is a Gram matrix (positive
	// semidefinite), and are null otherwise, with a note.
	ProcrustesRes *float64 `json:"procrustes_res"`
	ProcrustesRel *float64 `json:"procrustes_rel"`
	// ProcrustesSignatureRes and ProcrustesSignatureRel are the residual
	// under a rotation of the signature space instead, min over orthogonal R
	// of ‖AR − B‖_F, from the within-language blocks
	// (procrustes.ResidualFromGrams); see lcka/procrustes for both.
	ProcrustesSignatureRes *float64 `json:"procrustes_signature_res"`
	ProcrustesSignatureRel *float64 `json:"procrustes_signature_rel"`
	// CKACI95 is the 95% bootstrap interval of CKAMean over prompts: the
	// percentile interval shifted by the resampling bias (CKABootBias); when
	// only StatsN < n prompts are resampled, the m-out-of-n interval (the
	// resamples' spread scaled by √(StatsN/n), around CKAMean). PermP is the
	// permutation p-value of CKAMean on the StatsN prompts.
	CKACI95     *[2]float64 `json:"cka_ci95"`
	CKABootBias *float64    `json:"cka_bootstrap_bias,omitempty"`
	PermP       *float64    `json:"perm_p"`
	// PermNullMean and PermNullSD are the mean and spread (ddof 1) of the
	// mean pair CKA over the permutations, and CKACalibrated the observed
	// mean pair CKA less the null mean, in units of the null's spread
	// (calibrated similarity: Gröger et al. 2026), all on the prompts of
	// the statistics (StatsN). The permuted values behind them are read
	// with Kb in bfloat16 (each within 2⁻⁸ + 2γ_n of its float32 value, by
	// a proven bound; about 1e-5 in practice), except near the observed
	// value, where they are float32: the p-value is the float32 one. The
	// screen runs where the CPU has AVX-512BW; elsewhere every permuted
	// value is float32, so the null's mean and spread (not p) may differ
	// between such machines in about the fifth decimal. With Options.Main
	// the permuted values are the measure's own, computed in float64
	// (MeasureNull).
	PermNullMean   *float64  `json:"perm_null_mean,omitempty"`
	PermNullSD     *float64  `json:"perm_null_sd,omitempty"`
	CKACalibrated  *float64  `json:"cka_calibrated,omitempty"`
	StatsN         int       `json:"stats_n,omitempty"`
	CKALastLayer   []float64 `json:"cka_to_last_layer_a"` // CKA of each layer to the last one, language a
	CKALastLayerB  []float64 `json:"cka_to_last_layer_b"`
	RSAPerLayer    []float64 `json:"rsa_per_layer,omitempty"`
	RSAMeanOverAll *float64  `json:"rsa_mean,omitempty"`
}

// Heatmap is one layer×layer matrix, in the original study's schema.
type Heatmap struct {
	Matrix  [][]float64 `json:"matrix"`
	XLabels []string    `json:"x_labels"`
	YLabels []string    `json:"y_labels"`
	Metric  string      `json:"metric"`
	Title   string      `json:"title"`
	ModelA  string      `json:"model_a"`
	ModelB  string      `json:"model_b"`
	Info    HeatmapInfo `json:"info"`
	File    string      `json:"-"` // file name under heatmaps/
}

// HeatmapInfo says what a heatmap compares.
type HeatmapInfo struct {
	LangA string `json:"lang_a"`
	LangB string `json:"lang_b"`
	Kind  string `json:"kind"` // within-model, cross-lingual, cross-model
	N     int    `json:"n"`
}

// Result is everything Analyze computes.
type Result struct {
	Metrics  Metrics
	CKA      *mat.SymDense // over Metrics.Joint.Rows: CKA, or Options.Main's matrix
	RSA      *mat.SymDense // nil when skipped
	Heatmaps []Heatmap
}

// block is one (model, language) activation set in the analysis.
type block struct {
	model int
	lang  string
	set   *artifacts.Set
	first int // index of its layer 1 among the joint rows
}

// keepGramsBytes bounds the memory of the Gram matrices kept from the CKA
// engine for the statistics; beyond it they are computed again, model by
// model.
const keepGramsBytes = 2 << 30

// Analyze runs the analysis job.
func Analyze(opt Options) (*Result, error) {
	if opt.Artifacts == "" {
		return nil, errors.New("study: no artifacts root given")
	}
	if len(opt.Langs) == 0 {
		return nil, errors.New("study: no languages given")
	}
	seen := map[string]bool{}
	for _, l := range opt.Langs {
		if l == "" || seen[l] {
			return nil, fmt.Errorf("study: languages %q: empty or repeated", strings.Join(opt.Langs, ","))
		}
		seen[l] = true
	}
	if n := opt.ExtraMeasureNull; n < 0 || n == 1 {
		return nil, fmt.Errorf("study: ExtraMeasureNull = %d: want 0 (none) or at least 2 permutations", n)
	}
	split := opt.Split
	if split == "" {
		split = "test"
	}
	progress := opt.Progress
	if progress == nil {
		progress = func(string, int, int) {}
	}
	sets, err := artifacts.Discover(opt.Artifacts)
	if err != nil && (len(sets) == 0 || !opt.SkipUnreadable) {
		return nil, fmt.Errorf("study: %w: %w", ErrUnreadable, err)
	}
	var notes []string
	if err != nil {
		notes = append(notes, "some activation sets could not be read and were left out (SkipUnreadable): "+strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	bySlug := map[string]map[string]*artifacts.Set{}
	for _, s := range sets {
		if s.Split != split || !seen[s.Lang] {
			continue
		}
		if bySlug[s.Slug] == nil {
			bySlug[s.Slug] = map[string]*artifacts.Set{}
		}
		bySlug[s.Slug][s.Lang] = s
	}
	slugs := make([]string, 0, len(bySlug))
	for slug := range bySlug {
		slugs = append(slugs, slug)
	}
	sort.Strings(slugs)
	res := &Result{}
	m := &res.Metrics
	m.Languages, m.Split, m.Measure = opt.Langs, split, opt.Measure.String()
	if opt.Minibatch > 0 {
		if opt.Minibatch < 4 {
			return nil, fmt.Errorf("study: minibatch size must be ≥ 4, got %d", opt.Minibatch)
		}
		m.Measure = fmt.Sprintf("cka-minibatch:%d", opt.Minibatch)
		if opt.Measure == cka.MeasureStandardized {
			m.Measure = fmt.Sprintf("cka-standardized-minibatch:%d", opt.Minibatch)
		}
	}
	main := !opt.Main.IsZero()
	if main {
		if opt.Minibatch > 0 {
			return nil, fmt.Errorf("study: minibatch is a way of computing CKA; the study's measure is %s", opt.Main.name)
		}
		if opt.MemoryBudget != 0 || opt.TempDir != "" || opt.Checkpoint != "" {
			return nil, fmt.Errorf("study: a memory budget, a scratch folder and a checkpoint are the CKA engine's; the study's measure is %s, which holds every layer in memory and starts over when interrupted", opt.Main.name)
		}
		for _, e := range opt.ExtraMeasures {
			if e.same(opt.Main) {
				return nil, fmt.Errorf("study: %s is the study's measure and also asked for beside it (as %s)", opt.Main.name, e.name)
			}
		}
		m.Measure, m.MeasureFormula, m.MeasureDistance = opt.Main.name, opt.Main.Formula(), opt.Main.Distance()
	}
	var blocks []block
	n := 0
	for _, slug := range slugs {
		var missing []string
		for _, l := range opt.Langs {
			if bySlug[slug][l] == nil {
				missing = append(missing, l)
			}
		}
		if len(missing) > 0 {
			notes = append(notes, fmt.Sprintf("model %s left out: no %s activations for language(s) %s", slug, split, strings.Join(missing, ", ")))
			continue
		}
		first := bySlug[slug][opt.Langs[0]]
		for _, l := range opt.Langs[1:] {
			if s := bySlug[slug][l]; len(s.Layers) != len(first.Layers) || s.Model != first.Model {
				return nil, fmt.Errorf("study: model %s: language %s has %d layers of %q but %s has %d of %q",
					slug, l, len(s.Layers), s.Model, opt.Langs[0], len(first.Layers), first.Model)
			}
		}
		model := Model{ID: first.Model, Slug: slug, Layers: len(first.Layers)}
		for _, l := range opt.Langs {
			if raw, ok := bySlug[slug][l].Meta.Extra["tokens_per_text"]; ok {
				var t TokenStats
				if err := json.Unmarshal(raw, &t); err == nil {
					if model.Tokens == nil {
						model.Tokens = map[string]*TokenStats{}
					}
					model.Tokens[l] = &t
				}
			}
		}
		m.Models = append(m.Models, model)
		for _, l := range opt.Langs {
			s := bySlug[slug][l]
			if n == 0 || s.Rows < n {
				n = s.Rows
			}
			blocks = append(blocks, block{model: len(m.Models) - 1, lang: l, set: s})
		}
	}
	if len(m.Models) == 0 {
		return nil, fmt.Errorf("study: no model under %s has %s activations for all of %s", opt.Artifacts, split, strings.Join(opt.Langs, ", "))
	}
	for _, b := range blocks {
		if b.set.Rows != n {
			notes = append(notes, fmt.Sprintf("%s/%s has %d prompts: trimmed to the common %d (its first %d rows)", b.set.Slug, b.lang, b.set.Rows, n, n))
		}
	}
	m.N = n

	// The joint rows: models by slug, then languages in the given order, then layers.
	for i := range blocks {
		blocks[i].first = len(m.Joint.Rows)
		for _, k := range blocks[i].set.Layers {
			m.Joint.Rows = append(m.Joint.Rows, Row{Lang: blocks[i].lang, Model: m.Models[blocks[i].model].ID, Layer: k})
		}
	}
	src := &layerSource{blocks: blocks, rows: m.Joint.Rows, n: n}
	if maxN := opt.StatsMaxN; !main && (opt.Bootstrap >= 0 || opt.Permutations >= 0) && (maxN <= 0 && n <= 2000 || n <= maxN) &&
		int64(len(m.Joint.Rows))*int64(n)*int64(n)*4 <= keepGramsBytes {
		// The statistics use all n prompts: keep the Gram matrices the
		// engine computes anyway.
		src.grams = make([][]float32, len(m.Joint.Rows))
	}
	// RSA: its Gram matrices are computed as the CKA engine loads the layers.
	method := opt.RSA
	if method == "" {
		method = "rsa-spearman:correlation"
		if n > 5000 {
			method = "none"
			notes = append(notes, fmt.Sprintf("RSA skipped by default above 5000 prompts (n = %d); ask for it with an explicit method", n))
		}
	}
	var rm rsa.Method
	var rg *rsaGrams
	if method != "none" {
		if rm, err = rsa.ParseMethod(method); err != nil {
			return nil, fmt.Errorf("study: %w", err)
		}
		if rg, err = newRSAGrams(src, rm.Dissimilarity, opt.Backend); err != nil {
			return nil, fmt.Errorf("study: RSA: %w", err)
		}
		src.onLoad = rg.add
	}
	var reps []mat.Matrix // every layer, when a measure other than CKA needs them all
	sim := res.CKA        // the similarity the embedding and the Procrustes residuals use
	if main {
		if rg != nil {
			src.onLoad = rg.add
		}
		reps, err = loadReps(src, opt, progress)
		src.onLoad = nil
		if err == nil {
			res.CKA, sim, err = mainMatrices(opt.Main, reps, n, opt, &notes, progress)
		}
		if err != nil {
			if rg != nil {
				rg.abort()
			}
			return nil, err
		}
		if err := finishRSA(res, rg, rm, n, progress); err != nil {
			return nil, err
		}
	} else {
		if sim, err = ckaMatrix(res, src, rg, rm, opt, &notes, progress); err != nil {
			return nil, err
		}
	}

	// Joint embedding and language axis.
	progress("embedding", 0, 1)
	e, err := embed.Joint(sim, embed.Options{Classical: opt.Classical})
	if err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	m.Joint.Method = "uncentered"
	if opt.Classical {
		m.Joint.Method = "classical-mds"
	}
	m.Joint.Eigenvalues, m.Joint.Explained = e.Eigenvalues, e.Explained
	for i := range m.Joint.Rows {
		m.Joint.XYZ = append(m.Joint.XYZ, [3]float64{e.Coords.At(i, 0), e.Coords.At(i, 1), e.Coords.At(i, 2)})
	}
	if len(opt.Langs) == 2 {
		label := make([]float64, len(m.Joint.Rows))
		groups := make([]string, len(m.Joint.Rows))
		for i, r := range m.Joint.Rows {
			label[i] = -1
			if r.Lang == opt.Langs[0] {
				label[i] = 1
			}
			groups[i] = r.Model
		}
		ax, err := embed.LanguageAxis(e.Coords, label, groups)
		if err != nil {
			notes = append(notes, "language axis undefined: "+err.Error())
		} else {
			m.LanguageAxis = &LanguageAxis{Component: ax.Component, CorrOverall: ax.Corr[ax.Component], CorrPerAxis: ax.Corr, CorrPerModel: ax.PerGroup}
			for _, g := range ax.Undefined {
				notes = append(notes, "language axis correlation undefined within model "+g)
			}
		}
	} else {
		notes = append(notes, fmt.Sprintf("language axis needs exactly two languages, got %d (see language_discriminant)", len(opt.Langs)))
	}
	if len(opt.Langs) >= 2 {
		if m.LanguageDiscriminant, err = languageDiscriminant(m, opt.Langs); err != nil {
			notes = append(notes, "language discriminant undefined: "+err.Error())
		}
	}

	// Cross-lingual pairs.
	if err := pairs(res, blocks, src, sim, reps, opt, &notes, progress); err != nil {
		return nil, err
	}
	m.LanguageMatrices = languageMatrices(res, blocks)
	res.Heatmaps = heatmaps(res, blocks)
	if len(opt.ExtraMeasures) > 0 && reps == nil {
		if reps, err = loadReps(src, opt, progress); err != nil {
			return nil, err
		}
	}
	if err := extraMeasures(res, blocks, reps, opt, &notes, progress); err != nil {
		return nil, err
	}
	m.Notes = notes
	return res, nil
}

// ckaMatrix computes the CKA matrix of the joint rows into res.CKA (and RSA's
// Gram matrices as the engine loads the layers) and returns it.
func ckaMatrix(res *Result, src *layerSource, rg *rsaGrams, rm rsa.Method, opt Options, notes *[]string, progress func(string, int, int)) (*mat.SymDense, error) {
	m := &res.Metrics
	progress("cka", 0, 1)
	ck, err := cka.AllPairs(src, cka.Options{
		Measure: opt.Measure, Backend: opt.Backend, MemoryBudget: opt.MemoryBudget, TempDir: opt.TempDir, Minibatch: opt.Minibatch,
		Checkpoint: opt.Checkpoint, Context: opt.Context,
		Progress: func(done, total int) { progress("cka", done, total) },
	})
	src.onLoad = nil
	if err != nil {
		if rg != nil {
			rg.abort()
		}
		return nil, fmt.Errorf("study: %w", err)
	}
	if err := finishRSA(res, rg, rm, src.n, progress); err != nil {
		return nil, err
	}
	if ck.ResumedTiles > 0 {
		*notes = append(*notes, fmt.Sprintf("CKA resumed from the checkpoint %s: %d tiles reused", opt.Checkpoint, ck.ResumedTiles))
	}
	if ck.CheckpointIgnored != "" {
		*notes = append(*notes, "CKA started over: "+ck.CheckpointIgnored)
	}
	if ck.Dropped > 0 {
		*notes = append(*notes, fmt.Sprintf("minibatch CKA: the last %d prompts make a batch of fewer than 4 and are left out", ck.Dropped))
	}
	res.CKA = ck.CKA
	for i, c := range ck.ConstantColumns {
		if c > 0 {
			r := m.Joint.Rows[i]
			*notes = append(*notes, fmt.Sprintf("%s/%s layer %d: %d constant feature(s) set to zero", r.Model, r.Lang, r.Layer, c))
		}
	}
	return res.CKA, nil
}

// finishRSA computes the RSA Gram matrices not yet computed and the RSA
// matrix into res.RSA; nothing when rg is nil (RSA skipped).
func finishRSA(res *Result, rg *rsaGrams, rm rsa.Method, n int, progress func(string, int, int)) error {
	if rg == nil {
		return nil
	}
	progress("rsa", 0, 1)
	grams, err := rg.finish(progress)
	if err != nil {
		return fmt.Errorf("study: RSA: %w", err)
	}
	if res.RSA, err = rsa.AllPairsFromGrams(grams, n, rm.Dissimilarity, rm.Comparison); err != nil {
		return fmt.Errorf("study: RSA: %w", err)
	}
	res.Metrics.RSAMethod = rm.String()
	return nil
}

// layerSource serves the joint rows to AllPairs, trimmed to n prompts. When
// grams is not nil it keeps the Gram matrices the CKA engine hands back
// (cka.GramSink), for the bootstrap and the permutation test; when onLoad is
// set, each layer the engine loads is handed to it too (RSA's Gram matrices).
type layerSource struct {
	blocks []block
	rows   []Row
	n      int
	grams  [][]float32
	onLoad func(i int, x cka.Matrix)
}

// Gram implements cka.GramSink; layers come from several goroutines, each
// to its own slot.
func (s *layerSource) Gram(i int, g []float32) {
	if s.grams != nil {
		s.grams[i] = g
	}
}

func (s *layerSource) Len() int { return len(s.rows) }

func (s *layerSource) Name(i int) string {
	r := s.rows[i]
	return fmt.Sprintf("model %s, language %s, layer %d", r.Model, r.Lang, r.Layer)
}

func (s *layerSource) Layer(i int) (cka.Matrix, error) {
	x, err := s.load(i)
	if err == nil && s.onLoad != nil {
		s.onLoad(i, x)
	}
	return x, err
}

// load reads joint row i.
func (s *layerSource) load(i int) (cka.Matrix, error) {
	for _, b := range s.blocks {
		if i >= b.first && i < b.first+len(b.set.Layers) {
			x, err := b.set.Layer(b.set.Layers[i-b.first])
			if err != nil {
				return cka.Matrix{}, err
			}
			if x.Rows > s.n {
				x.Data = x.Data[:s.n*x.Cols]
				x.Rows = s.n
			}
			return cka.Matrix(x), nil
		}
	}
	return cka.Matrix{}, fmt.Errorf("layer %d out of range", i)
}

// sub returns the block of s with rows [r0, r0+nr) and columns [c0, c0+nc).
func sub(s mat.Symmetric, r0, nr, c0, nc int) *mat.Dense {
	out := mat.NewDense(nr, nc, nil)
	for i := 0; i < nr; i++ {
		for j := 0; j < nc; j++ {
			out.Set(i, j, s.At(r0+i, c0+j))
		}
	}
	return out
}

func subSym(s mat.Symmetric, r0, nr int) *mat.SymDense {
	out := mat.NewSymDense(nr, nil)
	for i := 0; i < nr; i++ {
		for j := i; j < nr; j++ {
			out.SetSym(i, j, s.At(r0+i, r0+j))
		}
	}
	return out
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}
