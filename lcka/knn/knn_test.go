package knn

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
	"github.com/layersim/layersim/lcka/internal/grampanel/grampaneltest"
)

type refFile struct {
	X           [][]float64 `json:"x"`
	Independent [][]float64 `json:"independent"`
	Related     [][]float64 `json:"related"`
	Cases       []struct {
		Y          string  `json:"y"`
		Similarity string  `json:"similarity"`
		K          int     `json:"k"`
		Mutual     float64 `json:"mutual_knn"`
		CKNNA      float64 `json:"cknna"`
		Platonic   float64 `json:"cknna_platonic"`
	} `json:"cases"`
}

// TestAgainstNumpy checks both measures against testdata/gen_ref.py, a
// numpy transcription of platonic-rep's metrics.py.
func TestAgainstNumpy(t *testing.T) { grampaneltest.Both(t, testAgainstNumpy) }

func testAgainstNumpy(t *testing.T) {
	data, err := os.ReadFile("testdata/ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref refFile
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) != 16 {
		t.Fatalf("ref.json has %d cases, want 16", len(ref.Cases))
	}
	x := densetest.FromRows(ref.X)
	ys := map[string]*mat.Dense{"independent": densetest.FromRows(ref.Independent), "related": densetest.FromRows(ref.Related)}
	for _, c := range ref.Cases {
		s := map[string]Similarity{"cosine": Cosine, "inner": Inner}[c.Similarity]
		m, err := MutualKNN(x, ys[c.Y], c.K, s)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(m-c.Mutual) > 1e-12 {
			t.Errorf("%s %s k=%d: mutual k-NN %.15g, numpy %.15g", c.Y, c.Similarity, c.K, m, c.Mutual)
		}
		p, q, err := pair(x, ys[c.Y], c.K, s, 2)
		if err != nil {
			t.Fatal(err)
		}
		v, err := CKNNAOf(p, q)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(v-c.CKNNA) > 1e-9*max(1e-3, math.Abs(c.CKNNA)) {
			t.Errorf("%s %s k=%d: CKNNA %.15g, numpy %.15g", c.Y, c.Similarity, c.K, v, c.CKNNA)
		}
		// platonic-rep's value: the same ratio with 1e-6 added to √(self terms).
		d := math.Sqrt(p.self * q.self)
		if pv := v * d / (d + 1e-6); math.Abs(pv-c.Platonic) > 1e-9*max(1e-3, math.Abs(c.Platonic)) {
			t.Errorf("%s %s k=%d: CKNNA with platonic-rep's guard %.15g, numpy %.15g", c.Y, c.Similarity, c.K, pv, c.Platonic)
		}
	}
}

// With k = n−1 every input is a neighbour of every other, and CKNNA is the
// debiased linear CKA (whose unbiased HSIC does not see the centring).
func TestCKNNAFullIsDebiasedCKA(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := densetest.Normal(rng, 30, 7)
	y := densetest.Normal(rng, 30, 9)
	y.Add(y, func() *mat.Dense { var p mat.Dense; p.Mul(x, densetest.Normal(rng, 7, 9)); return &p }())
	got, err := CKNNA(x, y, 29, Inner)
	if err != nil {
		t.Fatal(err)
	}
	want, err := cka.Debiased(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("CKNNA(k=n−1) = %.15g, debiased CKA %.15g", got, want)
	}
}

// The invariances the package documents, as properties on random inputs.
func TestInvariances(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, d = 60, 10
	x := densetest.Normal(rng, n, d)
	y := densetest.Normal(rng, n, 14)
	var xq mat.Dense
	xq.Mul(x, densetest.Orthogonal(rng, d))
	var xs mat.Dense
	xs.Scale(3.5, x)
	rowScaled := mat.DenseCopyOf(x)
	for i := 0; i < n; i++ {
		r := rowScaled.RawRowView(i)
		for j := range r {
			r[j] *= 1 + float64(i)
		}
	}
	type fn func(a, b mat.Matrix, k int, s Similarity) (float64, error)
	for name, f := range map[string]fn{"mutual": MutualKNN, "cknna": CKNNA} {
		for _, s := range []Similarity{Cosine, Inner} {
			const k = 6
			self, err := f(x, x, k, s)
			if err != nil || self != 1 {
				t.Errorf("%s/%v: identical inputs give %v, %v; want exactly 1", name, s, self, err)
			}
			base, _ := f(x, y, k, s)
			cases := map[string]*mat.Dense{"orthogonal": &xq, "isotropic scaling": &xs}
			if s == Cosine {
				cases["row scaling"] = rowScaled
			}
			for what, xt := range cases {
				v, err := f(xt, y, k, s)
				if err != nil || math.Abs(v-base) > 1e-12 {
					t.Errorf("%s/%v: %s changes %.15g to %.15g (%v)", name, s, what, base, v, err)
				}
			}
		}
	}
}

// Independent inputs score near chance: mutual k-NN about k/(n−1), CKNNA
// about 0; a related pair scores well above.
func TestChance(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, k, trials = 200, 10, 8
	var mu, ck float64
	for range trials {
		x := densetest.Normal(rng, n, 32)
		y := densetest.Normal(rng, n, 32)
		m, err := MutualKNN(x, y, k, Cosine)
		if err != nil {
			t.Fatal(err)
		}
		c, err := CKNNA(x, y, k, Cosine)
		if err != nil {
			t.Fatal(err)
		}
		mu += m / trials
		ck += c / trials
	}
	if chance := float64(k) / (n - 1); math.Abs(mu-chance) > 0.02 {
		t.Errorf("mean mutual k-NN of independent inputs %.4f, chance %.4f", mu, chance)
	}
	if math.Abs(ck) > 0.05 {
		t.Errorf("mean CKNNA of independent inputs %.4f, want about 0", ck)
	}
	x := densetest.Normal(rng, n, 32)
	y := mat.DenseCopyOf(x)
	noise := densetest.Normal(rng, n, 32)
	noise.Scale(0.3, noise)
	y.Add(y, noise)
	m, _ := MutualKNN(x, y, k, Cosine)
	c, _ := CKNNA(x, y, k, Cosine)
	if m < 0.4 || c < 0.5 {
		t.Errorf("x and x + 0.3·noise: mutual k-NN %.3f, CKNNA %.3f; want well above chance", m, c)
	}
}

func TestAllPairs(t *testing.T) { grampaneltest.Both(t, testAllPairs) }

func testAllPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	reps := []mat.Matrix{densetest.Normal(rng, 40, 5), densetest.Normal(rng, 40, 8), densetest.Normal(rng, 40, 3)}
	for _, m := range []Measure{Mutual, Kernel} {
		all, err := AllPairs(reps, 4, Cosine, m)
		if err != nil {
			t.Fatal(err)
		}
		for i := range reps {
			for j := range reps {
				var want float64
				if m == Mutual {
					want, err = MutualKNN(reps[i], reps[j], 4, Cosine)
				} else {
					want, err = CKNNA(reps[i], reps[j], 4, Cosine)
				}
				// CKNNA's two orders come from one pass, summed in another
				// order: equal up to rounding.
				if err != nil || math.Abs(all.At(i, j)-want) > 1e-14 {
					t.Errorf("measure %d: AllPairs(%d, %d) = %v, pair %v (%v)", m, i, j, all.At(i, j), want, err)
				}
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	x := densetest.Normal(rng, 10, 3)
	zero := mat.DenseCopyOf(x)
	zero.SetRow(4, []float64{0, 0, 0})
	nan := mat.DenseCopyOf(x)
	nan.Set(2, 1, math.NaN())
	for _, c := range []struct {
		name string
		f    func() (float64, error)
		want string
	}{
		{"rows", func() (float64, error) { return MutualKNN(x, densetest.Normal(rng, 9, 3), 3, Cosine) }, "must match"},
		{"k=0", func() (float64, error) { return MutualKNN(x, x, 0, Cosine) }, "k ≥ 1"},
		{"k=n", func() (float64, error) { return MutualKNN(x, x, 10, Cosine) }, "1…9"},
		{"cknna k=1", func() (float64, error) { return CKNNA(x, x, 1, Cosine) }, "k ≥ 2"},
		{"cknna n=3", func() (float64, error) { return CKNNA(x.Slice(0, 3, 0, 3), x.Slice(0, 3, 0, 3), 2, Cosine) }, "n ≥ 4"},
		{"zero row", func() (float64, error) { return MutualKNN(zero, x, 3, Cosine) }, "row 4 of x is zero"},
		{"nan", func() (float64, error) { return CKNNA(x, nan, 3, Inner) }, "non-finite"},
		{"similarity", func() (float64, error) { return MutualKNN(x, x, 3, Similarity(7)) }, "invalid similarity"},
		{"nil", func() (float64, error) { return MutualKNN(nil, x, 3, Cosine) }, "nil"},
	} {
		_, err := c.f()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	if _, err := AllPairs(nil, 3, Cosine, Mutual); err == nil {
		t.Error("AllPairs of no layers: no error")
	}
}
