package cka

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"gonum.org/v1/gonum/mat"
)

// Matrix is a dense row-major float32 matrix: one layer's representation,
// Rows inputs by Cols features.
type Matrix struct {
	Rows, Cols int
	Data       []float32
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
	// Backend runs the tile products; nil means GoMLX's pure-Go backend.
	Backend compute.Backend
	// MemoryBudget bounds the bytes held by layers and tiles; 0 means 60% of
	// the memory available. Layers that do not fit in half of it go to a
	// scratch file in TempDir.
	MemoryBudget int64
	// TileSize is the side of the Gram tiles; 0 picks one from n, the number
	// of layers and the budget.
	TileSize int
	// TempDir holds the scratch file; "" means os.TempDir().
	TempDir string
	// Progress, if set, is called after each tile with the tiles done and total.
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
	// ConstantColumns counts, per layer, the columns without variance that
	// were set to zero.
	ConstantColumns []int
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
		var err error
		if backend, err = gobackend.New(""); err != nil {
			return nil, fmt.Errorf("cka: starting the Go backend: %w", err)
		}
	}
	budget := opt.MemoryBudget
	if budget <= 0 {
		budget = defaultBudget()
	}

	st, res, err := preprocess(src, opt, budget)
	if err != nil {
		return nil, err
	}
	defer st.close()
	n := res.N
	debiased := opt.Measure == MeasureDebiased || opt.Minibatch > 0
	if opt.Measure == MeasureDebiased && n < 4 {
		return nil, fmt.Errorf("cka: debiased CKA needs n ≥ 4 inputs, got %d", n)
	}

	b := opt.TileSize
	if opt.Minibatch > 0 {
		b = opt.Minibatch
		if b < 4 {
			return nil, fmt.Errorf("cka: minibatch size must be ≥ 4, got %d", b)
		}
	} else if b <= 0 {
		b = chooseTile(n, L, st.sumCols(), budget)
	}
	b = min(b, n)
	res.TileSize = b

	eng, err := newTileEngine(backend, st, debiased)
	if err != nil {
		return nil, err
	}
	defer eng.finalize()

	// Blocks of rows: [starts[k], starts[k+1]).
	var starts []int
	for s := 0; s < n; s += b {
		starts = append(starts, s)
	}
	if opt.Minibatch > 0 && n-starts[len(starts)-1] < 4 {
		res.Dropped = n - starts[len(starts)-1]
		starts = starts[:len(starts)-1]
		if len(starts) == 0 {
			return nil, fmt.Errorf("cka: minibatch CKA needs at least 4 inputs, got %d", n)
		}
		n = starts[len(starts)-1] + b
	}
	starts = append(starts, n)
	nb := len(starts) - 1

	acc := make([]float64, L*L)
	rowSums := make([][]float64, L)
	for i := range rowSums {
		rowSums[i] = make([]float64, n)
	}
	total := nb
	if opt.Minibatch <= 0 {
		total = nb * (nb + 1) / 2
	}
	done := 0
	for r := 0; r < nb; r++ {
		rowsR, err := st.block(starts[r], starts[r+1])
		if err != nil {
			return nil, err
		}
		lastC := nb - 1
		if opt.Minibatch > 0 {
			lastC = r // only the diagonal tiles: one per minibatch
		}
		for c := r; c <= lastC; c++ {
			var rowsC [][]float32
			if c != r {
				if rowsC, err = st.block(starts[c], starts[c+1]); err != nil {
					return nil, err
				}
			}
			t, err := eng.tile(rowsR, rowsC, starts[r+1]-starts[r], starts[c+1]-starts[c])
			if err != nil {
				return nil, err
			}
			if opt.Minibatch > 0 {
				addMinibatchHSIC(acc, t, starts[r+1]-starts[r])
			} else {
				w := 2.0 // tiles (r, c) and (c, r) are transposes with the same inner products
				if c == r {
					w = 1
				}
				for k := range acc {
					acc[k] += w * t.p[k]
				}
				if debiased {
					for i := 0; i < L; i++ {
						for k, v := range t.rowSum[i] {
							rowSums[i][starts[r]+k] += v
						}
						for k, v := range t.colSum[i] {
							rowSums[i][starts[c]+k] += v
						}
					}
				}
			}
			done++
			if opt.Progress != nil {
				opt.Progress(done, total)
			}
		}
	}

	hsic := mat.NewSymDense(L, nil)
	switch {
	case opt.Minibatch > 0:
		for i := 0; i < L; i++ {
			for j := i; j < L; j++ {
				hsic.SetSym(i, j, acc[i*L+j]/float64(nb))
			}
		}
	case debiased:
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
				h := (acc[i*L+j] + sums[i]*sums[j]/((nf-1)*(nf-2)) - 2*dot/(nf-2)) / (nf * (nf - 3))
				hsic.SetSym(i, j, h)
			}
		}
	default:
		for i := 0; i < L; i++ {
			for j := i; j < L; j++ {
				hsic.SetSym(i, j, acc[i*L+j])
			}
		}
	}
	out := mat.NewSymDense(L, nil)
	for i := 0; i < L; i++ {
		if !(hsic.At(i, i) > 0) {
			return nil, fmt.Errorf("cka: %s: self-similarity %g is not positive (too few inputs or no variance)", src.Name(i), hsic.At(i, i))
		}
	}
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
// large enough for efficient matrix products, and a split of n that lets the
// symmetric sweep skip the tiles below the diagonal.
func chooseTile(n, L, sumCols int, budget int64) int {
	b := 512
	if n <= b {
		// Two blocks compute 3 of the 4 quarter tiles; below 128 rows the
		// products get too small for that to pay.
		if n >= 256 {
			b = (n + 1) / 2
		} else {
			b = n
		}
	}
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
	data, err := os.ReadFile("/proc/meminfo")
	if err == nil {
		var kb int64
		for _, line := range splitLines(string(data)) {
			if _, err := fmt.Sscanf(line, "MemAvailable: %d kB", &kb); err == nil {
				return kb * 1024 * 6 / 10
			}
		}
	}
	return 4 << 30
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

// tileEngine runs the tile products with GoMLX, layers grouped by width so
// that each group is one batched product.
type tileEngine struct {
	st       *store
	groups   [][]int // layer indices per distinct width
	diag     *graph.Exec
	offDiag  *graph.Exec
	debiased bool
}

type tileResult struct {
	p              []float64   // L×L inner products of the Gram tiles
	rowSum, colSum [][]float64 // per layer, sums of the tile's rows and columns
}

func newTileEngine(backend compute.Backend, st *store, debiased bool) (*tileEngine, error) {
	byWidth := map[int][]int{}
	for i, d := range st.cols {
		byWidth[d] = append(byWidth[d], i)
	}
	widths := make([]int, 0, len(byWidth))
	for d := range byWidth {
		widths = append(widths, d)
	}
	sort.Ints(widths)
	e := &tileEngine{st: st, debiased: debiased}
	for _, d := range widths {
		e.groups = append(e.groups, byWidth[d])
	}
	ng := len(e.groups)
	// Inputs: one [Lg, rows, d] tensor per group for the row block, and for
	// off-diagonal tiles one more per group for the column block.
	build := func(diagonal bool) func([]*graph.Node) []*graph.Node {
		return func(in []*graph.Node) []*graph.Node {
			var flat []*graph.Node
			var grams []*graph.Node
			for g := 0; g < ng; g++ {
				r := in[g]
				c := r
				if !diagonal {
					c = in[ng+g]
				}
				t := graph.Einsum("lrd,lcd->lrc", r, c)
				t = graph.ConvertDType(t, dtypes.Float64)
				if diagonal && debiased {
					dims := t.Shape().Dimensions
					sq := shapes.Make(dtypes.Int32, dims[1], dims[2])
					eye := graph.Equal(graph.Iota(t.Graph(), sq, 0), graph.Iota(t.Graph(), sq, 1))
					eye = graph.BroadcastToDims(graph.InsertAxes(eye, 0), dims...)
					t = graph.Where(eye, graph.ZerosLike(t), t)
				}
				grams = append(grams, t)
				dims := t.Shape().Dimensions
				flat = append(flat, graph.Reshape(t, dims[0], dims[1]*dims[2]))
			}
			f := flat[0]
			if ng > 1 {
				f = graph.Concatenate(flat, 0)
			}
			outs := []*graph.Node{graph.Einsum("lk,mk->lm", f, f)}
			if debiased {
				var rs, cs []*graph.Node
				for _, t := range grams {
					rs = append(rs, graph.ReduceSum(t, 2))
					cs = append(cs, graph.ReduceSum(t, 1))
				}
				if ng > 1 {
					outs = append(outs, graph.Concatenate(rs, 0), graph.Concatenate(cs, 0))
				} else {
					outs = append(outs, rs[0], cs[0])
				}
			}
			return outs
		}
	}
	var err error
	if e.diag, err = graph.NewExec(backend, build(true)); err != nil {
		return nil, fmt.Errorf("cka: building the tile graph: %w", err)
	}
	if e.offDiag, err = graph.NewExec(backend, build(false)); err != nil {
		return nil, fmt.Errorf("cka: building the tile graph: %w", err)
	}
	e.diag.SetMaxCache(64)
	e.offDiag.SetMaxCache(64)
	return e, nil
}

func (e *tileEngine) finalize() {
	e.diag.Finalize()
	e.offDiag.Finalize()
}

// tile computes one tile from the rows of a row block (and of a column block,
// nil on the diagonal), each given per layer.
func (e *tileEngine) tile(rowsR, rowsC [][]float32, br, bc int) (*tileResult, error) {
	pack := func(rows [][]float32, nr int) []any {
		var args []any
		for _, grp := range e.groups {
			d := e.st.cols[grp[0]]
			buf := make([]float32, 0, len(grp)*nr*d)
			for _, i := range grp {
				buf = append(buf, rows[i]...)
			}
			args = append(args, tensors.FromFlatDataAndDimensions(buf, len(grp), nr, d))
		}
		return args
	}
	args := pack(rowsR, br)
	exec := e.diag
	if rowsC != nil {
		args = append(args, pack(rowsC, bc)...)
		exec = e.offDiag
	}
	outs, err := exec.Exec(args...)
	for _, a := range args {
		a.(*tensors.Tensor).FinalizeAll()
	}
	if err != nil {
		return nil, fmt.Errorf("cka: tile product: %w", err)
	}
	defer func() {
		for _, o := range outs {
			o.FinalizeAll()
		}
	}()
	// Outputs follow the group order; map back to layer order.
	order := make([]int, 0, len(e.st.cols))
	for _, grp := range e.groups {
		order = append(order, grp...)
	}
	L := len(order)
	p, err := tensors.CopyFlatData[float64](outs[0])
	if err != nil {
		return nil, err
	}
	t := &tileResult{p: make([]float64, L*L)}
	for a := 0; a < L; a++ {
		for b := 0; b < L; b++ {
			t.p[order[a]*L+order[b]] = p[a*L+b]
		}
	}
	if e.debiased {
		unpack := func(o *tensors.Tensor, w int) ([][]float64, error) {
			flat, err := tensors.CopyFlatData[float64](o)
			if err != nil {
				return nil, err
			}
			out := make([][]float64, L)
			for a := 0; a < L; a++ {
				out[order[a]] = flat[a*w : (a+1)*w]
			}
			return out, nil
		}
		if t.rowSum, err = unpack(outs[1], br); err != nil {
			return nil, err
		}
		if rowsC == nil {
			// Diagonal tile: symmetric, its column sums are its row sums and
			// they are already counted once.
			t.colSum = make([][]float64, L)
		} else if t.colSum, err = unpack(outs[2], bc); err != nil {
			return nil, err
		}
	}
	return t, nil
}
