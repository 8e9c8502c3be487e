// Package densetest makes matrices (random ones, and ones from fixtures'
// rows) for the tests of the similarity packages.
package densetest

import (
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Normal returns an r×c matrix of standard normal values drawn from rng, row
// by row.
func Normal(rng *rand.Rand, r, c int) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			m.Set(i, j, rng.NormFloat64())
		}
	}
	return m
}

// Normals returns n standard normal values drawn from rng.
func Normals(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// Orthogonal returns a random d×d orthogonal matrix: the Q factor of a
// normal matrix.
func Orthogonal(rng *rand.Rand, d int) *mat.Dense {
	var qr mat.QR
	qr.Factorize(Normal(rng, d, d))
	var q mat.Dense
	qr.QTo(&q)
	return &q
}

// FromRows returns the matrix whose rows are rows (as JSON fixtures hold
// them); every row has the length of the first.
func FromRows(rows [][]float64) *mat.Dense {
	m := mat.NewDense(len(rows), len(rows[0]), nil)
	for i, r := range rows {
		m.SetRow(i, r)
	}
	return m
}

// Related returns x (n×dx) and y (n×dy) with normal entries, y's first dx
// columns holding x's plus their own noise (dx ≤ dy): two layers that
// share a subspace.
func Related(rng *rand.Rand, n, dx, dy int) (x, y *mat.Dense) {
	x, y = Normal(rng, n, dx), Normal(rng, n, dy)
	for i := range n {
		for j := range dx {
			y.Set(i, j, y.At(i, j)+x.At(i, j))
		}
	}
	return x, y
}

// Draw returns k indices drawn from 0…n−1 with replacement: a bootstrap
// resample when k = n.
func Draw(rng *rand.Rand, n, k int) []int {
	idx := make([]int, k)
	for i := range idx {
		idx[i] = rng.IntN(n)
	}
	return idx
}

// Rows returns a new matrix whose row r is x's row idx[r].
func Rows(x *mat.Dense, idx []int) *mat.Dense {
	_, c := x.Dims()
	out := mat.NewDense(len(idx), c, nil)
	for r, i := range idx {
		out.SetRow(r, x.RawRowView(i))
	}
	return out
}
