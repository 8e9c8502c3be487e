package svdvals

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestValuesBatch: ValuesBatch is Values on each matrix, bit for bit, on
// groups of 1 to 4 (and on all at once: groups of four in turn) of dense
// random matrices of 200×200, 199×208 (wide: transposed), 208×199,
// 399×399, 399×399 graded, one whose reduction keeps a zero (dqds falls
// back), 1×1 and zeros, and upper bidiagonal ones from pairCases (60 of
// orders up to 400, those that fall back on the way), in a shuffled order,
// and on each special one in each place of a group of four.
func TestValuesBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	cases, names := denseCases(rng)
	special := len(cases)
	ds, es, bnames := pairCases()
	for k := range ds {
		if len(ds[k]) > 0 && k >= 2340 {
			cases, names = append(cases, bidiagonalDense(ds[k], es[k])), append(names, bnames[k])
		}
	}
	alone, fellBack := valuesAlone(t, cases, names)
	order := rng.Perm(len(cases))
	groups := [][]int{order}
	for size := 1; size <= batchSize; size++ {
		for k := 0; k+size <= len(order); k += size {
			groups = append(groups, order[k:k+size])
		}
	}
	for s := range special {
		for place := range batchSize {
			g := []int{rng.IntN(len(cases)), rng.IntN(len(cases)), rng.IntN(len(cases))}
			groups = append(groups, slices.Insert(g, place, s))
		}
	}
	mixed := 0
	for _, g := range groups {
		mats := make([]Matrix, len(g))
		fell := 0
		for i, k := range g {
			m, n := cases[k].Dims()
			mats[i] = Matrix{slices.Clone(cases[k].RawMatrix().Data), m, n}
			if fellBack[k] {
				fell++
			}
		}
		if fell > 0 && fell < len(g) {
			mixed++
		}
		vals, err := ValuesBatch(mats)
		if err != nil {
			t.Fatalf("group %v: %v", g, err)
		}
		if len(vals) != len(g) {
			t.Fatalf("group %v: %d results", g, len(vals))
		}
		for i, k := range g {
			if !bitwiseEqual(vals[i], alone[k]) {
				t.Fatalf("%s, place %d of group %v: not Values' values", names[k], i, g)
			}
		}
	}
	t.Logf("%d groups, %d with some matrices that fall back and some that do not", len(groups), mixed)
	if mixed < 30 {
		t.Errorf("%d groups with mixed fallbacks: the test no longer tests them", mixed)
	}
	if vals, err := ValuesBatch(nil); err != nil || len(vals) != 0 {
		t.Errorf("no matrices: %v, %v", vals, err)
	}
}

// TestValuesBatchBadInput: each of Values' errors, from any matrix of a
// batch (the sixth in the second group of four too), is a *MatrixError
// that names it.
func TestValuesBatchBadInput(t *testing.T) {
	good := func() Matrix { return Matrix{[]float64{1, 2, 3, 4}, 2, 2} }
	for _, c := range []struct {
		bad   Matrix
		place int
		want  string
	}{
		{Matrix{nil, 0, 0}, 0, "svdvals: matrix 0: 0 values for a 0×0 matrix"},
		{Matrix{[]float64{1, 2, 3}, 2, 2}, 2, "svdvals: matrix 2: 3 values for a 2×2 matrix"},
		{Matrix{[]float64{math.NaN()}, 1, 1}, 3, "svdvals: matrix 3: the matrix holds NaN or ±Inf"},
		{Matrix{[]float64{1, math.Inf(-1)}, 1, 2}, 5, "svdvals: matrix 5: the matrix holds NaN or ±Inf"},
		{Matrix{[]float64{1, 2}, 1, -2}, 1, "svdvals: matrix 1: 2 values for a 1×-2 matrix"},
	} {
		mats := []Matrix{good(), good(), good(), good(), good(), good(), good()}
		mats[c.place] = c.bad
		vals, err := ValuesBatch(mats)
		var me *MatrixError
		if err == nil || err.Error() != c.want || !errors.As(err, &me) || me.Index != c.place || vals != nil {
			t.Errorf("%v (%d×%d) in place %d: %v, error %v, want %q", c.bad.A, c.bad.M, c.bad.N, c.place, vals, err, c.want)
		}
	}
}

// BenchmarkValuesBatch: four n×n matrices of one of workloads' kinds (its
// two of n×n, then its two of (n−1)×(n−1)), by ValuesPair two at a time
// ("pairs") and by ValuesBatch all four ("batch"); µs/problem is the time
// per matrix.
func BenchmarkValuesBatch(b *testing.B) {
	for _, n := range []int{200, 399} {
		for _, kind := range []string{"orth", "gauss"} {
			var src, bufs [4][]float64
			var ms [4]int
			for i := range src {
				ms[i] = n - i/2
				src[i] = workloads(ms[i])[kind][i%2].RawMatrix().Data
				bufs[i] = make([]float64, len(src[i]))
			}
			fill := func() {
				for i := range bufs {
					copy(bufs[i], src[i])
				}
			}
			perProblem := func(b *testing.B) {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(4*b.N), "µs/problem")
			}
			b.Run(fmt.Sprintf("%s/n=%d/pairs", kind, n), func(b *testing.B) {
				for b.Loop() {
					fill()
					for g := 0; g < 4; g += 2 {
						if _, _, err := ValuesPair(bufs[g], ms[g], ms[g], bufs[g+1], ms[g+1], ms[g+1]); err != nil {
							b.Fatal(err)
						}
					}
				}
				perProblem(b)
			})
			b.Run(fmt.Sprintf("%s/n=%d/batch", kind, n), func(b *testing.B) {
				for b.Loop() {
					fill()
					mats := make([]Matrix, 4)
					for i := range mats {
						mats[i] = Matrix{bufs[i], ms[i], ms[i]}
					}
					if _, err := ValuesBatch(mats); err != nil {
						b.Fatal(err)
					}
				}
				perProblem(b)
			})
		}
	}
}

// ExampleValuesBatch finds the singular values of three matrices in one
// call, each as Values would.
func ExampleValuesBatch() {
	vals, err := ValuesBatch([]Matrix{
		{A: []float64{3, 0, 0, 0, 4, 0}, M: 2, N: 3},
		{A: []float64{0, 2, 1, 0}, M: 2, N: 2},
		{A: []float64{-5}, M: 1, N: 1},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(vals)
	// Output: [[4 3] [2 1] [5]]
}
