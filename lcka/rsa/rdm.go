package rsa

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/dense"
)

// minSamples is the least number of samples (rows) RSA accepts: n samples
// give n(n−1)/2 dissimilarities, and a correlation needs at least 3 of them.
const minSamples = 3

// checkInput validates a representation and returns it as a *mat.Dense,
// without copying when it already is one. name says which input it is in
// error messages.
func checkInput(name string, x mat.Matrix) (*mat.Dense, error) {
	d, err := dense.Checked(x, name)
	if err != nil {
		return nil, fmt.Errorf("rsa: %w", err)
	}
	return d, nil
}

// RDM returns the representational dissimilarity matrix of x (n samples ×
// d features): the n×n symmetric matrix of dissimilarities between the rows
// of x, with a zero diagonal. It needs n ≥ 2.
func RDM(x mat.Matrix, dis Dissimilarity) (*mat.SymDense, error) {
	if !dis.valid() {
		return nil, fmt.Errorf("rsa: invalid dissimilarity %v", dis)
	}
	xd, err := checkInput("x", x)
	if err != nil {
		return nil, err
	}
	n, _ := xd.Dims()
	if n < 2 {
		return nil, fmt.Errorf("rsa: x has %d row; an RDM needs at least 2 samples", n)
	}
	v, err := upperRDM("x", xd, dis)
	if err != nil {
		return nil, err
	}
	out := mat.NewSymDense(n, nil)
	k := 0
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			out.SetSym(i, j, v[k])
			k++
		}
	}
	return out, nil
}

// upperRDM returns the strict upper triangle of the RDM of x, row by row
// (the order of scipy.spatial.distance.pdist). x must be finite.
func upperRDM(name string, x *mat.Dense, dis Dissimilarity) ([]float64, error) {
	n, d := x.Dims()
	var g mat.SymDense
	switch dis {
	case Cosine:
		g.SymOuterK(1, x)
	case Correlation:
		c := mat.NewDense(n, d, nil)
		for i := 0; i < n; i++ {
			row := x.RawRowView(i)
			constant := true
			for _, v := range row[1:] {
				if v != row[0] {
					constant = false
					break
				}
			}
			if constant {
				return nil, fmt.Errorf("rsa: row %d of %s is constant; its correlation dissimilarity is undefined", i, name)
			}
			var mean float64
			for _, v := range row {
				mean += v
			}
			mean /= float64(d)
			dst := c.RawRowView(i)
			for j, v := range row {
				dst[j] = v - mean
			}
		}
		g.SymOuterK(1, c)
	case Euclidean:
		// Centring the columns leaves the distances unchanged and
		// keeps G_ii + G_jj − 2G_ij from cancelling when the rows
		// share a large offset.
		c := dense.CenteredColumns(x)
		g.SymOuterK(1, c)
	default:
		return nil, fmt.Errorf("rsa: invalid dissimilarity %v", dis)
	}
	raw := g.RawSymmetric()
	return upperFromGram(name, func(i, j int) float64 { return raw.Data[i*raw.Stride+j] }, n, dis)
}

// upperFromGram returns the strict upper triangle of the RDM whose Gram
// matrix of (prepared) rows is at(i, j), read for i ≤ j only.
func upperFromGram(name string, at func(i, j int) float64, n int, dis Dissimilarity) ([]float64, error) {
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			if v := at(i, j); math.IsInf(v, 0) || math.IsNaN(v) {
				return nil, fmt.Errorf("rsa: overflow in the Gram matrix of %s (values too large)", name)
			}
		}
	}
	out := make([]float64, 0, n*(n-1)/2)
	switch dis {
	case Cosine, Correlation:
		norm := make([]float64, n)
		for i := range norm {
			norm[i] = math.Sqrt(at(i, i))
			if norm[i] == 0 {
				what := "zero"
				if dis == Correlation {
					what = "zero after centring"
				}
				return nil, fmt.Errorf("rsa: row %d of %s is %s; its %v dissimilarity is undefined", i, name, what, dis)
			}
		}
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				s := at(i, j) / norm[i] / norm[j]
				out = append(out, min(2, max(0, 1-s)))
			}
		}
	case Euclidean:
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				out = append(out, max(0, at(i, i)+at(j, j)-2*at(i, j)))
			}
		}
	default:
		return nil, fmt.Errorf("rsa: invalid dissimilarity %v", dis)
	}
	for _, v := range out {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, fmt.Errorf("rsa: overflow in the RDM of %s (values too large)", name)
		}
	}
	return out, nil
}
