package cca

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
)

// TestAgainstNumpy checks SVCCA and PWCCA against testdata/gen_ref.py, which
// computes CCA by the covariance route in numpy.
func TestAgainstNumpy(t *testing.T) { grampaneltest.Both(t, testAgainstNumpy) }

func testAgainstNumpy(t *testing.T) {
	data, err := os.ReadFile("testdata/ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		X, Independent, Related [][]float64
		Cases                   []struct {
			Y, Measure   string
			Keep         float64
			Value        float64
			KeptX        int       `json:"kept_x"`
			KeptY        int       `json:"kept_y"`
			Correlations []float64 `json:"correlations"`
			Weights      []float64 `json:"weights"`
		}
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) != 10 {
		t.Fatalf("ref.json has %d cases, want 10", len(ref.Cases))
	}
	x := densetest.FromRows(ref.X)
	ys := map[string]*mat.Dense{"independent": densetest.FromRows(ref.Independent), "related": densetest.FromRows(ref.Related)}
	const tol = 1e-9
	for _, c := range ref.Cases {
		y := ys[c.Y]
		var r Result
		switch c.Measure {
		case "svcca":
			keep := Keep{Variance: c.Keep}
			if c.Keep >= 1 {
				keep = Keep{Count: int(c.Keep)}
			}
			r, err = SVCCA(x, y, keep)
			if err == nil && (r.KeptX != c.KeptX || r.KeptY != c.KeptY) {
				t.Errorf("%s svcca %v: kept %d and %d directions, numpy %d and %d", c.Y, c.Keep, r.KeptX, r.KeptY, c.KeptX, c.KeptY)
			}
			for i, v := range c.Correlations {
				if i < len(r.Correlations) && math.Abs(r.Correlations[i]-v) > tol {
					t.Errorf("%s svcca %v: ρ%d = %.15g, numpy %.15g", c.Y, c.Keep, i, r.Correlations[i], v)
				}
			}
		case "pwcca":
			r, err = PWCCA(x, y)
		case "pwcca-yx":
			r, err = PWCCA(y, x)
		}
		if err != nil {
			t.Fatalf("%s %s: %v", c.Y, c.Measure, err)
		}
		if math.Abs(r.Value-c.Value) > tol {
			t.Errorf("%s %s %v: %.15g, numpy %.15g", c.Y, c.Measure, c.Keep, r.Value, c.Value)
		}
		for i, w := range c.Weights {
			if math.Abs(r.Weights[i]-w) > tol {
				t.Errorf("%s %s: weight %d = %.15g, numpy %.15g", c.Y, c.Measure, i, r.Weights[i], w)
			}
		}
	}
}

// The invariances the package documents, as properties.
func TestInvariances(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 100
	x := densetest.Normal(rng, n, 8)
	var y mat.Dense
	y.Mul(x, densetest.Normal(rng, 8, 12))
	noise := densetest.Normal(rng, n, 12)
	noise.Scale(0.5, noise)
	y.Add(&y, noise)
	var xq, xs, xa, xt, xp mat.Dense
	xq.Mul(x, densetest.Orthogonal(rng, 8))
	// A signed permutation of the columns.
	perm := mat.NewDense(8, 8, nil)
	for i, j := range rng.Perm(8) {
		perm.Set(i, j, float64(1-2*(i%2)))
	}
	xp.Mul(x, perm)
	xs.Scale(7, x)
	xa.Mul(x, densetest.Normal(rng, 8, 8)) // invertible with probability 1
	xt.Apply(func(_, j int, v float64) float64 { return v + float64(j) }, x)
	measures := map[string]func(a, b mat.Matrix) (Result, error){
		"svcca":   func(a, b mat.Matrix) (Result, error) { return SVCCA(a, b, Paper) },
		"svcca:5": func(a, b mat.Matrix) (Result, error) { return SVCCA(a, b, Keep{Count: 5}) },
		"pwcca":   PWCCA,
		"cca":     Canonical,
	}
	for name, f := range measures {
		self, err := f(x, x)
		if err != nil || math.Abs(self.Value-1) > 1e-12 {
			t.Errorf("%s: identical inputs give %v (%v), want 1", name, self.Value, err)
		}
		base, err := f(x, &y)
		if err != nil {
			t.Fatal(err)
		}
		cases := map[string]*mat.Dense{"signed permutation": &xp, "isotropic scaling": &xs, "translation": &xt}
		if name != "pwcca" {
			cases["orthogonal"] = &xq
		}
		if name == "cca" {
			cases["invertible linear map"] = &xa
		}
		for what, xx := range cases {
			r, err := f(xx, &y)
			if err != nil || math.Abs(r.Value-base.Value) > 1e-10 {
				t.Errorf("%s: %s changes %.15g to %.15g (%v)", name, what, base.Value, r.Value, err)
			}
		}
		// Independent data: far below a related pair. The chance level of
		// mean CCA is about √(d/n)-ish, not 0.
		ind, err := f(densetest.Normal(rng, n, 8), &y)
		if err != nil || ind.Value > base.Value-0.3 {
			t.Errorf("%s: independent data %.3f, related %.3f (%v)", name, ind.Value, base.Value, err)
		}
	}
}

// PWCCA's weights depend on the basis of the features: a rotation moves it.
func TestPWCCANotRotationInvariant(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := densetest.Normal(rng, 100, 6)
	var y, xq mat.Dense
	y.Mul(x, densetest.Normal(rng, 6, 9))
	y.Add(&y, densetest.Normal(rng, 100, 9))
	xq.Mul(x, densetest.Orthogonal(rng, 6))
	a, err := PWCCA(x, &y)
	if err != nil {
		t.Fatal(err)
	}
	b, err := PWCCA(&xq, &y)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(a.Value-b.Value) < 1e-6 {
		t.Errorf("PWCCA %.12g before and %.12g after a rotation: want a change", a.Value, b.Value)
	}
}

// With d ≥ n the column spaces fill the n−1 centred dimensions, so every
// canonical correlation is 1: CCA needs n above the dimension.
func TestWideIsDegenerate(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x, y := densetest.Normal(rng, 20, 30), densetest.Normal(rng, 20, 40)
	r, err := Canonical(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if r.KeptX != 19 || r.KeptY != 19 || math.Abs(r.Value-1) > 1e-10 {
		t.Errorf("wide inputs: ranks %d, %d, mean CCA %v; want 19, 19, 1", r.KeptX, r.KeptY, r.Value)
	}
}

func TestBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := densetest.Normal(rng, 10, 3)
	constant := mat.NewDense(10, 3, nil)
	nan := mat.DenseCopyOf(x)
	nan.Set(1, 1, math.Inf(1))
	for _, c := range []struct {
		name string
		f    func() (Result, error)
		want string
	}{
		{"rows", func() (Result, error) { return PWCCA(x, densetest.Normal(rng, 9, 3)) }, "must match"},
		{"constant", func() (Result, error) { return SVCCA(constant, x, Paper) }, "no variance"},
		{"inf", func() (Result, error) { return Canonical(x, nan) }, "non-finite"},
		{"keep none", func() (Result, error) { return SVCCA(x, x, Keep{}) }, "either"},
		{"keep both", func() (Result, error) { return SVCCA(x, x, Keep{Variance: 0.9, Count: 3}) }, "either"},
		{"keep >1", func() (Result, error) { return SVCCA(x, x, Keep{Variance: 1.5}) }, "(0, 1]"},
		{"keep <0", func() (Result, error) { return SVCCA(x, x, Keep{Count: -2}) }, "≥ 1"},
		{"one row", func() (Result, error) { return PWCCA(x.Slice(0, 1, 0, 3), x.Slice(0, 1, 0, 3)) }, "at least 2"},
		{"nil", func() (Result, error) { return PWCCA(nil, x) }, "nil"},
	} {
		_, err := c.f()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestSpectrumPermuted: SVCCAOf of decomposed layers is SVCCA, and of a
// spectrum with its rows reordered, SVCCA of the layer with its inputs so
// reordered; a slice that is not a permutation, and layers of different
// numbers of inputs, are errors.
func TestSpectrumPermuted(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const n = 40
	x, y := densetest.Normal(rng, n, 12), densetest.Normal(rng, n, 70)
	a, err := NewSpectrum(x)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSpectrum(y)
	if err != nil {
		t.Fatal(err)
	}
	for _, keep := range []Keep{Paper, {Count: 5}, {Variance: 1}} {
		want, err := SVCCA(x, y, keep)
		if err != nil {
			t.Fatal(err)
		}
		got, err := SVCCAOf(a, b, keep)
		if err != nil || got.Value != want.Value || got.KeptX != want.KeptX || got.KeptY != want.KeptY {
			t.Errorf("%+v: SVCCAOf %v %d %d (%v), SVCCA %v %d %d", keep, got.Value, got.KeptX, got.KeptY, err, want.Value, want.KeptX, want.KeptY)
		}
		for range 3 {
			perm := rng.Perm(n)
			yp := mat.NewDense(n, 70, nil)
			for r, src := range perm {
				yp.SetRow(r, y.RawRowView(src))
			}
			want, err := SVCCA(x, yp, keep)
			if err != nil {
				t.Fatal(err)
			}
			bp, err := b.Permuted(perm)
			if err != nil {
				t.Fatal(err)
			}
			got, err := SVCCAOf(a, bp, keep)
			if err != nil || math.Abs(got.Value-want.Value) > 1e-12 || got.KeptY != want.KeptY {
				t.Errorf("%+v: permuted spectrum %.15g (%d kept, %v), permuted input %.15g (%d kept)", keep, got.Value, got.KeptY, err, want.Value, want.KeptY)
			}
		}
	}
	bad := rng.Perm(n)
	bad[0] = bad[1]
	for _, perm := range [][]int{bad, rng.Perm(n - 1), append(rng.Perm(n-1), -1)} {
		if _, err := b.Permuted(perm); err == nil {
			t.Errorf("%v: no error", perm)
		}
	}
	c, err := NewSpectrum(densetest.Normal(rng, n+1, 5))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SVCCAOf(a, c, Paper); err == nil {
		t.Error("layers of 40 and 41 inputs: no error")
	}
	if _, err := NewSpectrum(mat.NewDense(n, 3, nil)); err == nil {
		t.Error("a layer without variance: no error")
	}
	var zero Spectrum
	var none *Spectrum
	for _, s := range []*Spectrum{&zero, none} {
		if _, err := s.Permuted(rng.Perm(n)); err == nil {
			t.Errorf("%v: Permuted: no error", s)
		}
		if _, err := SVCCAOf(s, b, Paper); err == nil {
			t.Errorf("%v: SVCCAOf: no error", s)
		}
		if _, err := SVCCAOf(b, s, Paper); err == nil {
			t.Errorf("%v: SVCCAOf: no error", s)
		}
	}
}

// TestSpectrumResample: two layers decomposed from the same bootstrap draw
// give the SVCCA of the resampled layers themselves, kept counts included;
// bad draws are errors.
func TestSpectrumResample(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const n = 50
	x, y := densetest.Related(rng, n, 8, 70)
	for trial := range 4 {
		idx := densetest.Draw(rng, n, n)
		if trial == 3 {
			idx = idx[:7]
		}
		xr, yr := densetest.Rows(x, idx), densetest.Rows(y, idx)
		a, err := NewSpectrumResample(x, idx)
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewSpectrumResample(y, idx)
		if err != nil {
			t.Fatal(err)
		}
		for _, keep := range []Keep{Paper, {Count: 4}, {Variance: 1}} {
			want, err := SVCCA(xr, yr, keep)
			if err != nil {
				t.Fatal(err)
			}
			got, err := SVCCAOf(a, b, keep)
			if err != nil || math.Abs(got.Value-want.Value) > 1e-10 || got.KeptX != want.KeptX || got.KeptY != want.KeptY {
				t.Errorf("draw %d, %+v: %.15g kept %d %d (%v), the resampled layers give %.15g kept %d %d", trial, keep, got.Value, got.KeptX, got.KeptY, err, want.Value, want.KeptX, want.KeptY)
			}
		}
	}
	for _, c := range []struct {
		idx  []int
		want string
	}{
		{[]int{0, n}, "row 50 of 50"},
		{[]int{3}, "at least 2"},
		{[]int{4, 4}, "no variance"},
	} {
		if _, err := NewSpectrumResample(x, c.idx); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("draw %v: error %v, want one saying %q", c.idx, err, c.want)
		}
	}
}
