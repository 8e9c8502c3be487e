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
