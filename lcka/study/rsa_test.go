package study

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/internal/grampanel/grampaneltest"
	"github.com/layersim/layersim/lcka/rsa"
)

// TestRSAMatchesRows: the study's RSA, from float32 Gram matrices computed in
// row panels, equals rsa.AllPairs on the activations (float64 throughout),
// with n large enough for several panels.
func TestRSAMatchesRows(t *testing.T) { grampaneltest.Both(t, testRSAMatchesRows) }

func testRSAMatchesRows(t *testing.T) {
	root := t.TempDir()
	a := writeModel(t, root, "model-a", 3, 12, 300, 300, true, 1)
	b := writeModel(t, root, "model-b", 2, 7, 300, 300, false, 2)
	var reps []mat.Matrix
	for _, layers := range []map[string][]artifacts.Matrix{a, b} {
		for _, lang := range []string{"en", "hi"} {
			for _, x := range layers[lang] {
				reps = append(reps, dense(x, 300))
			}
		}
	}
	for _, method := range []string{"rsa-spearman:correlation", "rsa-pearson:cosine", "rsa-kendall-tau-a:euclidean"} {
		res, err := Analyze(Options{Artifacts: root, Langs: []string{"en", "hi"}, RSA: method, Bootstrap: -1, Permutations: -1})
		if err != nil {
			t.Fatal(err)
		}
		m, err := rsa.ParseMethod(method)
		if err != nil {
			t.Fatal(err)
		}
		want, err := rsa.AllPairs(reps, m.Dissimilarity, m.Comparison)
		if err != nil {
			t.Fatal(err)
		}
		for i := range reps {
			for j := range reps {
				if d := math.Abs(res.RSA.At(i, j) - want.At(i, j)); d > 1e-5 {
					t.Errorf("%s (%d, %d): %.7f, from the rows %.7f", method, i, j, res.RSA.At(i, j), want.At(i, j))
				}
			}
		}
	}
}
