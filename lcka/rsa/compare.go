package rsa

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/grampanel"
	"github.com/layersim/layersim/lcka/internal/parallel"
)

// constantTol is the relative spread below which an RDM counts as constant:
// an RDM whose dissimilarities satisfy max − min ≤ constantTol·max|v| is
// rejected, since its differences are rounding noise.
const constantTol = 1e-12

// prepared is the upper triangle of one RDM made ready for comparisons.
type prepared struct {
	// unit is the centred, unit-norm vector of ranks (Spearman) or of
	// values (Pearson), so that a correlation is a dot product.
	unit []float64

	// order sorts the values ascending, rank holds dense ranks (equal
	// values share a rank) and tied counts the tied pairs Σ t(t−1)/2 over
	// groups of t equal values (KendallTauA only).
	order []int32
	rank  []int32
	tied  int64
}

// prepare checks the upper triangle v of an RDM and prepares it for
// comparisons by c. For Spearman and Pearson the unit vector is written to
// dst when dst is not nil. name says which input v came from.
func prepare(name string, v []float64, c Comparison, dst []float64) (*prepared, error) {
	m := len(v)
	if m < minSamples {
		return nil, fmt.Errorf("rsa: %s gives %d dissimilarities; a comparison needs at least %d", name, m, minSamples)
	}
	lo, hi, big := math.Inf(1), math.Inf(-1), 0.0
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("rsa: the RDM of %s has non-finite value %v", name, x)
		}
		lo, hi, big = min(lo, x), max(hi, x), max(big, math.Abs(x))
	}
	if hi-lo <= constantTol*big {
		return nil, fmt.Errorf("rsa: the RDM of %s is constant (all %d dissimilarities equal to within rounding); its correlation is undefined", name, m)
	}

	if m > math.MaxInt32 {
		return nil, fmt.Errorf("rsa: the RDM of %s has %d dissimilarities, too many", name, m)
	}
	order := make([]int32, m)
	for i := range order {
		order[i] = int32(i)
	}
	if c != Pearson {
		sortOrder(order, v)
	}

	p := &prepared{}
	switch c {
	case Spearman, Pearson:
		if dst == nil {
			dst = make([]float64, m)
		}
		if c == Pearson {
			copy(dst, v)
		} else {
			// Average ranks, 1-based: a group of equal values at sorted
			// positions s..e−1 gets rank (s+1+e)/2.
			forEachTieGroup(v, order, func(s, e int) {
				r := float64(s+1+e) / 2
				for _, i := range order[s:e] {
					dst[i] = r
				}
			})
		}
		if err := unitize(dst); err != nil {
			return nil, fmt.Errorf("rsa: the RDM of %s: %w", name, err)
		}
		p.unit = dst
	case KendallTauA:
		rank := make([]int32, m)
		var r int32
		forEachTieGroup(v, order, func(s, e int) {
			for _, i := range order[s:e] {
				rank[i] = r
			}
			r++
			t := int64(e - s)
			p.tied += t * (t - 1) / 2
		})
		p.order, p.rank = order, rank
	default:
		return nil, fmt.Errorf("rsa: invalid comparison %v", c)
	}
	return p, nil
}

// forEachTieGroup calls f(s, e) for each maximal run order[s:e] of equal
// values of v, in ascending order of value.
func forEachTieGroup(v []float64, order []int32, f func(s, e int)) {
	for s := 0; s < len(order); {
		e := s + 1
		for e < len(order) && v[order[e]] == v[order[s]] {
			e++
		}
		f(s, e)
		s = e
	}
}

// unitize centres x and scales it to unit Euclidean norm.
func unitize(x []float64) error {
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for i := range x {
		x[i] -= mean
	}
	norm := floats.Norm(x, 2)
	if norm == 0 || math.IsInf(norm, 0) || math.IsNaN(norm) {
		return fmt.Errorf("zero or non-finite spread (norm %v)", norm)
	}
	floats.Scale(1/norm, x)
	return nil
}

// kendallScratch is working memory for tauA, reusable across calls.
type kendallScratch struct{ seq, buf []int32 }

// compare returns the correlation c between two prepared RDMs.
func compare(a, b *prepared, c Comparison, w *kendallScratch) float64 {
	var r float64
	if c == KendallTauA {
		r = tauA(a, b, w)
	} else {
		r = floats.Dot(a.unit, b.unit)
	}
	return min(1, max(-1, r))
}

// tauA returns Kendall's τ_a = (n_c − n_d) / (m(m−1)/2) in O(m log m) time
// (Knight 1966): sort by (a, b), count the discordant pairs as the
// inversions of b in that order with a merge sort, and correct for ties:
//
//	n_c − n_d = n₀ − n_a − n_b + n_ab − 2·n_d,
//
// where n₀ = m(m−1)/2 and n_a, n_b, n_ab count the pairs tied in a, in b and
// in both.
func tauA(a, b *prepared, w *kendallScratch) float64 {
	m := len(a.order)
	if w == nil {
		w = &kendallScratch{}
	}
	if cap(w.seq) < m {
		w.seq, w.buf = make([]int32, m), make([]int32, m)
	}
	seq, buf := w.seq[:m], w.buf[:m]
	for k, i := range a.order {
		seq[k] = b.rank[i]
	}
	var joint int64
	for s := 0; s < m; {
		e := s + 1
		for e < m && a.rank[a.order[e]] == a.rank[a.order[s]] {
			e++
		}
		if e-s > 1 {
			seg := seq[s:e]
			slices.Sort(seg)
			joint += tiedPairs(seg)
		}
		s = e
	}
	disc := inversions(seq, buf)
	n0 := int64(m) * int64(m-1) / 2
	return float64(n0-a.tied-b.tied+joint-2*disc) / float64(n0)
}

// tiedPairs returns Σ t(t−1)/2 over the runs of t equal values in the
// sorted slice s.
func tiedPairs(s []int32) int64 {
	var n int64
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && s[j] == s[i] {
			j++
		}
		t := int64(j - i)
		n += t * (t - 1) / 2
		i = j
	}
	return n
}

// inversions returns the number of pairs i < j with s[i] > s[j], using a
// bottom-up merge sort. It overwrites s and buf (len(buf) ≥ len(s)).
func inversions(s, buf []int32) int64 {
	n := len(s)
	var inv int64
	src, dst := s, buf[:n]
	for width := 1; width < n; width *= 2 {
		for lo := 0; lo < n; lo += 2 * width {
			mid, hi := min(lo+width, n), min(lo+2*width, n)
			i, j, k := lo, mid, lo
			for i < mid && j < hi {
				if src[j] < src[i] {
					dst[k] = src[j]
					j++
					inv += int64(mid - i)
				} else {
					dst[k] = src[i]
					i++
				}
				k++
			}
			k += copy(dst[k:], src[i:mid])
			copy(dst[k:], src[j:hi])
		}
		src, dst = dst, src
	}
	return inv
}

// Compare returns the RSA similarity of two representations x and y
// (n samples × d_x and × d_y features, same n ≥ 3): the correlation c between
// the upper triangles of their RDMs under dissimilarity dis.
func Compare(x, y mat.Matrix, dis Dissimilarity, c Comparison) (float64, error) {
	if err := checkMethod(dis, c); err != nil {
		return 0, err
	}
	xd, yd, err := checkPair(x, y)
	if err != nil {
		return 0, err
	}
	px, err := prepareRep("x", xd, dis, c, nil)
	if err != nil {
		return 0, err
	}
	py, err := prepareRep("y", yd, dis, c, nil)
	if err != nil {
		return 0, err
	}
	return compare(px, py, c, nil), nil
}

// CompareRDMs returns the correlation c between the strict upper triangles
// of two RDMs a and b (n×n, n ≥ 3). The diagonals are ignored.
func CompareRDMs(a, b mat.Symmetric, c Comparison) (float64, error) {
	if !c.valid() {
		return 0, fmt.Errorf("rsa: invalid comparison %v", c)
	}
	va, err := upperOf("a", a)
	if err != nil {
		return 0, err
	}
	vb, err := upperOf("b", b)
	if err != nil {
		return 0, err
	}
	if len(va) != len(vb) {
		return 0, fmt.Errorf("rsa: RDM a is %d×%d and b is %d×%d; they must match", a.SymmetricDim(), a.SymmetricDim(), b.SymmetricDim(), b.SymmetricDim())
	}
	pa, err := prepare("a", va, c, nil)
	if err != nil {
		return 0, err
	}
	pb, err := prepare("b", vb, c, nil)
	if err != nil {
		return 0, err
	}
	return compare(pa, pb, c, nil), nil
}

// upperOf returns the strict upper triangle of a, row by row.
func upperOf(name string, a mat.Symmetric) ([]float64, error) {
	if a == nil {
		return nil, fmt.Errorf("rsa: RDM %s is nil", name)
	}
	if s, ok := a.(*mat.SymDense); ok && (s == nil || s.IsEmpty()) {
		return nil, fmt.Errorf("rsa: RDM %s is empty", name)
	}
	n := a.SymmetricDim()
	if err := checkSamples("RDM "+name, n); err != nil {
		return nil, err
	}
	v := make([]float64, 0, n*(n-1)/2)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			x := a.At(i, j)
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("rsa: RDM %s has non-finite value %v at (%d, %d)", name, x, i, j)
			}
			v = append(v, x)
		}
	}
	return v, nil
}

// AllPairs returns the L×L matrix of RSA similarities between all pairs of
// the representations reps (L layers, each n samples × d_l features, the
// same n ≥ 3 for all). Entry (i, j) equals Compare(reps[i], reps[j], dis, c)
// up to rounding. The diagonal is 1, except for KendallTauA, where it is τ_a
// of an RDM with itself, 1 − t/(m(m−1)/2) for t tied pairs of
// dissimilarities: below 1 when the RDM has ties (τ_a does not correct for
// ties), 1 otherwise.
//
// Each layer's RDM is formed and prepared once. For Spearman and Pearson the
// prepared vectors are stacked into an L×m matrix Z and all pairs are the one
// product Z Zᵀ; Kendall's τ_a is computed pair by pair in O(m log m).
func AllPairs(reps []mat.Matrix, dis Dissimilarity, c Comparison) (*mat.SymDense, error) {
	if err := checkMethod(dis, c); err != nil {
		return nil, err
	}
	L := len(reps)
	if L == 0 {
		return nil, fmt.Errorf("rsa: no representations")
	}
	dense := make([]*mat.Dense, L)
	n := -1
	for l, r := range reps {
		name := fmt.Sprintf("reps[%d]", l)
		d, err := checkInput(name, r)
		if err != nil {
			return nil, err
		}
		rows, _ := d.Dims()
		if l == 0 {
			n = rows
			if err := checkSamples(name, n); err != nil {
				return nil, err
			}
		} else if rows != n {
			return nil, fmt.Errorf("rsa: reps[%d] has %d samples (rows) and reps[0] has %d; they must match", l, rows, n)
		}
		dense[l] = d
	}
	return allPairsPrepared(L, n, c, func(l int, dst []float64) (*prepared, error) {
		return prepareRep(fmt.Sprintf("reps[%d]", l), dense[l], dis, c, dst)
	})
}

// allPairsPrepared compares every pair of L RDMs of n samples each, the
// upper triangle of RDM l being prepared by prep (into dst for Spearman and
// Pearson, which is then a row of the product Z Zᵀ).
func allPairsPrepared(L, n int, c Comparison, prep func(l int, dst []float64) (*prepared, error)) (*mat.SymDense, error) {
	m := n * (n - 1) / 2
	var z *mat.Dense
	if c != KendallTauA {
		z = mat.NewDense(L, m, nil)
	}
	preps := make([]*prepared, L)
	errs := make([]error, L)
	parallel.For(L, 0, func(l int) {
		var dst []float64
		if z != nil {
			dst = z.RawRowView(l)
		}
		preps[l], errs[l] = prep(l, dst)
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}

	out := mat.NewSymDense(L, nil)
	if c == KendallTauA {
		pairs := make([][2]int, 0, L*(L-1)/2)
		for i := 0; i < L; i++ {
			for j := i + 1; j < L; j++ {
				pairs = append(pairs, [2]int{i, j})
			}
		}
		scratch := sync.Pool{New: func() any { return &kendallScratch{} }}
		parallel.For(len(pairs), 0, func(k int) {
			w := scratch.Get().(*kendallScratch)
			i, j := pairs[k][0], pairs[k][1]
			out.SetSym(i, j, compare(preps[i], preps[j], c, w))
			scratch.Put(w)
		})
	} else {
		zzt(out, z)
		for i := 0; i < L; i++ {
			for j := i + 1; j < L; j++ {
				out.SetSym(i, j, min(1, max(-1, out.At(i, j))))
			}
		}
	}
	for i := 0; i < L; i++ {
		self := 1.0
		if c == KendallTauA {
			// τ_a(u, u) = 1 − t_u/n₀ is below 1 when u has ties.
			n0 := int64(m) * int64(m-1) / 2
			self = float64(n0-preps[i].tied) / float64(n0)
		}
		out.SetSym(i, i, self)
	}
	return out, nil
}

// zzt sets out to Z Zᵀ, in blocks of rows of Z on all cores: the product of
// 200 RDMs of 400 samples (200 × 79,800) is 3 GFLOP.
func zzt(out *mat.SymDense, z *mat.Dense) {
	L, m := z.Dims()
	if raw := z.RawMatrix(); grampanel.Host() && raw.Stride == m {
		// The float64 Gram kernel, several times faster than gonum's
		// general product here.
		g := make([]float64, L*L)
		if err := grampanel.Full64(g, raw.Data[:L*m], L, m, 0); err == nil {
			for i := 0; i < L; i++ {
				for j := i; j < L; j++ {
					out.SetSym(i, j, g[i*L+j])
				}
			}
			return
		}
	}
	const blk = 16
	nb := (L + blk - 1) / blk
	var tasks [][2]int
	for a := 0; a < nb; a++ {
		for b := a; b < nb; b++ {
			tasks = append(tasks, [2]int{a, b})
		}
	}
	parallel.For(len(tasks), 0, func(t int) {
		a, b := tasks[t][0], tasks[t][1]
		ra := z.Slice(a*blk, min(L, (a+1)*blk), 0, z.RawMatrix().Cols)
		rb := z.Slice(b*blk, min(L, (b+1)*blk), 0, z.RawMatrix().Cols)
		var p mat.Dense
		p.Mul(ra, rb.T())
		r, c := p.Dims()
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				if gi, gj := a*blk+i, b*blk+j; gi <= gj {
					out.SetSym(gi, gj, p.At(i, j))
				}
			}
		}
	})
}

// prepareRep forms the RDM of x and prepares it for comparisons by c.
func prepareRep(name string, x *mat.Dense, dis Dissimilarity, c Comparison, dst []float64) (*prepared, error) {
	v, err := upperRDM(name, x, dis)
	if err != nil {
		return nil, err
	}
	return prepare(name, v, c, dst)
}

func checkMethod(dis Dissimilarity, c Comparison) error {
	if !dis.valid() {
		return fmt.Errorf("rsa: invalid dissimilarity %v", dis)
	}
	if !c.valid() {
		return fmt.Errorf("rsa: invalid comparison %v", c)
	}
	return nil
}

func checkSamples(name string, n int) error {
	if n < minSamples {
		return fmt.Errorf("rsa: %s has %d samples; RSA needs n ≥ %d so that there are at least 3 pairs of samples to correlate", name, n, minSamples)
	}
	return nil
}

// checkPair checks two representations for a comparison: each non-empty
// and finite, the same number (at least 3) of samples.
func checkPair(x, y mat.Matrix) (xd, yd *mat.Dense, err error) {
	if xd, err = checkInput("x", x); err != nil {
		return nil, nil, err
	}
	if yd, err = checkInput("y", y); err != nil {
		return nil, nil, err
	}
	nx, _ := xd.Dims()
	ny, _ := yd.Dims()
	if nx != ny {
		return nil, nil, fmt.Errorf("rsa: x has %d samples (rows) and y has %d; they must match", nx, ny)
	}
	if err := checkSamples("x", nx); err != nil {
		return nil, nil, err
	}
	return xd, yd, nil
}
