package study

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/internal/describe"
	"github.com/layersim/layersim/lcka/calibrate"
	"github.com/layersim/layersim/lcka/cca"
	"github.com/layersim/layersim/lcka/internal/parallel"
	"github.com/layersim/layersim/lcka/shape"
)

// This file holds the study run on a measure other than CKA
// (Options.Main): the measure's joint matrix takes the CKA matrix's place,
// and its statistics are computed by recomputing the measure on resampled
// and shuffled prompts, since the Gram-matrix shortcuts of CKA's do not
// apply.

// symmetric says whether the measure of x against y is that of y against x
// (PWCCA weighs the side of smaller rank and CKNNA restricts to mutual
// neighbours, neither quite symmetric).
func (e ExtraMeasure) symmetric() bool { return e.kind != "pwcca" && e.kind != "cknna" }

// both returns the measure of x and y as the study's matrix holds it with
// Options.Main: the mean of x against y and y against x for a measure that
// is not symmetric.
func (e ExtraMeasure) both(x, y mat.Matrix) (float64, error) {
	v, err := e.pairOf(x)(x, y)
	if err != nil || e.symmetric() {
		return v, err
	}
	w, err := e.pairOf(y)(y, x)
	return (v + w) / 2, err
}

// resampled returns both(x, y) on the resample whose row r is row idx[r]
// of each: SVCCA and the shape distance from the resample's distinct rows
// weighted by their counts (cca.NewSpectrumResample,
// shape.WhitenResample), the same value at the cost of about 63% of the
// rows; the others on the resampled rows themselves.
func (e ExtraMeasure) resampled(x, y mat.Matrix, idx []int) (float64, error) {
	switch e.kind {
	case "svcca":
		spectrum := func(m mat.Matrix) (*cca.Spectrum, error) { return cca.NewSpectrumResample(m, idx) }
		return prepared(x, y, spectrum, e.svccaOf)
	case "shape":
		whiten := func(m mat.Matrix) (*shape.Whitened, error) { return shape.WhitenResample(m, idx, e.alpha) }
		return prepared(x, y, whiten, shape.AngularOf)
	}
	return e.both(rowsOf{x, idx}, rowsOf{y, idx})
}

// prepared returns of(prepare(x), prepare(y)).
func prepared[T any](x, y mat.Matrix, prepare func(mat.Matrix) (T, error), of func(a, b T) (float64, error)) (float64, error) {
	a, err := prepare(x)
	if err != nil {
		return 0, err
	}
	b, err := prepare(y)
	if err != nil {
		return 0, err
	}
	return of(a, b)
}

// svccaOf is cca.SVCCAOf's value, keeping what e keeps.
func (e ExtraMeasure) svccaOf(a, b *cca.Spectrum) (float64, error) {
	r, err := cca.SVCCAOf(a, b, e.keep)
	return r.Value, err
}

// loadReps reads every joint row into memory, in float32, for the measures
// that need all layers at once (and hands each to src.onLoad, if set).
func loadReps(src *layerSource, opt Options, progress func(string, int, int)) ([]mat.Matrix, error) {
	L := src.Len()
	reps := make([]mat.Matrix, L)
	for i := range reps {
		if err := contextErr(opt.Context); err != nil {
			return nil, err
		}
		progress("measures: reading layers", i, L)
		x, err := src.Layer(i) // handed to src.onLoad too, if set
		if err != nil {
			return nil, fmt.Errorf("study: %s: %w", src.Name(i), err)
		}
		reps[i] = f32Matrix(x)
	}
	progress("measures: reading layers", L, L)
	return reps, nil
}

// contextErr is ctx's error, wrapped, or nil for a nil or live context.
func contextErr(ctx context.Context) error {
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("study: %w", err)
		}
	}
	return nil
}

// runAllPairs computes e over every pair of reps, telling progress how far
// it has got: the SVD-based measures count each layer's decomposition, then
// each pair, as two stages of their own, since a layer costs far more than a
// pair and one rate for both would mislead the time left.
func runAllPairs(ctx context.Context, e ExtraMeasure, reps []mat.Matrix, progress func(string, int, int)) (values *mat.Dense, kept []int, took time.Duration, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	progress(e.name, 0, 1)
	start := time.Now()
	L := len(reps)
	units := 1 // the measure's own count of layers and pairs, once it reports
	values, kept, err = e.allPairs(ctx, reps, func(done, total int) {
		units = total
		switch {
		case done <= 0 || done >= total:
		case done <= L:
			progress(e.name+" layers", done, L)
		default:
			progress(e.name+" pairs", done-L, total-L)
		}
	})
	took = time.Since(start)
	if units > L {
		progress(e.name+" pairs", units-L, units-L)
	} else {
		progress(e.name, units, units)
	}
	if err != nil && ctx.Err() != nil {
		return nil, nil, took, fmt.Errorf("study: %w", ctx.Err())
	}
	return values, kept, took, err
}

// costOf says what e costs over L layers of n prompts: the cost per pair for
// metrics.json, and, for the SVD-based measures, a note for the reader.
func costOf(e ExtraMeasure, n, L int) (cost, note string) {
	pairs := L * (L + 1) / 2
	cost = fmt.Sprintf("O(n²) for each layer's neighbours, then O(nk log k) per pair; %d pairs", pairs)
	switch {
	case e.kind == "svcca":
		cost = fmt.Sprintf("an eigendecomposition of each layer's n×n Gram matrix, then per pair an SVD of the smaller of the kept and the complementary directions, O(n³) at worst (n = %d): %d pairs", n, pairs)
		note = fmt.Sprintf("%s costs an SVD per pair of layers of the smaller of the kept and the complementary directions, O(n³) at worst (n = %d, %d pairs): seconds when the layers keep nearly all or few directions, about 20 s at 200 layers when they keep n/2 (docs/benchmarks.md)", e.name, n, pairs)
	case e.kind == "pwcca":
		cost = fmt.Sprintf("an SVD with vectors per ordered pair, O(n³) (n = %d): %d ordered pairs, none for a pair with a layer of rank n − 1", n, L*L)
		note = fmt.Sprintf("%s costs an SVD per pair of layers, O(n³) per pair (n = %d, %d ordered pairs): minutes at 200 layers unless the layers have full rank (docs/benchmarks.md)", e.name, n, L*L)
	case e.cubic():
		cost = fmt.Sprintf("an SVD per pair, O(n³) (n = %d): %d pairs; far more than CKA's O(n²) per pair", n, pairs)
		note = fmt.Sprintf("%s costs an SVD per pair of layers, O(n³) per pair (n = %d, %d pairs): minutes at 200 layers (docs/benchmarks.md)", e.name, n, pairs)
	}
	return cost, note
}

// fullRankNote is the note on PWCCA's layers of rank n − 1, "" when none.
func fullRankNote(e ExtraMeasure, kept []int, n int) string {
	full := fullRank(kept, n)
	if e.kind != "pwcca" || full == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %d of %d layers have rank n − 1 = %d, the most centred layers can have (a width of n − 1 or more): each spans the whole centred space, so every pair it is in has every canonical correlation 1 and PWCCA 1, whatever the layers hold; with n below the width, compare layers by svcca (its kept directions) instead", e.name, full, len(kept), n-1)
}

// mainMatrices computes Options.Main over the joint rows: the symmetric
// matrix the study reports (the measure itself; the mean of (i, j) and
// (j, i) for PWCCA and CKNNA, which are not symmetric) and the similarity the
// embedding and the Procrustes residuals use (the same matrix for a
// similarity, cos θ for the shape distance θ).
func mainMatrices(e ExtraMeasure, reps []mat.Matrix, n int, opt Options, notes *[]string, progress func(string, int, int)) (values, sim *mat.SymDense, err error) {
	raw, kept, took, err := runAllPairs(opt.Context, e, reps, progress)
	if err != nil {
		return nil, nil, fmt.Errorf("study: %s: %w", e.name, err)
	}
	L := len(reps)
	_, costNote := costOf(e, n, L)
	if costNote != "" {
		*notes = append(*notes, costNote+fmt.Sprintf("; it took %.3g s", took.Seconds()))
	}
	if note := fullRankNote(e, kept, n); note != "" {
		*notes = append(*notes, note)
	}
	values = mat.NewSymDense(L, nil)
	asymmetric := false
	for i := range L {
		for j := i; j < L; j++ {
			a, b := raw.At(i, j), raw.At(j, i)
			if a != b {
				asymmetric = true
			}
			values.SetSym(i, j, (a+b)/2)
		}
	}
	if asymmetric {
		*notes = append(*notes, fmt.Sprintf("%s is not symmetric: every figure uses the mean of layer i against j and j against i", e.name))
	}
	sim = values
	if e.Distance() {
		sim = mat.NewSymDense(L, nil)
		for i := range L {
			for j := i; j < L; j++ {
				sim.SetSym(i, j, math.Cos(values.At(i, j)))
			}
		}
		*notes = append(*notes, fmt.Sprintf("%s is a distance (radians, 0 for the same shape): the embedding and the Procrustes residuals use cos θ, the similarity whose arc it is", e.name))
	}
	return values, sim, nil
}

// rowsOf serves the rows idx of m, in that order, as a matrix.
type rowsOf struct {
	m   mat.Matrix
	idx []int
}

func (r rowsOf) Dims() (int, int)    { _, c := r.m.Dims(); return len(r.idx), c }
func (r rowsOf) At(i, j int) float64 { return r.m.At(r.idx[i], j) }
func (r rowsOf) T() mat.Matrix       { return mat.Transpose{Matrix: r} }

// mainStats is pairStats for a measure other than CKA: xs and ys are one
// model's layers in the pair's two languages, restricted to the prompts of
// the statistics, observed the measure of layer k against layer k on them.
// Every bootstrap resample and every permutation computes the measure again
// on each layer, so the cost is (boot + perms) pairs of layers per layer.
// (Twice that for PWCCA and CKNNA, taken both ways round.) The bootstrap
// interval is the study's shifted percentile interval around
// center, its spread times scale; the p-value, the null's mean and spread
// and the calibrated value are those of MeasureNull, in the direction of
// agreement of the measure.
func mainStats(ctx context.Context, e ExtraMeasure, xs, ys []mat.Matrix, observed []float64, boot, perms int, seed uint64, center, scale float64, progress func(done, total int)) (*stats, *MeasureNull, error) {
	n, _ := xs[0].Dims()
	L := len(xs)
	draws := drawResamples(rand.New(rand.NewPCG(seed, 0xb007)), n, boot)
	total := len(draws) + max(perms, 0)
	var done atomic.Int64
	st := &stats{layers: make([][]float64, len(draws))}
	errs := make([]error, len(draws))
	parallel.For(len(draws), 0, func(t int) {
		if ctx != nil && ctx.Err() != nil {
			errs[t] = ctx.Err()
			return
		}
		curve := make([]float64, L)
		for k := range L {
			v, err := e.resampled(xs[k], ys[k], draws[t])
			if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
				err = fmt.Errorf("value %g", v)
			}
			if err != nil {
				errs[t] = fmt.Errorf("bootstrap resample %d, layer %d: %w", t+1, k+1, err)
				return
			}
			curve[k] = v
		}
		st.layers[t] = curve
		progress(int(done.Add(1)), total)
	})
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	if len(draws) > 0 {
		means := make([]float64, len(draws))
		for t, c := range st.layers {
			means[t] = describe.Mean(c)
		}
		st.bias = describe.Mean(means) - describe.Mean(observed)
		st.ci[0], st.ci[1] = shiftedInterval(center, means, scale)
	}
	if perms <= 0 {
		return st, nil, nil
	}
	shuffles, err := calibrate.Permutations(n, calibrate.Options{Permutations: perms, Seed: seed})
	if err != nil {
		return nil, nil, err
	}
	base := len(draws)
	nl, err := measureNull(e, xs, ys, observed, shuffles, seed, true, func() error { return contextErr(ctx) }, func(k int) {
		progress(base+k*perms/L, total)
	})
	if err != nil {
		return nil, nil, err
	}
	progress(total, total)
	return st, nl, nil
}

// mainPairStats adds the bootstrap interval, the permutation test and the
// depth map's intervals of Options.Main to pair p (see mainStats): xs and
// ys are the pair's layers, subset the prompts of the statistics (nil: all).
// A measure that fails on a resample (a kNN with k at least the distinct
// prompts, a layer without variance) leaves the pair without statistics,
// with a note.
func mainPairStats(p *Pair, dp *Depth, xs, ys []mat.Matrix, subset []int, boot, perms int, opt Options, seed uint64, notes *[]string, progress func(string, int, int)) error {
	n, _ := xs[0].Dims()
	observed := p.CKAPerLayer
	if subset != nil {
		xs, ys = subsetRows(xs, subset), subsetRows(ys, subset)
		observed = make([]float64, len(xs))
		for k := range xs {
			v, err := opt.Main.both(xs[k], ys[k])
			if err != nil {
				*notes = append(*notes, fmt.Sprintf("%s %s–%s: no bootstrap or permutation statistics: layer %d on the %d prompts of the statistics: %v", p.Model, p.LangA, p.LangB, k+1, len(subset), err))
				return contextErr(opt.Context)
			}
			observed[k] = v
		}
	}
	stage := fmt.Sprintf("statistics %s %s–%s", p.Model, p.LangA, p.LangB)
	statsN, _ := xs[0].Dims()
	scale := math.Sqrt(float64(statsN) / float64(n))
	st, nl, err := mainStats(opt.Context, opt.Main, xs, ys, observed, boot, perms, seed, p.CKAMean, scale, func(done, total int) { progress(stage, done, total) })
	if err != nil {
		if cerr := contextErr(opt.Context); cerr != nil {
			return cerr
		}
		*notes = append(*notes, fmt.Sprintf("%s %s–%s: no bootstrap or permutation statistics: %v", p.Model, p.LangA, p.LangB, err))
		return nil
	}
	p.StatsN = statsN
	if boot > 0 {
		p.CKACI95, p.CKABootBias = &st.ci, &st.bias
		if err := dp.bootstrap(st.layers, scale); err != nil {
			*notes = append(*notes, fmt.Sprintf("depth map of %s %s–%s without intervals or change points: %v", p.Model, p.LangA, p.LangB, err))
		}
	}
	if nl != nil {
		p.PermP, p.PermNullMean, p.PermNullSD = &nl.P, &nl.Mean, &nl.SD
		if nl.SD > 0 {
			p.CKACalibrated = &nl.Calibrated
		}
	}
	return nil
}

// subsetRows returns the rows subset of each of xs.
func subsetRows(xs []mat.Matrix, subset []int) []mat.Matrix {
	out := make([]mat.Matrix, len(xs))
	for k, x := range xs {
		out[k] = rowsOf{x, subset}
	}
	return out
}
