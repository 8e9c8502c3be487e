package svdvals

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestValuesPair: ValuesPair(a, b) is (Values(a), Values(b)) bit for bit,
// on pairs of consecutive pairCases as dense upper bidiagonal matrices
// (those of TestDqds, the first 60 of orders up to 400, the special ones;
// the 5×5 zeros is the zero matrix) and on pairs of dense random ones of
// 200×200, 199×208 (wide: transposed), 208×199, 399×399, a matrix whose
// reduction keeps a zero (TestValuesFallback's), 1×1 and zeros, each with
// each. Among the pairs some have one matrix that dqds leaves to the
// fallback and one that it does not.
func TestValuesPair(t *testing.T) {
	ds, es, names := pairCases()
	var cases []*mat.Dense
	var caseNames []string
	for k := range ds {
		if len(ds[k]) > 0 && (k < 2060 || k >= 2400) {
			cases, caseNames = append(cases, bidiagonalDense(ds[k], es[k])), append(caseNames, names[k])
		}
	}
	var pairs [][2]int
	for k := range len(cases) - 1 {
		pairs = append(pairs, [2]int{k, k + 1})
	}
	first := len(cases)
	dc, dn := denseCases(rand.New(rand.NewPCG(21, 22)))
	cases, caseNames = append(cases, dc...), append(caseNames, dn...)
	for i := first; i < len(cases); i++ {
		for j := first; j < len(cases); j++ {
			pairs = append(pairs, [2]int{i, j})
		}
	}
	alone, fellBack := valuesAlone(t, cases, caseNames)
	oneFallback := 0
	for _, p := range pairs {
		a, b := cases[p[0]], cases[p[1]]
		ma, na := a.Dims()
		mb, nb := b.Dims()
		va, vb, err := ValuesPair(slices.Clone(a.RawMatrix().Data), ma, na, slices.Clone(b.RawMatrix().Data), mb, nb)
		if err != nil {
			t.Fatalf("%s with %s: %v", caseNames[p[0]], caseNames[p[1]], err)
		}
		if !bitwiseEqual(va, alone[p[0]]) || !bitwiseEqual(vb, alone[p[1]]) {
			t.Fatalf("%s with %s: not Values' values", caseNames[p[0]], caseNames[p[1]])
		}
		if fellBack[p[0]] != fellBack[p[1]] {
			oneFallback++
		}
	}
	t.Logf("%d pairs, %d with one fallback", len(pairs), oneFallback)
	if oneFallback < 50 {
		t.Errorf("%d pairs with one fallback: the test no longer tests them", oneFallback)
	}
}

// TestValuesPairBadInput: each of Values' errors, from either matrix,
// names that matrix once.
func TestValuesPairBadInput(t *testing.T) {
	good := func() []float64 { return []float64{1, 2, 3, 4} }
	for _, c := range []struct {
		a      []float64
		ma, na int
		b      []float64
		mb, nb int
		want   string
	}{
		{nil, 0, 0, good(), 2, 2, "svdvals: the first matrix: 0 values for a 0×0 matrix"},
		{[]float64{1, 2, 3}, 2, 2, good(), 2, 2, "svdvals: the first matrix: 3 values for a 2×2 matrix"},
		{[]float64{math.NaN()}, 1, 1, good(), 2, 2, "svdvals: the first matrix: the matrix holds NaN or ±Inf"},
		{good(), 2, 2, []float64{1, 2}, 2, 2, "svdvals: the second matrix: 2 values for a 2×2 matrix"},
		{good(), 2, 2, []float64{1, math.Inf(-1)}, 1, 2, "svdvals: the second matrix: the matrix holds NaN or ±Inf"},
	} {
		_, _, err := ValuesPair(c.a, c.ma, c.na, c.b, c.mb, c.nb)
		if err == nil || err.Error() != c.want {
			t.Errorf("%v (%d×%d), %v (%d×%d): error %v, want %q", c.a, c.ma, c.na, c.b, c.mb, c.nb, err, c.want)
		}
	}
}

// BenchmarkValuesPair: two n×n matrices of each of workloads' kinds by
// Values one after the other ("two") and by ValuesPair ("pair").
func BenchmarkValuesPair(b *testing.B) {
	for _, n := range []int{200, 399} {
		for _, kind := range []string{"orth", "gauss"} {
			w := workloads(n)[kind]
			bufA, bufB := make([]float64, n*n), make([]float64, n*n)
			perProblem := func(b *testing.B) {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(2*b.N), "µs/problem")
			}
			b.Run(fmt.Sprintf("%s/n=%d/two", kind, n), func(b *testing.B) {
				for b.Loop() {
					copy(bufA, w[0].RawMatrix().Data)
					copy(bufB, w[1].RawMatrix().Data)
					if _, err := Values(bufA, n, n); err != nil {
						b.Fatal(err)
					}
					if _, err := Values(bufB, n, n); err != nil {
						b.Fatal(err)
					}
				}
				perProblem(b)
			})
			b.Run(fmt.Sprintf("%s/n=%d/pair", kind, n), func(b *testing.B) {
				for b.Loop() {
					copy(bufA, w[0].RawMatrix().Data)
					copy(bufB, w[1].RawMatrix().Data)
					if _, _, err := ValuesPair(bufA, n, n, bufB, n, n); err != nil {
						b.Fatal(err)
					}
				}
				perProblem(b)
			})
		}
	}
}

// ExampleValuesPair finds the singular values of a 2×3 and a 2×2 matrix in
// one call, each as Values would.
func ExampleValuesPair() {
	a := []float64{
		3, 0, 0,
		0, 4, 0,
	}
	b := []float64{
		0, 2,
		1, 0,
	}
	va, vb, err := ValuesPair(a, 2, 3, b, 2, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(va, vb)
	// Output: [4 3] [2 1]
}

// denseCases returns dense matrices for the batch tests, with their names:
// random ones of 200×200, 199×208 (wide: transposed), 208×199, 399×399 and
// 399×399 graded, one whose reduction keeps a zero (dqds falls back), 1×1
// and zeros.
func denseCases(rng *rand.Rand) (cases []*mat.Dense, names []string) {
	one := func(int) float64 { return 1 }
	fallback := mat.NewDense(20, 20, nil)
	for i := range 20 {
		fallback.Set(i, i, rng.NormFloat64())
		if i < 19 && i != 7 {
			fallback.Set(i, i+1, rng.NormFloat64())
		}
	}
	for _, c := range []struct {
		name string
		a    *mat.Dense
	}{
		{"200×200", random(rng, 200, 200, one)},
		{"199×208", random(rng, 199, 208, one)},
		{"208×199", random(rng, 208, 199, one)},
		{"399×399", random(rng, 399, 399, one)},
		{"399×399 graded", random(rng, 399, 399, func(j int) float64 { return math.Pow(10, -float64(j)/40) })},
		{"a zero kept", fallback},
		{"1×1", mat.NewDense(1, 1, []float64{-2})},
		{"zeros", mat.NewDense(3, 7, nil)},
	} {
		cases, names = append(cases, c.a), append(names, c.name)
	}
	return cases, names
}

// valuesAlone returns Values of each case, and whether its dqds falls back
// to Dlasq1, for the batch tests to compare with.
func valuesAlone(t *testing.T, cases []*mat.Dense, names []string) (alone [][]float64, fellBack []bool) {
	t.Helper()
	alone = make([][]float64, len(cases))
	fellBack = make([]bool, len(cases))
	for k, a := range cases {
		m, n := a.Dims()
		v, err := Values(slices.Clone(a.RawMatrix().Data), m, n)
		if err != nil {
			t.Fatalf("%s: %v", names[k], err)
		}
		alone[k] = v
		d, e, _, _ := reduce(slices.Clone(a.RawMatrix().Data), m, n)
		fellBack[k] = e != nil && !bidiagonalValues(make([]float64, len(d)), d, e, make([]float64, dqdsWork(len(d))))
	}
	return alone, fellBack
}

// bidiagonalDense returns the upper bidiagonal matrix with diagonal d and
// superdiagonal e[:len(d)−1] as a dense one.
func bidiagonalDense(d, e []float64) *mat.Dense {
	n := len(d)
	a := mat.NewDense(n, n, nil)
	for i := range n {
		a.Set(i, i, d[i])
		if i < n-1 {
			a.Set(i, i+1, e[i])
		}
	}
	return a
}
