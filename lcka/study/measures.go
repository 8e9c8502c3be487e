package study

import (
	"context"
	"errors"
	"fmt"
	"github.com/layersim/layersim/internal/describe"
	"strconv"
	"strings"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/calibrate"
	"github.com/layersim/layersim/lcka/cca"
	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/internal/parallel"
	"github.com/layersim/layersim/lcka/knn"
	"github.com/layersim/layersim/lcka/shape"
)

// ExtraMeasuresHelp lists the names ParseExtraMeasure accepts.
const ExtraMeasuresHelp = "mutual-knn:<k>, cknna:<k>, svcca, svcca:<fraction|count>, pwcca, shape:<alpha>"

// ErrUnknownMeasure is wrapped by ParseExtraMeasure's error for a name that
// is none of ExtraMeasuresHelp (rather than one of them with a bad
// parameter).
var ErrUnknownMeasure = errors.New("unknown measure")

// ExtraMeasure is a measure computed beside CKA, all pairs over the joint
// layers (Options.ExtraMeasures): mutual k-NN alignment or CKNNA (package
// knn, cosine similarity), SVCCA or PWCCA (package cca) or the angular shape
// distance θ_α (package shape). Make one with ParseExtraMeasure; the zero
// value is not a measure.
type ExtraMeasure struct {
	name  string
	kind  string // mutual-knn, cknna, svcca, pwcca, shape
	k     int
	keep  cca.Keep
	alpha float64
}

// ParseExtraMeasure parses one measure name:
//
//	mutual-knn:<k>   mutual k-NN alignment, k neighbours (cosine similarity)
//	cknna:<k>        CKNNA, k neighbours (cosine similarity)
//	svcca            SVCCA keeping the directions that hold 99% of the variance
//	svcca:<fraction> … that hold this fraction of it (a number with a point: 0.95, 1.0)
//	svcca:<count>    … at most this many directions (an integer)
//	pwcca            PWCCA
//	shape:<alpha>    the angular shape distance θ_α, α in [0, 1] (0 = CCA, 1 = Procrustes)
//
// These are the names `layersim compare --measure` accepts for the same
// measures.
func ParseExtraMeasure(s string) (ExtraMeasure, error) {
	name, arg, hasArg := strings.Cut(s, ":")
	e := ExtraMeasure{name: s, kind: name}
	switch name {
	case "mutual-knn", "cknna":
		k, err := strconv.Atoi(arg)
		if !hasArg || err != nil || k < 1 {
			return ExtraMeasure{}, fmt.Errorf("measure %q: want %s:<k>, k a positive integer (the number of neighbours)", s, name)
		}
		e.k = k
	case "svcca":
		e.keep = cca.Paper
		if hasArg {
			if c, err := strconv.Atoi(arg); err == nil {
				if c < 1 {
					return ExtraMeasure{}, fmt.Errorf("measure %q: the number of directions kept must be ≥ 1", s)
				}
				e.keep = cca.Keep{Count: c}
			} else if v, err := strconv.ParseFloat(arg, 64); err == nil {
				if !(v > 0 && v <= 1) {
					return ExtraMeasure{}, fmt.Errorf("measure %q: the fraction of the variance kept must be in (0, 1]", s)
				}
				e.keep = cca.Keep{Variance: v}
			} else {
				return ExtraMeasure{}, fmt.Errorf("measure %q: want svcca:<fraction of variance> or svcca:<number of directions>", s)
			}
		}
	case "pwcca":
		if hasArg {
			return ExtraMeasure{}, fmt.Errorf("measure %q: pwcca takes no parameter", s)
		}
	case "shape":
		a, err := strconv.ParseFloat(arg, 64)
		if !hasArg || err != nil || !(a >= 0 && a <= 1) {
			return ExtraMeasure{}, fmt.Errorf("measure %q: want shape:<alpha>, alpha in [0, 1] (0 = CCA, 1 = Procrustes)", s)
		}
		e.alpha = a
	default:
		return ExtraMeasure{}, fmt.Errorf("%w %q; known: %s", ErrUnknownMeasure, s, ExtraMeasuresHelp)
	}
	return e, nil
}

// ParseExtraMeasures parses a comma-separated list of measure names ("" is
// none); the same measure twice is an error.
func ParseExtraMeasures(list string) ([]ExtraMeasure, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var out []ExtraMeasure
	for _, s := range strings.Split(list, ",") {
		e, err := ParseExtraMeasure(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		for _, o := range out {
			if o.same(e) {
				return nil, fmt.Errorf("measure %q asked for twice (as %q)", e.name, o.name)
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func (e ExtraMeasure) same(o ExtraMeasure) bool {
	return e.kind == o.kind && e.k == o.k && e.keep == o.keep && e.alpha == o.alpha
}

// IsZero says whether e is the zero ExtraMeasure (no measure).
func (e ExtraMeasure) IsZero() bool { return e.kind == "" }

// String returns the name the measure was parsed from.
func (e ExtraMeasure) String() string { return e.name }

// Kind is the measure without its parameter: mutual-knn, cknna, svcca,
// pwcca or shape.
func (e ExtraMeasure) Kind() string { return e.kind }

// K is the number of neighbours of mutual-knn and cknna.
func (e ExtraMeasure) K() int { return e.k }

// Keep is what SVCCA keeps of each representation.
func (e ExtraMeasure) Keep() cca.Keep { return e.keep }

// Alpha is the partial whitening α of the shape distance.
func (e ExtraMeasure) Alpha() float64 { return e.alpha }

// Distance says whether the measure is a distance (0 for the same shape)
// rather than a similarity (1 for the same representation).
func (e ExtraMeasure) Distance() bool { return e.kind == "shape" }

// Formula is the measure's definition in one line, with its reference.
func (e ExtraMeasure) Formula() string {
	switch e.kind {
	case "mutual-knn":
		return fmt.Sprintf("(1/n) Σᵢ |N_X(i) ∩ N_Y(i)|/k, N(i) the k = %d nearest neighbours of prompt i by cosine similarity (Huh et al. 2024, platonic-rep mutual_knn)", e.k)
	case "cknna":
		return fmt.Sprintf("HSIC₁(M∘K, M∘L)/√(HSIC₁(M_K∘K, M_K∘K)·HSIC₁(M_L∘L, M_L∘L)), cosine kernels K, L restricted to the mutual k = %d nearest neighbours M, unbiased HSIC (Huh et al. 2024, platonic-rep cknna)", e.k)
	case "svcca":
		keep := fmt.Sprintf("the top singular directions holding %g of the variance", e.keep.Variance)
		if e.keep.Count != 0 {
			keep = fmt.Sprintf("at most the top %d singular directions", e.keep.Count)
		}
		return "mean canonical correlation (1/m) Σ ρᵢ of the centred layers reduced to " + keep + " (Raghu et al. 2017)"
	case "pwcca":
		return "Σ αᵢρᵢ/Σ αᵢ, canonical correlations ρᵢ weighted by αᵢ = Σⱼ |⟨hᵢ, xⱼ⟩| on the side of smaller rank (Morcos et al. 2018)"
	case "shape":
		return fmt.Sprintf("θ_α = arccos(‖φ(X)ᵀφ(Y)‖_*/(‖φ(X)‖_F‖φ(Y)‖_F)), φ(X) = X(αI + (1−α)(XᵀX)^(−1/2)) on centred X, α = %g, in radians (Williams et al. 2021, netrep LinearMetric)", e.alpha)
	}
	return ""
}

// cubic says whether a pair costs an SVD of up to n×n, O(n³), where CKA
// costs O(n²) per pair once its signatures exist.
func (e ExtraMeasure) cubic() bool {
	return e.kind == "svcca" || e.kind == "pwcca" || e.kind == "shape"
}

// AllPairs returns the L×L matrix of the measure between every pair of
// reps (same rows each): entry (i, j) is layer i against layer j (CKNNA and
// PWCCA are not quite symmetric; see packages knn and cca). It calls the
// package's own AllPairs; kept is, for SVCCA, the directions each layer
// kept and, for PWCCA, each layer's rank (nil otherwise).
func (e ExtraMeasure) AllPairs(reps []mat.Matrix) (values *mat.Dense, kept []int, err error) {
	return e.allPairs(context.Background(), reps, nil)
}

// allPairs is AllPairs, stopping once ctx is done and telling progress how
// far the SVD-based measures, which take minutes, have got.
func (e ExtraMeasure) allPairs(ctx context.Context, reps []mat.Matrix, progress func(done, total int)) (values *mat.Dense, kept []int, err error) {
	switch e.kind {
	case "mutual-knn":
		values, err = knn.AllPairs(reps, e.k, knn.Cosine, knn.Mutual)
	case "cknna":
		values, err = knn.AllPairs(reps, e.k, knn.Cosine, knn.Kernel)
	case "svcca":
		values, kept, err = cca.AllPairsProgress(ctx, reps, cca.MeasureSVCCA, e.keep, progress)
	case "pwcca":
		values, kept, err = cca.AllPairsProgress(ctx, reps, cca.MeasurePWCCA, cca.Keep{}, progress)
	case "shape":
		var s *mat.SymDense
		if s, err = shape.AllPairsProgress(ctx, reps, e.alpha, progress); err == nil {
			values = mat.DenseCopyOf(s)
		}
	default:
		return nil, nil, errors.New("study: the zero ExtraMeasure; make one with ParseExtraMeasure")
	}
	return values, kept, err
}

// pairOf returns the measure of x against any y, as the package's pairwise
// function computes it (knn.MutualKNN, cknna.CKNNA, cca.SVCCA, cca.PWCCA,
// shape.Angular), with x's neighbours or whitening prepared once for all
// the y it meets: the permutation null compares one layer with many
// shuffles of another.
func (e ExtraMeasure) pairOf(x mat.Matrix) calibrate.Measure {
	switch e.kind {
	case "mutual-knn", "cknna":
		find := sync.OnceValues(func() (*knn.Neighbours, error) { return knn.Find(x, e.k, knn.Cosine) })
		return func(_, y mat.Matrix) (float64, error) {
			if e.kind == "cknna" {
				// CKNNA's own checks (k ≥ 2, n ≥ 4) first.
				if n, _ := y.Dims(); e.k < 2 || n < 4 {
					return knn.CKNNA(x, y, e.k, knn.Cosine)
				}
			}
			p, err := find()
			if err != nil {
				return 0, err
			}
			q, err := knn.Find(y, e.k, knn.Cosine)
			if err != nil {
				return 0, err
			}
			if e.kind == "cknna" {
				return knn.CKNNAOf(p, q)
			}
			return knn.MutualOf(p, q)
		}
	case "svcca":
		return func(_, y mat.Matrix) (float64, error) { r, err := cca.SVCCA(x, y, e.keep); return r.Value, err }
	case "pwcca":
		return func(_, y mat.Matrix) (float64, error) { r, err := cca.PWCCA(x, y); return r.Value, err }
	case "shape":
		whiten := sync.OnceValues(func() (*shape.Whitened, error) { return shape.Whiten(x, e.alpha) })
		return func(_, y mat.Matrix) (float64, error) {
			a, err := whiten()
			if err != nil {
				return 0, err
			}
			b, err := shape.Whiten(y, e.alpha)
			if err != nil {
				return 0, err
			}
			return shape.AngularOf(a, b)
		}
	}
	return func(_, _ mat.Matrix) (float64, error) {
		return 0, errors.New("study: the zero ExtraMeasure; make one with ParseExtraMeasure")
	}
}

// null is calibrate.Null of the measure: its value on x against y with its
// rows reordered by each of perms. SVCCA and the shape distance decompose
// each side once and reorder the rows of y's decomposition
// (cca.Spectrum.Permuted, shape.Whitened.Permuted), which the reordering
// commutes with; the others compute the measure on each reordered y.
func (e ExtraMeasure) null(x, y mat.Matrix, perms [][]int) ([]float64, error) {
	var against func(perm []int) (float64, error)
	var err error
	switch e.kind {
	case "svcca":
		against, err = reordered(x, y, cca.NewSpectrum, (*cca.Spectrum).Permuted, e.svccaOf)
	case "shape":
		whiten := func(m mat.Matrix) (*shape.Whitened, error) { return shape.Whiten(m, e.alpha) }
		against, err = reordered(x, y, whiten, (*shape.Whitened).Permuted, shape.AngularOf)
	default:
		return calibrate.Null(x, y, e.pairOf(x), perms)
	}
	if err != nil {
		return nil, err
	}
	nx, _ := x.Dims()
	if ny, _ := y.Dims(); nx != ny {
		return nil, fmt.Errorf("x has %d rows and y has %d; they must match", nx, ny)
	}
	out := make([]float64, len(perms))
	errs := make([]error, len(perms))
	parallel.For(len(perms), 0, func(i int) {
		var err error
		if out[i], err = against(perms[i]); err != nil {
			errs[i] = fmt.Errorf("permutation %d: %w", i, err)
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// reordered prepares x and y once (a decomposition) and returns the
// measure of x against y with its rows reordered by a permutation, from
// y's preparation reordered.
func reordered[T any](x, y mat.Matrix, prepare func(mat.Matrix) (T, error), reorder func(T, []int) (T, error), of func(a, b T) (float64, error)) (func(perm []int) (float64, error), error) {
	a, err := prepare(x)
	if err != nil {
		return nil, err
	}
	b, err := prepare(y)
	if err != nil {
		return nil, err
	}
	return func(perm []int) (float64, error) {
		bp, err := reorder(b, perm)
		if err != nil {
			return 0, err
		}
		return of(a, bp)
	}, nil
}

// MeasureResult is one extra measure of metrics.json (extra_measures).
type MeasureResult struct {
	Name    string `json:"name"`    // as asked, e.g. "cknna:10"
	Formula string `json:"formula"` // the definition and its reference
	// Distance is true for a distance (0: the same shape), false for a
	// similarity (1: the same representation).
	Distance bool `json:"distance"`
	// Heatmap is the file under heatmaps/ that holds the joint matrix, over
	// Joint.Rows in their order: entry (i, j) is row i against row j.
	Heatmap string `json:"heatmap"`
	// Kept is, per joint row, the singular directions SVCCA kept or the
	// rank PWCCA used.
	Kept    []int   `json:"kept,omitempty"`
	Seconds float64 `json:"seconds"` // the time the joint matrix took
	// Cost is the cost per pair of layers.
	Cost  string        `json:"cost"`
	Pairs []MeasurePair `json:"pairs"`
	// Matrix is the joint matrix (in metrics.json as Heatmap's file).
	Matrix *mat.Dense `json:"-"`
}

// MeasurePair is, for one model and pair of languages, the measure between
// layer k in LangA (the matrix's row) and layer k in LangB (its column).
type MeasurePair struct {
	Model    string    `json:"model"`
	LangA    string    `json:"lang_a"`
	LangB    string    `json:"lang_b"`
	PerLayer []float64 `json:"per_layer"`
	Mean     float64   `json:"mean"`
	// Null is the values' permutation null (Options.ExtraMeasureNull).
	Null *MeasureNull `json:"null,omitempty"`
}

// MeasureNull is the permutation null of a pair's cross-lingual values
// (package calibrate): the measure of layer k in LangA against layer k in
// LangB with LangB's rows shuffled, Permutations times, the same shuffles
// for every layer (calibrate.Permutations of the study's Seed), so that the
// null of the mean over layers is the mean of the per-layer nulls, shuffle
// by shuffle. Calibrated is (value − null mean) / null sd, as the issue's
// calibrated similarity; P is the one-sided permutation p-value in the
// direction of agreement: the share of shuffles at least as similar as the
// value (≥ for a similarity, ≤ for a distance, whose calibrated value is
// then negative where the layers are closer than chance), counting the
// value itself, so 1/(Permutations+1) at least.
type MeasureNull struct {
	Permutations int    `json:"permutations"`
	Seed         uint64 `json:"seed"`
	// Per layer, as MeasurePair.PerLayer.
	PerLayerMean       []float64 `json:"per_layer_null_mean"`
	PerLayerSD         []float64 `json:"per_layer_null_sd"`
	PerLayerCalibrated []float64 `json:"per_layer_calibrated"`
	PerLayerP          []float64 `json:"per_layer_p"`
	// For the mean over layers, MeasurePair.Mean.
	Mean       float64 `json:"null_mean"`
	SD         float64 `json:"null_sd"`
	Calibrated float64 `json:"calibrated"`
	P          float64 `json:"p"`
}

// fromNull is calibrate.FromNull in the direction of agreement: a
// distance's value and null are negated for the p-value, and the mean and
// calibrated value turned back to the distance's own sign.
func fromNull(score float64, null []float64, distance bool) (calibrate.Result, error) {
	if !distance {
		return calibrate.FromNull(score, null)
	}
	neg := make([]float64, len(null))
	for i, v := range null {
		neg[i] = -v
	}
	r, err := calibrate.FromNull(-score, neg)
	r.Score, r.NullMean, r.Calibrated = score, -r.NullMean, -r.Calibrated
	return r, err
}

// measureNull computes a pair's permutation null: xs and ys are the
// pair's layers in LangA and LangB, values the measure on them.
//
// With both, a measure that is not symmetric (PWCCA, CKNNA) is taken both
// ways round and averaged, as the study's matrix holds it with Options.Main
// (values must be so too); else it is layer k in LangA against layer k in
// LangB, as MeasurePair.PerLayer.
func measureNull(e ExtraMeasure, xs, ys []mat.Matrix, values []float64, perms [][]int, seed uint64, both bool, cancelled func() error, progress func(done int)) (*MeasureNull, error) {
	L := len(values)
	nl := &MeasureNull{Permutations: len(perms), Seed: seed}
	meanNull := make([]float64, len(perms))
	for k := range L {
		if err := cancelled(); err != nil {
			return nil, err
		}
		progress(k)
		x := mat.DenseCopyOf(xs[k])
		null, err := e.null(x, ys[k], perms)
		if err == nil && both && !e.symmetric() {
			var back []float64
			if back, err = calibrate.Null(x, ys[k], func(x, yp mat.Matrix) (float64, error) { return e.pairOf(yp)(yp, x) }, perms); err == nil {
				for i := range null {
					null[i] = (null[i] + back[i]) / 2
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", k+1, err)
		}
		r, err := fromNull(values[k], null, e.Distance())
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", k+1, err)
		}
		nl.PerLayerMean = append(nl.PerLayerMean, r.NullMean)
		nl.PerLayerSD = append(nl.PerLayerSD, r.NullSD)
		nl.PerLayerCalibrated = append(nl.PerLayerCalibrated, r.Calibrated)
		nl.PerLayerP = append(nl.PerLayerP, r.P)
		for i, v := range null {
			meanNull[i] += v / float64(L)
		}
	}
	r, err := fromNull(describe.Mean(values), meanNull, e.Distance())
	if err != nil {
		return nil, fmt.Errorf("the mean over layers: %w", err)
	}
	nl.Mean, nl.SD, nl.Calibrated, nl.P = r.NullMean, r.NullSD, r.Calibrated, r.P
	return nl, nil
}

// f32Matrix serves a float32 layer as a mat.Matrix, widened on read, so that
// the layers are held at half the memory until each package copies the one
// it prepares.
type f32Matrix cka.Matrix

func (m f32Matrix) Dims() (int, int)    { return m.Rows, m.Cols }
func (m f32Matrix) At(i, j int) float64 { return float64(m.Data[i*m.Cols+j]) }
func (m f32Matrix) T() mat.Matrix       { return mat.Transpose{Matrix: m} }

// extraMeasures computes Options.ExtraMeasures over the joint rows and adds
// them to Metrics.ExtraMeasures, with a joint heatmap each and, when
// Options.ExtraMeasureNull is set, the permutation null of each pair's
// cross-lingual values. A measure that fails (k ≥ n, a layer without
// variance) is left out with a note, and so is a null that fails: the CKA
// results stand without them.
func extraMeasures(res *Result, blocks []block, reps []mat.Matrix, opt Options, notes *[]string, progress func(string, int, int)) error {
	if len(opt.ExtraMeasures) == 0 {
		return nil
	}
	m := &res.Metrics
	L := len(m.Joint.Rows)
	cancelled := func() error { return contextErr(opt.Context) }
	var perms [][]int
	if opt.ExtraMeasureNull > 0 {
		var err error
		if perms, err = calibrate.Permutations(m.N, calibrate.Options{Permutations: opt.ExtraMeasureNull, Seed: opt.Seed}); err != nil {
			return fmt.Errorf("study: %w", err)
		}
	}
	labels := make([]string, L)
	for i, r := range m.Joint.Rows {
		labels[i] = fmt.Sprintf("%s·%s·L%d", r.Model, r.Lang, r.Layer)
	}
	for mi, e := range opt.ExtraMeasures {
		if e.kind == "" {
			return errors.New("study: ExtraMeasures holds the zero ExtraMeasure; make them with ParseExtraMeasure")
		}
		if err := cancelled(); err != nil {
			return err
		}
		cost, costNote := costOf(e, m.N, L)
		if costNote != "" {
			*notes = append(*notes, costNote)
		}
		if opt.ExtraMeasureNull > 0 {
			cost += fmt.Sprintf("; its permutation null: %d shuffles per cross-lingual pair of layers", opt.ExtraMeasureNull)
		}
		values, kept, took, err := runAllPairs(opt.Context, e, reps, progress)
		if err != nil && contextErr(opt.Context) != nil {
			return err
		}
		if err != nil {
			*notes = append(*notes, fmt.Sprintf("%s not computed: %v", e.name, err))
			continue
		}
		if note := fullRankNote(e, kept, m.N); note != "" {
			*notes = append(*notes, note)
		}
		r := MeasureResult{Name: e.name, Formula: e.Formula(), Distance: e.Distance(), Kept: kept,
			Seconds: took.Seconds(), Cost: cost, Matrix: values,
			Heatmap: fmt.Sprintf("measure%d_%s.json", mi+1, fileSafe(e.name))}
		for _, p := range m.Pairs {
			a, b := blockOf(blocks, m, p.Model, p.LangA), blockOf(blocks, m, p.Model, p.LangB)
			if a == nil || b == nil {
				continue
			}
			mp := MeasurePair{Model: p.Model, LangA: p.LangA, LangB: p.LangB}
			for k := range a.set.Layers {
				mp.PerLayer = append(mp.PerLayer, values.At(a.first+k, b.first+k))
			}
			mp.Mean = describe.Mean(mp.PerLayer)
			if opt.ExtraMeasureNull > 0 {
				xs, ys := reps[a.first:a.first+len(mp.PerLayer)], reps[b.first:b.first+len(mp.PerLayer)]
				stage := fmt.Sprintf("%s null %s %s–%s", e.name, p.Model, p.LangA, p.LangB)
				nl, err := measureNull(e, xs, ys, mp.PerLayer, perms, opt.Seed, false, cancelled, func(done int) { progress(stage, done, len(xs)) })
				progress(stage, len(xs), len(xs))
				if err != nil {
					if cerr := cancelled(); cerr != nil {
						return cerr
					}
					*notes = append(*notes, fmt.Sprintf("%s %s %s–%s: permutation null not computed: %v", e.name, p.Model, p.LangA, p.LangB, err))
				}
				mp.Null = nl
			}
			r.Pairs = append(r.Pairs, mp)
		}
		h := Heatmap{Matrix: make([][]float64, L), XLabels: labels, YLabels: labels, Metric: e.name,
			Title: fmt.Sprintf("%s of every layer against every layer (joint)", e.name),
			Info:  HeatmapInfo{Kind: "joint", N: m.N}, File: r.Heatmap}
		for i := range h.Matrix {
			h.Matrix[i] = append([]float64(nil), values.RawRowView(i)...)
		}
		res.Heatmaps = append(res.Heatmaps, h)
		m.ExtraMeasures = append(m.ExtraMeasures, r)
	}
	return nil
}

// blockOf returns the block of a model (by ID) and language.
func blockOf(blocks []block, m *Metrics, model, lang string) *block {
	for i, b := range blocks {
		if m.Models[b.model].ID == model && b.lang == lang {
			return &blocks[i]
		}
	}
	return nil
}

// fileSafe replaces the characters of a measure name that do not belong in
// a file name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '_'
	}, s)
}

// fullRank counts the layers of rank n − 1 or more among ranks.
func fullRank(ranks []int, n int) int {
	full := 0
	for _, r := range ranks {
		if r >= n-1 {
			full++
		}
	}
	return full
}
