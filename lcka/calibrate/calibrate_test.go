package calibrate

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/internal/densetest"
	"github.com/layersim/layersim/lcka/knn"
)

func TestCalibrate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 60
	x := densetest.Normal(rng, n, 40)
	// Independent, wide: raw linear CKA is far from 0, calibrated is not.
	y := densetest.Normal(rng, n, 50)
	r, err := Calibrate(x, y, cka.Linear, Options{Permutations: 200, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if r.Score < 0.3 || math.Abs(r.NullMean-r.Score) > 0.05 || math.Abs(r.Calibrated) > 3.5 || r.P < 0.001 {
		t.Errorf("independent: %+v; want a raw CKA well above 0, a null mean near it and |calibrated| < 3.5", r)
	}
	// Recomputing the calibrated value from the fields.
	if math.Abs(r.Calibrated-(r.Score-r.NullMean)/r.NullSD) > 1e-12 || r.Permutations != 200 {
		t.Errorf("fields inconsistent: %+v", r)
	}
	// Related: far above its null.
	var rel mat.Dense
	rel.Mul(x, densetest.Normal(rng, 40, 50))
	r2, err := Calibrate(x, &rel, func(a, b mat.Matrix) (float64, error) { return knn.MutualKNN(a, b, 5, knn.Cosine) }, Options{Permutations: 50, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Calibrated < 10 || r2.P != 1.0/51 {
		t.Errorf("related: %+v; want calibrated > 10 and p = 1/51", r2)
	}
	// The same seed repeats, another seed does not.
	a, _ := Calibrate(x, y, cka.Linear, Options{Permutations: 20, Seed: 3})
	b, _ := Calibrate(x, y, cka.Linear, Options{Permutations: 20, Seed: 3})
	c, _ := Calibrate(x, y, cka.Linear, Options{Permutations: 20, Seed: 4})
	if a != b || a.NullMean == c.NullMean {
		t.Errorf("seeds: %+v, %+v, %+v", a, b, c)
	}
}

func TestBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := densetest.Normal(rng, 10, 3)
	constant := func(_, _ mat.Matrix) (float64, error) { return 0.5, nil }
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"one permutation", func() error { _, e := Calibrate(x, x, cka.Linear, Options{Permutations: 1}); return e }(), "at least 2"},
		{"rows", func() error { _, e := Calibrate(x, densetest.Normal(rng, 9, 3), cka.Linear, Options{}); return e }(), "must match"},
		{"flat null", func() error { _, e := Calibrate(x, x, constant, Options{Permutations: 5}); return e }(), "undefined"},
		{"nil", func() error { _, e := Calibrate(x, x, nil, Options{}); return e }(), "nil"},
		{"measure error", func() error {
			_, e := Calibrate(x, x, func(a, b mat.Matrix) (float64, error) { return knn.CKNNA(a, b, 20, knn.Cosine) }, Options{})
			return e
		}(), "k must be"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}
}

// TestPieces: Calibrate is Permutations, Null and FromNull in turn, and
// Null is the measure on the permuted rows, computed here by a direct loop.
func TestPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x, y := densetest.Normal(rng, 25, 6), densetest.Normal(rng, 25, 8)
	opt := Options{Permutations: 30, Seed: 9}
	want, err := Calibrate(x, y, cka.Linear, opt)
	if err != nil {
		t.Fatal(err)
	}
	perms, err := Permutations(25, opt)
	if err != nil || len(perms) != 30 {
		t.Fatalf("%d permutations, %v", len(perms), err)
	}
	null, err := Null(x, y, cka.Linear, perms)
	if err != nil {
		t.Fatal(err)
	}
	for i, perm := range perms {
		yp := mat.NewDense(25, 8, nil)
		for r, src := range perm {
			yp.SetRow(r, mat.Row(nil, src, y))
		}
		v, err := cka.Linear(x, yp)
		if err != nil || v != null[i] {
			t.Errorf("permutation %d: Null %v, direct %v (%v)", i, null[i], v, err)
		}
	}
	score, _ := cka.Linear(x, y)
	got, err := FromNull(score, null)
	if err != nil || got != want {
		t.Errorf("FromNull %+v (%v), Calibrate %+v", got, err, want)
	}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"short permutation", func() error { _, e := Null(x, y, cka.Linear, [][]int{{0, 1}}); return e }(), "2 entries for 25 rows"},
		{"repeated row", func() error {
			p := make([]int, 25)
			_, e := Null(x, y, cka.Linear, [][]int{p})
			return e
		}(), "not a permutation"},
		{"one null score", func() error { _, e := FromNull(0.5, []float64{0.1}); return e }(), "at least 2"},
		{"no rows", func() error { _, e := Permutations(0, opt); return e }(), "0 rows"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}
}
