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
	"github.com/layersim/layersim/lcka/embed"
)

// embedRef is testdata/embed_ref.json, written by
// testdata/gen_embed_ref.py (numpy; its docstring has the command and the
// definitions).
type embedRef struct {
	Provenance string `json:"provenance"`
	Cases      []struct {
		Name   string        `json:"name"`
		N      int           `json:"n"`
		D      int           `json:"d"`
		Layers int           `json:"layers"`
		Rs     []int         `json:"rs"`
		A      [][]float64   `json:"a"`
		B      [][]float64   `json:"b"`
		Halves *[2][]int     `json:"halves"`
		Before embedRefMap   `json:"before"`
		After  []embedRefMap `json:"after"`
	} `json:"cases"`
}

type embedRefMap struct {
	R                int       `json:"r"`
	CKA              []float64 `json:"cka"`
	Coords           []float64 `json:"coords"`
	Eigenvalues      []float64 `json:"eigenvalues"`
	PairDistance     []float64 `json:"pair_distance"`
	MeanPairDistance float64   `json:"mean_pair_distance"`
	Eta2             float64   `json:"eta2"`
}

func loadEmbedRef(t *testing.T) embedRef {
	t.Helper()
	b, err := os.ReadFile("testdata/embed_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var r embedRef
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Cases) == 0 || !strings.Contains(r.Provenance, "gen_embed_ref.py") {
		t.Fatalf("testdata/embed_ref.json: no cases or no provenance")
	}
	return r
}

func sliceDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// TestJointEmbeddingAgainstNumpy: the joint matrices, aligned coordinates
// and separations before and after the removal agree with numpy's. The
// CKA engine works in float32: 1e-5.
func TestJointEmbeddingAgainstNumpy(t *testing.T) {
	for _, c := range loadEmbedRef(t).Cases {
		var ls LayerSlice
		for k := 0; k < c.Layers; k++ {
			ls.A = append(ls.A, mat.NewDense(c.N, c.D, c.A[k]))
			ls.B = append(ls.B, mat.NewDense(c.N, c.D, c.B[k]))
		}
		j, err := JointEmbedding(ls, c.Rs, JointOptions{Halves: c.Halves})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if j.Layers != c.Layers || j.CrossFit != (c.Halves != nil) || len(j.After) != len(c.Rs) {
			t.Fatalf("%s: %d layers, cross-fit %v, %d maps", c.Name, j.Layers, j.CrossFit, len(j.After))
		}
		for i, got := range append([]*JointMap{j.Before}, j.After...) {
			want := c.Before
			if i > 0 {
				want = c.After[i-1]
			}
			if got.R != want.R {
				t.Fatalf("%s: map %d has r = %d, want %d", c.Name, i, got.R, want.R)
			}
			m := 2 * c.Layers
			s := mat.DenseCopyOf(got.CKA)
			for _, chk := range []struct {
				what      string
				got, want []float64
				tol       float64
			}{
				{"CKA", s.RawMatrix().Data, want.CKA, 1e-5},
				{"coordinates", got.Coords.RawMatrix().Data, want.Coords, 1e-5},
				{"eigenvalues", got.Eigenvalues, want.Eigenvalues, 1e-5},
				{"pair distances", got.PairDistance, want.PairDistance, 1e-5},
				{"mean pair distance", []float64{got.MeanPairDistance}, []float64{want.MeanPairDistance}, 1e-5},
				{"η²", []float64{got.Eta2}, []float64{want.Eta2}, 1e-5},
			} {
				if d := sliceDiff(chk.got, chk.want); d > chk.tol {
					t.Errorf("%s, r = %d: %s differ from numpy's by %.3g (%d×%d map)", c.Name, want.R, chk.what, d, m, m)
				}
			}
		}
	}
}

// offsetLayers draws L layers in two languages: a shared latent through a
// different map per layer, and B = A + u·cₖᵀ + noise with a per-prompt
// offset u along a random direction cₖ of each layer.
func offsetLayers(seed uint64, n, d, layers int, offset float64) LayerSlice {
	rng := rand.New(rand.NewPCG(seed, 7))
	latent := mat.NewDense(n, 4, nil)
	for i := 0; i < n; i++ {
		for q := 0; q < 4; q++ {
			latent.Set(i, q, rng.NormFloat64())
		}
	}
	var ls LayerSlice
	for k := 0; k < layers; k++ {
		w := mat.NewDense(4, d, nil)
		for i := 0; i < 4; i++ {
			for j := 0; j < d; j++ {
				w.Set(i, j, rng.NormFloat64()+0.3*float64(k))
			}
		}
		a := new(mat.Dense)
		a.Mul(latent, w)
		c := make([]float64, d)
		norm := 0.0
		for j := range c {
			c[j] = rng.NormFloat64()
			norm += c[j] * c[j]
		}
		b := mat.NewDense(n, d, nil)
		for i := 0; i < n; i++ {
			u := offset * rng.NormFloat64()
			for j := 0; j < d; j++ {
				a.Set(i, j, a.At(i, j)+0.5*rng.NormFloat64())
				b.Set(i, j, a.At(i, j)+u*c[j]/math.Sqrt(norm)+0.2*rng.NormFloat64())
			}
		}
		ls.A, ls.B = append(ls.A, a), append(ls.B, b)
	}
	return ls
}

// TestJointEmbeddingOffset: with a rank-1 language offset in every layer,
// removing one direction moves layer k of the two languages together (the
// mean pair distance and η² drop), cross-fitted or not, while r = 0
// reproduces the map before bit for bit.
func TestJointEmbeddingOffset(t *testing.T) {
	ls := offsetLayers(3, 40, 12, 4, 4)
	for _, cross := range []bool{false, true} {
		opt := JointOptions{}
		if cross {
			h := Halves(40, 9)
			opt.Halves = &h
		}
		j, err := JointEmbedding(ls, []int{0, 1}, opt)
		if err != nil {
			t.Fatal(err)
		}
		b, a0, a1 := j.Before, j.After[0], j.After[1]
		if !mat.Equal(b.CKA, a0.CKA) || !mat.Equal(b.Coords, a0.Coords) || sliceDiff(b.PairDistance, a0.PairDistance) != 0 || b.Eta2 != a0.Eta2 {
			t.Errorf("cross-fit %v: r = 0 changed the map", cross)
		}
		if a1.MeanPairDistance > 0.3*b.MeanPairDistance || a1.Eta2 > 0.3*b.Eta2 {
			t.Errorf("cross-fit %v: r = 1 took the mean pair distance from %.4f to %.4f and η² from %.4g to %.4g",
				cross, b.MeanPairDistance, a1.MeanPairDistance, b.Eta2, a1.Eta2)
		}
		for k, d := range a1.PairDistance {
			if d >= b.PairDistance[k] {
				t.Errorf("cross-fit %v: layer %d: pair distance %.4f before, %.4f after", cross, k+1, b.PairDistance[k], d)
			}
		}
		// The rotation is orthogonal, and the separation does not depend
		// on it.
		var qtq mat.Dense
		qtq.Mul(a1.Rotation.T(), a1.Rotation)
		if !mat.EqualApprox(&qtq, eye(3), 1e-12) {
			t.Errorf("QᵀQ = %v", mat.Formatted(&qtq))
		}
		e, err := embed.Joint(a1.CKA, embed.Options{})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := Separate(e.Coords)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(raw.MeanPairDistance-a1.MeanPairDistance) > 1e-12 || math.Abs(raw.Eta2-a1.Eta2) > 1e-12 {
			t.Errorf("separation before the rotation %+v, after %+v", raw, a1.Separation)
		}
	}
}

// TestJointCKADirect: JointCKA is cka.AllPairs on the projected matrices
// (Remove, layer by layer, then float32), computed here directly, and its
// cross-lingual entries (layer k in both languages) are what Measure and
// MeasureCrossFit report.
func TestJointCKADirect(t *testing.T) {
	ls := offsetLayers(4, 30, 9, 3, 3)
	L := len(ls.A)
	toMatrix := func(x *mat.Dense) cka.Matrix {
		n, d := x.Dims()
		m := cka.Matrix{Rows: n, Cols: d, Data: make([]float32, n*d)}
		for i := 0; i < n; i++ {
			for j := 0; j < d; j++ {
				m.Data[i*d+j] = float32(x.At(i, j))
			}
		}
		return m
	}
	for _, measure := range []cka.Measure{cka.MeasureStandardized, cka.MeasureLinear} {
		opt := JointOptions{CKA: cka.Options{Measure: measure}}
		fn := map[cka.Measure]MeasureFunc{cka.MeasureStandardized: cka.Standardized, cka.MeasureLinear: cka.Linear}[measure]
		for _, r := range []int{0, 2} {
			got, err := JointCKA(ls, r, opt)
			if err != nil {
				t.Fatal(err)
			}
			src := make(cka.Slice, 2*L)
			for k := 0; k < L; k++ {
				rm, err := Remove(ls.A[k], ls.B[k], r)
				if err != nil {
					t.Fatal(err)
				}
				src[k], src[L+k] = toMatrix(rm.A), toMatrix(rm.B)
			}
			want, err := cka.AllPairs(src, opt.CKA)
			if err != nil {
				t.Fatal(err)
			}
			if !mat.EqualApprox(got, want.CKA, 1e-12) {
				t.Errorf("%v, r = %d: JointCKA differs from AllPairs on the projected matrices", measure, r)
			}
			for k := 0; k < L; k++ {
				c, err := Measure(ls.A[k], ls.B[k], []int{r}, fn)
				if err != nil {
					t.Fatal(err)
				}
				if d := math.Abs(got.At(k, L+k) - c.After[0]); d > 1e-5 {
					t.Errorf("%v, r = %d, layer %d: joint entry %.6f, Measure %.6f", measure, r, k+1, got.At(k, L+k), c.After[0])
				}
			}
		}
	}
	// Cross-fitted: the average of the two halves' matrices, each with the
	// directions of the other half.
	h := Halves(30, 5)
	got, err := JointCKA(ls, 1, JointOptions{Halves: &h})
	if err != nil {
		t.Fatal(err)
	}
	want := mat.NewSymDense(2*L, nil)
	for half := range 2 {
		fit, eval := h[half], h[1-half]
		src := make(cka.Slice, 2*L)
		for k := 0; k < L; k++ {
			a, b := rows(ls.A[k].(*mat.Dense), fit), rows(ls.B[k].(*mat.Dense), fit)
			dirs, err := Estimate(a, b, 1)
			if err != nil {
				t.Fatal(err)
			}
			pa, _ := Project(rows(ls.A[k].(*mat.Dense), eval), dirs.V)
			pb, _ := Project(rows(ls.B[k].(*mat.Dense), eval), dirs.V)
			src[k], src[L+k] = toMatrix(pa), toMatrix(pb)
		}
		res, err := cka.AllPairs(src, cka.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2*L; i++ {
			for j := i; j < 2*L; j++ {
				want.SetSym(i, j, want.At(i, j)+res.CKA.At(i, j)/2)
			}
		}
	}
	if !mat.EqualApprox(got, want, 1e-12) {
		t.Errorf("cross-fitted JointCKA differs from the halves' AllPairs averaged")
	}
	for k := 0; k < L; k++ {
		c, err := MeasureCrossFit(ls.A[k], ls.B[k], []int{0, 1}, h, cka.Standardized)
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(got.At(k, L+k) - c.After[1]); d > 1e-5 {
			t.Errorf("cross-fit layer %d: joint entry %.6f, MeasureCrossFit %.6f", k+1, got.At(k, L+k), c.After[1])
		}
	}
}

// TestAlign: a rotated and reflected copy is rotated back exactly, and the
// rotation found is the inverse of the one applied.
func TestAlign(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := mat.NewDense(8, 3, nil)
	for i := 0; i < 8; i++ {
		for j := 0; j < 3; j++ {
			x.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	g := mat.NewDense(3, 3, nil)
	for i := 0; i < 9; i++ {
		g.RawMatrix().Data[i] = rng.NormFloat64()
	}
	qr.Factorize(g)
	var q0 mat.Dense
	qr.QTo(&q0)
	var moved mat.Dense
	moved.Mul(x, &q0)
	q, aligned, err := Align(&moved, x)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.EqualApprox(aligned, x, 1e-12) || !mat.EqualApprox(q, q0.T(), 1e-12) {
		t.Errorf("Align did not undo the rotation: Q = %v", mat.Formatted(q))
	}
	q, aligned, err = Align(x, x)
	if err != nil || !mat.Equal(q, eye(3)) || !mat.Equal(aligned, x) {
		t.Errorf("Align(x, x): Q = %v, err %v", mat.Formatted(q), err)
	}
	if _, _, err := Align(x, mat.NewDense(8, 2, nil)); err == nil {
		t.Error("shapes 8×3 and 8×2: no error")
	}
}

// TestSeparate: two languages as copies of one path shifted by s: every
// pair distance is |s|; η² is L·2·(s/2)² over L·2·(s/2)² plus the path's
// own scatter.
func TestSeparate(t *testing.T) {
	x := mat.NewDense(6, 2, []float64{
		0, 0, 1, 0, 2, 0, // language 1: along the first axis
		0, 3, 1, 3, 2, 3, // language 2: shifted by (0, 3)
	})
	s, err := Separate(x)
	if err != nil {
		t.Fatal(err)
	}
	// Scatter along the first axis: 2·(1 + 0 + 1) = 4; between: 6·1.5² = 13.5.
	if sliceDiff(s.PairDistance, []float64{3, 3, 3}) > 1e-15 || s.MeanPairDistance != 3 || math.Abs(s.Eta2-13.5/17.5) > 1e-15 {
		t.Errorf("%+v", s)
	}
	for _, bad := range []*mat.Dense{mat.NewDense(3, 2, nil), mat.NewDense(1, 1, nil), mat.NewDense(2, 1, []float64{1, math.NaN()})} {
		if _, err := Separate(bad); err == nil {
			t.Errorf("%v: no error", mat.Formatted(bad))
		}
	}
}

func TestJointErrors(t *testing.T) {
	ls := offsetLayers(5, 12, 5, 2, 2)
	one := LayerSlice{A: ls.A[:1], B: ls.B[:1]}
	short := LayerSlice{A: []mat.Matrix{ls.A[0], mat.NewDense(10, 5, nil)}, B: []mat.Matrix{ls.B[0], mat.NewDense(10, 5, nil)}}
	ragged := LayerSlice{A: []mat.Matrix{ls.A[0], ls.A[1]}, B: []mat.Matrix{ls.B[0], mat.NewDense(11, 5, nil)}}
	nan := mat.DenseCopyOf(ls.A[1])
	nan.Set(2, 2, math.NaN())
	bad := [2][]int{{0, 1, 2}, {3, 4}}
	tiny := [2][]int{{0}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}
	for _, tc := range []struct {
		name   string
		layers Layers
		rs     []int
		opt    JointOptions
		want   string
	}{
		{"no layers", LayerSlice{}, []int{1}, JointOptions{}, "no layers"},
		{"nil", nil, []int{1}, JointOptions{}, "no layers"},
		{"no r", ls, nil, JointOptions{}, "no r"},
		{"negative r", ls, []int{-1}, JointOptions{}, "≥ 0"},
		{"r too large", ls, []int{12}, JointOptions{}, "exceeds"},
		{"one layer", one, []int{1}, JointOptions{}, "at least 2 layers"},
		{"prompts differ across layers", short, []int{1}, JointOptions{}, "same prompts"},
		{"prompts differ across languages", ragged, []int{1}, JointOptions{}, "same prompts"},
		{"not finite", LayerSlice{A: []mat.Matrix{ls.A[0], nan}, B: ls.B}, []int{1}, JointOptions{}, "non-finite"},
		{"halves not a partition", ls, []int{1}, JointOptions{Halves: &bad}, "hold 5 of 12"},
		{"half too small", ls, []int{1}, JointOptions{Halves: &tiny}, "at least 2"},
		{"unknown measure", ls, []int{1}, JointOptions{CKA: cka.Options{Measure: 9}}, "unknown measure"},
	} {
		_, err := JointEmbedding(tc.layers, tc.rs, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := JointCKA(ls, -1, JointOptions{}); err == nil {
		t.Error("JointCKA r = -1: no error")
	}
}
