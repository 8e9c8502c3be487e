package knn

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/grampanel"
	"github.com/layersim/layersim/lcka/internal/parallel"
)

// The n×n similarity matrices are computed in float32 with GoMLX's Go
// backend, as lcka/cka and lcka/study compute their Gram matrices (gonum's
// float64 Dsyrk runs at a third of the speed or less), and the neighbours
// are then confirmed in float64: see screen.

var engine struct {
	once    sync.Once
	backend compute.Backend
	exec    *graph.Exec
	err     error
}

// gramExec returns the shared Gram graph: the part of G = XXᵀ on and above
// the block diagonal, one panel of rows against the rows from its first on
// (the panels come as separate inputs: the Go backend's Slice copies value
// by value, its Concatenate block by block).
func gramExec() (compute.Backend, *graph.Exec, error) {
	engine.once.Do(func() {
		// Ops one after the other: AllPairs runs a layer per core.
		engine.backend, engine.err = gobackend.New("ops_sequential")
		if engine.err != nil {
			engine.err = fmt.Errorf("knn: starting the Go backend: %w", engine.err)
			return
		}
		engine.exec, engine.err = grampanel.NewExec(engine.backend)
		if engine.err != nil {
			engine.err = fmt.Errorf("knn: %w", engine.err)
		}
	})
	return engine.backend, engine.exec, engine.err
}

// panelSet holds the input tensors of one shape of the Gram graph.
type panelSet struct {
	n, d int
	args []any
}

func (p *panelSet) finalize() {
	for _, a := range p.args {
		a.(*tensors.Tensor).FinalizeAll()
	}
}

var inputs sync.Pool

// gram32 returns G = XXᵀ (n×n, row-major, both triangles) in float32, for
// X of width d whose rows r0…r1−1 fill writes into dst in float32.
func gram32(n, d int, fill func(dst []float32, r0, r1 int)) (_ []float32, err error) {
	if grampanel.Host() {
		x := grampanel.Scratch(n * d)
		defer grampanel.Release(x)
		fill(x, 0, n)
		full := make([]float32, n*n)
		if err := grampanel.Full(full, x, n, d, 0); err != nil {
			return nil, fmt.Errorf("knn: Gram matrix: %w", err)
		}
		return full, nil
	}
	backend, exec, err := gramExec()
	if err != nil {
		return nil, err
	}
	b := grampanel.Height(n)
	// The input panels are reused from call to call (fresh memory is slow
	// to touch the first time on some virtual machines).
	in, _ := inputs.Get().(*panelSet)
	if in == nil || in.n != n || in.d != d {
		if in != nil {
			in.finalize()
		}
		in = &panelSet{n: n, d: d}
		for s0 := 0; s0 < n; s0 += b {
			t, err := tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Float32, min(n, s0+b)-s0, d))
			if err != nil {
				in.finalize()
				return nil, fmt.Errorf("knn: %w", err)
			}
			in.args = append(in.args, t)
		}
	}
	defer inputs.Put(in)
	for r, s0 := 0, 0; s0 < n; r, s0 = r+1, s0+b {
		e := min(n, s0+b)
		if err := tensors.MutableFlatData(in.args[r].(*tensors.Tensor), func(flat []float32) { fill(flat, s0, e) }); err != nil {
			return nil, fmt.Errorf("knn: %w", err)
		}
	}
	args := in.args
	outs, err := exec.Exec(args...)
	if err != nil {
		return nil, fmt.Errorf("knn: Gram matrix: %w", err)
	}
	full := make([]float32, n*n)
	if err := grampanel.Mirror(full, outs, n); err != nil {
		return nil, fmt.Errorf("knn: %w", err)
	}
	return full, nil
}

// rowScale checks row i of x and returns Σ xᵢⱼ², max |xᵢⱼ| and, for
// Cosine, the factor 1/‖xᵢ‖ (zero rows are then an error). Under Cosine the
// largest |value| is looked for only where Σx² is not finite or too small.
func rowScale(name string, i int, row []float64, s Similarity) (q, m, factor float64, err error) {
	q = sumSquares(row)
	if s == Inner || math.IsInf(q, 0) || math.IsNaN(q) || q < 0x1p-900 {
		for j, v := range row {
			if v-v != 0 {
				return 0, 0, 0, fmt.Errorf("knn: %s has non-finite value %v at row %d, column %d", name, v, i, j)
			}
			m = max(m, math.Abs(v))
		}
	}
	if s != Cosine {
		return q, m, 0, nil
	}
	if q >= 0x1p-900 && !math.IsInf(q, 0) {
		return q, m, 1 / math.Sqrt(q), nil
	}
	if m == 0 {
		return 0, 0, 0, fmt.Errorf("knn: row %d of %s is zero; its cosine similarity is undefined", i, name)
	}
	// Σx² overflowed or lost precision: again, divided by the largest
	// |value| first.
	r := 0.0
	for _, v := range row {
		r += (v / m) * (v / m)
	}
	return q, m, 1 / (m * math.Sqrt(r)), nil
}

// sumSquares returns Σ vⱼ² with four partial sums (NaN or ±Inf when a value
// is not finite, or on overflow).
func sumSquares(v []float64) float64 {
	var s0, s1, s2, s3 float64
	j := 0
	for ; j+4 <= len(v); j += 4 {
		s0 += v[j] * v[j]
		s1 += v[j+1] * v[j+1]
		s2 += v[j+2] * v[j+2]
		s3 += v[j+3] * v[j+3]
	}
	for ; j < len(v); j++ {
		s0 += v[j] * v[j]
	}
	return (s0 + s1) + (s2 + s3)
}

// scaling returns, for Inner, the factor each row of x is multiplied by
// before it is rounded to float32 and the L2 norms of the scaled rows: one
// power of two (exact) that brings the largest |value| into [½, 1), so that
// float32 neither overflows nor, for most values, underflows. (Cosine rows
// are checked and scaled to unit norm as they are converted, while they are
// in cache.)
func scaling(name string, x *mat.Dense) (factor, norms []float64, err error) {
	n, _ := x.Dims()
	factor = make([]float64, n)
	norms = make([]float64, n)
	big := 0.0
	for i := 0; i < n; i++ {
		q, m, _, err := rowScale(name, i, x.RawRowView(i), Inner)
		if err != nil {
			return nil, nil, err
		}
		big = max(big, m)
		norms[i] = math.Sqrt(q) // may overflow; recomputed below if so
	}
	f := 1.0
	if big > 0 {
		_, e := math.Frexp(big) // big = f·2^e, f in [½, 1)
		f = math.Ldexp(1, -e)
	}
	for i := range factor {
		factor[i] = f
		if math.IsInf(norms[i], 0) || norms[i] < 0x1p-400 {
			q := 0.0
			for _, v := range x.RawRowView(i) {
				q += (v * f) * (v * f)
			}
			norms[i] = math.Sqrt(q)
		} else {
			norms[i] *= f
		}
	}
	return factor, norms, nil
}

// toFloat32 writes rows r0…r1−1 of x, each times its factor, to dst.
func toFloat32(dst []float32, x *mat.Dense, factor []float64, r0, r1 int) {
	_, d := x.Dims()
	for i := r0; i < r1; i++ {
		f := factor[i]
		out := dst[(i-r0)*d : (i-r0+1)*d]
		for j, v := range x.RawRowView(i) {
			out[j] = float32(v * f)
		}
	}
}

// errorBound returns γ such that |G32ᵢⱼ − (xᵢ·xⱼ)| + |fl64(xᵢ·xⱼ) − (xᵢ·xⱼ)|
// ≤ γ‖xᵢ‖‖xⱼ‖ + slack for rows of width d scaled as toFloat32 scales them.
// A float32 inner product of length d, with both factors rounded to float32
// first, is within γ_{d+2}·Σ|xᵢₖxⱼₖ| of the exact one in any order of
// summation, FMA or not (Higham, Accuracy and Stability of Numerical
// Algorithms, §3.1); Σ|xᵢₖxⱼₖ| ≤ ‖xᵢ‖‖xⱼ‖ (Cauchy–Schwarz). The float64
// product adds γ_d in float64's unit roundoff. slack covers underflow of
// values far below 1 (subnormal float32, possibly flushed to zero).
func errorBound(d int) (gamma, slack float64) {
	g := func(m int, u float64) float64 {
		if float64(m)*u >= 0.5 { // no useful bound: every input is a candidate
			return math.Inf(1)
		}
		return float64(m) * u / (1 - float64(m)*u)
	}
	gamma = g(d+2, 0x1p-24) + g(d, 0x1p-53)
	return gamma * 1.0001, float64(d) * 0x1p-120
}

// screen fills nb's neighbours of the rows of x: the k largest similarities
// of each row are found in the float32 Gram matrix, every j whose float32
// value lies within the error bound of the k-th (twice the bound: both may
// be off) is a candidate, and the candidates' similarities are computed
// again in float64, where the k largest (ties to the lower index) are the
// neighbours. The float64 neighbours are always among the candidates, so
// the result is the one of a float64 Gram matrix; near-ties cost a few more
// float64 inner products.
func (nb *Neighbours) screen(name string, x *mat.Dense, s Similarity, values bool, workers int) error {
	n, d := x.Dims()
	k := nb.k
	var factor, norms []float64
	var fill func(dst []float32, r0, r1 int)
	var fillErr error
	if s == Inner {
		var err error
		if factor, norms, err = scaling(name, x); err != nil {
			return err
		}
		fill = func(dst []float32, r0, r1 int) { toFloat32(dst, x, factor, r0, r1) }
	} else {
		factor, norms = make([]float64, n), make([]float64, n)
		fill = func(dst []float32, r0, r1 int) {
			for i := r0; i < r1 && fillErr == nil; i++ {
				_, _, factor[i], fillErr = rowScale(name, i, x.RawRowView(i), s)
				norms[i] = 1
				toFloat32(dst[(i-r0)*d:], x, factor, i, i+1)
			}
		}
	}
	g, err := gram32(n, d, fill)
	if err != nil {
		return err
	}
	if fillErr != nil {
		return fillErr
	}
	// The float64 similarities are computed on rows times factor under
	// Inner when the values are so large or small that their products
	// would overflow or underflow, and scaled back.
	xr, back := x, 1.0
	if f := factor[0]; s == Inner && (f < 0x1p-400 || f > 0x1p400) {
		xr = mat.NewDense(n, d, nil)
		xr.Scale(f, x)
		back = 1 / (f * f)
	}
	maxNorm := slices.Max(norms)
	gamma, slack := errorBound(d)
	parallel.For(n, workers, func(i int) {
		row := g[i*n : (i+1)*n]
		top := make([]int32, 0, k+1)
		vals := make([]float64, 0, k+1)
		// The k-th and (k+1)-th largest float32 values.
		for j, v32 := range row {
			if j != i {
				insert(&top, &vals, k+1, int32(j), float64(v32))
			}
		}
		margin := 2 * (gamma*norms[i]*maxNorm + slack)
		cut := vals[k-1] - margin
		// Without values, an input above every excluded one by the margin
		// is certainly in; with none near the k-th, all are.
		hi := math.Inf(1)
		if len(vals) > k {
			hi = vals[k] + margin
		}
		if !values && (len(vals) == k || vals[k] < cut) {
			top = top[:k]
			slices.Sort(top)
			copy(nb.idx[i*k:(i+1)*k], top)
			return
		}
		xi := xr.RawRowView(i)
		top, vals = top[:0], vals[:0]
		for j, v32 := range row {
			if j == i || float64(v32) < cut {
				continue
			}
			var v float64
			if !values && float64(v32) > hi {
				v = math.Inf(1)
			} else {
				v = floats.Dot(xi, xr.RawRowView(j))
				if s == Cosine {
					v *= factor[i] * factor[j]
				}
			}
			insert(&top, &vals, k, int32(j), v)
		}
		if back != 1 {
			for t := range vals {
				vals[t] *= back
			}
		}
		// Ascending indices, values alongside.
		o := i * k
		copy(nb.idx[o:o+k], top)
		copy(nb.val[o:o+k], vals)
		idx, val := nb.idx[o:o+k], nb.val[o:o+k]
		for a := 1; a < k; a++ {
			for b := a; b > 0 && idx[b] < idx[b-1]; b-- {
				idx[b], idx[b-1] = idx[b-1], idx[b]
				val[b], val[b-1] = val[b-1], val[b]
			}
		}
	})
	return nil
}

// insert adds (j, v) to the k largest values seen so far, kept in
// descending order of value; j comes in ascending order, so an equal value
// keeps the earlier, lower index.
func insert(top *[]int32, vals *[]float64, k int, j int32, v float64) {
	t, vs := *top, *vals
	if len(t) == k && !(v > vs[k-1]) {
		return
	}
	p := len(t)
	if p == k {
		p--
	} else {
		t, vs = append(t, 0), append(vs, 0)
	}
	for p > 0 && v > vs[p-1] {
		t[p], vs[p] = t[p-1], vs[p-1]
		p--
	}
	t[p], vs[p] = j, v
	*top, *vals = t, vs
}
