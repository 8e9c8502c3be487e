package outliers

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/internal/densetest"
)

type refFile struct {
	X    [][]float64 `json:"x"`
	Y    [][]float64 `json:"y"`
	Clip []struct {
		Q         float64     `json:"q"`
		Method    string      `json:"method"`
		Threshold float64     `json:"threshold"`
		Prepared  [][]float64 `json:"prepared"`
	} `json:"clip"`
	TopX       []int `json:"top_variance_x"`
	TopY       []int `json:"top_variance_y"`
	Dependence []struct {
		K       int     `json:"k"`
		With    float64 `json:"with"`
		Without float64 `json:"without"`
	} `json:"dependence"`
}

// TestAgainstReference checks thresholds, prepared matrices, top-variance
// columns and Dependence against testdata/gen_ref.py (platonic-rep's
// remove_outliers and F.normalize run in torch, thresholds again in numpy).
func TestAgainstReference(t *testing.T) {
	data, err := os.ReadFile("testdata/ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref refFile
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Clip) != 8 || len(ref.Dependence) != 4 {
		t.Fatalf("ref.json has %d clip and %d dependence cases, want 8 and 4", len(ref.Clip), len(ref.Dependence))
	}
	x, y := densetest.FromRows(ref.X), densetest.FromRows(ref.Y)
	for _, c := range ref.Clip {
		m := map[string]Quantile{"exact": Exact, "row-mean": RowMean}[c.Method]
		th, err := Threshold(x, c.Q, m)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(th-c.Threshold) > 1e-12*c.Threshold {
			t.Errorf("q=%g %s: threshold %.15g, reference %.15g", c.Q, c.Method, th, c.Threshold)
		}
		p, err := Prepare(x, c.Q, m)
		if err != nil {
			t.Fatal(err)
		}
		if want := densetest.FromRows(c.Prepared); !mat.EqualApprox(p, want, 1e-13) {
			t.Errorf("q=%g %s: prepared matrix differs from the reference", c.Q, c.Method)
		}
	}
	for _, c := range []struct {
		m    *mat.Dense
		want []int
	}{{x, ref.TopX}, {y, ref.TopY}} {
		got, err := TopVariance(c.m, len(c.want))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("top-variance columns %v, reference %v", got, c.want)
		}
	}
	for _, c := range ref.Dependence {
		with, without, err := Dependence(x, y, c.K, cka.Linear)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(with-c.With) > 1e-12 || math.Abs(without-c.Without) > 1e-12 {
			t.Errorf("k=%d: CKA %.15g without top dims %.15g, reference %.15g, %.15g", c.K, with, without, c.With, c.Without)
		}
	}
}

// TestProperties checks the no-op cases and the invariances of doc.go on
// random data with rogue columns.
func TestProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 4))
	x := densetest.Normal(rng, 30, 12)
	for i := 0; i < 30; i++ {
		x.Set(i, 2, 40*x.At(i, 2))
	}
	for _, m := range []Quantile{Exact, RowMean} {
		c, err := Clip(x, 1, m)
		if err != nil {
			t.Fatal(err)
		}
		if !mat.Equal(c, x) {
			t.Errorf("%v: clipping at q = 1 changed x", m)
		}
		c, err = Clip(x, 0.9, m)
		if err != nil {
			t.Fatal(err)
		}
		th, _ := Threshold(x, 0.9, m)
		if mx := mat.Max(c); mx > th || mat.Min(c) < -th || mat.Equal(c, x) {
			t.Errorf("%v: clipped values reach %g, threshold %g (or nothing clipped)", m, mx, th)
		}
		// Scaling: Clip(cX) = c·Clip(X).
		var sx, want mat.Dense
		sx.Scale(4, x)
		want.Scale(4, c)
		if got, _ := Clip(&sx, 0.9, m); !mat.EqualApprox(got, &want, 1e-12) {
			t.Errorf("%v: Clip(4X) ≠ 4·Clip(X)", m)
		}
		// Sign flip of a column and permutation of rows and columns.
		perm := rng.Perm(30)
		cperm := rng.Perm(12)
		px := mat.NewDense(30, 12, nil)
		for i := range perm {
			for j := range cperm {
				v := x.At(perm[i], cperm[j])
				if cperm[j] == 5 {
					v = -v
				}
				px.Set(i, j, v)
			}
		}
		pc, err := Clip(px, 0.9, m)
		if err != nil {
			t.Fatal(err)
		}
		for i := range perm {
			for j := range cperm {
				v := c.At(perm[i], cperm[j])
				if cperm[j] == 5 {
					v = -v
				}
				if pc.At(i, j) != v {
					t.Fatalf("%v: Clip does not commute with permutations and sign flips", m)
				}
			}
		}
	}
	// Normalize: unit rows, invariant to positive row scaling.
	nx, err := Normalize(x)
	if err != nil {
		t.Fatal(err)
	}
	sx := mat.DenseCopyOf(x)
	for i := 0; i < 30; i++ {
		if r := mat.Norm(nx.RowView(i), 2); math.Abs(r-1) > 1e-15 {
			t.Errorf("row %d has norm %g after Normalize", i, r)
		}
		row := sx.RawRowView(i)
		for j := range row {
			row[j] *= float64(i + 1)
		}
	}
	if ns, _ := Normalize(sx); !mat.EqualApprox(ns, nx, 1e-15) {
		t.Error("Normalize depends on the scale of the rows")
	}
	// DropTop: k = 0 is a no-op; the rogue column goes first; translation
	// of the columns does not change the choice.
	d0, top, err := DropTop(x, 0)
	if err != nil || len(top) != 0 || !mat.Equal(d0, x) {
		t.Errorf("DropTop(x, 0) changed x (dropped %v, err %v)", top, err)
	}
	d2, top, err := DropTop(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	if r, c := d2.Dims(); r != 30 || c != 10 || top[0] != 2 {
		t.Errorf("DropTop(x, 2): %d×%d, dropped %v; want 30×10 with column 2 first", r, c, top)
	}
	tx := mat.DenseCopyOf(x)
	for i := 0; i < 30; i++ {
		for j := 0; j < 12; j++ {
			tx.Set(i, j, tx.At(i, j)+float64(100*j))
		}
	}
	if tt, _ := TopVariance(tx, 4); !slices.Equal(tt, func() []int { v, _ := TopVariance(x, 4); return v }()) {
		t.Errorf("TopVariance changes under translation: %v", tt)
	}
	// Dependence with k = 0: both values equal.
	y := densetest.Normal(rng, 30, 7)
	with, without, err := Dependence(x, y, 0, cka.Linear)
	if err != nil || with != without {
		t.Errorf("Dependence(k = 0) = %g, %g (err %v); want equal values", with, without, err)
	}
}

// TestBadInput checks that bad arguments are errors.
func TestBadInput(t *testing.T) {
	x := mat.NewDense(4, 3, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3})
	nan := mat.DenseCopyOf(x)
	nan.Set(1, 1, math.NaN())
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"q = 0", func() error { _, err := Clip(x, 0, Exact); return err }(), "(0, 1]"},
		{"q > 1", func() error { _, err := Clip(x, 1.5, RowMean); return err }(), "(0, 1]"},
		{"q NaN", func() error { _, err := Threshold(x, math.NaN(), RowMean); return err }(), "(0, 1]"},
		{"method", func() error { _, err := Clip(x, 0.5, Quantile(7)); return err }(), "invalid"},
		{"NaN", func() error { _, err := Normalize(nan); return err }(), "non-finite"},
		{"nil", func() error { _, err := Clip(nil, 0.5, Exact); return err }(), "nil"},
		{"empty", func() error { _, err := Normalize(&mat.Dense{}); return err }(), "empty"},
		{"k < 0", func() error { _, _, err := DropTop(x, -1); return err }(), "0…2"},
		{"k = d", func() error { _, _, err := DropTop(x, 3); return err }(), "0…2"},
		{"rows", func() error { _, _, err := Dependence(x, mat.NewDense(3, 2, nil), 1, cka.Linear); return err }(), "must match"},
		{"measure", func() error { _, _, err := Dependence(x, x, 1, nil); return err }(), "nil measure"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}
}
