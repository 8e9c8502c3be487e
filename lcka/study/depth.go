package study

import (
	"errors"
	"fmt"
	"github.com/layersim/layersim/internal/describe"
	"math"
	"sort"
)

// Depth is the depth map of one model's cross-lingual alignment between two
// languages: the CKA (or Options.Main's measure) of layer k in one language
// against layer k in the other, along depth, with its bootstrap interval and the layers where it
// changes significantly (see the package documentation, Depth map).
type Depth struct {
	Model  string    `json:"model"`
	Langs  [2]string `json:"langs"`
	Layers []int     `json:"layers"` // the layer numbers, in order
	CKA    []float64 `json:"cka"`    // the pair's cka_per_layer
	// Lo and Hi bound the 95% bootstrap interval of each layer's CKA over
	// prompts; null when no bootstrap ran.
	Lo        []float64 `json:"lo"`
	Hi        []float64 `json:"hi"`
	Resamples int       `json:"resamples,omitempty"`
	// ChangePoints are the significant changes along depth, by layer; null
	// when no bootstrap ran, empty when none was found.
	ChangePoints []ChangePoint `json:"change_points"`
}

// ChangePoint is a change of the cross-lingual CKA along depth, found by
// binary segmentation (FindChangePoints).
type ChangePoint struct {
	Layer int `json:"layer"` // the first layer after the change
	Index int `json:"index"` // its position along the curve (0-based)
	// Effect is the mean CKA of the segment's layers from Index on minus
	// that of its layers before Index (negative: alignment drops), and
	// EffectCI95 its 95% bootstrap interval.
	Effect     float64    `json:"effect"`
	EffectCI95 [2]float64 `json:"effect_ci95"`
	// Gain is the drop in the sum of squared deviations from the segment
	// mean(s) that the split brings; Threshold is the 95th percentile of the
	// same statistic, maximized over the splits, on the centred bootstrap
	// curves. The change is kept because Gain > Threshold.
	Gain      float64 `json:"gain"`
	Threshold float64 `json:"threshold"`
	Segment   [2]int  `json:"segment"` // the indices [start, end) of the segment split
	Step      int     `json:"step"`    // 1 for the first change found, and so on
}

// changeLevel is the level of each test of the segmentation.
const changeLevel = 0.05

// newDepth starts the depth map of pair p; rows are the joint rows of its
// first language's layers.
func newDepth(p Pair, rows []Row) *Depth {
	d := &Depth{Model: p.Model, Langs: [2]string{p.LangA, p.LangB}, CKA: p.CKAPerLayer}
	for _, r := range rows {
		d.Layers = append(d.Layers, r.Layer)
	}
	return d
}

// bootstrap adds the intervals and the change points from the resampled
// curves boot[b][k] (the CKA of layer k on resample b), their spread
// multiplied by scale (the m-out-of-n factor, 1 when all prompts are
// resampled).
func (d *Depth) bootstrap(boot [][]float64, scale float64) error {
	cps, err := FindChangePoints(d.CKA, boot, scale)
	if err != nil {
		return err
	}
	L := len(d.CKA)
	d.Lo, d.Hi = make([]float64, L), make([]float64, L)
	col := make([]float64, len(boot))
	for k := 0; k < L; k++ {
		for b := range boot {
			col[b] = boot[b][k]
		}
		d.Lo[k], d.Hi[k] = shiftedInterval(d.CKA[k], col, scale)
	}
	for i := range cps {
		cps[i].Layer = d.Layers[cps[i].Index]
	}
	d.Resamples, d.ChangePoints = len(boot), cps
	return nil
}

// shiftedInterval is the study's bootstrap interval of a statistic whose
// observed value is center and resampled values vals (reordered): the
// resamples' 2.5th and 97.5th percentiles taken around their mean, the
// spread multiplied by scale.
func shiftedInterval(center float64, vals []float64, scale float64) (lo, hi float64) {
	sort.Float64s(vals)
	mean := describe.Mean(vals)
	return center + (describe.Quantile(vals, 0.025)-mean)*scale, center + (describe.Quantile(vals, 0.975)-mean)*scale
}

// FindChangePoints segments the curve (one value per layer) by binary
// segmentation and returns its significant changes, by position along the
// curve (Layer is left 0). boot[b] is the curve on bootstrap resample b, the
// same resample for every layer; scale multiplies the resamples' spread
// (√(m/n) for m-out-of-n resamples, else 1).
//
// A segment [s, e) of two layers or more is split at the position t that
// maximizes the gain G(t) = SSD(s, e) − SSD(s, t) − SSD(t, e), SSD being the
// sum of squared deviations from the mean of the layers it covers, i.e.
// G(t) = (t−s)(e−t)/(e−s)·(mean[t, e) − mean[s, t))². The split is kept
// when max_t G(t) exceeds the 95th percentile of the same maximum over the
// bootstrap curves centred on their per-layer means (and scaled): a curve
// with the sampling noise of the CKA, correlated across layers as the
// resamples make it, but no change. Kept splits are segmented again until
// no split is significant.
func FindChangePoints(curve []float64, boot [][]float64, scale float64) ([]ChangePoint, error) {
	L := len(curve)
	if L == 0 {
		return nil, errors.New("study: change points of an empty curve")
	}
	if len(boot) < 2 {
		return nil, fmt.Errorf("study: change points need at least 2 bootstrap curves, got %d", len(boot))
	}
	if !(scale > 0) || math.IsInf(scale, 0) {
		return nil, fmt.Errorf("study: change points: scale %g", scale)
	}
	for k, v := range curve {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("study: change points: value %g at position %d", v, k)
		}
	}
	mean := make([]float64, L)
	for b, c := range boot {
		if len(c) != L {
			return nil, fmt.Errorf("study: change points: bootstrap curve %d has %d values for %d layers", b, len(c), L)
		}
		for k, v := range c {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("study: change points: bootstrap curve %d: value %g at position %d", b, v, k)
			}
			mean[k] += v / float64(len(boot))
		}
	}
	centred := make([][]float64, len(boot))
	for b, c := range boot {
		centred[b] = make([]float64, L)
		for k, v := range c {
			centred[b][k] = (v - mean[k]) * scale
		}
	}
	out := []ChangePoint{}
	null := make([]float64, len(boot))
	effects := make([]float64, len(boot))
	queue := [][2]int{{0, L}}
	for len(queue) > 0 {
		s, e := queue[0][0], queue[0][1]
		queue = queue[1:]
		if e-s < 2 {
			continue
		}
		t, gain := bestSplit(curve, s, e)
		for b, c := range centred {
			_, null[b] = bestSplit(c, s, e)
		}
		sort.Float64s(null)
		thr := describe.Quantile(null, 1-changeLevel)
		if !(gain > thr) {
			continue
		}
		for b, c := range boot {
			effects[b] = segMean(c, t, e) - segMean(c, s, t)
		}
		effect := segMean(curve, t, e) - segMean(curve, s, t)
		lo, hi := shiftedInterval(effect, effects, scale)
		out = append(out, ChangePoint{Index: t, Effect: effect, EffectCI95: [2]float64{lo, hi}, Gain: gain, Threshold: thr,
			Segment: [2]int{s, e}, Step: len(out) + 1})
		queue = append(queue, [2]int{s, t}, [2]int{t, e})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, nil
}

// bestSplit returns the split t in (s, e) of x[s:e] with the largest gain
// in the sum of squared deviations, and that gain (the first on ties).
func bestSplit(x []float64, s, e int) (int, float64) {
	total := 0.0
	for _, v := range x[s:e] {
		total += v
	}
	best, bestT := -1.0, s+1
	left := 0.0
	for t := s + 1; t < e; t++ {
		left += x[t-1]
		nl, nr := float64(t-s), float64(e-t)
		diff := (total-left)/nr - left/nl
		g := nl * nr / (nl + nr) * diff * diff
		if g > best {
			best, bestT = g, t
		}
	}
	return bestT, best
}

func segMean(x []float64, s, e int) float64 { return describe.Mean(x[s:e]) }
