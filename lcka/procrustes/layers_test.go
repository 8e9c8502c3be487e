package procrustes

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/densetest"
)

// layersRef is testdata/layers_ref.json, written by testdata/gen_layers.py
// (numpy 1.24.2): res is ‖RᵀA − B‖_F for the explicit orthogonal R of
// scipy's orthogonal_procrustes algorithm.
type layersRef []struct {
	Name     string      `json:"name"`
	A        [][]float64 `json:"a"`
	B        [][]float64 `json:"b"`
	Res, Rel float64
}

func TestLayerResidualAgainstNumpy(t *testing.T) {
	raw, err := os.ReadFile("testdata/layers_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases layersRef
	if err := json.Unmarshal(raw, &cases); err != nil || len(cases) == 0 {
		t.Fatalf("testdata/layers_ref.json: %v (%d cases)", err, len(cases))
	}
	for _, c := range cases {
		a, b := densetest.FromRows(c.A), densetest.FromRows(c.B)
		res, rel, err := LayerResidual(a, b)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		// The orthogonal-map case has res ≈ 0: a difference of nearly equal
		// terms, accurate to about 1e-8 of the scale.
		tol := max(tolRes*c.Res, 1e-7)
		if math.Abs(res-c.Res) > tol || math.Abs(rel-c.Rel) > tol {
			t.Errorf("%s: LayerResidual = %.17g, %.17g; numpy %.17g, %.17g", c.Name, res, rel, c.Res, c.Rel)
		}
		// From the cross block and the norms only.
		var cross mat.Dense
		cross.Mul(b, a.T())
		na, nb := mat.Norm(a, 2), mat.Norm(b, 2)
		res2, rel2, err := LayerResidualFromCross(&cross, na*na, nb*nb)
		if err != nil || res2 != res || rel2 != rel {
			t.Errorf("%s: LayerResidualFromCross = %g, %g, %v; LayerResidual %g, %g", c.Name, res2, rel2, err, res, rel)
		}
	}
}

// The two residuals answer different questions: B = QA (the rows mixed by an
// orthogonal Q) has no layer residual but a signature-space one, B = AR (the
// coordinates rotated by R) the other way round.
func TestLayerAndSignatureResiduals(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, sh := range [][2]int{{3, 20}, {6, 6}, {8, 50}} {
		L, p := sh[0], sh[1]
		a := mat.NewDense(L, p, nil)
		for i := 0; i < L; i++ {
			for j := 0; j < p; j++ {
				a.Set(i, j, rnd.NormFloat64())
			}
		}
		var rowMapped, rotated mat.Dense
		rowMapped.Mul(densetest.Orthogonal(rnd, L), a)
		rotated.Mul(a, densetest.Orthogonal(rnd, p))
		for _, c := range []struct {
			name           string
			b              *mat.Dense
			layerZero, sig bool
		}{{"rows mapped", &rowMapped, true, false}, {"coordinates rotated", &rotated, false, true}} {
			_, lrel, err := LayerResidual(a, c.b)
			if err != nil {
				t.Fatal(err)
			}
			_, srel, err := Residual(a, c.b)
			if err != nil {
				t.Fatal(err)
			}
			if (lrel < 1e-7) != c.layerZero || (srel < 1e-7) != c.sig {
				t.Errorf("%d×%d %s: layer rel %g, signature rel %g", L, p, c.name, lrel, srel)
			}
		}
	}
}

func TestLayerResidualErrors(t *testing.T) {
	a := mat.NewDense(2, 3, []float64{1, 0, 0, 0, 1, 0})
	for _, c := range []struct {
		name string
		run  func() error
		want string
	}{
		{"rows differ", func() error { _, _, err := LayerResidual(a, mat.NewDense(3, 3, nil)); return err }, "must match"},
		{"columns differ", func() error { _, _, err := LayerResidual(a, mat.NewDense(2, 4, nil)); return err }, "must match"},
		{"NaN", func() error {
			_, _, err := LayerResidual(a, mat.NewDense(2, 3, []float64{math.NaN(), 0, 0, 0, 0, 0}))
			return err
		}, "non-finite"},
		{"both zero", func() error { _, _, err := LayerResidual(mat.NewDense(2, 3, nil), mat.NewDense(2, 3, nil)); return err }, "both zero"},
		{"cross not square", func() error { _, _, err := LayerResidualFromCross(mat.NewDense(2, 3, nil), 1, 1); return err }, "square"},
		{"negative norm", func() error { _, _, err := LayerResidualFromCross(mat.NewDense(2, 2, nil), -1, 1); return err }, "≥ 0"},
		{"cross too large", func() error {
			_, _, err := LayerResidualFromCross(mat.NewDense(2, 2, []float64{2, 0, 0, 2}), 2, 2)
			return err
		}, "exceeds"},
	} {
		err := c.run()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
