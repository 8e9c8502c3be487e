package cka

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"gonum.org/v1/gonum/mat"

	lbackend "github.com/layersim/layersim/lcka/backend"
	"github.com/layersim/layersim/lcka/internal/meminfo"
)

// Matrix is a dense row-major float32 matrix: one layer's representation,
// Rows inputs by Cols features.
type Matrix struct {
	Rows, Cols int
	Data       []float32
}

// Dense returns a float64 copy of m, for the pairwise functions.
func (m Matrix) Dense() *mat.Dense {
	d := make([]float64, len(m.Data))
	for i, v := range m.Data {
		d[i] = float64(v)
	}
	return mat.NewDense(m.Rows, m.Cols, d)
}

// Source gives AllPairs the layers to compare, one at a time, so that they
// need not all be in memory at once.
type Source interface {
	// Len returns the number of layers.
	Len() int
	// Name names layer i in error messages, e.g. "llama-1b/hi/layer_7".
	Name(i int) string
	// Layer loads layer i. AllPairs calls it once per layer.
	Layer(i int) (Matrix, error)
}

// Slice is a Source over matrices in memory.
type Slice []Matrix

// Len implements Source.
func (s Slice) Len() int { return len(s) }

// Name implements Source.
func (s Slice) Name(i int) string { return fmt.Sprintf("layer %d", i) }

// Layer implements Source.
func (s Slice) Layer(i int) (Matrix, error) { return s[i], nil }

// Measure selects what AllPairs computes.
type Measure int

const (
	// MeasureStandardized is the study's CKA (columns standardized, then linear CKA).
	MeasureStandardized Measure = iota
	// MeasureLinear is linear CKA on centered columns.
	MeasureLinear
	// MeasureDebiased is linear CKA with the unbiased HSIC on centered columns.
	MeasureDebiased
)

func (m Measure) String() string {
	switch m {
	case MeasureStandardized:
		return "cka-standardized"
	case MeasureLinear:
		return "cka"
	case MeasureDebiased:
		return "cka-debiased"
	}
	return fmt.Sprintf("Measure(%d)", int(m))
}

// Options configures AllPairs. The zero value computes the study's
// standardized CKA on the pure-Go backend within 60% of available memory.
type Options struct {
	Measure Measure
	// Minibatch > 0 computes minibatch CKA (Nguyen et al. 2021) over
	// consecutive batches of that many inputs: the unbiased HSIC of each
	// batch, averaged. Columns are still centered or standardized over all n.
	// A last batch of fewer than 4 inputs is left out (Result.Dropped).
	Minibatch int
	// Backend runs the tile products; nil means the process's choice
	// (package backend: --backend, $LAYERSIM_BACKEND, else GoMLX's pure-Go
	// backend with its ops run sequentially, "ops_sequential").
	Backend compute.Backend
	// MemoryBudget bounds the bytes held by layers and tiles; 0 means 60% of
	// the memory available. Layers that do not fit in half of it go to a
	// scratch file in TempDir. The peak resident memory of the process runs
	// somewhat above it, with the Go heap's slack (17 GB for a budget of
	// about 14.8 GB on the 20,000 × 200-layer job of docs/benchmarks.md).
	MemoryBudget int64
	// TileSize is the side of the Gram tiles; 0 picks one from n, the number
	// of layers and the budget.
	TileSize int
	// TempDir holds the scratch file; "" means os.TempDir().
	TempDir string
	// Checkpoint, if set, is a file where the tiles route saves its progress
	// (atomically, every CheckpointEvery, 30 s if 0, and when Context is
	// cancelled) and from which a later call with the same layers and
	// options resumes (Result.ResumedTiles); it is removed when the call
	// succeeds. A file from another job, or damaged, is not used
	// (Result.CheckpointIgnored says why) and is overwritten. The signatures
	// route, for small n, takes seconds and does not checkpoint.
	Checkpoint      string
	CheckpointEvery time.Duration
	// Context, if set, stops the tiles route between two tiles when it is
	// cancelled; the error wraps the context's.
	Context context.Context
	// Progress, if set, is called as the work advances, with the units done
	// and the total: one unit per layer loaded and prepared, then one per
	// Gram tile (tiles route) or one for the product of the signatures
	// (signatures route).
	Progress func(done, total int)
}

// Result is the outcome of AllPairs.
type Result struct {
	// CKA is the L×L matrix of CKA values; its diagonal is 1.
	CKA *mat.SymDense
	// HSIC is the un-normalized matrix CKA is made of (tr(KᵢHKⱼH), or the
	// unbiased HSIC for the debiased and minibatch measures).
	HSIC *mat.SymDense
	// N is the number of inputs, TileSize the tile side used.
	N, TileSize int
	// ResumedTiles is the number of tiles taken from Options.Checkpoint;
	// CheckpointIgnored says why an existing checkpoint was not used.
	ResumedTiles      int
	CheckpointIgnored string
	// BlocksHeld is, on the tiles route, the number of row blocks held in
	// memory at once (all of them unless Spilled).
	BlocksHeld int
	// ConstantColumns counts, per layer, the columns without variance that
	// were set to zero.
	ConstantColumns []int
	// Route is "signatures" (layers streamed once into their n×n Gram
	// matrices, for small n) or "tiles" (the tiled sweep).
	Route string
	// Spilled reports whether layers were kept in a scratch file.
	Spilled bool
	// Dropped is the number of inputs left out of minibatch CKA.
	Dropped int
}

// AllPairs computes CKA between every pair of layers of src.
func AllPairs(src Source, opt Options) (*Result, error) {
	L := src.Len()
	if L == 0 {
		return nil, errors.New("cka: no layers to compare")
	}
	if opt.Measure < MeasureStandardized || opt.Measure > MeasureDebiased {
		return nil, fmt.Errorf("cka: unknown measure %v", opt.Measure)
	}
	backend := opt.Backend
	if backend == nil {
		// Ops run one after the other, each matrix product using all cores:
		// with the default scheduling, many independent large products in
		// one graph can exhaust the Go backend's worker pool and deadlock.
		// XLA backends (--backend, $LAYERSIM_BACKEND) are shared by the
		// process.
		spec, err := lbackend.Default()
		if err != nil {
			return nil, fmt.Errorf("cka: %w", err)
		}
		if backend, err = lbackend.Shared(spec, "ops_sequential"); err != nil {
			return nil, fmt.Errorf("cka: starting the backend: %w", err)
		}
	}
	budget := opt.MemoryBudget
	if budget <= 0 {
		budget = defaultBudget()
	}

	if opt.Minibatch <= 0 && opt.TileSize <= 0 {
		// Small n: stream the layers once into their Gram matrices (the
		// study's signatures) when those fit a quarter of the budget.
		first, err := src.Layer(0)
		if err != nil {
			return nil, fmt.Errorf("cka: loading %s: %w", src.Name(0), err)
		}
		src = &firstCached{Source: src, first: first}
		if int64(L)*int64(first.Rows)*int64(first.Rows)*4 <= budget/4 {
			return signatureRoute(src, opt, backend)
		}
	}
	st, res, err := preprocess(src, opt, budget, backend)
	if err != nil {
		return nil, err
	}
	res.Route = "tiles"
	defer st.close()
	n := res.N
	debiased := opt.Measure == MeasureDebiased || opt.Minibatch > 0
	if opt.Measure == MeasureDebiased && n < 4 {
		return nil, fmt.Errorf("cka: debiased CKA needs n ≥ 4 inputs, got %d", n)
	}
	starts := st.starts
	nb := len(starts) - 1
	if opt.Minibatch > 0 && starts[nb]-starts[nb-1] < 4 {
		// A last minibatch of fewer than 4 inputs has no unbiased HSIC.
		res.Dropped = starts[nb] - starts[nb-1]
		nb--
		if nb == 0 {
			return nil, fmt.Errorf("cka: minibatch CKA needs at least 4 inputs, got %d", n)
		}
	}

	eng, err := newTileEngine(backend, L, debiased)
	if err != nil {
		return nil, err
	}
	defer eng.finalize()

	acc := make([]float64, L*L)
	var rowSums [][]float64
	if debiased && opt.Minibatch <= 0 {
		rowSums = make([][]float64, L)
		for i := range rowSums {
			rowSums[i] = make([]float64, n)
		}
	}
	total := tileCount(nb, opt.Minibatch > 0)
	tileDone := make([]bool, nb*nb) // by r·nb + c
	done := 0
	var cp *checkpoint
	if opt.Checkpoint != "" {
		cp = &checkpoint{path: opt.Checkpoint, fingerprint: st.fingerprint, L: L, n: n, nb: nb, rowSums: rowSums != nil}
		reused, err := cp.load(tileDone, acc, rowSums)
		if err != nil {
			res.CheckpointIgnored = err.Error()
		}
		res.ResumedTiles, done = reused, reused
	}
	every := opt.CheckpointEvery
	if every <= 0 {
		every = 30 * time.Second
	}
	lastSave := time.Now()
	save := func(force bool) error {
		if cp == nil || (!force && time.Since(lastSave) < every) {
			return nil
		}
		lastSave = time.Now()
		return cp.save(tileDone, acc, rowSums)
	}
	// stop reports a cancelled context, after saving the checkpoint.
	stop := func() error {
		if opt.Context == nil || opt.Context.Err() == nil {
			return nil
		}
		if err := save(true); err != nil {
			return errors.Join(opt.Context.Err(), err)
		}
		return fmt.Errorf("cka: %w", opt.Context.Err())
	}
	add := func(t *tileResult, r, c int) error {
		switch {
		case opt.Minibatch > 0:
			addMinibatchHSIC(acc, t, starts[r+1]-starts[r])
		default:
			w := 2.0 // tiles (r, c) and (c, r) are transposes with the same inner products
			if c == r {
				w = 1
			}
			for k := range acc {
				acc[k] += w * t.p[k]
			}
			for i := range rowSums {
				for k, v := range t.rowSum[i] {
					rowSums[i][starts[r]+k] += v
				}
				for k, v := range t.colSum[i] {
					rowSums[i][starts[c]+k] += v
				}
			}
		}
		tileDone[r*nb+c] = true
		done++
		if opt.Progress != nil {
			opt.Progress(L+done, L+total)
		}
		return save(false)
	}
	var sweepErr error
	if opt.Minibatch > 0 {
		sweepErr = sweepDiagonal(st, eng, nb, tileDone, stop, add)
	} else {
		// Groups of row blocks are held together while the column blocks
		// stream past them: all blocks form one group in memory; from a
		// scratch file, as many as fit half the budget, so that each column
		// block is read once per group rather than once per tile.
		hold := nb
		if st.file != nil {
			hold = int(max(1, budget/2/max(1, st.blockBytes())-1))
		}
		res.BlocksHeld = min(hold, nb)
		for g0 := 0; g0 < nb && sweepErr == nil; g0 += hold {
			sweepErr = sweepGroup(st, eng, g0, min(nb, g0+hold), nb, tileDone, stop, add)
		}
	}
	if sweepErr != nil {
		return nil, sweepErr
	}
	if cp != nil {
		if err := os.Remove(cp.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("cka: removing the finished checkpoint: %w", err)
		}
	}

	var hsic *mat.SymDense
	if opt.Minibatch > 0 {
		hsic = mat.NewSymDense(L, nil)
		for i := 0; i < L; i++ {
			for j := i; j < L; j++ {
				hsic.SetSym(i, j, acc[i*L+j]/float64(nb))
			}
		}
	} else {
		hsic = assembleHSIC(acc, rowSums, n, debiased)
	}
	return finish(src, res, hsic)
}

// sweepDiagonal computes the diagonal tiles not done yet (minibatch CKA).
func sweepDiagonal(st *store, eng *tileEngine, nb int, tileDone []bool, stop func() error, add func(*tileResult, int, int) error) error {
	starts := st.starts
	for r := 0; r < nb; r++ {
		if tileDone[r*nb+r] {
			continue
		}
		if err := stop(); err != nil {
			return err
		}
		rows, err := st.block(r)
		if err != nil {
			return err
		}
		t, err := eng.tile(rows, nil, starts[r+1]-starts[r], starts[r+1]-starts[r])
		st.release(rows)
		if err != nil {
			return err
		}
		if err := add(t, r, r); err != nil {
			return err
		}
	}
	return nil
}

// sweepGroup computes the tiles not done yet of row blocks [g0, g1), on and
// above the diagonal: the group's blocks are held, the other column blocks
// read one at a time, and blocks with no tile left are not read.
func sweepGroup(st *store, eng *tileEngine, g0, g1, nb int, tileDone []bool, stop func() error, add func(*tileResult, int, int) error) error {
	starts := st.starts
	pending := func(c int) bool { // a tile of column block c is left in the group
		for r := g0; r < g1 && r <= c; r++ {
			if !tileDone[r*nb+c] {
				return true
			}
		}
		return false
	}
	any := false
	for c := g0; c < nb && !any; c++ {
		any = pending(c)
	}
	if !any {
		return nil
	}
	held := make([][]*tensors.Tensor, 0, g1-g0)
	defer func() {
		for _, h := range held {
			st.release(h)
		}
	}()
	for r := g0; r < g1; r++ {
		rows, err := st.block(r)
		if err != nil {
			return err
		}
		held = append(held, rows)
	}
	for c := g0; c < nb; c++ {
		if !pending(c) {
			continue
		}
		col := []*tensors.Tensor(nil)
		if c < g1 {
			col = held[c-g0]
		} else {
			var err error
			if col, err = st.block(c); err != nil {
				return err
			}
		}
		err := func() error {
			for r := g0; r < g1 && r <= c; r++ {
				if tileDone[r*nb+c] {
					continue
				}
				if err := stop(); err != nil {
					return err
				}
				rowsC := col
				if r == c {
					rowsC = nil
				}
				t, err := eng.tile(held[r-g0], rowsC, starts[r+1]-starts[r], starts[c+1]-starts[c])
				if err != nil {
					return err
				}
				if err := add(t, r, c); err != nil {
					return err
				}
			}
			return nil
		}()
		if c >= g1 {
			st.release(col)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// tileCount is the number of tiles over nb row blocks: the diagonal ones for
// minibatch CKA, all on and above the diagonal otherwise.
func tileCount(nb int, minibatch bool) int {
	if minibatch {
		return nb
	}
	return nb * (nb + 1) / 2
}

// assembleHSIC turns the accumulated inner products of the Gram matrices (and,
// for the unbiased estimator, their row sums) into the L×L HSIC matrix.
func assembleHSIC(acc []float64, rowSums [][]float64, n int, debiased bool) *mat.SymDense {
	L := int(math.Sqrt(float64(len(acc))))
	hsic := mat.NewSymDense(L, nil)
	if !debiased {
		for i := 0; i < L; i++ {
			for j := i; j < L; j++ {
				hsic.SetSym(i, j, acc[i*L+j])
			}
		}
		return hsic
	}
	nf := float64(n)
	sums := make([]float64, L)
	for i := range sums {
		for _, v := range rowSums[i] {
			sums[i] += v
		}
	}
	for i := 0; i < L; i++ {
		for j := i; j < L; j++ {
			dot := 0.0
			for k := range rowSums[i] {
				dot += rowSums[i][k] * rowSums[j][k]
			}
			hsic.SetSym(i, j, (acc[i*L+j]+sums[i]*sums[j]/((nf-1)*(nf-2))-2*dot/(nf-2))/(nf*(nf-3)))
		}
	}
	return hsic
}

// finish normalizes the HSIC matrix into CKA.
func finish(src Source, res *Result, hsic *mat.SymDense) (*Result, error) {
	L := hsic.SymmetricDim()
	for i := 0; i < L; i++ {
		if !(hsic.At(i, i) > 0) {
			return nil, fmt.Errorf("cka: %s: self-similarity %g is not positive (too few inputs or no variance)", src.Name(i), hsic.At(i, i))
		}
	}
	out := mat.NewSymDense(L, nil)
	for i := 0; i < L; i++ {
		out.SetSym(i, i, 1)
		for j := i + 1; j < L; j++ {
			out.SetSym(i, j, hsic.At(i, j)/math.Sqrt(hsic.At(i, i)*hsic.At(j, j)))
		}
	}
	res.CKA, res.HSIC = out, hsic
	return res, nil
}

// addMinibatchHSIC adds the unbiased HSIC of one minibatch tile to acc.
func addMinibatchHSIC(acc []float64, t *tileResult, nb int) {
	L := len(t.rowSum)
	sums := make([]float64, L)
	for i := range sums {
		for _, v := range t.rowSum[i] {
			sums[i] += v
		}
	}
	nf := float64(nb)
	for i := 0; i < L; i++ {
		for j := i; j < L; j++ {
			dot := 0.0
			for k := range t.rowSum[i] {
				dot += t.rowSum[i][k] * t.rowSum[j][k]
			}
			acc[i*L+j] += (t.p[i*L+j] + sums[i]*sums[j]/((nf-1)*(nf-2)) - 2*dot/(nf-2)) / (nf * (nf - 3))
		}
	}
}

// chooseTile picks the tile side: tiles small enough that the tile buffers
// (inputs, L Gram tiles in float32 and float64) fit a quarter of the budget,
// and a split of n into blocks of equal size.
func chooseTile(n, L, sumCols int, budget int64) int {
	// Measured on n = 400, d = 2048, 200 layers (docs/benchmarks.md): tiles
	// of about 100 rows beat one 400-row tile by 2×, mostly by skipping the
	// tiles below the diagonal; large n uses larger tiles to cut per-tile
	// overhead.
	target := 128
	if n > 2048 {
		target = 512
	}
	blocks := (n + target - 1) / target
	b := (n + blocks - 1) / blocks
	for b > 16 {
		need := int64(L)*int64(b)*int64(b)*12 + int64(b)*int64(sumCols)*4*2
		if need <= budget/4 {
			break
		}
		b /= 2
	}
	return b
}

func defaultBudget() int64 {
	if avail, ok := meminfo.Available(); ok {
		return avail * 6 / 10
	}
	return 4 << 30
}
