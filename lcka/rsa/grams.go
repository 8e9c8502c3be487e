package rsa

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// GramInput writes to dst the rows of x (n×d, row-major) as dissimilarity
// dis needs them in a Gram matrix for AllPairsFromGrams: as they are for
// Cosine, each row centred across its features for Correlation, each column
// centred for Euclidean (which leaves the distances unchanged and keeps
// G_ii + G_jj − 2G_ij from cancelling when the rows share a large offset).
// Means are taken in float64. dst and x may be the same slice. A constant
// row is an error for Correlation, as in RDM.
func GramInput(dst, x []float32, n, d int, dis Dissimilarity) error {
	if !dis.valid() {
		return fmt.Errorf("rsa: invalid dissimilarity %v", dis)
	}
	if n < 1 || d < 1 || len(x) != n*d || len(dst) != n*d {
		return fmt.Errorf("rsa: GramInput: %d values for %d×%d rows (dst %d)", len(x), n, d, len(dst))
	}
	finite := func(v float32) bool { return v-v == 0 } // false for NaN and ±Inf
	switch dis {
	case Cosine:
		for _, v := range x {
			if !finite(v) {
				return fmt.Errorf("rsa: non-finite value %v", v)
			}
		}
		copy(dst, x)
	case Correlation:
		for i := 0; i < n; i++ {
			row := x[i*d : (i+1)*d]
			constant := true
			var mean float64
			for _, v := range row {
				if !finite(v) {
					return fmt.Errorf("rsa: non-finite value %v", v)
				}
				constant = constant && v == row[0]
				mean += float64(v)
			}
			if constant {
				return fmt.Errorf("rsa: row %d is constant; its correlation dissimilarity is undefined", i)
			}
			mean /= float64(d)
			out := dst[i*d : (i+1)*d]
			for j, v := range row {
				out[j] = float32(float64(v) - mean)
			}
		}
	case Euclidean:
		mean := make([]float64, d)
		for i := 0; i < n; i++ {
			for j, v := range x[i*d : (i+1)*d] {
				if !finite(v) {
					return fmt.Errorf("rsa: non-finite value %v", v)
				}
				mean[j] += float64(v)
			}
		}
		for i := 0; i < n; i++ {
			out := dst[i*d : (i+1)*d]
			for j, v := range x[i*d : (i+1)*d] {
				out[j] = float32(float64(v) - mean[j]/float64(n))
			}
		}
	}
	return nil
}

// AllPairsFromGrams is AllPairs for callers that hold the Gram matrices of
// the representations' rows already: grams[l] is G = X̃X̃ᵀ (n×n, row-major),
// with X̃ the rows of representation l as GramInput prepares them for dis.
// The RDMs follow from G alone: 1 − G_ij/√(G_ii·G_jj) for Cosine and
// Correlation, G_ii + G_jj − 2G_ij for Euclidean. The result equals AllPairs
// on the representations up to the rounding of the Gram matrices. It sets
// grams[l] to nil once RDM l is prepared, so that the Gram matrices and the
// prepared RDMs (as large) need not be held at once.
func AllPairsFromGrams(grams [][]float32, n int, dis Dissimilarity, c Comparison) (*mat.SymDense, error) {
	if err := checkMethod(dis, c); err != nil {
		return nil, err
	}
	if len(grams) == 0 {
		return nil, fmt.Errorf("rsa: no Gram matrices")
	}
	if err := checkSamples("grams[0]", n); err != nil {
		return nil, err
	}
	for l, g := range grams {
		if len(g) != n*n {
			return nil, fmt.Errorf("rsa: grams[%d] has %d values, want %d×%d", l, len(g), n, n)
		}
	}
	return allPairsPrepared(len(grams), n, c, func(l int, dst []float64) (*prepared, error) {
		name := fmt.Sprintf("grams[%d]", l)
		g := grams[l]
		v, err := upperFromGram(name, func(i, j int) float64 { return float64(g[i*n+j]) }, n, dis)
		grams[l] = nil
		if err != nil {
			return nil, err
		}
		return prepare(name, v, c, dst)
	})
}
