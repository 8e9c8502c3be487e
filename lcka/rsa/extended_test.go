package rsa

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/internal/densetest"
)

var extended = []RDMComparison{KendallTauB, RhoA, WhitenedCosine, WhitenedCorrelation}

// TestExtendedAgainstNumpy checks the four comparisons against
// testdata/gen_ref_extended.py (rsatoolbox's definitions in numpy), on RDMs
// with many ties and on representations.
func TestExtendedAgainstNumpy(t *testing.T) {
	data, err := os.ReadFile("testdata/ref_extended.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		RDMs struct {
			A, B   [][]float64
			Values map[string]float64
		}
		X, Y [][]float64
		Reps []struct {
			Dissimilarity string
			Values        map[string]float64
		}
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	sym := func(rows [][]float64) *mat.SymDense {
		s := mat.NewSymDense(len(rows), nil)
		for i := range rows {
			for j := i; j < len(rows); j++ {
				s.SetSym(i, j, rows[i][j])
			}
		}
		return s
	}
	dense := func(rows [][]float64) *mat.Dense {
		m := mat.NewDense(len(rows), len(rows[0]), nil)
		for i, r := range rows {
			m.SetRow(i, r)
		}
		return m
	}
	if len(ref.RDMs.Values) != 4 || len(ref.Reps) != 3 {
		t.Fatalf("ref_extended.json: %d RDM values, %d representation cases", len(ref.RDMs.Values), len(ref.Reps))
	}
	for _, c := range extended {
		got, err := CompareRDMsWith(sym(ref.RDMs.A), sym(ref.RDMs.B), c)
		want := ref.RDMs.Values[c.String()]
		if err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("tied RDMs, %v: %.15g (%v), numpy %.15g", c, got, err, want)
		}
		for _, r := range ref.Reps {
			d, err := ParseDissimilarity(r.Dissimilarity)
			if err != nil {
				t.Fatal(err)
			}
			got, err := CompareWith(dense(ref.X), dense(ref.Y), d, c)
			want := r.Values[c.String()]
			if err != nil || math.Abs(got-want) > 1e-10 {
				t.Errorf("%s, %v: %.15g (%v), numpy %.15g", r.Dissimilarity, c, got, err, want)
			}
		}
	}
}

// Whitened cosine of squared Euclidean RDMs is linear CKA: −½HDH is the
// centred Gram matrix (rsatoolbox's own remark in _cosine_cov_weighted).
func TestWhitenedCosineIsCKA(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := densetest.Normal(rng, 25, 6), densetest.Normal(rng, 25, 9)
	got, err := CompareWith(x, y, Euclidean, WhitenedCosine)
	if err != nil {
		t.Fatal(err)
	}
	want, err := cka.Linear(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("whitened cosine of Euclidean RDMs %.15g, linear CKA %.15g", got, want)
	}
}

func TestExtendedProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 30
	x := densetest.Normal(rng, n, 5)
	var xq, xs mat.Dense
	xq.Mul(x, densetest.Orthogonal(rng, 5))
	xs.Scale(2.5, x)
	for _, c := range extended {
		for _, d := range []Dissimilarity{Cosine, Correlation, Euclidean} {
			self, err := CompareWith(x, x, d, c)
			if err != nil || math.Abs(self-1) > 1e-12 {
				t.Errorf("%v/%v: identical inputs give %v (%v), want 1", c, d, self, err)
			}
			// Scaling leaves rank comparisons and cosine RDMs alone and
			// multiplies Euclidean RDMs, which every comparison ignores.
			if s, err := CompareWith(x, &xs, d, c); err != nil || math.Abs(s-1) > 1e-12 {
				t.Errorf("%v/%v: x against 2.5x gives %v (%v), want 1", c, d, s, err)
			}
			if d != Correlation { // row centring does not commute with rotation
				if q, err := CompareWith(x, &xq, d, c); err != nil || math.Abs(q-1) > 1e-9 {
					t.Errorf("%v/%v: x against a rotation of x gives %v (%v), want 1", c, d, q, err)
				}
			}
		}
		// Independent representations: near 0 on average, except whitened
		// cosine, which is linear CKA on Euclidean RDMs and shares its
		// positive bias at small n.
		if c == WhitenedCosine {
			continue
		}
		mean := 0.0
		const trials = 10
		for range trials {
			v, err := CompareWith(densetest.Normal(rng, n, 5), densetest.Normal(rng, n, 5), Euclidean, c)
			if err != nil {
				t.Fatal(err)
			}
			mean += v / trials
		}
		if math.Abs(mean) > 0.1 {
			t.Errorf("%v: mean over independent pairs %.3f, want about 0", c, mean)
		}
	}
	// ρ_a of an RDM with ties against itself is below 1; τ_b is exactly 1.
	a := mat.NewSymDense(4, []float64{0, 1, 1, 2, 1, 0, 2, 2, 1, 2, 0, 3, 2, 2, 3, 0})
	rho, _ := CompareRDMsWith(a, a, RhoA)
	tau, _ := CompareRDMsWith(a, a, KendallTauB)
	if !(rho < 1-1e-3) || tau != 1 {
		t.Errorf("tied RDM with itself: ρ_a %v (want < 1), τ_b %v (want 1)", rho, tau)
	}
}

func TestExtendedBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := densetest.Normal(rng, 6, 3)
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"rows", func() error { _, e := CompareWith(x, densetest.Normal(rng, 5, 3), Cosine, RhoA); return e }(), "must match"},
		{"comparison", func() error { _, e := CompareWith(x, x, Cosine, RDMComparison(9)); return e }(), "invalid comparison"},
		{"dissimilarity", func() error { _, e := CompareWith(x, x, Dissimilarity(9), RhoA); return e }(), "invalid dissimilarity"},
		{"two samples", func() error {
			_, e := CompareWith(x.Slice(0, 2, 0, 3), x.Slice(0, 2, 0, 3), Cosine, KendallTauB)
			return e
		}(), "n ≥ 3"},
		{"constant RDM", func() error {
			_, e := CompareRDMsWith(mat.NewSymDense(3, []float64{0, 1, 1, 1, 0, 1, 1, 1, 0}), mat.NewSymDense(3, []float64{0, 1, 2, 1, 0, 3, 2, 3, 0}), KendallTauB)
			return e
		}(), "constant"},
		{"zero RDM", func() error {
			_, e := CompareRDMsWith(mat.NewSymDense(3, nil), mat.NewSymDense(3, []float64{0, 1, 2, 1, 0, 3, 2, 3, 0}), WhitenedCosine)
			return e
		}(), "zero"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}
	for _, bad := range []string{"rsa-rho-a", "rho-a:cosine", "rsa-nope:cosine", "rsa-rho-a:manhattan"} {
		if _, _, err := ParseRDMMethod(bad); err == nil {
			t.Errorf("ParseRDMMethod(%q): no error", bad)
		}
	}
	if c, d, err := ParseRDMMethod("rsa-whitened-correlation:euclidean"); err != nil || c != WhitenedCorrelation || d != Euclidean {
		t.Errorf("ParseRDMMethod: %v %v %v", c, d, err)
	}
}
