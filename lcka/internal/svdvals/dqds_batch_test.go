package svdvals

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/layersim/layersim/internal/testenv"
)

// dqdsAlone is bidiagonalValues without bidiagonalValuesBatch: one
// dqdsRun, one transform after another (run), the reference of
// TestDqdsBatch.
func dqdsAlone(out, d, e []float64) bool {
	var r dqdsRun
	s := r.start(out, d, e, make([]float64, dqdsWork(len(d))))
	for s == dqdsTransform {
		r.pass.run(r.pass.left())
		s = r.advance()
	}
	return s == dqdsDone
}

// TestDqdsBatch: bidiagonalValuesBatch gives each matrix of a group of 1
// to 4 exactly dqdsAlone's result, bit for bit, and the same fallbacks,
// with run8 in assembly and in Go (run8Go), on groups of pairCases: every
// one in windows of each size over a shuffled order (orders from 0 to 400
// together), and each special case (1×1, empty, zeros, the fallbacks) in
// each place of a group of four with others; d and e are left as they
// were, and work's contents do not matter.
func TestDqdsBatch(t *testing.T) {
	ds, es, names := pairCases()
	type result struct {
		ok     bool
		values []float64
	}
	alone := make([]result, len(ds))
	for k := range ds {
		v := make([]float64, len(ds[k]))
		alone[k] = result{dqdsAlone(v, ds[k], es[k]), v}
	}
	rng := rand.New(rand.NewPCG(31, 32))
	order := rng.Perm(len(ds))
	var groups [][]int
	for size := 1; size <= batchSize; size++ {
		for k := 0; k+size <= len(order); k += size {
			groups = append(groups, order[k:k+size])
		}
	}
	for s := len(ds) - 5; s < len(ds); s++ {
		for place := range batchSize {
			for range 20 {
				g := []int{rng.IntN(len(ds) - 5), rng.IntN(len(ds) - 5), rng.IntN(len(ds) - 5)}
				groups = append(groups, slices.Insert(g, place, s))
			}
		}
	}
	asm := []bool{false}
	if haveAVX512 {
		asm = append(asm, true)
	}
	defer func(h bool) { haveAVX512 = h }(haveAVX512)
	for _, a := range asm {
		haveAVX512 = a
		mixed, sizes := 0, 0
		for _, g := range groups {
			ps := make([]bidiagonal, len(g))
			n := 0
			for i, k := range g {
				ps[i] = bidiagonal{out: make([]float64, len(ds[k])), d: slices.Clone(ds[k]), e: slices.Clone(es[k])}
				n += dqdsWork(len(ds[k]))
			}
			work := make([]float64, n)
			for i := range work {
				work[i] = math.NaN()
			}
			bidiagonalValuesBatch(ps, work)
			oks, ns := 0, map[int]bool{}
			for i, k := range g {
				p := ps[i]
				if !slices.Equal(p.d, ds[k]) || !slices.Equal(p.e, es[k]) {
					t.Fatalf("%s in group %v: d or e changed", names[k], g)
				}
				want := alone[k]
				if p.ok != want.ok {
					t.Fatalf("assembly %v: %s in group %v: took it on %v, alone %v", a, names[k], g, p.ok, want.ok)
				}
				if i := firstDifference(p.out, want.values); p.ok && i >= 0 {
					t.Fatalf("assembly %v: %s in group %v: value %d %.17g, alone %.17g", a, names[k], g, i, p.out[i], want.values[i])
				}
				if p.ok {
					oks++
				}
				ns[len(p.d)] = true
			}
			if oks > 0 && oks < len(g) {
				mixed++
			}
			if len(ns) > 1 {
				sizes++
			}
		}
		t.Logf("assembly %v: %d groups: %d of different orders, %d with some fallbacks", a, len(groups), sizes, mixed)
		if mixed < 100 || sizes < len(groups)/2 {
			t.Errorf("too few groups with some fallbacks (%d) or of different orders (%d): the test no longer tests them", mixed, sizes)
		}
	}
}

// BenchmarkDqdsBatch: the bidiagonal forms of four matrices (workloads of
// one kind: its two of n×n, then its two of (n−1)×(n−1)) by
// bidiagonalValuesBatch one, two and four at a time; µs/problem is the
// time per matrix.
func BenchmarkDqdsBatch(b *testing.B) {
	for _, n := range []int{200, 399} {
		for _, kind := range []string{"orth", "gauss"} {
			var ps [4]bidiagonal
			for i := range ps {
				m := n - i/2
				a := workloads(m)[kind][i%2]
				d, e := make([]float64, m), make([]float64, m)
				bidiagonalize(slices.Clone(a.RawMatrix().Data), m, m, d, e)
				ps[i] = bidiagonal{out: make([]float64, m), d: d, e: e[:m-1]}
			}
			work := make([]float64, 4*dqdsWork(n))
			for _, size := range []int{1, 2, 4} {
				b.Run(fmt.Sprintf("%s/n=%d/%d", kind, n, size), func(b *testing.B) {
					for b.Loop() {
						for g := 0; g < len(ps); g += size {
							group := ps[g : g+size]
							bidiagonalValuesBatch(group, work)
							for _, p := range group {
								if !p.ok {
									b.Fatal("fell back")
								}
							}
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*len(ps)), "µs/problem")
				})
			}
		}
	}
}

// TestRun8: run8 (in assembly where the CPU has AVX-512) leaves four
// passes exactly as run8Go does, every result and d and smallest d bit for
// bit (a NaN's payload aside: which of two NaNs an add passes on depends
// on its operands' order, which the compiler chooses, and no NaN is ever
// kept), on random arrays sprinkled with ±0, ±Inf, NaN and subnormals,
// from random elements on, for random counts.
func TestRun8(t *testing.T) {
	if !haveAVX512 {
		// run8 is run8Go here: the comparison would be of a loop with itself.
		if testenv.CPUListsFlags("avx512f") {
			testenv.Missing(t, "/proc/cpuinfo lists AVX-512F but run8's assembly is off (build with GOEXPERIMENT=simd)")
			return
		}
		t.Skip("no AVX-512 on this CPU: run8 is run8Go")
	}
	rng := rand.New(rand.NewPCG(51, 52))
	specials := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 0x1p-1070, -0x1p-1070, 1}
	value := func() float64 {
		if rng.IntN(8) == 0 {
			return specials[rng.IntN(len(specials))]
		}
		return rng.NormFloat64() * math.Pow(2, float64(rng.IntN(40)-20))
	}
	newPasses := func(m int) [4]qdPass {
		var ps [4]qdPass
		for j := range ps {
			arr := func(n int) []float64 {
				a := make([]float64, n)
				for i := range a {
					a[i] = value()
				}
				return a
			}
			ps[j].begin(arr(m), arr(m), arr(m), arr(m), arr(m), arr(m), value(), value())
			ps[j].da, ps[j].db, ps[j].mina, ps[j].minb = value(), value(), value(), value()
		}
		return ps
	}
	for trial := range 2000 {
		m := 2 + rng.IntN(40)
		ps := newPasses(m)
		start := rng.IntN(m - 1)
		k := 1 + rng.IntN(m-1-start)
		var want [4]qdPass
		for j := range ps {
			ps[j].i = start
			want[j] = ps[j]
			want[j].qa, want[j].ea = slices.Clone(ps[j].qa), slices.Clone(ps[j].ea)
			want[j].qb, want[j].eb = slices.Clone(ps[j].qb), slices.Clone(ps[j].eb)
		}
		run8(&ps[0], &ps[1], &ps[2], &ps[3], k)
		run8Go(&want[0], &want[1], &want[2], &want[3], k)
		for j := range ps {
			p, w := ps[j], want[j]
			got := []float64{p.da, p.db, p.mina, p.minb}
			exp := []float64{w.da, w.db, w.mina, w.minb}
			if p.i != w.i || !sameFloats(got, exp) || !sameFloats(p.qa, w.qa) || !sameFloats(p.ea, w.ea) ||
				!sameFloats(p.qb, w.qb) || !sameFloats(p.eb, w.eb) {
				t.Fatalf("trial %d, pass %d (m = %d, from %d, %d elements): d, smallest d %v, run8Go %v", trial, j, m, start, k, got, exp)
			}
		}
	}
}

// sameFloats says whether x and y hold the same float64s bit for bit, or
// NaN both.
func sameFloats(x, y []float64) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if math.Float64bits(x[i]) != math.Float64bits(y[i]) && !(math.IsNaN(x[i]) && math.IsNaN(y[i])) {
			return false
		}
	}
	return true
}
