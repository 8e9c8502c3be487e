package embed

import (
	"errors"
	"fmt"
	"github.com/layersim/layersim/internal/describe"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// Options configures Joint. The zero value gives the study's 3D uncentered
// embedding.
type Options struct {
	// Dims is the number of coordinates; 0 means 3.
	Dims int
	// Classical double-centers S first (classical MDS).
	Classical bool
}

// Embedding holds the coordinates of the rows of S.
type Embedding struct {
	// Coords has one row per layer and one column per coordinate.
	Coords *mat.Dense
	// Eigenvalues are all eigenvalues of S (or of HSH), descending.
	Eigenvalues []float64
	// Explained is the share of the sum of positive eigenvalues carried by
	// each of the first Dims coordinates.
	Explained []float64
}

// Joint embeds the M×M similarity matrix s in opt.Dims dimensions.
func Joint(s mat.Symmetric, opt Options) (*Embedding, error) {
	m := s.SymmetricDim()
	dims := opt.Dims
	if dims == 0 {
		dims = 3
	}
	if dims < 1 || dims > m {
		return nil, fmt.Errorf("embed: %d dimensions asked of %d points", dims, m)
	}
	work := mat.NewSymDense(m, nil)
	for i := 0; i < m; i++ {
		for j := i; j < m; j++ {
			v := s.At(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("embed: similarity (%d, %d) is %v", i, j, v)
			}
			work.SetSym(i, j, v)
		}
	}
	if opt.Classical {
		doubleCenter(work)
	}
	var eig mat.EigenSym
	if !eig.Factorize(work, true) {
		return nil, errors.New("embed: eigendecomposition did not converge")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return vals[order[a]] > vals[order[b]] })
	e := &Embedding{Coords: mat.NewDense(m, dims, nil), Eigenvalues: make([]float64, m)}
	positive := 0.0
	for k, idx := range order {
		e.Eigenvalues[k] = vals[idx]
		if vals[idx] > 0 {
			positive += vals[idx]
		}
	}
	for k := 0; k < dims; k++ {
		lambda := e.Eigenvalues[k]
		scale := math.Sqrt(max(lambda, 0))
		col := mat.Col(nil, order[k], &vecs)
		// Sign convention: the entry of largest magnitude is positive.
		big := 0
		for i, v := range col {
			if math.Abs(v) > math.Abs(col[big])+1e-12 {
				big = i
			}
		}
		if col[big] < 0 {
			scale = -scale
		}
		for i, v := range col {
			e.Coords.Set(i, k, v*scale)
		}
		if positive > 0 {
			e.Explained = append(e.Explained, max(lambda, 0)/positive)
		} else {
			e.Explained = append(e.Explained, 0)
		}
	}
	return e, nil
}

// doubleCenter replaces s with HsH.
func doubleCenter(s *mat.SymDense) {
	m := s.SymmetricDim()
	mean := make([]float64, m)
	grand := 0.0
	for i := 0; i < m; i++ {
		for j := 0; j < m; j++ {
			mean[i] += s.At(i, j)
		}
		grand += mean[i]
		mean[i] /= float64(m)
	}
	grand /= float64(m * m)
	for i := 0; i < m; i++ {
		for j := i; j < m; j++ {
			s.SetSym(i, j, s.At(i, j)-mean[i]-mean[j]+grand)
		}
	}
}

// Axis is the outcome of LanguageAxis.
type Axis struct {
	// Component is the 0-based coordinate with the largest |r|.
	Component int
	// Corr holds r for every coordinate, over all points.
	Corr []float64
	// PerGroup holds r on Component within each group; a group whose points
	// all share one language, or are constant on the axis, is left out and
	// listed in Undefined.
	PerGroup  map[string]float64
	Undefined []string
}

// LanguageAxis correlates each coordinate of coords with label (+1 or −1 per
// point) and reports the coordinate most aligned with it, overall and within
// each group (groups[i] names the group of point i, e.g. its model).
func LanguageAxis(coords mat.Matrix, label []float64, groups []string) (*Axis, error) {
	m, dims := coords.Dims()
	if len(label) != m || len(groups) != m {
		return nil, fmt.Errorf("embed: %d points but %d labels and %d groups", m, len(label), len(groups))
	}
	a := &Axis{PerGroup: map[string]float64{}}
	best := -1.0
	for k := 0; k < dims; k++ {
		r, err := pearson(mat.Col(nil, k, coords), label)
		if err != nil {
			return nil, fmt.Errorf("embed: coordinate %d against the language label: %w", k, err)
		}
		a.Corr = append(a.Corr, r)
		if math.Abs(r) > best+1e-12 {
			best, a.Component = math.Abs(r), k
		}
	}
	byGroup := map[string][]int{}
	var names []string
	for i, g := range groups {
		if _, ok := byGroup[g]; !ok {
			names = append(names, g)
		}
		byGroup[g] = append(byGroup[g], i)
	}
	for _, g := range names {
		var x, y []float64
		for _, i := range byGroup[g] {
			x = append(x, coords.At(i, a.Component))
			y = append(y, label[i])
		}
		r, err := pearson(x, y)
		if err != nil {
			a.Undefined = append(a.Undefined, g)
			continue
		}
		a.PerGroup[g] = r
	}
	return a, nil
}

// ErrUndefined is returned when a correlation has a constant side.
var ErrUndefined = errors.New("correlation undefined: a side is constant")

func pearson(x, y []float64) (float64, error) {
	r, ok := describe.Pearson(x, y)
	if !ok {
		return 0, ErrUndefined
	}
	return r, nil
}
