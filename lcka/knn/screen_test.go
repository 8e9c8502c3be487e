package knn

import (
	"github.com/layersim/layersim/lcka/internal/grampanel/grampaneltest"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// nearTies returns rows a + ε·bⱼ (similarities that differ by far less than
// float32 resolves) with some rows repeated (exact ties).
func nearTies(rng *rand.Rand, n, d int, eps float64) *mat.Dense {
	a := make([]float64, d)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	x := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		row := x.RawRowView(i)
		if i%7 == 3 { // a copy of the row before
			copy(row, x.RawRowView(i-1))
			continue
		}
		for j := range row {
			row[j] = a[j] + eps*rng.NormFloat64()
		}
	}
	return x
}

// bruteForce returns the k nearest neighbours of every row in float64 from
// plain loops: descending similarity, ties to the lower index.
func bruteForce(x *mat.Dense, k int, s Similarity) [][]int32 {
	n, _ := x.Dims()
	sim := func(i, j int) float64 {
		a, b := x.RawRowView(i), x.RawRowView(j)
		var ab, aa, bb float64
		for t := range a {
			ab += a[t] * b[t]
			aa += a[t] * a[t]
			bb += b[t] * b[t]
		}
		if s == Cosine {
			return ab / math.Sqrt(aa*bb)
		}
		return ab
	}
	out := make([][]int32, n)
	for i := 0; i < n; i++ {
		var js []int32
		for j := 0; j < n; j++ {
			if j != i {
				js = append(js, int32(j))
			}
		}
		v := make([]float64, n)
		for _, j := range js {
			v[j] = sim(i, int(j))
		}
		slices.SortStableFunc(js, func(p, q int32) int {
			switch {
			case v[p] > v[q]:
				return -1
			case v[p] < v[q]:
				return 1
			}
			return 0
		})
		out[i] = slices.Sorted(slices.Values(js[:k]))
	}
	return out
}

// TestScreenNearTies checks that the neighbours found through the float32
// Gram matrix are the float64 ones on inputs where float32 alone ranks
// differently, and that exact ties go to the lower index.
func TestScreenNearTies(t *testing.T) { grampaneltest.Both(t, testScreenNearTies) }

func testScreenNearTies(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 2))
	for _, c := range []struct {
		n, d, k int
		s       Similarity
		eps     float64
	}{
		// Under Cosine the first-order differences normalise away and
		// the similarities differ by about ε².
		{60, 300, 5, Cosine, 1e-5},
		{60, 300, 5, Inner, 1e-7},
		{90, 700, 10, Cosine, 3e-5},
		{90, 700, 1, Inner, 1e-6},
		{40, 50, 39, Cosine, 1e-5},
	} {
		x := nearTies(rng, c.n, c.d, c.eps)
		want := bruteForce(x, c.k, c.s)
		nb, err := Find(x, c.k, c.s)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if !slices.Equal(nb.Of(i), want[i]) {
				t.Errorf("n=%d d=%d k=%d %v row %d: neighbours %v, float64 %v", c.n, c.d, c.k, c.s, i, nb.Of(i), want[i])
			}
		}
		// The inputs must be ones where float32 ranks differently.
		if c.k < c.n-1 {
			factor := make([]float64, c.n)
			for i := range factor {
				var err error
				if _, _, factor[i], err = rowScale("x", i, x.RawRowView(i), Cosine); err != nil {
					t.Fatal(err)
				}
			}
			if c.s == Inner {
				var err error
				if factor, _, err = scaling("x", x); err != nil {
					t.Fatal(err)
				}
			}
			g, err := gram32(c.n, c.d, func(dst []float32, r0, r1 int) { toFloat32(dst, x, factor, r0, r1) })
			if err != nil {
				t.Fatal(err)
			}
			differ := 0
			for i := range want {
				var top []int32
				var vals []float64
				for j, v := range g[i*c.n : (i+1)*c.n] {
					if j != i {
						insert(&top, &vals, c.k, int32(j), float64(v))
					}
				}
				if !slices.Equal(slices.Sorted(slices.Values(top)), want[i]) {
					differ++
				}
			}
			if differ == 0 {
				t.Errorf("n=%d d=%d k=%d %v: float32 alone finds the float64 neighbours; the case tests nothing", c.n, c.d, c.k, c.s)
			}
		}
	}
}

// TestInnerScaling checks that Inner neighbours do not depend on the
// magnitude of the values (float32 would overflow at 1e200, underflow at
// 1e-200 without the power-of-two scaling).
func TestInnerScaling(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 3))
	x := nearTies(rng, 30, 40, 1e-3)
	want := bruteForce(x, 4, Inner)
	for _, c := range []float64{1e200, 1e-200} {
		var y mat.Dense
		y.Scale(c, x)
		nb, err := Find(&y, 4, Inner)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if !slices.Equal(nb.Of(i), want[i]) {
				t.Errorf("scale %g row %d: neighbours %v, want %v", c, i, nb.Of(i), want[i])
			}
		}
	}
}

// TestAllPairsNearTies checks AllPairs, whose mutual k-NN skips the float64
// values where float32 already decides the neighbours, against MutualKNN and
// the float64 brute force on near-tied inputs.
func TestAllPairsNearTies(t *testing.T) { grampaneltest.Both(t, testAllPairsNearTies) }

func testAllPairsNearTies(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 5))
	const n, d, k = 50, 200, 6
	var reps []mat.Matrix
	for l := 0; l < 4; l++ {
		reps = append(reps, nearTies(rng, n, d, 1e-5))
	}
	reps = append(reps, nearTies(rng, n, d, 0.3)) // no near-ties
	got, err := AllPairs(reps, k, Cosine, Mutual)
	if err != nil {
		t.Fatal(err)
	}
	for a := range reps {
		wa := bruteForce(reps[a].(*mat.Dense), k, Cosine)
		for b := range reps {
			wb := bruteForce(reps[b].(*mat.Dense), k, Cosine)
			common := 0
			for i := range wa {
				for _, j := range wa[i] {
					if slices.Contains(wb[i], j) {
						common++
					}
				}
			}
			want := float64(common) / float64(n*k)
			one, err := MutualKNN(reps[a], reps[b], k, Cosine)
			if err != nil {
				t.Fatal(err)
			}
			if got.At(a, b) != want || one != want {
				t.Errorf("layers %d, %d: AllPairs %g, MutualKNN %g, float64 brute force %g", a, b, got.At(a, b), one, want)
			}
		}
	}
}
