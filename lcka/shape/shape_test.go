package shape

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/densetest"
	"github.com/layersim/layersim/lcka/internal/grampanel/grampaneltest"
	"github.com/layersim/layersim/lcka/procrustes"
)

// TestAgainstNumpy checks θ_α against testdata/gen_ref.py, a numpy
// transcription of netrep's LinearMetric.
func TestAgainstNumpy(t *testing.T) { grampaneltest.Both(t, testAgainstNumpy) }

func testAgainstNumpy(t *testing.T) {
	data, err := os.ReadFile("testdata/ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		X, Independent, Related [][]float64
		Cases                   []struct {
			Y            string
			Alpha, Value float64
		}
		WideX [][]float64 `json:"wide_x"`
		WideY [][]float64 `json:"wide_y"`
		Wide  []struct{ Alpha, Value float64 }
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) != 10 {
		t.Fatalf("ref.json has %d cases, want 10", len(ref.Cases))
	}
	x := densetest.FromRows(ref.X)
	ys := map[string]*mat.Dense{"independent": densetest.FromRows(ref.Independent), "related": densetest.FromRows(ref.Related)}
	for _, c := range ref.Cases {
		got, err := Angular(x, ys[c.Y], c.Alpha)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-c.Value) > 1e-10 {
			t.Errorf("%s α=%v: θ = %.15g, netrep transcription %.15g", c.Y, c.Alpha, got, c.Value)
		}
	}
	// Wider than tall (n < d), as layers are.
	if len(ref.Wide) != 3 {
		t.Fatalf("ref.json has %d wide cases, want 3", len(ref.Wide))
	}
	wx, wy := densetest.FromRows(ref.WideX), densetest.FromRows(ref.WideY)
	for _, c := range ref.Wide {
		got, err := Angular(wx, wy, c.Alpha)
		if err != nil {
			t.Fatal(err)
		}
		// At α = 0 the layers' whitened spans are the same (n − 1 < d), θ =
		// 0, and arccos turns the last bit of cos θ = 1 into 10⁻⁸: compare
		// the cosines.
		if math.Abs(math.Cos(got)-math.Cos(c.Value)) > 1e-13 {
			t.Errorf("wide α=%v: θ = %.15g, netrep transcription %.15g", c.Alpha, got, c.Value)
		}
	}
}

var alphas = []float64{0, 0.3, 0.5, 1}

// TestMetric checks symmetry, identity and the triangle inequality on random
// triples, some of them related so that the inequality is nearly tight.
func TestMetric(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 40
	for trial := range 30 {
		base := densetest.Normal(rng, n, 6)
		mk := func(d int, noise float64) *mat.Dense {
			var m mat.Dense
			m.Mul(base, densetest.Normal(rng, 6, d))
			e := densetest.Normal(rng, n, d)
			e.Scale(noise, e)
			m.Add(&m, e)
			return &m
		}
		noise := []float64{0.1, 1, 10}[trial%3]
		a, b, c := mk(5, noise), mk(8, noise), mk(7, noise)
		for _, al := range alphas {
			ab, _ := Angular(a, b, al)
			ba, _ := Angular(b, a, al)
			bc, _ := Angular(b, c, al)
			ac, err := Angular(a, c, al)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(ab-ba) > 1e-12 {
				t.Errorf("α=%v: θ(a,b) = %.15g, θ(b,a) = %.15g", al, ab, ba)
			}
			if ac > ab+bc+1e-12 {
				t.Errorf("α=%v: triangle inequality fails: θ(a,c) = %.15g > %.15g + %.15g", al, ac, ab, bc)
			}
			if aa, err := Angular(a, a, al); err != nil || aa > 1e-7 {
				t.Errorf("α=%v: θ(a,a) = %v (%v), want 0", al, aa, err)
			}
		}
	}
}

func TestInvariances(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 50
	x := densetest.Normal(rng, n, 6)
	var y mat.Dense
	y.Mul(x, densetest.Normal(rng, 6, 9))
	y.Add(&y, densetest.Normal(rng, n, 9))
	var xq, xs, xt, xa mat.Dense
	xq.Mul(x, densetest.Orthogonal(rng, 6))
	xs.Scale(40, x)
	xt.Apply(func(_, j int, v float64) float64 { return v - 3*float64(j) }, x)
	xa.Mul(x, densetest.Normal(rng, 6, 6))
	for _, al := range alphas {
		base, err := Angular(x, &y, al)
		if err != nil {
			t.Fatal(err)
		}
		cases := map[string]*mat.Dense{"orthogonal": &xq, "translation": &xt}
		if al == 0 || al == 1 {
			cases["isotropic scaling"] = &xs
		}
		if al == 0 {
			cases["invertible linear map"] = &xa
		}
		for what, xx := range cases {
			v, err := Angular(xx, &y, al)
			if err != nil || math.Abs(v-base) > 1e-9 {
				t.Errorf("α=%v: %s changes θ from %.15g to %.15g (%v)", al, what, base, v, err)
			}
		}
		if al == 0.5 {
			if v, _ := Angular(&xs, &y, al); math.Abs(v-base) < 1e-6 {
				t.Errorf("α=0.5: scaling x by 40 left θ at %.15g; netrep's partial whitening is not scale invariant", v)
			}
		}
		// Independent data lies much farther than the related y.
		ind, _ := Angular(densetest.Normal(rng, n, 6), &y, al)
		if ind < base+0.2 {
			t.Errorf("α=%v: independent θ %.3f, related %.3f", al, ind, base)
		}
	}
}

// At α = 1 the metric is the angle behind package procrustes' squared
// distance 2 − 2 cos θ.
func TestProcrustesRelation(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x, y := densetest.Normal(rng, 30, 4), densetest.Normal(rng, 30, 7)
	theta, err := Procrustes(x, y)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := procrustes.Distance(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(2-2*math.Cos(theta)-d2) > 1e-12 {
		t.Errorf("2 − 2cos θ₁ = %.15g, procrustes.Distance %.15g", 2-2*math.Cos(theta), d2)
	}
}

func TestBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := densetest.Normal(rng, 10, 3)
	nan := mat.DenseCopyOf(x)
	nan.Set(0, 0, math.NaN())
	a, _ := Whiten(x, 0.5)
	b, _ := Whiten(x, 1)
	for _, c := range []struct {
		name string
		f    func() (float64, error)
		want string
	}{
		{"rows", func() (float64, error) { return Angular(x, densetest.Normal(rng, 9, 3), 1) }, "must match"},
		{"alpha", func() (float64, error) { return Angular(x, x, 1.5) }, "[0, 1]"},
		{"alpha nan", func() (float64, error) { return Angular(x, x, math.NaN()) }, "[0, 1]"},
		{"constant", func() (float64, error) { return CCA(mat.NewDense(10, 3, nil), x) }, "no variance"},
		{"nan", func() (float64, error) { return Procrustes(x, nan) }, "non-finite"},
		{"mixed alpha", func() (float64, error) { return AngularOf(a, b) }, "whitened at"},
		{"nil", func() (float64, error) { return Angular(nil, x, 1) }, "nil"},
	} {
		_, err := c.f()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestScale: at α = 1 the metric does not see a common scale, up to 1e307
// and down to 1e-300, where the squared singular values or the SVD's norms
// overflow or underflow; at α = 0.5 it does (netrep's eigenvalue floor is
// absolute), and is the same from 1 up to 1e307.
func TestScale(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	x, y := densetest.Normal(rng, 30, 12), densetest.Normal(rng, 30, 8)
	want, err := Procrustes(x, y)
	if err != nil {
		t.Fatal(err)
	}
	half := func(c float64) (float64, error) {
		var xs, ys mat.Dense
		xs.Scale(c, x)
		ys.Scale(c, y)
		return Angular(&xs, &ys, 0.5)
	}
	wantHalf, err := half(1e10)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []float64{1e-300, 1e-160, 1e160, 1e307} {
		var xs, ys mat.Dense
		xs.Scale(c, x)
		ys.Scale(c, y)
		got, err := Procrustes(&xs, &ys)
		if err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("scale %g: θ₁ = %v (%v), at 1: %v", c, got, err, want)
		}
		if c < 1e10 {
			continue
		}
		// Far above the floor the whitening no longer depends on it.
		if got, err := half(c); err != nil || math.Abs(got-wantHalf) > 1e-9 {
			t.Errorf("scale %g: θ₀.₅ = %v (%v), at 1e10: %v", c, got, err, wantHalf)
		}
	}
}

// TestPermuted: the prepared representation with its rows reordered gives
// the angle of the representation whose inputs are so reordered, and a
// slice that is not a permutation is an error.
func TestPermuted(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n = 40
	x, y := densetest.Normal(rng, n, 9), densetest.Normal(rng, n, 60)
	for _, al := range alphas {
		a, err := Whiten(x, al)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Whiten(y, al)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			perm := rng.Perm(n)
			yp := mat.NewDense(n, 60, nil)
			for r, src := range perm {
				yp.SetRow(r, y.RawRowView(src))
			}
			want, err := Angular(x, yp, al)
			if err != nil {
				t.Fatal(err)
			}
			bp, err := b.Permuted(perm)
			if err != nil {
				t.Fatal(err)
			}
			got, err := AngularOf(a, bp)
			if err != nil || math.Abs(got-want) > 1e-12 {
				t.Errorf("α=%v: %.15g (%v), the permuted input gives %.15g", al, got, err, want)
			}
		}
	}
	b, err := Whiten(y, 1)
	if err != nil {
		t.Fatal(err)
	}
	bad := rng.Perm(n)
	bad[3] = bad[4]
	for _, perm := range [][]int{bad, rng.Perm(n - 1), append(rng.Perm(n-1), n)} {
		if _, err := b.Permuted(perm); err == nil {
			t.Errorf("%v: no error", perm)
		}
	}
	var zero Whitened
	var none *Whitened
	for _, w := range []*Whitened{&zero, none} {
		if _, err := w.Permuted(rng.Perm(n)); err == nil {
			t.Errorf("%v: Permuted: no error", w)
		}
		if _, err := AngularOf(w, b); err == nil {
			t.Errorf("%v: AngularOf: no error", w)
		}
		if _, err := AngularOf(b, w); err == nil {
			t.Errorf("%v: AngularOf: no error", w)
		}
	}
}

// TestWhitenResample: two layers prepared from the same bootstrap draw give
// the angle of the resampled layers themselves, at every α; bad draws are
// errors.
func TestWhitenResample(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const n = 50
	x, y := densetest.Related(rng, n, 8, 70)
	for trial := range 4 {
		idx := densetest.Draw(rng, n, n)
		if trial == 3 {
			idx = idx[:7] // a draw smaller than the layer
		}
		xr, yr := densetest.Rows(x, idx), densetest.Rows(y, idx)
		for _, al := range alphas {
			want, err := Angular(xr, yr, al)
			if err != nil {
				t.Fatal(err)
			}
			a, err := WhitenResample(x, idx, al)
			if err != nil {
				t.Fatal(err)
			}
			b, err := WhitenResample(y, idx, al)
			if err != nil {
				t.Fatal(err)
			}
			// Compared as cos θ, the nuclear norm: near θ = 0 arccos turns a
			// rounding of 1 − ε into θ ≈ √(2ε).
			got, err := AngularOf(a, b)
			if err != nil || math.Abs(math.Cos(got)-math.Cos(want)) > 1e-12 {
				t.Errorf("draw %d, α=%v: %.15g (%v), the resampled layers give %.15g", trial, al, got, err, want)
			}
		}
	}
	for _, c := range []struct {
		idx  []int
		want string
	}{
		{[]int{0, n}, "row 50 of 50"},
		{[]int{-1, 2}, "row -1 of 50"},
		{[]int{3}, "at least 2"},
		{nil, "at least 2"},
		{[]int{4, 4, 4}, "no variance"},
	} {
		if _, err := WhitenResample(x, c.idx, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("draw %v: error %v, want one saying %q", c.idx, err, c.want)
		}
	}
	if _, err := WhitenResample(x, []int{0, 1}, 2); err == nil {
		t.Error("α = 2: no error")
	}
}
