package subspace

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/embed"
)

// Layers gives the paired layers of one model in two languages, one layer
// at a time, so that they need not all be in memory at once.
type Layers interface {
	// Len returns the number of layers.
	Len() int
	// Pair loads layer k (0-based) in both languages: n × d matrices whose
	// rows are the same prompts. It may be called several times per layer.
	Pair(k int) (a, b mat.Matrix, err error)
}

// LayerSlice is Layers over matrices in memory: A[k] and B[k] are layer k
// in the two languages.
type LayerSlice struct{ A, B []mat.Matrix }

// Len implements Layers.
func (s LayerSlice) Len() int { return len(s.A) }

// Pair implements Layers.
func (s LayerSlice) Pair(k int) (mat.Matrix, mat.Matrix, error) { return s.A[k], s.B[k], nil }

// JointOptions configures JointEmbedding and JointCKA.
type JointOptions struct {
	// CKA configures cka.AllPairs: the measure (the zero value is the
	// study's standardized CKA), backend and memory budget.
	CKA cka.Options
	// Embed configures embed.Joint; the zero value is analyze's 3D
	// uncentered embedding.
	Embed embed.Options
	// Halves, when set, cross-fits: the directions are estimated on one
	// half of the prompts and the joint matrix computed on the other, both
	// ways round, and the two matrices averaged (the "before" matrix is the
	// mean of the two halves' matrices too). Halves draws them.
	Halves *[2][]int
}

// JointMap is the joint CKA matrix and embedding of a model's layers in two
// languages with R directions removed (R = 0: before the removal).
type JointMap struct {
	R int
	// CKA is the 2L × 2L joint matrix: rows 0..L−1 are layers 1..L of the
	// first language, rows L..2L−1 those of the second.
	CKA *mat.SymDense
	// Coords holds the embedding's coordinates (2L × dims) after the
	// rotation onto the reference embedding.
	Coords *mat.Dense
	// Rotation is the orthogonal dims × dims matrix Q that was applied
	// (Coords = embed.Joint's coordinates · Q); the identity for the
	// reference itself.
	Rotation *mat.Dense
	// Eigenvalues and Explained are embed.Joint's.
	Eigenvalues, Explained []float64
	// Separation measures how far apart the two languages sit in the
	// embedding (see Separate).
	Separation
}

// Joint is the outcome of JointEmbedding: the map before the removal and
// one per r.
type Joint struct {
	Layers   int
	CrossFit bool
	Before   *JointMap
	After    []*JointMap // After[k] has R[k] directions removed
}

// Separation is how far apart the languages sit in a joint embedding whose
// rows are layers 1..L of one language, then of the other.
type Separation struct {
	// PairDistance[k] is the Euclidean distance between layer k+1 in one
	// language and layer k+1 in the other.
	PairDistance []float64
	// MeanPairDistance is the mean of PairDistance over the layers.
	MeanPairDistance float64
	// Eta2 is the share of the points' scatter that lies between the two
	// languages' centroids: Σ_g L‖μ_g − μ‖² / Σ_i ‖x_i − μ‖² (the trace
	// form of the correlation ratio η²), 0 when the languages' centroids
	// coincide, 1 when each language is a single point.
	Eta2 float64
}

// Separate computes the Separation of coords, whose 2L rows are layers
// 1..L of the first language, then of the second. Both measures are
// invariant to an orthogonal rotation of the coordinates.
func Separate(coords mat.Matrix) (Separation, error) {
	rows, dims := coords.Dims()
	if rows < 2 || rows%2 != 0 {
		return Separation{}, fmt.Errorf("subspace: %d embedding rows; want 2L, layers 1..L of each language", rows)
	}
	l := rows / 2
	s := Separation{PairDistance: make([]float64, l)}
	mean := make([]float64, dims)
	centroid := [2][]float64{make([]float64, dims), make([]float64, dims)}
	for i := 0; i < rows; i++ {
		for j := 0; j < dims; j++ {
			v := coords.At(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return Separation{}, fmt.Errorf("subspace: embedding coordinate (%d, %d) is %v", i, j, v)
			}
			mean[j] += v / float64(rows)
			centroid[i/l][j] += v / float64(l)
		}
	}
	var total, between float64
	for k := 0; k < l; k++ {
		d2 := 0.0
		for j := 0; j < dims; j++ {
			d := coords.At(k, j) - coords.At(l+k, j)
			d2 += d * d
		}
		s.PairDistance[k] = math.Sqrt(d2)
		s.MeanPairDistance += s.PairDistance[k] / float64(l)
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < dims; j++ {
			d := coords.At(i, j) - mean[j]
			total += d * d
		}
	}
	for g := range centroid {
		for j := 0; j < dims; j++ {
			d := centroid[g][j] - mean[j]
			between += float64(l) * d * d
		}
	}
	if total > 0 {
		s.Eta2 = between / total
	}
	return s, nil
}

// Align returns the orthogonal matrix Q (dims × dims) that minimises
// ‖x·Q − ref‖_F (orthogonal Procrustes, Schönemann 1966: with xᵀref =
// UΣWᵀ, Q = UWᵀ; a reflection is allowed, as the embedding's axes have no
// intrinsic sign) and x·Q. When x equals ref, Q is the identity exactly.
func Align(x, ref mat.Matrix) (q, aligned *mat.Dense, err error) {
	r, c := x.Dims()
	rr, rc := ref.Dims()
	if r != rr || c != rc || r == 0 || c == 0 {
		return nil, nil, fmt.Errorf("subspace: aligning a %d×%d embedding to a %d×%d one", r, c, rr, rc)
	}
	if mat.Equal(x, ref) {
		q = mat.NewDense(c, c, nil)
		for i := 0; i < c; i++ {
			q.Set(i, i, 1)
		}
		return q, mat.DenseCopyOf(x), nil
	}
	var m mat.Dense
	m.Mul(x.T(), ref)
	var svd mat.SVD
	if !svd.Factorize(&m, mat.SVDFull) {
		return nil, nil, errors.New("subspace: the SVD of the Procrustes cross product did not converge")
	}
	var u, w mat.Dense
	svd.UTo(&u)
	svd.VTo(&w)
	q = new(mat.Dense)
	q.Mul(&u, w.T())
	aligned = new(mat.Dense)
	aligned.Mul(x, q)
	return q, aligned, nil
}

// projectedSource serves the 2L joint rows to cka.AllPairs: rows idx of
// each layer (all when idx is nil), with the first r directions of that
// layer projected out, as float32.
type projectedSource struct {
	layers Layers
	idx    []int
	dirs   []*Directions // per layer; nil entries when r = 0
	r      int
}

func (s *projectedSource) Len() int { return 2 * s.layers.Len() }

func (s *projectedSource) Name(i int) string {
	l := s.layers.Len()
	return fmt.Sprintf("language %d layer %d", i/l+1, i%l+1)
}

func (s *projectedSource) Layer(i int) (cka.Matrix, error) {
	l := s.layers.Len()
	a, b, err := s.layers.Pair(i % l)
	if err != nil {
		return cka.Matrix{}, err
	}
	x := a
	if i >= l {
		x = b
	}
	xd, err := checked(x, s.Name(i))
	if err != nil {
		return cka.Matrix{}, err
	}
	if s.idx != nil {
		xd = rows(xd, s.idx)
	}
	var v *mat.Dense
	if s.r > 0 {
		v = s.dirs[i%l].Prefix(s.r)
	}
	p, err := Project(xd, v)
	if err != nil {
		return cka.Matrix{}, err
	}
	n, d := p.Dims()
	out := cka.Matrix{Rows: n, Cols: d, Data: make([]float32, n*d)}
	for r := 0; r < n; r++ {
		for j, val := range p.RawRowView(r) {
			out.Data[r*d+j] = float32(val)
		}
	}
	return out, nil
}

// estimateAll estimates the top directions of every layer on the prompts
// idx (all when nil), checking the layers' shapes.
func estimateAll(layers Layers, idx []int, top int) ([]*Directions, error) {
	out := make([]*Directions, layers.Len())
	for k := range out {
		a, b, err := layers.Pair(k)
		if err != nil {
			return nil, fmt.Errorf("subspace: layer %d: %w", k+1, err)
		}
		ad, bd, err := pair(a, b)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", k+1, err)
		}
		if idx != nil {
			ad, bd = rows(ad, idx), rows(bd, idx)
		}
		if out[k], err = Estimate(ad, bd, top); err != nil {
			return nil, fmt.Errorf("layer %d: %w", k+1, err)
		}
	}
	return out, nil
}

// checkLayers checks that there are layers and that all share one number
// of prompts, which the halves (if any) partition.
func checkLayers(layers Layers, halves *[2][]int) error {
	if layers == nil || layers.Len() == 0 {
		return errors.New("subspace: no layers")
	}
	n := -1
	for k := 0; k < layers.Len(); k++ {
		a, b, err := layers.Pair(k)
		if err != nil {
			return fmt.Errorf("subspace: layer %d: %w", k+1, err)
		}
		if a == nil || b == nil {
			return fmt.Errorf("subspace: layer %d is nil", k+1)
		}
		ra, _ := a.Dims()
		rb, _ := b.Dims()
		if ra != rb || (n >= 0 && ra != n) {
			return fmt.Errorf("subspace: layer %d has %d and %d prompts (layer 1: %d); every layer needs the same prompts", k+1, ra, rb, max(n, ra))
		}
		n = ra
	}
	if halves != nil {
		return checkHalves(*halves, n)
	}
	return nil
}

// JointCKA returns the 2L × 2L joint CKA matrix (cka.AllPairs; rows: layers
// 1..L of the first language, then of the second) of the layers with the
// top r directions of each layer's paired differences projected out of
// that layer in both languages: the projection Measure uses. With
// opt.Halves, the directions are estimated on one half, the matrix
// computed on the other half's prompts, both ways round, averaged, as
// MeasureCrossFit does. r = 0 gives the matrix before the removal.
func JointCKA(layers Layers, r int, opt JointOptions) (*mat.SymDense, error) {
	if r < 0 {
		return nil, fmt.Errorf("subspace: r = %d; it must be ≥ 0", r)
	}
	if err := checkLayers(layers, opt.Halves); err != nil {
		return nil, err
	}
	return jointCKA(layers, r, opt, nil)
}

// jointCKA is JointCKA with the directions of each half (or of all prompts)
// given, or estimated when dirs is nil.
func jointCKA(layers Layers, r int, opt JointOptions, dirs [][]*Directions) (*mat.SymDense, error) {
	if opt.Halves == nil {
		if dirs == nil {
			d, err := estimateAll(layers, nil, r)
			if err != nil {
				return nil, err
			}
			dirs = [][]*Directions{d}
		}
		res, err := cka.AllPairs(&projectedSource{layers: layers, dirs: dirs[0], r: r}, opt.CKA)
		if err != nil {
			return nil, fmt.Errorf("subspace: joint CKA, r = %d: %w", r, err)
		}
		return res.CKA, nil
	}
	h := *opt.Halves
	if dirs == nil {
		dirs = make([][]*Directions, 2)
		for k := range 2 {
			d, err := estimateAll(layers, h[k], r)
			if err != nil {
				return nil, fmt.Errorf("subspace: cross-fit, estimated on half %d: %w", k+1, err)
			}
			dirs[k] = d
		}
	}
	m := 2 * layers.Len()
	avg := mat.NewSymDense(m, nil)
	for k := range 2 {
		res, err := cka.AllPairs(&projectedSource{layers: layers, idx: h[1-k], dirs: dirs[k], r: r}, opt.CKA)
		if err != nil {
			return nil, fmt.Errorf("subspace: joint CKA, r = %d, estimated on half %d: %w", r, k+1, err)
		}
		for i := 0; i < m; i++ {
			for j := i; j < m; j++ {
				avg.SetSym(i, j, avg.At(i, j)+res.CKA.At(i, j)/2)
			}
		}
	}
	return avg, nil
}

// JointEmbedding computes the joint CKA matrix of a model's layers in two
// languages before and after removing r directions of each layer's paired
// differences (for each r in rs; JointCKA), embeds each with embed.Joint
// (analyze's embedding), rotates each "after" embedding onto the "before"
// one (Align) so that the two can be compared point by point, and measures
// how far apart the languages sit in each (Separate).
func JointEmbedding(layers Layers, rs []int, opt JointOptions) (*Joint, error) {
	top, err := checkRs(rs)
	if err != nil {
		return nil, err
	}
	if err := checkLayers(layers, opt.Halves); err != nil {
		return nil, err
	}
	if layers.Len() < 2 && (opt.Embed.Dims == 0 || opt.Embed.Dims > 2) {
		return nil, fmt.Errorf("subspace: a joint embedding in %d dimensions needs at least 2 layers (4 points); the model has %d", max(opt.Embed.Dims, 3), layers.Len())
	}
	// The directions of every layer, estimated once for the largest r.
	var dirs [][]*Directions
	if opt.Halves == nil {
		d, err := estimateAll(layers, nil, top)
		if err != nil {
			return nil, err
		}
		dirs = [][]*Directions{d}
	} else {
		for k := range 2 {
			d, err := estimateAll(layers, opt.Halves[k], top)
			if err != nil {
				return nil, fmt.Errorf("subspace: cross-fit, estimated on half %d: %w", k+1, err)
			}
			dirs = append(dirs, d)
		}
	}
	out := &Joint{Layers: layers.Len(), CrossFit: opt.Halves != nil}
	mapOf := func(r int, ref *mat.Dense) (*JointMap, error) {
		s, err := jointCKA(layers, r, opt, dirs)
		if err != nil {
			return nil, err
		}
		e, err := embed.Joint(s, opt.Embed)
		if err != nil {
			return nil, fmt.Errorf("subspace: r = %d: %w", r, err)
		}
		jm := &JointMap{R: r, CKA: s, Eigenvalues: e.Eigenvalues, Explained: e.Explained}
		if ref == nil {
			ref = e.Coords
		}
		if jm.Rotation, jm.Coords, err = Align(e.Coords, ref); err != nil {
			return nil, err
		}
		if jm.Separation, err = Separate(jm.Coords); err != nil {
			return nil, err
		}
		return jm, nil
	}
	if out.Before, err = mapOf(0, nil); err != nil {
		return nil, err
	}
	for _, r := range rs {
		jm, err := mapOf(r, out.Before.Coords)
		if err != nil {
			return nil, err
		}
		out.After = append(out.After, jm)
	}
	return out, nil
}

// checkHalves checks that halves partition 0..n−1 with at least 2 prompts
// in each.
func checkHalves(halves [2][]int, n int) error {
	seen := make([]bool, n)
	for _, h := range halves {
		if len(h) < 2 {
			return fmt.Errorf("subspace: a half of %d prompts; cross-fitting needs at least 2 in each (n = %d)", len(h), n)
		}
		for _, i := range h {
			if i < 0 || i >= n || seen[i] {
				return fmt.Errorf("subspace: the halves are not a partition of 0..%d (index %d)", n-1, i)
			}
			seen[i] = true
		}
	}
	if len(halves[0])+len(halves[1]) != n {
		return fmt.Errorf("subspace: the halves hold %d of %d prompts", len(halves[0])+len(halves[1]), n)
	}
	return nil
}
