package study

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/cka"
)

// bootstrapMeanByGather is the direct form of bootstrapMean: it forms the
// resampled Gram matrices and double-centers them.
func bootstrapMeanByGather(ka, kb [][]float64, idx []int, n int) float64 {
	a := make([]float64, n*n)
	b := make([]float64, n*n)
	total := 0.0
	for k := range ka {
		gather(ka[k], idx, n, a)
		gather(kb[k], idx, n, b)
		var ab, aa, bbv float64
		for i, v := range a {
			ab += v * b[i]
			aa += v * v
			bbv += b[i] * b[i]
		}
		total += ab / math.Sqrt(aa*bbv)
	}
	return total / float64(len(ka))
}

// gather writes the double-centered k[idx, idx] into out.
func gather(k []float64, idx []int, n int, out []float64) {
	rowMean := make([]float64, n)
	grand := 0.0
	for i, ii := range idx {
		row := k[ii*n : (ii+1)*n]
		o := out[i*n : (i+1)*n]
		s := 0.0
		for j, jj := range idx {
			o[j] = row[jj]
			s += row[jj]
		}
		rowMean[i] = s / float64(n)
		grand += s
	}
	grand /= float64(n * n)
	for i := 0; i < n; i++ {
		o := out[i*n : (i+1)*n]
		for j := range o {
			o[j] += grand - rowMean[i] - rowMean[j]
		}
	}
}

// TestBootstrapMeanMatchesGather: the multiplicity form equals forming and
// double-centering the resampled Gram matrices.
func TestBootstrapMeanMatchesGather(t *testing.T) {
	const n, L = 37, 3
	rng := rand.New(rand.NewPCG(4, 5))
	gram := func() []float64 {
		x := mat.NewDense(n, 6, nil)
		for i := 0; i < n; i++ {
			for j := 0; j < 6; j++ {
				x.Set(i, j, rng.NormFloat64())
			}
		}
		g, err := cka.CenteredGram(x, true)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]float64, n*n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				out[i*n+j] = g.At(i, j)
			}
		}
		return out
	}
	var ka, kb [][]float64
	for k := 0; k < L; k++ {
		ka, kb = append(ka, gram()), append(kb, gram())
	}
	for r := 0; r < 20; r++ {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		got, want := bootstrapMean(ka, kb, idx, n), bootstrapMeanByGather(ka, kb, idx, n)
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("resample %d: %.15f, by gathering %.15f", r, got, want)
		}
	}
}

// BenchmarkBootstrapMean: one bootstrap resample of n = 2000 prompts over 2
// layers, by multiplicities and by gathering (docs/benchmarks.md).
func BenchmarkBootstrapMean(b *testing.B) {
	const n, L = 2000, 2
	rng := rand.New(rand.NewPCG(6, 7))
	var ka, kb [][]float64
	for k := 0; k < L; k++ {
		x, y := make([]float64, n*n), make([]float64, n*n)
		for i := range x {
			x[i], y[i] = rng.NormFloat64(), rng.NormFloat64()
		}
		ka, kb = append(ka, x), append(kb, y)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = rng.IntN(n)
	}
	b.Run("multiplicities", func(b *testing.B) {
		for b.Loop() {
			bootstrapMean(ka, kb, idx, n)
		}
	})
	b.Run("gather", func(b *testing.B) {
		for b.Loop() {
			bootstrapMeanByGather(ka, kb, idx, n)
		}
	})
}
