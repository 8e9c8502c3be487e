package symeig

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// cases are symmetric matrices with spread, repeated, zero and tiny
// eigenvalues: a random Gram matrix of full rank, one of rank 5 (a
// repeated zero), a diagonal one with ties, a matrix of zeros, 1×1 and 2×2,
// and a Gram matrix with a spectrum over sixteen decades.
func cases() map[string]*mat.SymDense {
	rng := rand.New(rand.NewPCG(3, 4))
	gram := func(n, d int, scale func(j int) float64) *mat.SymDense { return gramOf(rng, n, d, scale) }
	one := func(int) float64 { return 1 }
	diag := mat.NewSymDense(6, nil)
	for i, v := range []float64{3, -1, 3, 0, 2, 3} {
		diag.SetSym(i, i, v)
	}
	return map[string]*mat.SymDense{
		"gram 120×300": gram(120, 300, one),
		"gram rank 5":  gram(40, 5, one),
		"decades":      gram(60, 60, func(j int) float64 { return math.Pow(10, -float64(j)/8) }),
		// Graded over sixteen decades at the study's size, where a QL that
		// asks each off-diagonal entry for accuracy relative to its
		// neighbours does not converge.
		"graded 300":    gram(300, 300, func(j int) float64 { return math.Pow(10, -float64(j)/19) }),
		"diagonal ties": diag,
		"zeros":         mat.NewSymDense(7, nil),
		"1×1":           mat.NewSymDense(1, []float64{-2.5}),
		"2×2":           mat.NewSymDense(2, []float64{1, 2, 2, -3}),
		"indefinite 50": func() *mat.SymDense {
			s := mat.NewSymDense(50, nil)
			for i := range 50 {
				for j := i; j < 50; j++ {
					s.SetSym(i, j, rng.NormFloat64())
				}
			}
			return s
		}(),
	}
}

// TestAgainstGonum: the eigenvalues equal mat.EigenSym's to 1e-13‖A‖, the
// vectors are orthonormal and satisfy A v = λ v to 1e-13‖A‖, for cases()
// and reductionCases() with each reduction (eachReduction).
func TestAgainstGonum(t *testing.T) {
	all := cases()
	for name, a := range reductionCases() {
		all[name] = a
	}
	eachReduction(t, func(t *testing.T) {
		for name, a := range all {
			t.Run(name, func(t *testing.T) { checkAgainstGonum(t, a) })
		}
	})
}

func checkAgainstGonum(t *testing.T, a *mat.SymDense) {
	n := a.SymmetricDim()
	norm := mat.Norm(a, 2)
	if norm == 0 {
		norm = 1
	}
	// The strict lower triangle holds values Descending must not read.
	raw := make([]float64, n*n)
	for i := range n {
		for j := range n {
			raw[i*n+j] = a.At(i, j)
			if j < i {
				raw[i*n+j] = float64(3*i - j)
			}
		}
	}
	values, vt, err := Descending(raw, n)
	if err != nil {
		t.Fatal(err)
	}
	var ref mat.EigenSym
	if !ref.Factorize(a, false) {
		t.Fatal("gonum failed")
	}
	want := ref.Values(nil)
	for i := range n {
		if got := values[i]; math.Abs(got-want[n-1-i]) > 1e-13*norm {
			t.Errorf("λ%d = %.17g, gonum %.17g", i, got, want[n-1-i])
		}
		if i > 0 && values[i] > values[i-1] {
			t.Errorf("not descending at %d: %v after %v", i, values[i], values[i-1])
		}
	}
	v := mat.NewDense(n, n, vt) // rows are eigenvectors
	var vvt, av mat.Dense
	vvt.Mul(v, v.T())
	for i := range n {
		for j := range n {
			if w := b2f(i == j); math.Abs(vvt.At(i, j)-w) > 1e-13*float64(n) {
				t.Fatalf("vᵢ·vⱼ (%d, %d) = %g", i, j, vvt.At(i, j))
			}
		}
	}
	av.Mul(a, v.T())
	for j := range n {
		for i := range n {
			if r := math.Abs(av.At(i, j) - values[j]*v.At(j, i)); r > 1e-13*norm*float64(n) {
				t.Fatalf("residual of λ%d at row %d: %g", j, i, r)
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		a []float64
		n int
	}{{nil, 0}, {[]float64{1, 2, 3}, 2}, {[]float64{math.NaN()}, 1}, {[]float64{1, math.Inf(1), math.Inf(1), 1}, 2}} {
		if _, _, err := Descending(c.a, c.n); err == nil {
			t.Errorf("%v (n = %d): no error", c.a, c.n)
		}
	}
}

func BenchmarkDescending(b *testing.B) {
	for _, n := range []int{100, 400} {
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		x := mat.NewDense(n, 2*n, nil)
		for i := range n {
			for j := range 2 * n {
				x.Set(i, j, rng.NormFloat64())
			}
		}
		var g mat.SymDense
		g.SymOuterK(1, x)
		raw := make([]float64, n*n)
		for i := range n {
			for j := range n {
				raw[i*n+j] = g.At(i, j)
			}
		}
		a := make([]float64, n*n)
		b.Run(fmt.Sprintf("symeig/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				copy(a, raw)
				if _, _, err := Descending(a, n); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("gonum/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				var e mat.EigenSym
				if !e.Factorize(&g, true) {
					b.Fatal("failed")
				}
			}
		})
	}
}

// TestRotateSweep: the vector kernel equals the rotations applied one
// after another (to fused multiply-add rounding) at every width around its
// blocks of eight and thirty-two, on sweeps of 0 to 5 rotations.
func TestRotateSweep(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for n := 1; n <= 73; n++ {
		for k := range 6 {
			const lo = 1
			rows := lo + k + 2
			zt := make([]float64, rows*n)
			for i := range zt {
				zt[i] = rng.NormFloat64()
			}
			cs := make([]float64, 3*k+1)
			for i := range k {
				angle := rng.Float64() * 2 * math.Pi
				cs[3*i], cs[3*i+1], cs[3*i+2] = math.Cos(angle), math.Sin(angle), -math.Sin(angle)
			}
			want := slices.Clone(zt)
			rotateSweepGo(want, n, lo, lo+k, cs)
			rotateSweep(zt, n, lo, lo+k, cs)
			for i := range zt {
				if math.Abs(zt[i]-want[i]) > 1e-14 {
					t.Fatalf("n = %d, %d rotations, row %d, column %d: %v, one by one %v", n, k, i/n, i%n, zt[i], want[i])
				}
			}
		}
	}
}

// TestWhereverInMemory: the eigenvalues and vectors depend on the matrix
// alone, not on where it lies: the same matrix at each of eight offsets
// gives the same results to the bit.
func TestWhereverInMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	for _, n := range []int{50, 101, 160} {
		x := make([]float64, n*n)
		for i := range n {
			for j := i; j < n; j++ {
				v := rng.NormFloat64()
				x[i*n+j], x[j*n+i] = v, v
			}
		}
		var vals0, vt0 []float64
		for off := range 8 {
			buf := make([]float64, n*n+off)
			copy(buf[off:], x)
			vals, vt, err := Descending(buf[off:], n)
			if err != nil {
				t.Fatal(err)
			}
			if off == 0 {
				vals0, vt0 = vals, vt
				continue
			}
			if !slices.Equal(vals, vals0) || !slices.Equal(vt, vt0) {
				t.Fatalf("n %d at offset %d: results differ from offset 0's", n, off)
			}
		}
	}
}
