package subspace

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/cka"
)

// ref is testdata/ref.json, written by testdata/gen_ref.py (numpy; the
// script's docstring has the command and the definitions).
type ref struct {
	Provenance string `json:"provenance"`
	Cases      []struct {
		Name       string    `json:"name"`
		N          int       `json:"n"`
		D          int       `json:"d"`
		Rs         []int     `json:"rs"`
		A          []float64 `json:"a"`
		B          []float64 `json:"b"`
		V          []float64 `json:"v"`
		Singular   []float64 `json:"singular"`
		Cumulative []float64 `json:"cumulative"`
		Mean       []float64 `json:"mean"`
		Projected  []struct {
			R int       `json:"r"`
			A []float64 `json:"a"`
			B []float64 `json:"b"`
		} `json:"projected"`
		Before   float64   `json:"before"`
		After    []float64 `json:"after"`
		Fraction []float64 `json:"fraction"`
		Halves   [2][]int  `json:"halves"`
		CrossFit struct {
			Before   float64   `json:"before"`
			After    []float64 `json:"after"`
			Fraction []float64 `json:"fraction"`
		} `json:"crossfit"`
	} `json:"cases"`
}

func loadRef(t *testing.T) ref {
	t.Helper()
	b, err := os.ReadFile("testdata/ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var r ref
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Cases) == 0 || !strings.Contains(r.Provenance, "gen_ref.py") {
		t.Fatalf("testdata/ref.json: no cases or no provenance")
	}
	return r
}

func maxDiff(t *testing.T, what string, got *mat.Dense, want []float64) float64 {
	t.Helper()
	r, c := got.Dims()
	if r*c != len(want) {
		t.Fatalf("%s: %d×%d, reference has %d values", what, r, c, len(want))
	}
	m := 0.0
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			m = max(m, math.Abs(got.At(i, j)-want[i*c+j]))
		}
	}
	return m
}

func close(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// TestAgainstNumpy checks directions (up to sign), singular values,
// variance fractions, the mean difference and the projected matrices
// against numpy, and the standardized-CKA curves, plain and cross-fitted
// on numpy's halves.
func TestAgainstNumpy(t *testing.T) {
	r := loadRef(t)
	for _, c := range r.Cases {
		t.Run(c.Name, func(t *testing.T) {
			a := mat.NewDense(c.N, c.D, c.A)
			b := mat.NewDense(c.N, c.D, c.B)
			top := 0
			for _, k := range c.Rs {
				top = max(top, k)
			}
			dirs, err := Estimate(a, b, top)
			if err != nil {
				t.Fatal(err)
			}
			for k := 0; k < top; k++ {
				// Up to sign: compare with the sign that fits best.
				dot := 0.0
				for i := 0; i < c.D; i++ {
					dot += dirs.V.At(i, k) * c.V[i*top+k]
				}
				s := math.Copysign(1, dot)
				for i := 0; i < c.D; i++ {
					if d := math.Abs(dirs.V.At(i, k) - s*c.V[i*top+k]); d > 1e-10 {
						t.Fatalf("direction %d component %d off by %.3g", k, i, d)
					}
				}
				if !close(dirs.Singular[k], c.Singular[k], 1e-10*c.Singular[0]) {
					t.Errorf("σ%d = %.17g, numpy %.17g", k+1, dirs.Singular[k], c.Singular[k])
				}
				if !close(dirs.Cumulative[k], c.Cumulative[k], 1e-12) {
					t.Errorf("fraction of %d directions %.17g, numpy %.17g", k+1, dirs.Cumulative[k], c.Cumulative[k])
				}
			}
			for j, m := range c.Mean {
				if !close(dirs.Mean[j], m, 1e-12) {
					t.Fatalf("mean difference %d: %.17g, numpy %.17g", j, dirs.Mean[j], m)
				}
			}
			for _, p := range c.Projected {
				rm, err := Remove(a, b, p.R)
				if err != nil {
					t.Fatal(err)
				}
				if d := maxDiff(t, "A·P", rm.A, p.A); d > 1e-10 {
					t.Errorf("r = %d: A·P off by %.3g", p.R, d)
				}
				if d := maxDiff(t, "B·P", rm.B, p.B); d > 1e-10 {
					t.Errorf("r = %d: B·P off by %.3g", p.R, d)
				}
			}
			cv, err := Measure(a, b, c.Rs, cka.Standardized)
			if err != nil {
				t.Fatal(err)
			}
			checkCurve(t, "plain", cv, c.Before, c.After, c.Fraction)
			cf, err := MeasureCrossFit(a, b, c.Rs, c.Halves, cka.Standardized)
			if err != nil {
				t.Fatal(err)
			}
			if !cf.CrossFit || cv.CrossFit {
				t.Errorf("CrossFit flags %v (cross-fitted), %v (plain)", cf.CrossFit, cv.CrossFit)
			}
			checkCurve(t, "cross-fit", cf, c.CrossFit.Before, c.CrossFit.After, c.CrossFit.Fraction)
		})
	}
}

func checkCurve(t *testing.T, what string, got *Curve, before float64, after, frac []float64) {
	t.Helper()
	if !close(got.Before, before, 1e-10) {
		t.Errorf("%s: before %.17g, numpy %.17g", what, got.Before, before)
	}
	if len(got.After) != len(after) || len(got.Fraction) != len(frac) {
		t.Fatalf("%s: %d/%d values, numpy %d/%d", what, len(got.After), len(got.Fraction), len(after), len(frac))
	}
	for i := range after {
		if !close(got.After[i], after[i], 1e-10) {
			t.Errorf("%s: r = %d: after %.17g, numpy %.17g", what, got.R[i], got.After[i], after[i])
		}
		if !close(got.Fraction[i], frac[i], 1e-10) {
			t.Errorf("%s: r = %d: fraction %.17g, numpy %.17g", what, got.R[i], got.Fraction[i], frac[i])
		}
	}
}

func gaussian(rng *rand.Rand, n, d int, scale float64) *mat.Dense {
	m := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			m.Set(i, j, scale*rng.NormFloat64())
		}
	}
	return m
}

// offsetPair returns A with a few strong latent factors, A + noise, and
// B = A + u·cᵀ + noise, u a per-prompt coefficient and c a unit direction.
func offsetPair(seed uint64, n, d int, offset, noise float64) (a, an, b *mat.Dense) {
	rng := rand.New(rand.NewPCG(seed, 1))
	z := gaussian(rng, n, 5, 1)
	w := gaussian(rng, 5, d, 1)
	a = mat.NewDense(n, d, nil)
	a.Mul(z, w)
	a.Add(a, gaussian(rng, n, d, 0.3))
	c := gaussian(rng, d, 1, 1)
	c.Scale(1/mat.Norm(c, 2), c)
	u := gaussian(rng, n, 1, offset)
	e := gaussian(rng, n, d, noise)
	an = mat.NewDense(n, d, nil)
	an.Add(a, e)
	var uc mat.Dense
	uc.Mul(u, c.T())
	b = mat.NewDense(n, d, nil)
	b.Add(an, &uc)
	return a, an, b
}

// TestProperties: r = 0 changes nothing; removing directions that carry
// only the language offset raises cross-lingual CKA to about that of A with
// itself plus noise; random directions change it little.
func TestProperties(t *testing.T) {
	for _, tc := range []struct {
		name string
		seed uint64
		n, d int
	}{
		{"n>d", 1, 120, 40},
		{"n<d", 2, 60, 150},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, an, b := offsetPair(tc.seed, tc.n, tc.d, 20, 0.2)
			noiseOnly, err := cka.Standardized(a, an)
			if err != nil {
				t.Fatal(err)
			}
			cv, err := Measure(a, b, []int{0, 1}, cka.Standardized)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("before %.4f after %.4f noise-only %.4f frac %.3f", cv.Before, cv.After[1], noiseOnly, cv.Fraction[1])
			if cv.After[0] != cv.Before {
				t.Errorf("r = 0: %v after, %v before", cv.After[0], cv.Before)
			}
			if cv.Before > noiseOnly-0.1 {
				t.Fatalf("the offset should lower CKA: %.4f with it, %.4f with noise alone", cv.Before, noiseOnly)
			}
			if math.Abs(cv.After[1]-noiseOnly) > 0.02 {
				t.Errorf("after removing 1 direction %.4f; A with itself + noise %.4f (before %.4f)", cv.After[1], noiseOnly, cv.Before)
			}
			if cv.Fraction[1] < 0.9 {
				t.Errorf("the offset direction holds %.3f of the differences' variance, want > 0.9", cv.Fraction[1])
			}
			cf, err := MeasureCrossFit(a, b, []int{0, 1}, Halves(tc.n, 7), cka.Standardized)
			if err != nil {
				t.Fatal(err)
			}
			if cf.After[0] != cf.Before || cf.After[1] < cf.Before+0.05 {
				t.Errorf("cross-fitted: before %.4f, after r=0 %.4f, r=1 %.4f", cf.Before, cf.After[0], cf.After[1])
			}
			// Random orthonormal directions.
			rng := rand.New(rand.NewPCG(tc.seed, 99))
			var qr mat.QR
			qr.Factorize(gaussian(rng, tc.d, 2, 1))
			var q mat.Dense
			qr.QTo(&q)
			v := q.Slice(0, tc.d, 0, 2)
			pa, err := Project(a, v)
			if err != nil {
				t.Fatal(err)
			}
			pb, err := Project(b, v)
			if err != nil {
				t.Fatal(err)
			}
			rnd, err := cka.Standardized(pa, pb)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("random %.4f; cross-fit %.4f → %.4f", rnd, cf.Before, cf.After[1])
			if math.Abs(rnd-cv.Before) > 0.05 || math.Abs(rnd-cv.Before) > (cv.After[1]-cv.Before)/3 {
				t.Errorf("2 random directions moved CKA from %.4f to %.4f (the offset direction: %.4f)", cv.Before, rnd, cv.After[1])
			}
		})
	}
}

// TestProjection checks that the projected rows are orthogonal to the
// directions, that projecting twice changes nothing, and that the held-out
// fraction on the fitting data is the fraction Estimate reports.
func TestProjection(t *testing.T) {
	a, _, b := offsetPair(3, 30, 9, 2, 0.5)
	rm, err := Remove(a, b, 3)
	if err != nil {
		t.Fatal(err)
	}
	var vtv mat.Dense
	vtv.Mul(rm.V.T(), rm.V)
	if !mat.EqualApprox(&vtv, eye(3), 1e-12) {
		t.Errorf("VᵀV = %v, want I", mat.Formatted(&vtv))
	}
	var av mat.Dense
	av.Mul(rm.A, rm.V)
	if n := mat.Norm(&av, math.Inf(1)); n > 1e-12 {
		t.Errorf("‖(A·P) V‖ = %.3g, want 0", n)
	}
	again, err := Project(rm.B, rm.V)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.EqualApprox(again, rm.B, 1e-12) {
		t.Error("projecting twice changed B·P")
	}
	f, err := HeldFraction(a, b, rm.V)
	if err != nil {
		t.Fatal(err)
	}
	if !close(f, rm.Fraction(), 1e-12) {
		t.Errorf("HeldFraction %.17g, Fraction %.17g", f, rm.Fraction())
	}
	for i := 1; i < 3; i++ {
		if rm.Cumulative[i] < rm.Cumulative[i-1] || rm.Singular[i] > rm.Singular[i-1] {
			t.Errorf("not ordered: σ %v, cumulative %v", rm.Singular, rm.Cumulative)
		}
	}
	// A translation of B (a constant offset) changes neither the
	// directions nor the fraction: they come from the centred differences.
	shifted := mat.DenseCopyOf(b)
	for i := 0; i < 30; i++ {
		row := shifted.RawRowView(i)
		for j := range row {
			row[j] += float64(j) - 4
		}
	}
	rs, err := Remove(a, shifted, 3)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 3; k++ {
		if !close(rs.Singular[k], rm.Singular[k], 1e-10) {
			t.Errorf("σ%d changed with a constant offset: %v → %v", k+1, rm.Singular[k], rs.Singular[k])
		}
	}
	if !mat.EqualApprox(rs.V, rm.V, 1e-10) {
		t.Error("the directions changed with a constant offset")
	}
}

func eye(k int) *mat.Dense {
	m := mat.NewDense(k, k, nil)
	for i := 0; i < k; i++ {
		m.Set(i, i, 1)
	}
	return m
}

func TestHalves(t *testing.T) {
	for _, n := range []int{4, 7, 100} {
		h := Halves(n, 3)
		if len(h[0]) != n/2 || len(h[1]) != n-n/2 {
			t.Errorf("n = %d: halves of %d and %d", n, len(h[0]), len(h[1]))
		}
		seen := map[int]bool{}
		for _, half := range h {
			for i, x := range half {
				if seen[x] || x < 0 || x >= n || (i > 0 && half[i-1] >= x) {
					t.Fatalf("n = %d: halves %v are not a sorted partition", n, h)
				}
				seen[x] = true
			}
		}
	}
	if a, b := Halves(50, 1), Halves(50, 2); equalInts(a[0], b[0]) {
		t.Error("different seeds gave the same halves")
	}
	if a, b := Halves(50, 1), Halves(50, 1); !equalInts(a[0], b[0]) {
		t.Error("the same seed gave different halves")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBadInput(t *testing.T) {
	a := mat.NewDense(4, 3, []float64{1, 2, 3, 4, 5, 6, 7, 8, 10, 1, 0, 2})
	b := mat.NewDense(4, 3, []float64{0, 2, 1, 4, 4, 6, 7, 9, 10, 3, 0, 2})
	nan := mat.DenseCopyOf(a)
	nan.Set(1, 1, math.NaN())
	half := [2][]int{{0, 1}, {2, 3}}
	for _, tc := range []struct {
		name string
		err  func() error
	}{
		{"nil A", func() error { _, err := Estimate(nil, b, 1); return err }},
		{"shapes", func() error { _, err := Estimate(a, mat.NewDense(3, 3, nil), 1); return err }},
		{"NaN", func() error { _, err := Estimate(nan, b, 1); return err }},
		{"negative r", func() error { _, err := Estimate(a, b, -1); return err }},
		{"r > n-1", func() error { _, err := Estimate(a, b, 4); return err }},
		{"A = B", func() error { _, err := Estimate(a, a, 1); return err }},
		{"constant offset only", func() error {
			c := mat.DenseCopyOf(a)
			for i := 0; i < 4; i++ {
				c.Set(i, 0, c.At(i, 0)+1)
			}
			_, err := Estimate(a, c, 1)
			return err
		}},
		{"rank < r", func() error {
			c := mat.DenseCopyOf(a)
			c.Set(0, 0, c.At(0, 0)+1)
			_, err := Estimate(a, c, 2)
			return err
		}},
		{"project dims", func() error { _, err := Project(a, mat.NewDense(4, 1, []float64{1, 0, 0, 0})); return err }},
		{"no r", func() error { _, err := Measure(a, b, nil, cka.Standardized); return err }},
		{"negative in rs", func() error { _, err := Measure(a, b, []int{1, -2}, cka.Standardized); return err }},
		{"halves overlap", func() error {
			_, err := MeasureCrossFit(a, b, []int{1}, [2][]int{{0, 1}, {1, 3}}, cka.Standardized)
			return err
		}},
		{"halves short", func() error {
			_, err := MeasureCrossFit(a, b, []int{1}, [2][]int{{0}, {1, 2, 3}}, cka.Standardized)
			return err
		}},
		{"r too large for a half", func() error { _, err := MeasureCrossFit(a, b, []int{2}, half, cka.Standardized); return err }},
	} {
		if err := tc.err(); err == nil {
			t.Errorf("%s: no error", tc.name)
		} else if !strings.HasPrefix(err.Error(), "subspace: ") && !strings.Contains(err.Error(), "subspace: ") {
			t.Errorf("%s: error %q does not name the package", tc.name, err)
		}
	}
	// r = 0 is allowed and leaves both matrices as they were.
	rm, err := Remove(a, b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.Equal(rm.A, a) || !mat.Equal(rm.B, b) || rm.Fraction() != 0 || rm.V != nil {
		t.Error("r = 0 changed something")
	}
}
