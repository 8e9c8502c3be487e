package study

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/internal/parallel"
	"github.com/layersim/layersim/lcka/procrustes"
)

// pairs fills Metrics.Pairs: for every model and pair of languages, layer k of
// one language against layer k of the other.
func pairs(res *Result, blocks []block, src *layerSource, opt Options, notes *[]string, progress func(string, int, int)) error {
	m := &res.Metrics
	boot, perms, maxN := opt.Bootstrap, opt.Permutations, opt.StatsMaxN
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
	if statsN < m.N {
		rng := rand.New(rand.NewPCG(opt.Seed, 0x5eed))
		subset = rng.Perm(m.N)[:statsN]
		sort.Ints(subset)
		*notes = append(*notes, fmt.Sprintf("bootstrap and permutation statistics use %d of the %d prompts, drawn at random (seed %d); the bootstrap intervals are m-out-of-n intervals: the spread of the resamples scaled by √(%d/%d), around the mean CKA of all prompts", statsN, m.N, opt.Seed, statsN, m.N))
	}
	if (boot > 0 || perms > 0) && statsN < 4 {
		*notes = append(*notes, fmt.Sprintf("bootstrap and permutation statistics skipped: %d prompts are too few", statsN))
		boot, perms = -1, -1
	}
	switch {
	case boot <= 0 && perms <= 0:
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
				p.CKAMean, p.CKAMedian = meanOf(p.CKAPerLayer), median(p.CKAPerLayer)
				p.CKAMin, _ = minMax(p.CKAPerLayer)
				p.D3Mean, p.D3Median = meanOf(p.D3PerLayer), median(p.D3PerLayer)
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
					v := meanOf(p.RSAPerLayer)
					p.RSAMeanOverAll = &v
				}
				var err error
				p.ProcrustesRes, p.ProcrustesRel, err = procrustes.ResidualFromGrams(subSym(res.CKA, ba.first, L), subSym(res.CKA, bb.first, L))
				if err != nil {
					return fmt.Errorf("study: Procrustes for %s %s–%s: %w", model.ID, ba.lang, bb.lang, err)
				}
				if boot > 0 || perms > 0 {
					progress("statistics "+model.Slug, 0, 1)
					// With m = statsN < n prompts resampled, the interval is
					// the m-out-of-n one (Bickel, Götze and van Zwet 1997):
					// the resamples' spread scaled by √(m/n).
					scale := math.Sqrt(float64(statsN) / float64(m.N))
					st, err := pairStats(src, ba, bb, L, subset, opt.Measure != cka.MeasureLinear && opt.Measure != cka.MeasureDebiased, boot, perms, opt.Seed+uint64(mi)*7919, p.CKAMean, scale)
					if err != nil {
						return fmt.Errorf("study: statistics for %s %s–%s: %w", model.ID, ba.lang, bb.lang, err)
					}
					p.StatsN = statsN
					if boot > 0 {
						p.CKACI95 = &st.ci
						p.CKABootBias = &st.bias
					}
					if perms > 0 {
						p.PermP = &st.p
					}
				}
				m.Pairs = append(m.Pairs, p)
			}
		}
	}
	return nil
}

func sq(x float64) float64 { return x * x }

type stats struct {
	ci   [2]float64
	bias float64
	p    float64
}

// pairStats computes the bootstrap interval and the permutation p-value of
// the mean pair CKA of one model between two languages, on the prompts of
// subset (all if nil). The interval is placed on center, the mean pair CKA
// of all prompts, with the resamples' spread multiplied by scale.
func pairStats(src *layerSource, ba, bb block, L int, subset []int, standardized bool, boot, perms int, seed uint64, center, scale float64) (*stats, error) {
	grams := func(b block) ([][]float64, int, error) {
		out := make([][]float64, L)
		n := 0
		for k := 0; k < L; k++ {
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
			full := make([]float64, n*n)
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					full[i*n+j] = g.At(i, j)
				}
			}
			out[k] = full
		}
		return out, n, nil
	}
	ka, n, err := grams(ba)
	if err != nil {
		return nil, err
	}
	kb, _, err := grams(bb)
	if err != nil {
		return nil, err
	}
	normA, normB := make([]float64, L), make([]float64, L)
	observed := 0.0
	for k := 0; k < L; k++ {
		var ab, aa, bbv float64
		for i, v := range ka[k] {
			ab += v * kb[k][i]
			aa += v * v
			bbv += kb[k][i] * kb[k][i]
		}
		normA[k], normB[k] = math.Sqrt(aa), math.Sqrt(bbv)
		observed += ab / (normA[k] * normB[k])
	}
	observed /= float64(L)

	// Draw every resample first, from one generator, so results do not
	// depend on the number of workers.
	rng := rand.New(rand.NewPCG(seed, 0xb007))
	draws := make([][]int, max(boot, 0))
	for r := range draws {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		draws[r] = idx
	}
	perm := make([][]int, max(perms, 0))
	for r := range perm {
		perm[r] = rng.Perm(n)
	}
	bootVals := make([]float64, len(draws))
	nullVals := make([]float64, len(perm))
	parallel.For(len(draws)+len(perm), 0, func(t int) {
		if t < len(draws) {
			bootVals[t] = bootstrapMean(ka, kb, draws[t], n)
			return
		}
		p := perm[t-len(draws)]
		s := 0.0
		for k := 0; k < L; k++ {
			s += permutedDot(ka[k], kb[k], p, n) / (normA[k] * normB[k])
		}
		nullVals[t-len(draws)] = s / float64(L)
	})
	st := &stats{}
	if len(bootVals) > 0 {
		// Resampling with replacement repeats prompts, and a repeated prompt
		// is perfectly similar to itself in both languages: the resampled CKA
		// sits above the observed one. The interval is the percentile
		// interval shifted by that bias (mean of the resamples − observed),
		// i.e. the resamples' quantiles taken around their mean.
		sort.Float64s(bootVals)
		mean := meanOf(bootVals)
		st.bias = mean - observed
		st.ci = [2]float64{center + (quantile(bootVals, 0.025)-mean)*scale, center + (quantile(bootVals, 0.975)-mean)*scale}
	}
	if len(nullVals) > 0 {
		count := 0
		for _, v := range nullVals {
			if v >= observed {
				count++
			}
		}
		st.p = float64(1+count) / float64(1+len(nullVals))
	}
	return st, nil
}

// bootstrapMean is the mean pair CKA on the resampled prompts idx: the
// resampled Gram matrices A = Ka[idx, idx] and B = Kb[idx, idx] double-
// centered again. With c the multiplicity of each prompt in idx, a = A·1 and
// S = 1ᵀA·1, ⟨HAH, HBH⟩ = Σᵢⱼ cᵢcⱼ·Kaᵢⱼ·Kbᵢⱼ − (2/n)·Σᵢ cᵢ·aᵢ·bᵢ + Sa·Sb/n²,
// so one sequential pass over the rows of prompts drawn at least once gives
// every term, without forming A and B.
func bootstrapMean(ka, kb [][]float64, idx []int, n int) float64 {
	c := make([]float64, n)
	for _, i := range idx {
		c[i]++
	}
	var drawn []int
	for i, ci := range c {
		if ci > 0 {
			drawn = append(drawn, i)
		}
	}
	nf := float64(n)
	total := 0.0
	for k := range ka {
		var ab, aa, bb, cab, caa, cbb, sa, sb float64
		for _, i := range drawn {
			rowA, rowB := ka[k][i*n:(i+1)*n], kb[k][i*n:(i+1)*n]
			var ai, bi, abi, aai, bbi float64
			for _, j := range drawn {
				x, y, cj := rowA[j], rowB[j], c[j]
				ai += cj * x
				bi += cj * y
				abi += cj * x * y
				aai += cj * x * x
				bbi += cj * y * y
			}
			ci := c[i]
			ab += ci * abi
			aa += ci * aai
			bb += ci * bbi
			cab += ci * ai * bi
			caa += ci * ai * ai
			cbb += ci * bi * bi
			sa += ci * ai
			sb += ci * bi
		}
		dot := ab - 2/nf*cab + sa*sb/(nf*nf)
		na := aa - 2/nf*caa + sa*sa/(nf*nf)
		nb := bb - 2/nf*cbb + sb*sb/(nf*nf)
		total += dot / math.Sqrt(na*nb)
	}
	return total / float64(len(ka))
}

// permutedDot is Σᵢⱼ a[i,j]·b[p(i),p(j)].
func permutedDot(a, b []float64, p []int, n int) float64 {
	s := 0.0
	for i := 0; i < n; i++ {
		row := a[i*n : (i+1)*n]
		brow := b[p[i]*n : (p[i]+1)*n]
		for j, v := range row {
			s += v * brow[p[j]]
		}
	}
	return s
}

// quantile of sorted values, with linear interpolation (numpy's default).
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (pos-float64(lo))*(sorted[hi]-sorted[lo])
}
