package cca

import (
	"context"
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/grampanel"
	"github.com/layersim/layersim/lcka/internal/parallel"
	"github.com/layersim/layersim/lcka/internal/svdvals"
)

// Measure selects the similarity AllPairs computes.
type Measure int

const (
	// MeasureSVCCA is SVCCA with the Keep given to AllPairs.
	MeasureSVCCA Measure = iota
	// MeasurePWCCA is PWCCA.
	MeasurePWCCA
)

// AllPairs returns the L×L matrix of measure m between every pair of the
// layers reps (same n rows each): entry (i, j) is the measure of layer i
// against layer j (PWCCA is not symmetric when the ranks are equal, so both
// orders are computed). Each layer is centred and decomposed once; kept
// returns the directions each layer kept (SVCCA) or its rank (PWCCA).
func AllPairs(reps []mat.Matrix, m Measure, keep Keep) (values *mat.Dense, kept []int, err error) {
	return AllPairsProgress(context.Background(), reps, m, keep, nil)
}

// AllPairsProgress is AllPairs for long jobs: it stops between layers and
// pairs once ctx is done (returning its error), and tells progress, if not
// nil, how many of the layers and pairs are done, about every hundredth,
// one call at a time.
func AllPairsProgress(ctx context.Context, reps []mat.Matrix, m Measure, keep Keep, progress func(done, total int)) (values *mat.Dense, kept []int, err error) {
	L := len(reps)
	if L == 0 {
		return nil, nil, fmt.Errorf("cca: no layers")
	}
	if m != MeasureSVCCA && m != MeasurePWCCA {
		return nil, nil, fmt.Errorf("cca: invalid measure %d", int(m))
	}
	if m == MeasureSVCCA {
		if err := keep.check(); err != nil {
			return nil, nil, err
		}
	}
	n0 := -1
	for l, r := range reps {
		if r == nil {
			return nil, nil, fmt.Errorf("cca: layer %d is nil", l)
		}
		n, _ := r.Dims()
		if l == 0 {
			n0 = n
		} else if n != n0 {
			return nil, nil, fmt.Errorf("cca: layer %d has %d inputs and layer 0 has %d; they must match", l, n, n0)
		}
	}
	kept = make([]int, L)
	if m == MeasureSVCCA {
		if values, err = allSVCCA(ctx, reps, keep, kept, progress); err != nil {
			return nil, nil, err
		}
		return values, kept, nil
	}
	tr := parallel.NewTracker(ctx, L+L*L, progress)
	bases := make([]*basis, L)
	err = eachLayer(tr, L, func(l int) (err error) {
		bases[l], err = decompose(fmt.Sprintf("layer %d", l), reps[l], coordsBelowFull)
		if err == nil {
			kept[l] = len(bases[l].s)
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	values = mat.NewDense(L, L, nil)
	// (i, j) and (j, i) are one problem where the ranks differ: the
	// weights are on the side with fewer directions either way.
	same := func(i, j int) bool { return i > j && kept[i] != kept[j] }
	err = eachPair(tr, L, true, func(i, j int) error {
		switch {
		case i == j || max(kept[i], kept[j]) >= n0-1:
			// A layer with itself, or a larger side that spans the
			// centred space and holds the smaller: every canonical
			// correlation is 1.
			values.Set(i, j, 1)
			return nil
		case same(i, j):
			return nil
		}
		r, err := pwcca(bases[i], bases[j])
		values.Set(i, j, r.Value)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	for i := range L {
		for j := range i {
			if same(i, j) {
				values.Set(i, j, values.At(j, i))
			}
		}
	}
	return values, kept, nil
}

// allSVCCA is AllPairs for SVCCA: a spectrum per layer, then per pair the
// cheaper of the kept directions and their complements (svccaSum).
func allSVCCA(ctx context.Context, reps []mat.Matrix, keep Keep, kept []int, progress func(done, total int)) (*mat.Dense, error) {
	L := len(reps)
	tr := parallel.NewTracker(ctx, L+L*(L+1)/2, progress)
	specs := make([]*spectrum, L)
	err := eachLayer(tr, L, func(l int) (err error) {
		name := fmt.Sprintf("layer %d", l)
		if specs[l], err = newSpectrum(name, reps[l]); err != nil {
			return err
		}
		kept[l] = specs[l].kept(keep)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := packSpectra(specs, kept); err != nil {
		return nil, err
	}
	values := mat.NewDense(L, L, nil)
	if grampanel.Host() {
		return values, packedSVCCA(tr, specs, kept, values)
	}
	err = eachPair(tr, L, false, func(i, j int) error {
		if i == j {
			values.Set(i, i, 1) // every correlation of a span with itself
			return nil
		}
		sum, err := svccaSum(specs[i], specs[j], kept[i], kept[j])
		v := sum / float64(min(kept[i], kept[j]))
		values.Set(i, j, v)
		values.Set(j, i, v)
		return err
	})
	return values, err
}

// packSpectra packs, where the CPU has the host kernel, each layer's kept
// directions if a pair compares them and its complement if a pair compares
// that (usesComplements): with 99% of spread variance kept, every pair
// goes through the complements, and packing the kept directions too would
// double the memory, and the time to pack, for nothing.
func packSpectra(specs []*spectrum, kept []int) error {
	if !grampanel.Host() {
		return nil
	}
	L, n := len(specs), specs[0].n
	top, rest := make([]bool, L), make([]bool, L)
	for i := range L {
		for j := i + 1; j < L; j++ {
			switch {
			case !usesComplements(n, kept[i], kept[j]):
				top[i], top[j] = true, true
			case kept[i] != n && kept[j] != n:
				rest[i], rest[j] = true, true
			}
		}
	}
	errs := make([]error, L)
	parallel.For(L, 0, func(l int) {
		if err := specs[l].packPanels(kept[l], top[l], rest[l]); err != nil {
			errs[l] = fmt.Errorf("cca: layer %d: %w", l, err)
		}
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// packedSVCCA is allSVCCA's pair stage on bases packed for the tile kernel
// (packPanels): the pairs whose value is known without an SVD are set at
// once, and the others go svdvals.ProductBatch at a time, their products'
// singular values found together (svdvals.ProductValues), their dqds runs
// interleaved in one loop.
func packedSVCCA(tr *parallel.Tracker, specs []*spectrum, kept []int, values *mat.Dense) error {
	L := len(specs)
	set := func(i, j int, sum float64) {
		v := sum / float64(min(kept[i], kept[j]))
		values.Set(i, j, v)
		values.Set(j, i, v)
	}
	var jobs []svccaJob
	for i := range L {
		values.Set(i, i, 1) // every correlation of a span with itself
		tr.Done(1)
		for j := i + 1; j < L; j++ {
			job := planSVCCA(specs[i], specs[j], kept[i], kept[j])
			if job.qx == nil {
				set(i, j, job.add)
				tr.Done(1)
				continue
			}
			job.i, job.j = i, j
			jobs = append(jobs, job)
		}
	}
	const batch = svdvals.ProductBatch
	errs := make([]error, (len(jobs)+batch-1)/batch)
	parallel.For(len(errs), 0, func(t int) {
		if tr.Err() != nil {
			return
		}
		group := jobs[batch*t : min(len(jobs), batch*(t+1))]
		sums, index, err := nuclearJobs(group)
		if err != nil {
			errs[t] = fmt.Errorf("cca: layers %d and %d: %w", group[index].i, group[index].j, err)
			return
		}
		for g, job := range group {
			set(job.i, job.j, sums[g]+job.add)
		}
		tr.Done(len(group))
	})
	return firstError(tr, errs)
}

// firstError returns the context's error once tr's is done, else the first
// of errs.
func firstError(tr *parallel.Tracker, errs []error) error {
	if err := tr.Err(); err != nil {
		return fmt.Errorf("cca: %w", err)
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// eachLayer calls f for every layer on all cores, counting each on tr, and
// returns the context's error or the first of f's (which name the layer).
func eachLayer(tr *parallel.Tracker, L int, f func(l int) error) error {
	errs := make([]error, L)
	parallel.For(L, 0, func(l int) {
		if tr.Err() == nil {
			errs[l] = f(l)
			tr.Done(1)
		}
	})
	return firstError(tr, errs)
}

// eachPair calls f for every ordered pair of layers (i, j) with both, and
// for those with i ≤ j without, on all cores, counting each on tr, and
// returns the context's error or the first of f's, naming the pair.
func eachPair(tr *parallel.Tracker, L int, both bool, f func(i, j int) error) error {
	var pairs [][2]int
	for i := 0; i < L; i++ {
		for j := 0; j < L; j++ {
			if both || j >= i {
				pairs = append(pairs, [2]int{i, j})
			}
		}
	}
	errs := make([]error, len(pairs))
	parallel.For(len(pairs), 0, func(t int) {
		if tr.Err() == nil {
			errs[t] = f(pairs[t][0], pairs[t][1])
			tr.Done(1)
		}
	})
	if err := tr.Err(); err != nil {
		return fmt.Errorf("cca: %w", err)
	}
	for t, err := range errs {
		if err != nil {
			return fmt.Errorf("cca: layers %d and %d: %w", pairs[t][0], pairs[t][1], err)
		}
	}
	return nil
}
