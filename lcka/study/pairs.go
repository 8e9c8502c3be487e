package study

import (
	"errors"
	"fmt"
	"github.com/layersim/layersim/internal/describe"
	"math"
	"math/rand/v2"
	"sort"
	"sync/atomic"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/internal/parallel"
	"github.com/layersim/layersim/lcka/procrustes"
)

// pairs fills Metrics.Pairs: for every model and pair of languages, layer k of
// one language against layer k of the other. sim is the similarity the
// Procrustes residuals use (res.CKA, or Options.Main's, see mainMatrices);
// reps are every joint layer when Options.Main is set, whose statistics
// recompute it.
func pairs(res *Result, blocks []block, src *layerSource, sim *mat.SymDense, reps []mat.Matrix, opt Options, notes *[]string, progress func(string, int, int)) error {
	m := &res.Metrics
	main := !opt.Main.IsZero()
	boot, perms, maxN := opt.Bootstrap, opt.Permutations, opt.StatsMaxN
	if main && (boot == 0 || perms == 0) {
		// Each resample and permutation computes the measure again on
		// every layer of a pair: run them only when asked for.
		*notes = append(*notes, fmt.Sprintf("the bootstrap and the permutation test of %s run only when asked for (a count of resamples and of permutations): each computes the measure again on every layer of a pair", opt.Main.name))
		if boot == 0 {
			boot = -1
		}
		if perms == 0 {
			perms = -1
		}
	}
	if boot == 0 {
		boot = 1000
	}
	if perms == 0 {
		perms = 1000
	}
	if maxN <= 0 {
		maxN = 2000
	}
	statsN := min(m.N, maxN)
	var subset []int // the prompts the statistics use
	if statsN < m.N && (boot > 0 || perms > 0) {
		rng := rand.New(rand.NewPCG(opt.Seed, 0x5eed))
		subset = rng.Perm(m.N)[:statsN]
		sort.Ints(subset)
		name := "CKA"
		if main {
			name = opt.Main.name
		}
		*notes = append(*notes, fmt.Sprintf("bootstrap and permutation statistics use %d of the %d prompts, drawn at random (seed %d); the bootstrap intervals are m-out-of-n intervals: the spread of the resamples scaled by √(%d/%d), around the mean %s of all prompts", statsN, m.N, opt.Seed, statsN, m.N, name))
	}
	if (boot > 0 || perms > 0) && statsN < 4 {
		*notes = append(*notes, fmt.Sprintf("bootstrap and permutation statistics skipped: %d prompts are too few", statsN))
		boot, perms = -1, -1
	}
	switch {
	case boot <= 0 && perms <= 0:
	case main:
		*notes = append(*notes, fmt.Sprintf("bootstrap and permutation statistics of %s compute it again on each resample and each permutation, layer by layer (%d and %d per layer)", opt.Main.name, max(boot, 0), max(perms, 0)))
	case opt.Minibatch > 0:
		name := "standardized CKA"
		if opt.Measure == cka.MeasureLinear || opt.Measure == cka.MeasureDebiased {
			name = "linear CKA on centered features"
		}
		*notes = append(*notes, "bootstrap and permutation statistics use "+name+", not minibatch CKA")
	case opt.Measure == cka.MeasureDebiased:
		*notes = append(*notes, "bootstrap and permutation statistics use biased linear CKA on centered features")
	}
	byModel := map[int][]block{}
	for _, b := range blocks {
		byModel[b.model] = append(byModel[b.model], b)
	}
	for mi, model := range m.Models {
		bs := byModel[mi]
		L := model.Layers
		for a := 0; a < len(bs); a++ {
			for b := a + 1; b < len(bs); b++ {
				ba, bb := bs[a], bs[b]
				p := Pair{Model: model.ID, LangA: ba.lang, LangB: bb.lang, Count: L}
				for k := 0; k < L; k++ {
					ia, ib := ba.first+k, bb.first+k
					p.CKAPerLayer = append(p.CKAPerLayer, res.CKA.At(ia, ib))
					xa, xb := m.Joint.XYZ[ia], m.Joint.XYZ[ib]
					d := math.Sqrt(sq(xa[0]-xb[0]) + sq(xa[1]-xb[1]) + sq(xa[2]-xb[2]))
					p.D3PerLayer = append(p.D3PerLayer, d)
					p.CKALastLayer = append(p.CKALastLayer, res.CKA.At(ia, ba.first+L-1))
					p.CKALastLayerB = append(p.CKALastLayerB, res.CKA.At(ib, bb.first+L-1))
					if res.RSA != nil {
						p.RSAPerLayer = append(p.RSAPerLayer, res.RSA.At(ia, ib))
					}
				}
				p.CKAMean, p.CKAMedian = describe.Mean(p.CKAPerLayer), median(p.CKAPerLayer)
				p.CKAMin, _ = minMax(p.CKAPerLayer)
				p.D3Mean, p.D3Median = describe.Mean(p.D3PerLayer), median(p.D3PerLayer)
				_, p.D3Max = minMax(p.D3PerLayer)
				if L > 1 {
					ss := 0.0
					for _, d := range p.D3PerLayer {
						ss += sq(d - p.D3Mean)
					}
					std := math.Sqrt(ss / float64(L-1))
					p.D3Std = &std
				}
				if res.RSA != nil {
					v := describe.Mean(p.RSAPerLayer)
					p.RSAMeanOverAll = &v
				}
				if err := procrustesOf(&p, sim, ba.first, bb.first, L, main); err != nil {
					if !main {
						return fmt.Errorf("study: %s %s–%s: %w", model.ID, ba.lang, bb.lang, err)
					}
					*notes = append(*notes, fmt.Sprintf("%s %s–%s: no Procrustes residuals from %s: %v", model.ID, ba.lang, bb.lang, opt.Main.name, err))
				}
				dp := newDepth(p, m.Joint.Rows[ba.first:ba.first+L])
				if main && (boot > 0 || perms > 0) {
					if err := mainPairStats(&p, dp, reps[ba.first:ba.first+L], reps[bb.first:bb.first+L], subset, boot, perms, opt, opt.Seed+uint64(mi)*7919, notes, progress); err != nil {
						return err
					}
				}
				if !main && (boot > 0 || perms > 0) {
					progress("statistics "+model.Slug, 0, 1)
					// With m = statsN < n prompts resampled, the interval is
					// the m-out-of-n one (Bickel, Götze and van Zwet 1997):
					// the resamples' spread scaled by √(m/n).
					scale := math.Sqrt(float64(statsN) / float64(m.N))
					standardized := opt.Measure != cka.MeasureLinear && opt.Measure != cka.MeasureDebiased
					ka, ns, err := statsGrams(src, ba, L, subset, standardized)
					if err != nil {
						return fmt.Errorf("study: statistics for %s %s–%s: %w", model.ID, ba.lang, bb.lang, err)
					}
					kb, _, err := statsGrams(src, bb, L, subset, standardized)
					if err != nil {
						return fmt.Errorf("study: statistics for %s %s–%s: %w", model.ID, ba.lang, bb.lang, err)
					}
					st := pairStats(ka, kb, ns, boot, perms, opt.Seed+uint64(mi)*7919, p.CKAMean, scale)
					p.StatsN = statsN
					if boot > 0 {
						p.CKACI95 = &st.ci
						p.CKABootBias = &st.bias
						if err := dp.bootstrap(st.layers, scale); err != nil {
							*notes = append(*notes, fmt.Sprintf("depth map of %s %s–%s without intervals or change points: %v", model.ID, ba.lang, bb.lang, err))
						}
					}
					if perms > 0 {
						p.PermP = &st.p
						p.PermNullMean, p.PermNullSD = &st.nullMean, &st.nullSD
						if st.nullSD > 0 {
							z := (st.observed - st.nullMean) / st.nullSD
							p.CKACalibrated = &z
						}
					}
				}
				m.Pairs = append(m.Pairs, p)
				m.Depth = append(m.Depth, *dp)
			}
		}
	}
	return nil
}

// procrustesOf sets p's Procrustes residuals from the blocks of the
// similarity sim of two languages' L layers, starting at rows a and b: the
// study's (an orthogonal map of the layers, from the cross-lingual block)
// and the signature-space one (from the within-language blocks). Both treat
// the pair's 2L×2L block as a Gram matrix, the dot products of unit
// signatures, as CKA's is. With gram set (a measure other than CKA) the
// block is checked first: one with an eigenvalue below −10⁻⁸ of its largest
// (procrustes' own tolerance) is an error, and leaves p without residuals.
func procrustesOf(p *Pair, sim *mat.SymDense, a, b, L int, gram bool) error {
	if gram {
		joint := mat.NewSymDense(2*L, nil)
		row := func(i int) int {
			if i < L {
				return a + i
			}
			return b + i - L
		}
		for i := range 2 * L {
			for j := i; j < 2*L; j++ {
				joint.SetSym(i, j, sim.At(row(i), row(j)))
			}
		}
		var eig mat.EigenSym
		if !eig.Factorize(joint, false) {
			return errors.New("the eigendecomposition of the pair's similarity block failed")
		}
		vals := eig.Values(nil) // ascending
		if lo, hi := vals[0], vals[len(vals)-1]; lo < -1e-8*max(hi, 0) {
			return fmt.Errorf("the pair's similarity block is not a Gram matrix (eigenvalue %.3g, largest %.3g): no signatures have these dot products", lo, hi)
		}
	}
	gA, gB := subSym(sim, a, L), subSym(sim, b, L)
	res, rel, err := procrustes.LayerResidualFromCross(sub(sim, a, L, b, L), trace(gA), trace(gB))
	if err != nil {
		return fmt.Errorf("Procrustes: %w", err)
	}
	sres, srel, err := procrustes.ResidualFromGrams(gA, gB)
	if err != nil {
		return fmt.Errorf("signature-space Procrustes: %w", err)
	}
	p.ProcrustesRes, p.ProcrustesRel, p.ProcrustesSignatureRes, p.ProcrustesSignatureRel = &res, &rel, &sres, &srel
	return nil
}

// drawResamples draws count bootstrap resamples of n prompts from rng,
// each n indices drawn with replacement, one resample after the other (none
// for count ≤ 0).
func drawResamples(rng *rand.Rand, n, count int) [][]int {
	draws := make([][]int, max(count, 0))
	for t := range draws {
		draws[t] = make([]int, n)
		for i := range draws[t] {
			draws[t][i] = rng.IntN(n)
		}
	}
	return draws
}

func sq(x float64) float64 { return x * x }

func trace(s mat.Symmetric) float64 {
	t := 0.0
	for i := 0; i < s.SymmetricDim(); i++ {
		t += s.At(i, i)
	}
	return t
}

type stats struct {
	ci   [2]float64
	bias float64
	p    float64
	// layers[b][k] is the CKA of layer k on bootstrap resample b (the same
	// resamples for every layer), for the depth map.
	layers [][]float64
	// nullMean and nullSD are the mean and standard deviation (ddof 1) of
	// the permuted mean pair CKA, observed its unpermuted value, on the
	// prompts of the statistics.
	nullMean, nullSD, observed float64
	// rechecked counts the permutations that the bfloat16 screen left
	// undecided and that were computed again in float32.
	rechecked int
}

// statsGrams returns the centred (standardized) Gram matrices of the L
// layers of block b on the prompts of subset (all if nil): those the CKA
// engine handed to src when it did, else computed here.
func statsGrams(src *layerSource, b block, L int, subset []int, standardized bool) ([][]float32, int, error) {
	out := make([][]float32, L)
	n := 0
	for k := 0; k < L; k++ {
		if subset == nil && src.grams != nil && src.grams[b.first+k] != nil {
			out[k], n = src.grams[b.first+k], src.n
			continue
		}
		x, err := src.Layer(b.first + k)
		if err != nil {
			return nil, 0, err
		}
		d := x.Dense()
		var rows mat.Matrix = d
		if subset != nil {
			sel := mat.NewDense(len(subset), x.Cols, nil)
			for i, r := range subset {
				sel.SetRow(i, d.RawRowView(r))
			}
			rows = sel
		}
		g, err := cka.CenteredGram(rows, standardized)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", src.Name(b.first+k), err)
		}
		n = g.SymmetricDim()
		full := make([]float32, n*n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				full[i*n+j] = float32(g.At(i, j))
			}
		}
		out[k] = full
	}
	return out, n, nil
}

// resampleBatch is the number of resamples that share a pass over the Gram
// matrices.
const resampleBatch = 25

// pairStats computes the bootstrap interval and the permutation p-value of
// the mean pair CKA between the layers' centred Gram matrices ka[k], kb[k]
// (n×n) of two languages. The interval is placed on center, the mean pair
// CKA of all prompts, with the resamples' spread multiplied by scale.
func pairStats(ka, kb [][]float32, n, boot, perms int, seed uint64, center, scale float64) *stats {
	r := newResampler(ka, kb, n)
	observed := r.observed()

	// Draw every resample first, from one generator, so results do not
	// depend on the number of workers.
	rng := rand.New(rand.NewPCG(seed, 0xb007))
	draws := drawResamples(rng, n, boot)
	perm := make([][]int, max(perms, 0))
	for t := range perm {
		perm[t] = rng.Perm(n)
	}
	bootVals := make([]float64, len(draws))
	bootLayers := make([][]float64, len(draws))
	for t := range bootLayers {
		bootLayers[t] = make([]float64, len(ka))
	}
	nullVals := make([]float64, len(perm))
	var rechecked atomic.Int64
	// Batches of resamples share each pass over the Gram matrices.
	nb, np := (len(draws)+resampleBatch-1)/resampleBatch, (len(perm)+resampleBatch-1)/resampleBatch
	parallel.For(nb+np, 0, func(t int) {
		if t < nb {
			lo, hi := t*resampleBatch, min(len(draws), (t+1)*resampleBatch)
			batch := make([]resample, hi-lo)
			for q := range batch {
				batch[q] = newResample(draws[lo+q], n)
			}
			r.bootstrapLayers(batch, bootLayers[lo:hi])
			for q := lo; q < hi; q++ {
				bootVals[q] = describe.Mean(bootLayers[q])
			}
			return
		}
		t -= nb
		lo, hi := t*resampleBatch, min(len(perm), (t+1)*resampleBatch)
		ps := make([][]int32, hi-lo)
		for q := range ps {
			ps[q] = make([]int32, n)
			for i, v := range perm[lo+q] {
				ps[q][i] = int32(v)
			}
		}
		if r.kb16 == nil {
			r.permuted(ps, nullVals[lo:hi])
			return
		}
		// Screened in bfloat16; the permutations whose value lies within
		// the screen's error of the observed one are computed again as
		// before, so the count below is the float32 computation's.
		r.permutedScreen(ps, nullVals[lo:hi])
		bound := screenBound(n)
		for q, v := range nullVals[lo:hi] {
			if math.Abs(v-observed) <= bound || math.IsNaN(v) {
				r.permuted(ps[q:q+1], nullVals[lo+q:lo+q+1])
				rechecked.Add(1)
			}
		}
	})
	st := &stats{layers: bootLayers, rechecked: int(rechecked.Load())}
	if len(bootVals) > 0 {
		// Resampling with replacement repeats prompts, and a repeated prompt
		// is perfectly similar to itself in both languages: the resampled CKA
		// sits above the observed one. The interval is the percentile
		// interval shifted by that bias (mean of the resamples − observed),
		// i.e. the resamples' quantiles taken around their mean.
		sort.Float64s(bootVals)
		mean := describe.Mean(bootVals)
		st.bias = mean - observed
		st.ci = [2]float64{center + (describe.Quantile(bootVals, 0.025)-mean)*scale, center + (describe.Quantile(bootVals, 0.975)-mean)*scale}
	}
	if len(nullVals) > 0 {
		count := 0
		for _, v := range nullVals {
			if v >= observed {
				count++
			}
		}
		st.p = float64(1+count) / float64(1+len(nullVals))
		// The null's moments: from the permuted values as computed, the
		// screened ones within screenBound of their float32 values.
		st.nullMean = describe.Mean(nullVals)
		if len(nullVals) > 1 {
			ss := 0.0
			for _, v := range nullVals {
				ss += sq(v - st.nullMean)
			}
			st.nullSD = math.Sqrt(ss / float64(len(nullVals)-1))
		}
		st.observed = observed
	}
	return st
}
