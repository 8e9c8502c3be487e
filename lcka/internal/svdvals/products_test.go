package svdvals

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/internal/densetest"
	"github.com/layersim/layersim/lcka/internal/grampanel"
	"github.com/layersim/layersim/lcka/internal/grampanel/grampaneltest"
)

// TestProductValues: the values of products of packed factors, one to six
// at a time (past a batch of four), equal Values of the same products made by
// grampanel.MulTN64, to the bit; a product that holds NaN is named by its
// index (*MatrixError).
func TestProductValues(t *testing.T) {
	grampaneltest.RequireHost(t)
	rng := rand.New(rand.NewPCG(51, 52))
	const n = 60
	type factor struct {
		x []float64
		k int
	}
	var fs []factor
	for _, k := range []int{7, 30, 59, 13, 24} {
		fs = append(fs, factor{densetest.Normals(rng, n*k), k})
	}
	pack := func(f factor, side grampanel.Side) *grampanel.Panels {
		p, err := grampanel.Pack64(f.x, f.k, n, f.k, side)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	want := func(a, b factor) []float64 {
		c := make([]float64, a.k*b.k)
		if err := grampanel.MulTN64(c, a.x, a.k, b.x, b.k, n, a.k, b.k, 1); err != nil {
			t.Fatal(err)
		}
		v, err := Values(c, a.k, b.k)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	pairs := [][2]int{{0, 1}, {2, 1}, {3, 2}, {4, 0}, {1, 4}, {2, 2}}
	for count := 1; count <= len(pairs); count++ {
		var prods []Factors
		for _, p := range pairs[:count] {
			prods = append(prods, Factors{pack(fs[p[0]], grampanel.Left), pack(fs[p[1]], grampanel.Right)})
		}
		got, err := ProductValues(prods)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range pairs[:count] {
			if w := want(fs[p[0]], fs[p[1]]); !slices.Equal(got[i], w) {
				t.Errorf("%d products: product %d differs from Values", count, i)
			}
		}
	}
	bad := factor{slices.Clone(fs[1].x), fs[1].k}
	bad.x[5] = math.NaN()
	for at := range len(pairs) {
		var prods []Factors
		for i, p := range pairs {
			b := fs[p[1]]
			if i == at {
				b = bad
			}
			prods = append(prods, Factors{pack(fs[p[0]], grampanel.Left), pack(b, grampanel.Right)})
		}
		_, err := ProductValues(prods)
		var me *MatrixError
		if !errors.As(err, &me) || me.Index != at || !strings.Contains(err.Error(), "NaN") {
			t.Errorf("NaN in product %d: %v", at, err)
		}
	}
}
