package embed

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"gonum.org/v1/gonum/mat"
)

type ref struct {
	S                    [][]float64        `json:"S"`
	Lang                 []float64          `json:"lang"`
	Model                []string           `json:"model"`
	Eigenvalues          []float64          `json:"eigenvalues"`
	XYZ                  [][]float64        `json:"xyz"`
	ClassicalEigenvalues []float64          `json:"classical_eigenvalues"`
	ClassicalXYZ         [][]float64        `json:"classical_xyz"`
	Corr                 []float64          `json:"corr"`
	Component            int                `json:"component"`
	PerModel             map[string]float64 `json:"per_model"`
}

// loadRef reads the values computed by testdata/gen_ref.py (numpy 1.24.2).
func loadRef(t *testing.T) ref {
	data, err := os.ReadFile("testdata/ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var r ref
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func sym(rows [][]float64) *mat.SymDense {
	s := mat.NewSymDense(len(rows), nil)
	for i := range rows {
		for j := i; j < len(rows); j++ {
			s.SetSym(i, j, rows[i][j])
		}
	}
	return s
}

const tol = 1e-10 // float64 eigensolvers on both sides; well-separated eigenvalues

func TestJointAgainstNumpy(t *testing.T) {
	r := loadRef(t)
	for _, c := range []struct {
		name   string
		opt    Options
		values []float64
		xyz    [][]float64
	}{
		{"uncentered", Options{}, r.Eigenvalues, r.XYZ},
		{"classical", Options{Classical: true}, r.ClassicalEigenvalues, r.ClassicalXYZ},
	} {
		e, err := Joint(sym(r.S), c.opt)
		if err != nil {
			t.Fatal(err)
		}
		// numpy lists eigenvalues ascending-sorted then reversed: same order.
		for k := 0; k < 3; k++ {
			if math.Abs(e.Eigenvalues[k]-c.values[k]) > tol {
				t.Errorf("%s eigenvalue %d = %g, numpy %g", c.name, k, e.Eigenvalues[k], c.values[k])
			}
		}
		for i, row := range c.xyz {
			for k, want := range row {
				if got := e.Coords.At(i, k); math.Abs(got-want) > tol {
					t.Errorf("%s coord (%d,%d) = %g, numpy %g", c.name, i, k, got, want)
				}
			}
		}
	}
}

func TestJointReconstructsFullRank(t *testing.T) {
	r := loadRef(t)
	m := len(r.S)
	e, err := Joint(sym(r.S), Options{Dims: m})
	if err != nil {
		t.Fatal(err)
	}
	var back mat.Dense
	back.Mul(e.Coords, e.Coords.T())
	if !mat.EqualApprox(&back, sym(r.S), 1e-10) {
		t.Error("coordinates with all dimensions do not reproduce S")
	}
	sum := 0.0
	for _, v := range e.Explained {
		sum += v
	}
	if math.Abs(sum-1) > 1e-10 {
		t.Errorf("explained shares sum to %g", sum)
	}
}

func TestLanguageAxisAgainstNumpy(t *testing.T) {
	r := loadRef(t)
	e, err := Joint(sym(r.S), Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := LanguageAxis(e.Coords, r.Lang, r.Model)
	if err != nil {
		t.Fatal(err)
	}
	if a.Component != r.Component {
		t.Errorf("language axis is coordinate %d, numpy %d", a.Component, r.Component)
	}
	for k, want := range r.Corr {
		if math.Abs(a.Corr[k]-want) > tol {
			t.Errorf("corr %d = %g, numpy %g", k, a.Corr[k], want)
		}
	}
	for g, want := range r.PerModel {
		if math.Abs(a.PerGroup[g]-want) > tol {
			t.Errorf("model %s: r = %g, numpy %g", g, a.PerGroup[g], want)
		}
	}
}

func TestSignConventionDeterministic(t *testing.T) {
	r := loadRef(t)
	e, _ := Joint(sym(r.S), Options{})
	for k := 0; k < 3; k++ {
		col := mat.Col(nil, k, e.Coords)
		big := 0
		for i, v := range col {
			if math.Abs(v) > math.Abs(col[big]) {
				big = i
			}
		}
		if col[big] <= 0 {
			t.Errorf("coordinate %d: largest entry %g is not positive", k, col[big])
		}
	}
}

func TestErrors(t *testing.T) {
	s := mat.NewSymDense(2, []float64{1, math.NaN(), math.NaN(), 1})
	if _, err := Joint(s, Options{}); err == nil {
		t.Error("NaN similarity: no error")
	}
	if _, err := Joint(mat.NewSymDense(2, []float64{1, 0, 0, 1}), Options{}); err == nil {
		t.Error("3 dimensions of 2 points: no error")
	}
	coords := mat.NewDense(4, 1, []float64{1, 2, 3, 4})
	if _, err := LanguageAxis(coords, []float64{1, 1, 1, 1}, []string{"a", "a", "a", "a"}); err == nil {
		t.Error("one language only: no error")
	}
	coords5 := mat.NewDense(5, 1, []float64{1, 2, 3, 4, 5})
	a, err := LanguageAxis(coords5, []float64{1, -1, 1, -1, 1}, []string{"a", "a", "b", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a.PerGroup["c"]; ok || len(a.Undefined) != 1 || a.Undefined[0] != "c" {
		t.Errorf("a group with one point should be undefined: %+v", a)
	}
	if _, err := LanguageAxis(coords, []float64{1}, []string{"a"}); err == nil {
		t.Error("length mismatch: no error")
	}
}
