package symeig

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/dense"
	"github.com/layersim/layersim/lcka/internal/grampanel"
)

// eachReduction runs f with the tridiagonal reduction column by column, by
// panels of the default width, by narrow panels (of 4 from 8 rows on, and
// of 1), on grampanel's tile kernel and on gonum's Dgemm, and with formQ's
// groups of 1 and 5 reflectors.
func eachReduction(t *testing.T, f func(t *testing.T)) {
	width, from, group := panelWidth, blockedFrom, groupWidth
	t.Cleanup(func() { panelWidth, blockedFrom, groupWidth = width, from, group })
	for _, c := range []struct {
		name               string
		width, from, group int
		host               bool
	}{
		{"columns", width, 1 << 30, group, true},
		{"panels", width, from, group, true},
		{"panels, Dgemm", width, from, group, false},
		{"panels of 4, groups of 5", 4, 8, 5, true},
		{"panels of 1, groups of 1", 1, 8, 1, true},
	} {
		panelWidth, blockedFrom, groupWidth = c.width, c.from, c.group
		was := grampanel.SetHost(c.host)
		t.Run(c.name, f)
		grampanel.SetHost(was)
	}
}

// reductionCases are symmetric matrices at the sizes around the panel
// width and the blocking threshold, and graded, rank-deficient, diagonal
// and all-zero ones on the blocked path.
func reductionCases() map[string]*mat.SymDense {
	rng := rand.New(rand.NewPCG(11, 12))
	cs := map[string]*mat.SymDense{}
	one := func(int) float64 { return 1 }
	nb, from := panelWidth, blockedFrom
	for _, n := range []int{1, 2, 3, nb - 1, nb, nb + 1, nb + from - 1, nb + from, nb + from + 1, 97, 400, 401} {
		cs[fmt.Sprintf("gram %d", n)] = gramOf(rng, n, n+7, one)
	}
	cs["graded 150"] = gramOf(rng, 150, 150, func(j int) float64 { return math.Pow(10, -float64(j)/9) })
	cs["rank 3 of 130"] = gramOf(rng, 130, 3, one)
	cs["zeros 100"] = mat.NewSymDense(100, nil)
	diag := mat.NewSymDense(120, nil)
	for i := range 120 {
		diag.SetSym(i, i, float64(i%7)-3)
	}
	cs["diagonal 120"] = diag
	indef := mat.NewSymDense(110, nil)
	for i := range 110 {
		for j := i; j < 110; j++ {
			indef.SetSym(i, j, rng.NormFloat64())
		}
	}
	cs["indefinite 110"] = indef
	return cs
}

// gramOf returns X·Xᵀ for an n×d X of normal entries, column j scaled by
// scale(j).
func gramOf(rng *rand.Rand, n, d int, scale func(j int) float64) *mat.SymDense {
	x := mat.NewDense(n, d, nil)
	for i := range n {
		for j := range d {
			x.Set(i, j, rng.NormFloat64()*scale(j))
		}
	}
	var g mat.SymDense
	g.SymOuterK(1, x)
	return &g
}

// full returns a's n×n values, both triangles, scaled by the power of two
// that Descending applies.
func full(a *mat.SymDense) ([]float64, int) {
	n := a.SymmetricDim()
	raw := make([]float64, n*n)
	peak := 0.0
	for i := range n {
		for j := range n {
			raw[i*n+j] = a.At(i, j)
			peak = max(peak, math.Abs(raw[i*n+j]))
		}
	}
	if peak > 0 {
		dense.ScaleDown(raw, peak)
	}
	return raw, n
}

// TestTridiagonalize: on the same matrix, d and |e| equal those of gonum's
// Dsytrd (lower form, which annihilates the same columns in the same
// order); Q (formQ) is orthogonal to 20·n·ε and QᵀAQ is the tridiagonal
// matrix of d and e to 20·n·ε·‖A‖, the backward error.
//
// T's entries themselves are not that well determined: rounding in a
// different order moves the late ones further (at n = 400, the column by
// column reduction differs from Dsytrd by up to 2·10⁻¹² in the last
// quarter, at 20·n·ε = 1.8·10⁻¹²), and where a positive semidefinite
// matrix's rank runs out, e is of order √ε·‖A‖ and set by rounding. So
// the first quarter of d and e of the random full-rank matrices is held
// to 20·n·ε·‖A‖ and every entry to 10⁻⁸·‖A‖.
func TestTridiagonalize(t *testing.T) {
	cases := reductionCases()
	eachReduction(t, func(t *testing.T) {
		for name, s := range cases {
			tight := 0
			if strings.HasPrefix(name, "gram ") || strings.HasPrefix(name, "indefinite ") {
				tight = s.SymmetricDim() / 4
			}
			t.Run(name, func(t *testing.T) { checkTridiagonal(t, s, tight) })
		}
	})
}

// checkTridiagonal checks tridiagonalize and formQ on s (TestTridiagonalize),
// with the first tight entries of d and e held to 20·n·ε·‖A‖.
func checkTridiagonal(t *testing.T, s *mat.SymDense, tight int) {
	a, n := full(s)
	orig := mat.NewDense(n, n, append([]float64(nil), a...))
	norm := max(mat.Norm(orig, 2), 1e-300)
	tol := 20 * float64(n) * 0x1p-52

	ref := append([]float64(nil), a...)
	wd, we := make([]float64, n), make([]float64, n)
	wtau := make([]float64, max(1, n-1))
	work := make([]float64, 1)
	var impl gonum.Implementation
	impl.Dsytrd('L', n, ref, n, wd, we[:n-1], wtau, work, -1)
	work = make([]float64, int(work[0]))
	impl.Dsytrd('L', n, ref, n, wd, we[:n-1], wtau, work, len(work))

	d, e, tau := make([]float64, n), make([]float64, n), make([]float64, n)
	tridiagonalize(a, n, d, e, tau)
	for i := range n {
		bound := 1e-8 * norm
		if i < tight {
			bound = tol * norm
		}
		if math.Abs(d[i]-wd[i]) > bound || math.Abs(math.Abs(e[i])-math.Abs(we[i])) > bound {
			t.Fatalf("d%d, e%d = %.17g, %.17g; Dsytrd %.17g, %.17g", i, i, d[i], e[i], wd[i], we[i])
		}
	}

	q := make([]float64, n*n)
	formQ(q, a, n, tau)
	qm := mat.NewDense(n, n, q)
	var qtq, aq, tt mat.Dense
	qtq.Mul(qm.T(), qm)
	aq.Mul(orig, qm)
	tt.Mul(qm.T(), &aq)
	for i := range n {
		for j := range n {
			if math.Abs(qtq.At(i, j)-b2f(i == j)) > tol {
				t.Fatalf("QᵀQ (%d, %d) = %g", i, j, qtq.At(i, j))
			}
			want := 0.0
			switch j - i {
			case 0:
				want = d[i]
			case 1:
				want = e[i]
			case -1:
				want = e[j]
			}
			if math.Abs(tt.At(i, j)-want) > tol*norm {
				t.Fatalf("QᵀAQ (%d, %d) = %.17g, T %.17g", i, j, tt.At(i, j), want)
			}
		}
	}
}
