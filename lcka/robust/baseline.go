package robust

import (
	"fmt"
	"github.com/layersim/layersim/internal/describe"
	"math/rand/v2"
	"slices"
)

// DefaultBaselineSubsets is the default number of random subsets of the
// subsampling baseline.
const DefaultBaselineSubsets = 20

// Baseline is the cross-lingual curve on random subsets of the questions of
// the length-matched subset's size: what subsampling alone does to the
// curve, against which the length-matched curve is read.
type Baseline struct {
	// Subsets random subsets of Size questions each, drawn by
	// RandomSubsets(n, Size, Subsets, Seed).
	Subsets int    `json:"subsets"`
	Size    int    `json:"size"`
	Seed    uint64 `json:"seed"`
	// Curves holds, per subset, the cross-lingual curve on it.
	Curves [][]float64 `json:"curves"`
	// Mean, Lo and Hi are, per layer, the mean and the 2.5th and 97.5th
	// percentiles of the subsets' values (linear interpolation, numpy's
	// default).
	Mean []float64 `json:"mean"`
	Lo   []float64 `json:"p2_5"`
	Hi   []float64 `json:"p97_5"`
	// Outside are the layers (numbers) where the length-matched curve lies
	// outside [Lo, Hi].
	Outside []int `json:"outside"`
}

// RandomSubsets draws count subsets of size of the rows 0…n−1, each without
// replacement and sorted, from a PCG generator seeded by seed: the same
// arguments give the same subsets. A subset indexes both languages, so the
// rows stay paired.
func RandomSubsets(n, size, count int, seed uint64) ([][]int, error) {
	if size < 1 || size > n {
		return nil, fmt.Errorf("subsets of %d of %d rows: want 1 to %d", size, n, n)
	}
	if count < 1 {
		return nil, fmt.Errorf("%d subsets: want at least 1", count)
	}
	rng := rand.New(rand.NewPCG(seed, 0xba5e))
	out := make([][]int, count)
	for i := range out {
		s := rng.Perm(n)[:size]
		slices.Sort(s)
		out[i] = s
	}
	return out, nil
}

// baseline computes root r's cross-lingual curve on count random subsets
// of lm's size and marks the layers where lm.Matched lies outside their
// central 95%.
func baseline(p pair, r int, lm *LengthMatch, layerNumbers []int, count int, seed uint64, opt Options) (*Baseline, error) {
	subsets, err := RandomSubsets(lm.Of, lm.N, count, seed)
	if err != nil {
		return nil, fmt.Errorf("robust: %s in root %s: baseline: %w", p.slug, "AB"[r:r+1], err)
	}
	L := len(lm.Matched)
	b := &Baseline{Subsets: count, Size: lm.N, Seed: seed, Outside: []int{}}
	for _, rows := range subsets {
		res, err := allPairs(&layers{p: p, root: r, rows: rows}, opt)
		if err != nil {
			return nil, err
		}
		c := make([]float64, L)
		for k := range L {
			c[k] = res.CKA.At(k, L+k)
		}
		b.Curves = append(b.Curves, c)
	}
	v := make([]float64, count)
	for k := range L {
		for i, c := range b.Curves {
			v[i] = c[k]
		}
		b.Mean = append(b.Mean, describe.Mean(v))
		slices.Sort(v)
		lo, hi := describe.Quantile(v, 0.025), describe.Quantile(v, 0.975)
		b.Lo, b.Hi = append(b.Lo, lo), append(b.Hi, hi)
		if m := lm.Matched[k]; m < lo || m > hi {
			b.Outside = append(b.Outside, layerNumbers[k])
		}
	}
	return b, nil
}
