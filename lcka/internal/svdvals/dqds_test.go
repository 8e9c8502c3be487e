package svdvals

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/mat"
)

// bidiagonals returns upper bidiagonal matrices (d, e) of six kinds: random,
// entries spread over eight decades, graded by powers of two, a cluster
// near 1 with small couplings, all ones, and entries of 2^(±10k) mixed;
// one in seven is scaled by 10^±91 or 10^±144, towards float64's ends.
func bidiagonals(rng *rand.Rand, count int) (ds, es [][]float64) {
	return bidiagonalsUpTo(rng, count, 60)
}

// bidiagonalsUpTo is bidiagonals with orders 1 to maxN, one in ten 200.
func bidiagonalsUpTo(rng *rand.Rand, count, maxN int) (ds, es [][]float64) {
	for trial := range count {
		n := 1 + rng.IntN(maxN)
		if trial%10 == 0 {
			n = 200
		}
		d, e := make([]float64, n), make([]float64, n-1)
		for i := range d {
			var di, ei float64
			switch trial % 6 {
			case 0:
				di, ei = rng.Float64(), rng.Float64()
			case 1:
				di, ei = math.Pow(10, -8*rng.Float64()), math.Pow(10, -8*rng.Float64())
			case 2:
				di, ei = math.Pow(2, -float64(i)), math.Pow(2, -float64(i))*rng.Float64()
			case 3:
				di, ei = 1+1e-9*rng.Float64(), 1e-3*rng.Float64()
			case 4:
				di, ei = 1, 1
			case 5:
				di, ei = math.Pow(2, float64(i%7)*10), math.Pow(2, -float64(i%5)*10)
			}
			if rng.IntN(2) == 0 {
				di = -di
			}
			d[i] = di
			if i < n-1 {
				e[i] = ei
			}
		}
		if trial%7 == 3 {
			f := []float64{1e-91, 1e91, 1e-144, 1e144}[rng.IntN(4)]
			for i := range d {
				d[i] *= f
			}
			for i := range e {
				e[i] *= f
			}
		}
		ds, es = append(ds, d), append(es, e)
	}
	return ds, es
}

// inRange says whether bidiagonalValues takes (d, e) on: every entry
// nonzero and within 2⁻²⁰⁰ of the largest, in the power of two below it.
func inRange(d, e []float64) bool {
	peak := 0.0
	for _, v := range append(slices.Clone(d), e...) {
		peak = max(peak, math.Abs(v))
	}
	_, exp := math.Frexp(peak)
	for _, v := range append(slices.Clone(d), e...) {
		if math.Abs(v) < math.Ldexp(1, exp-201) {
			return false
		}
	}
	return true
}

// TestDqds: the singular values of 2000 bidiagonal matrices of six kinds
// (bidiagonals) equal gonum's Dlasq1's (LAPACK's dqds) to 1e-13
// relatively, each; it falls back exactly for those out of its range; d
// and e are left as they were.
func TestDqds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var impl gonum.Implementation
	ds, es := bidiagonals(rng, 2000)
	worst, fallbacks := 0.0, 0
	for k := range ds {
		d, e := ds[k], es[k]
		n := len(d)
		want := slices.Clone(d)
		impl.Dlasq1(n, want, append(slices.Clone(e), 0), make([]float64, 4*n))
		got := make([]float64, n)
		d0, e0 := slices.Clone(d), slices.Clone(e)
		ok := bidiagonalValues(got, d, e, make([]float64, dqdsWork(n)))
		if !slices.Equal(d, d0) || !slices.Equal(e, e0) {
			t.Fatalf("matrix %d: d or e changed", k)
		}
		if ok != inRange(d, e) {
			t.Fatalf("matrix %d (n = %d, kind %d): took it on %v, in range %v", k, n, k%6, ok, inRange(d, e))
		}
		if !ok {
			fallbacks++
			continue
		}
		slices.Sort(got)
		slices.Sort(want)
		for i := range got {
			r := math.Abs(got[i]-want[i]) / want[i]
			worst = max(worst, r)
			if !(r <= 1e-13) {
				t.Fatalf("matrix %d (n = %d, kind %d), value %d: %.17g, Dlasq1 %.17g", k, n, k%6, i, got[i], want[i])
			}
		}
	}
	t.Logf("largest relative difference %.3g; %d of %d out of range", worst, fallbacks, len(ds))
	if fallbacks > len(ds)/10 {
		t.Errorf("%d of %d matrices out of range: the test no longer tests dqds", fallbacks, len(ds))
	}
}

// TestDqdsSmall checks 1×1 and 2×2 matrices against their exact singular
// values, and that zeros, subnormal and huge entries are left to Dlasq1.
func TestDqdsSmall(t *testing.T) {
	for _, c := range []struct {
		d, e []float64
		want []float64 // descending
	}{
		{[]float64{-3}, nil, []float64{3}},
		// [[3, 4], [0, 0.5]]: σ₁σ₂ = 1.5, σ₁² + σ₂² = 25.25.
		{[]float64{3, 0.5}, []float64{4}, []float64{math.Sqrt((25.25 + math.Sqrt(25.25*25.25-9)) / 2), 1.5 / math.Sqrt((25.25+math.Sqrt(25.25*25.25-9))/2)}},
	} {
		got := make([]float64, len(c.d))
		if !bidiagonalValues(got, c.d, c.e, make([]float64, dqdsWork(len(c.d)))) {
			t.Fatalf("%v, %v: fell back", c.d, c.e)
		}
		slices.SortFunc(got, func(a, b float64) int { return -cmpFloat(a, b) })
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-15*c.want[0] {
				t.Errorf("%v, %v: %v, want %v", c.d, c.e, got, c.want)
			}
		}
	}
	for _, c := range []struct{ d, e []float64 }{
		{[]float64{1, 0, 2}, []float64{1, 1}},
		{[]float64{1, 1, 2}, []float64{0, 1}},
		{[]float64{1, 0x1p-1070}, []float64{1}},
		{[]float64{1, 0x1p600}, []float64{1}},
		{[]float64{1, math.NaN()}, []float64{1}},
	} {
		if bidiagonalValues(make([]float64, len(c.d)), c.d, c.e, make([]float64, dqdsWork(len(c.d)))) {
			t.Errorf("%v, %v: no fallback", c.d, c.e)
		}
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestValuesFallback: a matrix already upper bidiagonal, with a zero on
// its superdiagonal, keeps that zero through the reduction (every
// reflector is the identity), goes to Dlasq1, and still gives gonum's
// values.
func TestValuesFallback(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	const n = 20
	a := mat.NewDense(n, n, nil)
	for i := range n {
		a.Set(i, i, rng.NormFloat64())
		if i+1 < n && i != 7 {
			a.Set(i, i+1, rng.NormFloat64())
		}
	}
	d, e := make([]float64, n), make([]float64, n)
	bidiagonalize(slices.Clone(a.RawMatrix().Data), n, n, d, e)
	if e[7] != 0 || bidiagonalValues(make([]float64, n), d, e[:n-1], make([]float64, dqdsWork(n))) {
		t.Fatalf("e[7] = %v: not a case for the fallback", e[7])
	}
	checkValues(t, a)
}

// BenchmarkDqds: the singular values of the bidiagonal form of a random
// n×n matrix, here and by gonum's Dlasq1.
func BenchmarkDqds(b *testing.B) {
	for _, n := range []int{200, 399} {
		rng := rand.New(rand.NewPCG(1, 2))
		a := random(rng, n, n, func(int) float64 { return 1 })
		d, e := make([]float64, n), make([]float64, n)
		bidiagonalize(slices.Clone(a.RawMatrix().Data), n, n, d, e)
		out, w := make([]float64, n), make([]float64, dqdsWork(n))
		b.Run(fmt.Sprintf("dqds/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				if !bidiagonalValues(out, d, e[:n-1], w) {
					b.Fatal("fell back")
				}
			}
		})
		b.Run(fmt.Sprintf("gonum/n=%d", n), func(b *testing.B) {
			var impl gonum.Implementation
			d1, e1 := make([]float64, n), make([]float64, n)
			for b.Loop() {
				copy(d1, d)
				copy(e1, e)
				impl.Dlasq1(n, d1, e1, w)
			}
		})
	}
}
