package svdvals

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// pairCases returns the bidiagonal matrices (d, e) that the pair tests
// combine: TestDqds' 2000, 400 more of its kinds of orders 1 to 400, and
// special ones: 1×1, empty, all zero, a zero on the diagonal (the
// fallback from the start), and one whose smallest value, about 2⁻¹²⁰⁰ of
// the largest, sends dqds to the fallback after some transforms.
func pairCases() (ds, es [][]float64, names []string) {
	ds, es = bidiagonals(rand.New(rand.NewPCG(1, 2)), 2000)
	d4, e4 := bidiagonalsUpTo(rand.New(rand.NewPCG(4, 5)), 400, 400)
	ds, es = append(ds, d4...), append(es, e4...)
	for k := range ds {
		names = append(names, fmt.Sprintf("matrix %d (n = %d, kind %d)", k, len(ds[k]), k%6))
	}
	tiny := make([]float64, 12)
	for i := range tiny {
		tiny[i] = 0x1p-100
	}
	for _, c := range []struct {
		name string
		d, e []float64
	}{
		{"1×1", []float64{-3}, nil},
		{"empty", nil, nil},
		{"zeros", make([]float64, 5), make([]float64, 4)},
		{"zero on the diagonal", []float64{1, 0, 2, 3}, []float64{1, 1, 1}},
		{"tiny value", tiny, []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
	} {
		ds, es, names = append(ds, c.d), append(es, c.e), append(names, c.name)
	}
	return ds, es, names
}

// TestDqdsPair: bidiagonalValuesPair gives each matrix of a pair exactly
// bidiagonalValues' result, bit for bit, and the same fallbacks, on every
// pair of consecutive pairCases (each matrix first in one pair, second in
// another: orders from 0 to 400, alike and not), and on each special case
// paired with every tenth of the others; d and e are left as they were,
// and work's contents do not matter.
func TestDqdsPair(t *testing.T) {
	ds, es, names := pairCases()
	// The tiny case starts dqds and falls back on the way.
	var r dqdsRun
	tiny := len(ds) - 1
	n := len(ds[tiny])
	if r.start(make([]float64, n), ds[tiny], es[tiny], make([]float64, dqdsWork(n))) != dqdsTransform ||
		bidiagonalValues(make([]float64, n), ds[tiny], es[tiny], make([]float64, dqdsWork(n))) {
		t.Fatalf("%s: not a fallback on the way", names[tiny])
	}
	type result struct {
		ok     bool
		values []float64
	}
	alone := make([]result, len(ds))
	for k := range ds {
		n := len(ds[k])
		v := make([]float64, n)
		alone[k] = result{bidiagonalValues(v, ds[k], es[k], make([]float64, dqdsWork(n))), v}
	}
	var pairs [][2]int
	for k := range len(ds) - 1 {
		pairs = append(pairs, [2]int{k, k + 1})
	}
	for s := len(ds) - 5; s < len(ds); s++ {
		for k := 0; k < len(ds); k += 10 {
			pairs = append(pairs, [2]int{s, k}, [2]int{k, s})
		}
	}
	oneFallback, sizes := 0, 0
	for _, p := range pairs {
		a, b := p[0], p[1]
		na, nb := len(ds[a]), len(ds[b])
		da, ea, db, eb := slices.Clone(ds[a]), slices.Clone(es[a]), slices.Clone(ds[b]), slices.Clone(es[b])
		outA, outB := make([]float64, na), make([]float64, nb)
		work := make([]float64, dqdsWork(na)+dqdsWork(nb))
		for i := range work {
			work[i] = math.NaN()
		}
		okA, okB := bidiagonalValuesPair(outA, da, ea, outB, db, eb, work)
		if !slices.Equal(da, ds[a]) || !slices.Equal(ea, es[a]) || !slices.Equal(db, ds[b]) || !slices.Equal(eb, es[b]) {
			t.Fatalf("%s with %s: d or e changed", names[a], names[b])
		}
		for _, c := range []struct {
			name string
			ok   bool
			out  []float64
			want result
		}{{names[a], okA, outA, alone[a]}, {names[b], okB, outB, alone[b]}} {
			if c.ok != c.want.ok {
				t.Fatalf("%s, paired with %s / %s: took it on %v, alone %v", c.name, names[a], names[b], c.ok, c.want.ok)
			}
			if i := firstDifference(c.out, c.want.values); c.ok && i >= 0 {
				t.Fatalf("%s, paired with %s / %s: value %d %.17g, alone %.17g", c.name, names[a], names[b], i, c.out[i], c.want.values[i])
			}
		}
		if okA != okB {
			oneFallback++
		}
		if na != nb {
			sizes++
		}
	}
	t.Logf("%d pairs: %d of different orders, %d with one fallback", len(pairs), sizes, oneFallback)
	if oneFallback < 100 || sizes < len(pairs)/2 {
		t.Errorf("too few pairs with one fallback (%d) or of different orders (%d): the test no longer tests them", oneFallback, sizes)
	}
}

// bitwiseEqual says whether x and y hold the same float64s, bit for bit.
func bitwiseEqual(x, y []float64) bool {
	return len(x) == len(y) && firstDifference(x, y) < 0
}

// firstDifference returns the first index at which x and y (as long as x)
// differ in any bit, or −1.
func firstDifference(x, y []float64) int {
	for i := range x {
		if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
			return i
		}
	}
	return -1
}

// orthonormal returns the first n columns of a random orthogonal N×N
// matrix (Q of the QR factorization of a Gaussian one).
func orthonormal(rng *rand.Rand, bigN, n int) *mat.Dense {
	var qr mat.QR
	qr.Factorize(random(rng, bigN, n, func(int) float64 { return 1 }))
	var q mat.Dense
	qr.QTo(&q)
	return mat.DenseCopyOf(q.Slice(0, bigN, 0, n))
}

// workloads returns two n×n matrices of each kind that the benchmarks
// use: products QaᵀQb of random orthonormal bases of n directions in
// 2n dimensions (the cosines of the principal angles between two
// subspaces, as in SVCCA: values in [0, 1]), and Gaussian matrices.
func workloads(n int) map[string][2]*mat.Dense {
	rng := rand.New(rand.NewPCG(11, uint64(n)))
	w := map[string][2]*mat.Dense{}
	var p [2]*mat.Dense
	for i := range p {
		var c mat.Dense
		c.Mul(orthonormal(rng, 2*n, n).T(), orthonormal(rng, 2*n, n))
		p[i] = &c
	}
	w["orth"] = p
	one := func(int) float64 { return 1 }
	w["gauss"] = [2]*mat.Dense{random(rng, n, n, one), random(rng, n, n, one)}
	return w
}

// BenchmarkDqdsPair: the bidiagonal forms of two n×n matrices (workloads),
// by bidiagonalValues one after the other ("two") and by
// bidiagonalValuesPair ("pair"), and the first alone ("one"); µs/problem
// is the time per matrix.
func BenchmarkDqdsPair(b *testing.B) {
	for _, n := range []int{200, 399} {
		for _, kind := range []string{"orth", "gauss"} {
			var d, e [2][]float64
			for i, a := range workloads(n)[kind] {
				d[i], e[i] = make([]float64, n), make([]float64, n)
				bidiagonalize(slices.Clone(a.RawMatrix().Data), n, n, d[i], e[i])
				e[i] = e[i][:n-1]
			}
			out := [2][]float64{make([]float64, n), make([]float64, n)}
			work := make([]float64, 2*dqdsWork(n))
			perProblem := func(b *testing.B, problems int) {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*problems), "µs/problem")
			}
			b.Run(fmt.Sprintf("%s/n=%d/one", kind, n), func(b *testing.B) {
				for b.Loop() {
					if !bidiagonalValues(out[0], d[0], e[0], work) {
						b.Fatal("fell back")
					}
				}
				perProblem(b, 1)
			})
			b.Run(fmt.Sprintf("%s/n=%d/two", kind, n), func(b *testing.B) {
				for b.Loop() {
					if !bidiagonalValues(out[0], d[0], e[0], work) || !bidiagonalValues(out[1], d[1], e[1], work) {
						b.Fatal("fell back")
					}
				}
				perProblem(b, 2)
			})
			b.Run(fmt.Sprintf("%s/n=%d/pair", kind, n), func(b *testing.B) {
				for b.Loop() {
					if okA, okB := bidiagonalValuesPair(out[0], d[0], e[0], out[1], d[1], e[1], work); !okA || !okB {
						b.Fatal("fell back")
					}
				}
				perProblem(b, 2)
			})
		}
	}
}
