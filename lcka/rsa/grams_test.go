package rsa

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// gramsOf returns the float32 Gram matrices of the representations' rows as
// GramInput prepares them for dis.
func gramsOf(t *testing.T, reps []*mat.Dense, dis Dissimilarity) [][]float32 {
	t.Helper()
	var out [][]float32
	for _, x := range reps {
		n, d := x.Dims()
		in := make([]float32, n*d)
		for i := 0; i < n; i++ {
			for j := 0; j < d; j++ {
				in[i*d+j] = float32(x.At(i, j))
			}
		}
		if err := GramInput(in, in, n, d, dis); err != nil {
			t.Fatal(err)
		}
		g := make([]float32, n*n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				s := 0.0
				for k := 0; k < d; k++ {
					s += float64(in[i*d+k]) * float64(in[j*d+k])
				}
				g[i*n+j] = float32(s)
			}
		}
		out = append(out, g)
	}
	return out
}

// TestAllPairsFromGrams: RSA from the rows' Gram matrices equals RSA from
// the representations (AllPairs, float64 throughout) up to the float32
// rounding of the inputs and the Gram matrices, for every dissimilarity and
// comparison.
func TestAllPairsFromGrams(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const n, L = 25, 4
	var reps []*mat.Dense
	var ms []mat.Matrix
	for l := 0; l < L; l++ {
		d := 6 + 3*l
		x := mat.NewDense(n, d, nil)
		for i := 0; i < n; i++ {
			for j := 0; j < d; j++ {
				x.Set(i, j, float64(float32(rng.NormFloat64()+0.3*float64(j%4)+10)))
			}
		}
		reps, ms = append(reps, x), append(ms, x)
	}
	for _, dis := range []Dissimilarity{Cosine, Correlation, Euclidean} {
		for _, c := range []Comparison{Spearman, Pearson, KendallTauA} {
			grams := gramsOf(t, reps, dis) // AllPairsFromGrams releases them
			want, err := AllPairs(ms, dis, c)
			if err != nil {
				t.Fatal(err)
			}
			got, err := AllPairsFromGrams(grams, n, dis, c)
			if err != nil {
				t.Fatal(err)
			}
			if grams[0] != nil {
				t.Errorf("%v/%v: grams[0] kept", dis, c)
			}
			for i := 0; i < L; i++ {
				for j := 0; j < L; j++ {
					if math.Abs(got.At(i, j)-want.At(i, j)) > 1e-4 {
						t.Errorf("%v/%v (%d, %d): from Grams %.6f, from rows %.6f", dis, c, i, j, got.At(i, j), want.At(i, j))
					}
				}
			}
		}
	}
}

func TestGramInputErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		x    []float32
		n, d int
		dis  Dissimilarity
		want string
	}{
		{"constant row", []float32{1, 1, 1, 2}, 2, 2, Correlation, "constant"},
		{"NaN", []float32{1, float32(math.NaN()), 1, 2}, 2, 2, Cosine, "non-finite"},
		{"size", []float32{1, 2, 3}, 2, 2, Cosine, "values"},
		{"dissimilarity", []float32{1, 2, 3, 4}, 2, 2, Dissimilarity(9), "invalid"},
	} {
		err := GramInput(make([]float32, len(c.x)), c.x, c.n, c.d, c.dis)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
	if _, err := AllPairsFromGrams([][]float32{make([]float32, 8)}, 3, Cosine, Spearman); err == nil || !strings.Contains(err.Error(), "want 3×3") {
		t.Errorf("wrong Gram size: %v", err)
	}
}
