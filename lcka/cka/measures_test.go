package cka

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/densetest"
)

type refCase struct {
	Name           string      `json:"name"`
	X, Y           [][]float64 `json:"-"`
	RawX           [][]float64 `json:"x"`
	RawY           [][]float64 `json:"y"`
	Linear         float64     `json:"linear"`
	LinearFeature  float64     `json:"linear_feature"`
	Standardized   float64     `json:"standardized"`
	Debiased       float64     `json:"debiased"`
	RBFHalf        float64     `json:"rbf_0.5"`
	RBF1           float64     `json:"rbf_1"`
	RBF2           float64     `json:"rbf_2"`
	MinibatchSize  int         `json:"minibatch_size"`
	Minibatch      float64     `json:"minibatch"`
	SignatureXHead []float64   `json:"signature_x_head"`
}

// loadRef reads the values computed by testdata/gen_ref.py with numpy.
func loadRef(t *testing.T) []refCase {
	t.Helper()
	data, err := os.ReadFile("testdata/ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []refCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	return ref.Cases
}

func dense(rows [][]float64) *mat.Dense {
	m := mat.NewDense(len(rows), len(rows[0]), nil)
	for i, r := range rows {
		m.SetRow(i, r)
	}
	return m
}

func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func TestAgainstNumpy(t *testing.T) {
	const tol = 1e-10 // float64 on both sides; observed differences are ~1e-15
	for _, c := range loadRef(t) {
		x, y := dense(c.RawX), dense(c.RawY)
		check := func(what string, got float64, err error, want float64) {
			t.Helper()
			if err != nil {
				t.Errorf("%s %s: %v", c.Name, what, err)
				return
			}
			if !near(got, want, tol) {
				t.Errorf("%s %s = %.15g, numpy %.15g", c.Name, what, got, want)
			}
		}
		v, err := LinearRoute(x, y, Gram)
		check("linear gram", v, err, c.Linear)
		v, err = LinearRoute(x, y, Feature)
		check("linear feature", v, err, c.LinearFeature)
		v, err = Standardized(x, y)
		check("standardized", v, err, c.Standardized)
		v, err = Debiased(x, y)
		check("debiased", v, err, c.Debiased)
		for _, rc := range []struct {
			t    float64
			want float64
		}{{0.5, c.RBFHalf}, {1, c.RBF1}, {2, c.RBF2}} {
			v, err = RBF(x, y, rc.t)
			check("rbf", v, err, rc.want)
		}
		var mb Minibatch
		n, _ := x.Dims()
		for s := 0; s < n; s += c.MinibatchSize {
			e := min(s+c.MinibatchSize, n)
			if err := mb.Add(x.Slice(s, e, 0, x.RawMatrix().Cols), y.Slice(s, e, 0, y.RawMatrix().Cols)); err != nil {
				t.Fatal(err)
			}
		}
		v, err = mb.CKA()
		check("minibatch", v, err, c.Minibatch)
		sig, err := Signature(x)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range c.SignatureXHead {
			if !near(sig[i], want, tol) {
				t.Errorf("%s signature[%d] = %g, numpy %g", c.Name, i, sig[i], want)
			}
		}
	}
}

func TestInvariances(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, dx, dy = 40, 12, 9
	x := densetest.Normal(rng, n, dx)
	var y mat.Dense
	y.Mul(x, densetest.Normal(rng, dx, dy))
	y.Add(&y, densetest.Normal(rng, n, dy))

	var rotated, scaled, shifted mat.Dense
	rotated.Mul(x, densetest.Orthogonal(rng, dx))
	scaled.Scale(7.5, x)
	shifted.Apply(func(_, j int, v float64) float64 { return v + float64(j)*3 - 11 }, x)

	measures := []struct {
		name string
		fn   func(a, b mat.Matrix) (float64, error)
		// which transformations of x leave the measure unchanged
		rotation, scaling, translation bool
	}{
		{"linear", Linear, true, true, true},
		{"debiased", Debiased, true, true, true},
		{"rbf", func(a, b mat.Matrix) (float64, error) { return RBF(a, b, 1) }, true, true, true},
		// Standardization is per column: invariant to scaling and translation,
		// not to rotations.
		{"standardized", Standardized, false, true, true},
	}
	for _, m := range measures {
		base, err := m.fn(x, &y)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range []struct {
			name string
			x    *mat.Dense
			inv  bool
		}{{"rotation", &rotated, m.rotation}, {"isotropic scaling", &scaled, m.scaling}, {"translation", &shifted, m.translation}} {
			if !tr.inv {
				continue
			}
			got, err := m.fn(tr.x, &y)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, base, 1e-10) {
				t.Errorf("%s changed under %s: %g → %g", m.name, tr.name, base, got)
			}
		}
		self, err := m.fn(x, x)
		if err != nil || !near(self, 1, 1e-12) {
			t.Errorf("%s(x, x) = %g, %v; want 1", m.name, self, err)
		}
		sym, _ := m.fn(&y, x)
		if !near(sym, base, 1e-12) {
			t.Errorf("%s not symmetric: %g vs %g", m.name, base, sym)
		}
	}
}

func TestSignatureDotIsStandardizedCKA(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x, y := densetest.Normal(rng, 25, 30), densetest.Normal(rng, 25, 7)
	sx, err := Signature(x)
	if err != nil {
		t.Fatal(err)
	}
	sy, _ := Signature(y)
	dot := 0.0
	for i := range sx {
		dot += sx[i] * sy[i]
	}
	want, _ := Standardized(x, y)
	if !near(dot, want, 1e-12) {
		t.Errorf("signature dot %g, standardized CKA %g", dot, want)
	}
}

func TestDebiasedNearZeroOnIndependentData(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	// With d ≫ n·something, biased CKA of independent data is far from zero
	// (its expectation grows with d/n); the debiased estimate is centered on 0.
	x, y := densetest.Normal(rng, 200, 400), densetest.Normal(rng, 200, 400)
	biased, _ := Linear(x, y)
	debiased, err := Debiased(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if biased < 0.5 {
		t.Errorf("biased CKA of independent wide data = %g, expected well above 0", biased)
	}
	if math.Abs(debiased) > 0.02 {
		t.Errorf("debiased CKA of independent data = %g, expected ≈ 0", debiased)
	}
}

func TestRoutesAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, dims := range [][3]int{{10, 50, 40}, {60, 5, 8}, {30, 30, 1}} {
		x, y := densetest.Normal(rng, dims[0], dims[1]), densetest.Normal(rng, dims[0], dims[2])
		g, _ := LinearRoute(x, y, Gram)
		f, _ := LinearRoute(x, y, Feature)
		a, _ := Linear(x, y)
		if !near(g, f, 1e-12) || !near(a, g, 1e-12) {
			t.Errorf("dims %v: gram %g feature %g auto %g", dims, g, f, a)
		}
	}
}

func TestBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	good := densetest.Normal(rng, 10, 3)
	nan := mat.DenseCopyOf(good)
	nan.Set(4, 1, math.NaN())
	inf := mat.DenseCopyOf(good)
	inf.Set(2, 2, math.Inf(-1))
	constant := mat.NewDense(10, 3, nil)
	constant.Apply(func(_, j int, _ float64) float64 { return float64(j) + 1e6 }, constant)
	tests := []struct {
		name string
		err  error
		msg  string
	}{
		{"nan", firstErr(Linear(nan, good)), "non-finite value NaN at row 4, column 1"},
		{"inf in y", firstErr(Standardized(good, inf)), "y has a non-finite value -Inf"},
		{"rows differ", firstErr(Linear(good, densetest.Normal(rng, 9, 3))), "x has 10 rows and y has 9"},
		{"constant", firstErr(Standardized(constant, good)), "constant"},
		{"constant linear", firstErr(Linear(good, constant)), "constant"},
		{"constant rbf", firstErr(RBF(constant, good, 1)), "constant"},
		{"debiased n<4", firstErr(Debiased(densetest.Normal(rng, 3, 2), densetest.Normal(rng, 3, 2))), "n ≥ 4"},
		{"one row", firstErr(Linear(densetest.Normal(rng, 1, 2), densetest.Normal(rng, 1, 2))), "at least 2"},
		{"bad threshold", firstErr(RBF(good, good, -1)), "threshold"},
		{"empty minibatch", firstErr((&Minibatch{}).CKA()), "no batches"},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if !strings.Contains(tt.err.Error(), tt.msg) {
			t.Errorf("%s: error %q does not mention %q", tt.name, tt.err, tt.msg)
		}
	}
	if _, err := Linear(constant, good); !errors.Is(err, ErrConstant) {
		t.Errorf("constant input: error %v is not ErrConstant", err)
	}
}

func firstErr(_ float64, err error) error { return err }

func TestCenteredGramIsSignature(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x := densetest.Normal(rng, 15, 6)
	g, err := CenteredGram(x, true)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := Signature(x)
	s := 0.0
	for i := 0; i < 15; i++ {
		for j := 0; j < 15; j++ {
			s += g.At(i, j) * g.At(i, j)
		}
	}
	s = math.Sqrt(s)
	for i := 0; i < 15; i++ {
		for j := 0; j < 15; j++ {
			if !near(g.At(i, j)/s, sig[i*15+j], 1e-12) {
				t.Fatalf("(%d,%d): %g vs signature %g", i, j, g.At(i, j)/s, sig[i*15+j])
			}
		}
		// Rows of a double-centered Gram sum to zero.
		if sum := mat.Sum(mat.NewVecDense(15, mat.Row(nil, i, g))); math.Abs(sum) > 1e-9 {
			t.Errorf("row %d sums to %g", i, sum)
		}
	}
}

// TestKornblithDemo checks the values printed in the tutorial of Kornblith et
// al.'s demo notebook (ICML 2019; representation_similarity/Demo.ipynb in
// google-research), on the same inputs, recreated by
// testdata/gen_kornblith_demo.py: published to 5 decimals.
func TestKornblithDemo(t *testing.T) {
	data, err := os.ReadFile("testdata/kornblith_demo.json")
	if err != nil {
		t.Fatal(err)
	}
	var demo struct {
		X, Y      [][]float64
		Published map[string]float64
	}
	if err := json.Unmarshal(data, &demo); err != nil {
		t.Fatal(err)
	}
	x, y := fromRows(demo.X), fromRows(demo.Y)
	for _, c := range []struct {
		name string
		fn   func() (float64, error)
	}{
		{"linear", func() (float64, error) { return Linear(x, y) }},
		{"rbf_0.5", func() (float64, error) { return RBF(x, y, 0.5) }},
		{"debiased", func() (float64, error) { return Debiased(x, y) }},
	} {
		got, err := c.fn()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want, ok := demo.Published[c.name]
		if !ok {
			t.Fatalf("no published %s value", c.name)
		}
		if math.Abs(got-want) > 5e-6 {
			t.Errorf("%s CKA = %.7f, published %.5f", c.name, got, want)
		}
	}
}

func fromRows(rows [][]float64) *mat.Dense {
	m := mat.NewDense(len(rows), len(rows[0]), nil)
	for i, r := range rows {
		m.SetRow(i, r)
	}
	return m
}
