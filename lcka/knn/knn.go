package knn

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

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
	return findWith(name, x, k, s, true, 0)
}

// findWith is find with the rows' selection on up to workers goroutines
// (GOMAXPROCS if ≤ 0); without values it finds the neighbours alone (for
// MutualOf, not CKNNAOf).
func findWith(name string, x mat.Matrix, k int, s Similarity, values bool, workers int) (*Neighbours, error) {
	if s != Cosine && s != Inner {
		return nil, fmt.Errorf("knn: invalid similarity %v", s)
	}
	xd, err := asDense(x, name)
	if err != nil {
		return nil, err
	}
	n, _ := xd.Dims()
	if k < 1 || k > n-1 {
		return nil, fmt.Errorf("knn: k = %d neighbours, but %s has %d inputs: k must be in 1…%d", k, name, n, n-1)
	}
	nb := &Neighbours{n: n, k: k, idx: make([]int32, n*k), val: make([]float64, n*k)}
	if err := nb.screen(name, xd, s, values, workers); err != nil {
		return nil, err
	}
	if values {
		nb.self = nb.hsic(nb)
	} else {
		nb.val = nil
	}
	return nb, nil
}

// asDense returns x as a *mat.Dense, without copying when it is one, after
// checking that it is not empty (screen checks the values).
func asDense(x mat.Matrix, name string) (*mat.Dense, error) {
	if x == nil {
		return nil, fmt.Errorf("knn: %s is nil", name)
	}
	if d, ok := x.(*mat.Dense); ok && (d == nil || d.IsEmpty()) {
		return nil, fmt.Errorf("knn: %s is empty", name)
	}
	if r, c := x.Dims(); r == 0 || c == 0 {
		return nil, fmt.Errorf("knn: %s is empty (%d×%d)", name, r, c)
	}
	if d, ok := x.(*mat.Dense); ok {
		return d, nil
	}
	return mat.DenseCopyOf(x), nil
}

// hsic returns HSIC₁(M∘K_p, M∘K_q) for M the mask of the neighbours p and
// q have in common.
func (p *Neighbours) hsic(q *Neighbours) float64 {
	pq, _ := p.hsicBoth(q)
	return pq
}

// hsicBoth returns HSIC₁(M∘K_p, M∘K_q) and HSIC₁(M∘K_q, M∘K_p) (M is
// symmetric in p and q; the two differ only in 1ᵀAB1), without forming M:
// row i's common neighbours are those of q.Of(i) marked while going through
// p.Of(i).
func (p *Neighbours) hsicBoth(q *Neighbours) (pq, qp float64) {
	n, k := p.n, p.k
	mark := make([]int32, n)
	pos := make([]int32, n)
	sums := make([]float64, 4*n)
	rowP, rowQ, colP, colQ := sums[:n], sums[n:2*n], sums[2*n:3*n], sums[3*n:]
	var sumP, sumQ, trace float64
	for i := 0; i < n; i++ {
		stamp := int32(i + 1)
		for t, j := range p.Of(i) {
			mark[j], pos[j] = stamp, int32(t)
		}
		for t, j := range q.Of(i) {
			if mark[j] != stamp {
				continue
			}
			a, b := p.val[i*k+int(pos[j])], q.val[i*k+t]
			colP[j] += a
			colQ[j] += b
			rowP[i] += a
			rowQ[i] += b
			// A_ij B_ji: B_ji is non-zero when i is a common neighbour of
			// j; the sum is the same in both orders.
			if _, ok := slices.BinarySearch(p.Of(int(j)), int32(i)); ok {
				if w, ok := slices.BinarySearch(q.Of(int(j)), int32(i)); ok {
					trace += a * q.val[int(j)*k+w]
				}
			}
		}
		sumP += rowP[i]
		sumQ += rowQ[i]
	}
	var abPQ, abQP float64
	for i := 0; i < n; i++ {
		abPQ += colP[i] * rowQ[i]
		abQP += colQ[i] * rowP[i]
	}
	nf := float64(n)
	f := func(ab float64) float64 {
		return (trace + sumP*sumQ/((nf-1)*(nf-2)) - 2*ab/(nf-2)) / (nf * (nf - 3))
	}
	return f(abPQ), f(abQP)
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
	// A mark per input instead of merging the sorted lists: fewer
	// mispredicted branches.
	mark := make([]int32, p.n)
	common := 0
	for i := 0; i < p.n; i++ {
		stamp := int32(i + 1)
		for _, j := range p.Of(i) {
			mark[j] = stamp
		}
		for _, j := range q.Of(i) {
			if mark[j] == stamp {
				common++
			}
		}
	}
	return float64(common) / float64(p.n*p.k), nil
}

// CKNNAOf returns the CKNNA of two prepared representations.
func CKNNAOf(p, q *Neighbours) (float64, error) {
	if err := checkCKNNA(p, q); err != nil {
		return 0, err
	}
	den := p.self * q.self
	return p.hsic(q) / math.Sqrt(den), nil
}

func checkCKNNA(p, q *Neighbours) error {
	if err := check(p, q); err != nil {
		return err
	}
	if p.k < 2 || p.n < 4 {
		return fmt.Errorf("knn: CKNNA needs k ≥ 2 and n ≥ 4, got k = %d, n = %d", p.k, p.n)
	}
	if !(p.self*q.self > 0) {
		return fmt.Errorf("knn: CKNNA's self terms HSIC(K,K) = %g and HSIC(L,L) = %g are not both positive; the measure is undefined for these inputs", p.self, q.self)
	}
	return nil
}

// cknnaBoth returns CKNNAOf(p, q) and CKNNAOf(q, p) (up to rounding) from
// one pass.
func cknnaBoth(p, q *Neighbours) (pq, qp float64, err error) {
	if err := checkCKNNA(p, q); err != nil {
		return 0, 0, err
	}
	a, b := p.hsicBoth(q)
	d := math.Sqrt(p.self * q.self)
	return a / d, b / d, nil
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
// package documentation), so both orders are computed, in one pass per
// pair. Each layer's neighbours are found once.
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
	// A layer per core: the Gram graph runs its ops one after the other.
	parallel.For(L, 0, func(l int) {
		nbs[l], errs[l] = findWith(fmt.Sprintf("layer %d", l), reps[l], k, s, m == Kernel, 1)
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	var pairs [][2]int
	for i := 0; i < L; i++ {
		for j := 0; j < L; j++ {
			if j >= i {
				pairs = append(pairs, [2]int{i, j})
			}
		}
	}
	out := mat.NewDense(L, L, nil)
	perr := make([]error, len(pairs))
	parallel.For(len(pairs), 0, func(t int) {
		i, j := pairs[t][0], pairs[t][1]
		var v, w float64
		if m == Mutual {
			v, perr[t] = MutualOf(nbs[i], nbs[j])
			w = v
		} else {
			v, w, perr[t] = cknnaBoth(nbs[i], nbs[j])
		}
		out.Set(i, j, v)
		out.Set(j, i, w)
	})
	for t, err := range perr {
		if err != nil {
			return nil, fmt.Errorf("knn: layers %d and %d: %w", pairs[t][0], pairs[t][1], err)
		}
	}
	return out, nil
}
