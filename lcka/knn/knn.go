package knn

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/dense"
	"github.com/layersim/layersim/lcka/internal/parallel"
)

// Similarity selects the kernel the neighbours are found in.
type Similarity int

const (
	// Cosine scales every row to unit L2 norm first, as platonic-rep's
	// measure_alignment.py does.
	Cosine Similarity = iota
	// Inner uses the inner products of the rows as given.
	Inner
)

// String names the similarity.
func (s Similarity) String() string {
	switch s {
	case Cosine:
		return "cosine"
	case Inner:
		return "inner"
	}
	return fmt.Sprintf("Similarity(%d)", int(s))
}

// Neighbours holds the k nearest neighbours of every input of one
// representation, with their kernel values.
type Neighbours struct {
	n, k int
	// idx[i*k : i*k+k] are the neighbours of input i, ascending; val holds
	// the kernel values K_ij in the same order.
	idx []int32
	val []float64
	// self is HSIC₁(M_K∘K, M_K∘K), CKNNA's self term.
	self float64
}

// K returns the number of neighbours kept per input.
func (nb *Neighbours) K() int { return nb.k }

// Of returns the neighbours of input i, ascending (the slice is shared).
func (nb *Neighbours) Of(i int) []int32 { return nb.idx[i*nb.k : (i+1)*nb.k] }

// Find returns the k nearest neighbours of every row of x under s, an input
// never being its own neighbour; ties go to the lower index.
func Find(x mat.Matrix, k int, s Similarity) (*Neighbours, error) {
	return find("x", x, k, s)
}

func find(name string, x mat.Matrix, k int, s Similarity) (*Neighbours, error) {
	if s != Cosine && s != Inner {
		return nil, fmt.Errorf("knn: invalid similarity %v", s)
	}
	xd, err := dense.Checked(x, name)
	if err != nil {
		return nil, fmt.Errorf("knn: %w", err)
	}
	n, _ := xd.Dims()
	if k < 1 || k > n-1 {
		return nil, fmt.Errorf("knn: k = %d neighbours, but %s has %d inputs: k must be in 1…%d", k, name, n, n-1)
	}
	if s == Cosine {
		xd, err = unitRows(name, xd)
		if err != nil {
			return nil, err
		}
	}
	var g mat.SymDense
	g.SymOuterK(1, xd)
	nb := &Neighbours{n: n, k: k, idx: make([]int32, n*k), val: make([]float64, n*k)}
	parallel.For(n, 0, func(i int) {
		// The k largest K_ij, j ≠ i, by insertion into a sorted buffer
		// (descending value, ties to the lower index): O(n) for most rows.
		row := g.RawSymmetric().Data
		stride := g.RawSymmetric().Stride
		at := func(j int) float64 { // g is stored upper: K_ij at min, max
			if j < i {
				return row[j*stride+i]
			}
			return row[i*stride+j]
		}
		top := make([]int32, 0, k)
		vals := make([]float64, 0, k)
		for j := 0; j < n; j++ {
			if j == i {
				continue
			}
			v := at(j)
			if len(top) == k && !(v > vals[k-1]) {
				continue // equal values keep the earlier, lower index
			}
			p := len(top)
			if p == k {
				p--
			} else {
				top, vals = append(top, 0), append(vals, 0)
			}
			for p > 0 && v > vals[p-1] {
				top[p], vals[p] = top[p-1], vals[p-1]
				p--
			}
			top[p], vals[p] = int32(j), v
		}
		slices.Sort(top)
		copy(nb.idx[i*k:], top)
		for t, j := range top {
			nb.val[i*k+t] = at(int(j))
		}
	})
	nb.self = nb.hsic(nb)
	return nb, nil
}

// unitRows returns a copy of x with every row scaled to unit L2 norm.
func unitRows(name string, x *mat.Dense) (*mat.Dense, error) {
	n, d := x.Dims()
	out := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		row := x.RawRowView(i)
		norm := 0.0
		scale := 0.0
		for _, v := range row {
			scale = max(scale, math.Abs(v))
		}
		if scale == 0 {
			return nil, fmt.Errorf("knn: row %d of %s is zero; its cosine similarity is undefined", i, name)
		}
		for _, v := range row {
			norm += (v / scale) * (v / scale)
		}
		norm = scale * math.Sqrt(norm)
		dst := out.RawRowView(i)
		for j, v := range row {
			dst[j] = v / norm
		}
	}
	return out, nil
}

// mutual holds, per input, the neighbours common to two Neighbours, with
// both kernel values: row i is idx[off[i]:off[i+1]].
type mutual struct {
	off  []int
	idx  []int32
	a, b []float64
}

func intersect(p, q *Neighbours) *mutual {
	m := &mutual{off: make([]int, p.n+1)}
	for i := 0; i < p.n; i++ {
		pi, qi := p.Of(i), q.Of(i)
		pv, qv := p.val[i*p.k:(i+1)*p.k], q.val[i*q.k:(i+1)*q.k]
		s, t := 0, 0
		for s < len(pi) && t < len(qi) {
			switch {
			case pi[s] < qi[t]:
				s++
			case pi[s] > qi[t]:
				t++
			default:
				m.idx = append(m.idx, pi[s])
				m.a = append(m.a, pv[s])
				m.b = append(m.b, qv[t])
				s++
				t++
			}
		}
		m.off[i+1] = len(m.idx)
	}
	return m
}

// hsic returns HSIC₁(M∘K_p, M∘K_q) for M the mask of the neighbours p and
// q have in common.
func (p *Neighbours) hsic(q *Neighbours) float64 {
	return intersect(p, q).hsic(p.n)
}

func (m *mutual) hsic(n int) float64 {
	rowB := make([]float64, n) // row sums of B
	colA := make([]float64, n) // column sums of A
	var sumA, sumB float64
	for i := 0; i < n; i++ {
		for t := m.off[i]; t < m.off[i+1]; t++ {
			j := m.idx[t]
			colA[j] += m.a[t]
			rowB[i] += m.b[t]
			sumA += m.a[t]
		}
		sumB += rowB[i]
	}
	var trace, ab float64
	for i := 0; i < n; i++ {
		for t := m.off[i]; t < m.off[i+1]; t++ {
			// A_ij B_ji: B_ji is non-zero when i is a mutual neighbour of j.
			j := int(m.idx[t])
			row := m.idx[m.off[j]:m.off[j+1]]
			if u, ok := slices.BinarySearch(row, int32(i)); ok {
				trace += m.a[t] * m.b[m.off[j]+u]
			}
		}
		ab += colA[i] * rowB[i]
	}
	nf := float64(n)
	return (trace + sumA*sumB/((nf-1)*(nf-2)) - 2*ab/(nf-2)) / (nf * (nf - 3))
}

// MutualKNN returns the mutual k-nearest-neighbour alignment of x and y.
func MutualKNN(x, y mat.Matrix, k int, s Similarity) (float64, error) {
	p, q, err := pair(x, y, k, s, 1)
	if err != nil {
		return 0, err
	}
	return MutualOf(p, q)
}

// CKNNA returns the centered kernel nearest-neighbour alignment of x and y
// (k ≥ 2, n ≥ 4).
func CKNNA(x, y mat.Matrix, k int, s Similarity) (float64, error) {
	p, q, err := pair(x, y, k, s, 2)
	if err != nil {
		return 0, err
	}
	return CKNNAOf(p, q)
}

func pair(x, y mat.Matrix, k int, s Similarity, minK int) (*Neighbours, *Neighbours, error) {
	if x == nil || y == nil {
		return nil, nil, fmt.Errorf("knn: nil input")
	}
	nx, _ := x.Dims()
	ny, _ := y.Dims()
	if nx != ny {
		return nil, nil, fmt.Errorf("knn: x has %d inputs (rows) and y has %d; they must match", nx, ny)
	}
	if k < minK {
		return nil, nil, fmt.Errorf("knn: k = %d; this measure needs k ≥ %d", k, minK)
	}
	if minK == 2 && nx < 4 {
		return nil, nil, fmt.Errorf("knn: CKNNA needs n ≥ 4 inputs (its unbiased HSIC divides by n−3), got %d", nx)
	}
	p, err := find("x", x, k, s)
	if err != nil {
		return nil, nil, err
	}
	q, err := find("y", y, k, s)
	if err != nil {
		return nil, nil, err
	}
	return p, q, nil
}

func check(p, q *Neighbours) error {
	if p == nil || q == nil {
		return fmt.Errorf("knn: nil neighbours")
	}
	if p.n != q.n || p.k != q.k {
		return fmt.Errorf("knn: neighbours of %d inputs × k = %d and of %d × %d do not match", p.n, p.k, q.n, q.k)
	}
	return nil
}

// MutualOf returns the mutual k-NN alignment of two prepared representations.
func MutualOf(p, q *Neighbours) (float64, error) {
	if err := check(p, q); err != nil {
		return 0, err
	}
	common := 0
	for i := 0; i < p.n; i++ {
		pi, qi := p.Of(i), q.Of(i)
		s, t := 0, 0
		for s < len(pi) && t < len(qi) {
			switch {
			case pi[s] < qi[t]:
				s++
			case pi[s] > qi[t]:
				t++
			default:
				common++
				s++
				t++
			}
		}
	}
	return float64(common) / float64(p.n*p.k), nil
}

// CKNNAOf returns the CKNNA of two prepared representations.
func CKNNAOf(p, q *Neighbours) (float64, error) {
	if err := check(p, q); err != nil {
		return 0, err
	}
	if p.k < 2 || p.n < 4 {
		return 0, fmt.Errorf("knn: CKNNA needs k ≥ 2 and n ≥ 4, got k = %d, n = %d", p.k, p.n)
	}
	den := p.self * q.self
	if !(den > 0) {
		return 0, fmt.Errorf("knn: CKNNA's self terms HSIC(K,K) = %g and HSIC(L,L) = %g are not both positive; the measure is undefined for these inputs", p.self, q.self)
	}
	return p.hsic(q) / math.Sqrt(den), nil
}

// Measure selects MutualOf or CKNNAOf for AllPairs.
type Measure int

const (
	// Mutual is mutual k-NN alignment.
	Mutual Measure = iota
	// Kernel is CKNNA.
	Kernel
)

// AllPairs returns the L×L matrix of the measure m between every pair of the
// layers reps (same n rows each): entry (i, j) is the measure of layer i
// against layer j. Mutual k-NN is symmetric; CKNNA is not quite (see the
// package documentation), so both orders are computed. Each layer's
// neighbours are found once.
func AllPairs(reps []mat.Matrix, k int, s Similarity, m Measure) (*mat.Dense, error) {
	L := len(reps)
	if L == 0 {
		return nil, fmt.Errorf("knn: no layers")
	}
	if m != Mutual && m != Kernel {
		return nil, fmt.Errorf("knn: invalid measure %d", int(m))
	}
	minK := 1
	if m == Kernel {
		minK = 2
	}
	if k < minK {
		return nil, fmt.Errorf("knn: k = %d; this measure needs k ≥ %d", k, minK)
	}
	nbs := make([]*Neighbours, L)
	errs := make([]error, L)
	for l, r := range reps {
		if r == nil {
			return nil, fmt.Errorf("knn: layer %d is nil", l)
		}
		if n, _ := r.Dims(); l > 0 {
			if n0, _ := reps[0].Dims(); n != n0 {
				return nil, fmt.Errorf("knn: layer %d has %d inputs and layer 0 has %d; they must match", l, n, n0)
			}
		} else if m == Kernel && n < 4 {
			return nil, fmt.Errorf("knn: CKNNA needs n ≥ 4 inputs, got %d", n)
		}
	}
	for l := range reps {
		// find is parallel inside.
		nbs[l], errs[l] = find(fmt.Sprintf("layer %d", l), reps[l], k, s)
		if errs[l] != nil {
			return nil, errs[l]
		}
	}
	var pairs [][2]int
	for i := 0; i < L; i++ {
		for j := 0; j < L; j++ {
			if j >= i || m == Kernel {
				pairs = append(pairs, [2]int{i, j})
			}
		}
	}
	out := mat.NewDense(L, L, nil)
	perr := make([]error, len(pairs))
	parallel.For(len(pairs), 0, func(t int) {
		i, j := pairs[t][0], pairs[t][1]
		var v float64
		if m == Mutual {
			v, perr[t] = MutualOf(nbs[i], nbs[j])
		} else {
			v, perr[t] = CKNNAOf(nbs[i], nbs[j])
		}
		out.Set(i, j, v)
		if m == Mutual {
			out.Set(j, i, v)
		}
	})
	for t, err := range perr {
		if err != nil {
			return nil, fmt.Errorf("knn: layers %d and %d: %w", pairs[t][0], pairs[t][1], err)
		}
	}
	return out, nil
}
