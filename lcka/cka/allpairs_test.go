package cka

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/densetest"
	"github.com/layersim/layersim/lcka/internal/grampanel/grampaneltest"
)

// randomLayers makes layers that share structure (so CKA values spread over
// (0, 1)), with the given widths, as float32 and as float64 copies of the
// same rounded values.
func randomLayers(seed uint64, n int, widths []int) (Slice, []*mat.Dense) {
	rng := rand.New(rand.NewPCG(seed, 99))
	base := densetest.Normal(rng, n, 6)
	var layers Slice
	var dense []*mat.Dense
	for k, d := range widths {
		var m mat.Dense
		m.Mul(base, densetest.Normal(rng, 6, d))
		noise := densetest.Normal(rng, n, d)
		noise.Scale(0.3+0.4*float64(k), noise)
		m.Add(&m, noise)
		f := make([]float32, n*d)
		for i := 0; i < n; i++ {
			for j := 0; j < d; j++ {
				f[i*d+j] = float32(m.At(i, j) + float64(j%3)) // offsets so centering matters
			}
		}
		layers = append(layers, Matrix{Rows: n, Cols: d, Data: f})
		g := mat.NewDense(n, d, nil)
		for i := range f {
			g.Set(i/d, i%d, float64(f[i]))
		}
		dense = append(dense, g)
	}
	return layers, dense
}

func TestAllPairsMatchesPairwise(t *testing.T) {
	const tol = 2e-5 // tiles are computed from float32 features; references in float64
	widths := []int{16, 40, 16, 7, 40}
	layers, dense := randomLayers(1, 53, widths)
	cases := []struct {
		name string
		opt  Options
		ref  func(x, y mat.Matrix) (float64, error)
	}{
		{"standardized one tile", Options{}, Standardized},
		{"standardized tiles 10", Options{TileSize: 10}, Standardized},
		{"standardized spilled", Options{TileSize: 16, MemoryBudget: 8 << 10}, Standardized},
		{"standardized small budget", Options{MemoryBudget: 8 << 10}, Standardized},
		{"linear tiles 7", Options{Measure: MeasureLinear, TileSize: 7}, Linear},
		{"debiased one tile", Options{Measure: MeasureDebiased}, Debiased},
		{"debiased tiles 12", Options{Measure: MeasureDebiased, TileSize: 12}, Debiased},
		{"debiased spilled", Options{Measure: MeasureDebiased, TileSize: 20, MemoryBudget: 8 << 10}, Debiased},
		// 8 blocks of 7 rows (the last of 4) × 119 features = 3,332 bytes:
		// half of this budget holds 4 blocks, so groups of 3 row blocks
		// stream the others past them: groups [0,3), [3,6), [6,8).
		{"standardized spilled groups", Options{TileSize: 7, MemoryBudget: 26656}, Standardized},
		{"debiased spilled groups", Options{Measure: MeasureDebiased, TileSize: 7, MemoryBudget: 26656}, Debiased},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := AllPairs(layers, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			wantRoute := "tiles"
			if c.opt.TileSize == 0 && c.opt.MemoryBudget == 0 {
				wantRoute = "signatures"
			}
			if res.Route != wantRoute {
				t.Errorf("route %q, want %q", res.Route, wantRoute)
			}
			if wantSpill := c.opt.MemoryBudget > 0; res.Spilled != wantSpill {
				t.Errorf("spilled = %v, want %v", res.Spilled, wantSpill)
			}
			if c.opt.MemoryBudget == 26656 && res.BlocksHeld != 3 {
				t.Errorf("%d row blocks held at once, want 3", res.BlocksHeld)
			}
			for i := range layers {
				for j := range layers {
					want, err := c.ref(dense[i], dense[j])
					if err != nil {
						t.Fatal(err)
					}
					if got := res.CKA.At(i, j); math.Abs(got-want) > tol {
						t.Errorf("(%d,%d) = %.8f, pairwise %.8f", i, j, got, want)
					}
				}
			}
		})
	}
}

func TestAllPairsMinibatch(t *testing.T) {
	layers, dense := randomLayers(2, 50, []int{12, 30, 12})
	const batch = 8 // 6 batches of 8, the last 2 inputs dropped
	res, err := AllPairs(layers, Options{Measure: MeasureLinear, Minibatch: batch})
	if err != nil {
		t.Fatal(err)
	}
	if res.Dropped != 2 {
		t.Errorf("dropped %d inputs, want 2", res.Dropped)
	}
	for i := range layers {
		for j := range layers {
			var mb Minibatch
			for s := 0; s+batch <= 50; s += batch {
				// AllPairs centers over all n first; unbiased HSIC does not
				// depend on it (translation invariance), so raw batches agree.
				if err := mb.Add(dense[i].Slice(s, s+batch, 0, dense[i].RawMatrix().Cols), dense[j].Slice(s, s+batch, 0, dense[j].RawMatrix().Cols)); err != nil {
					t.Fatal(err)
				}
			}
			want, _ := mb.CKA()
			if got := res.CKA.At(i, j); math.Abs(got-want) > 2e-5 {
				t.Errorf("(%d,%d) = %.8f, pairwise minibatch %.8f", i, j, got, want)
			}
		}
	}
}

func TestAllPairsProgressAndConstantColumns(t *testing.T) {
	layers, _ := randomLayers(3, 30, []int{5, 5})
	for i := 0; i < 30; i++ {
		layers[1].Data[i*5+2] = 4.25 // a constant column
	}
	var calls, lastDone, lastTotal int
	res, err := AllPairs(layers, Options{TileSize: 10, Progress: func(done, total int) {
		calls++
		if done != calls || (calls > 1 && total != lastTotal) {
			t.Errorf("progress call %d: %d/%d after %d/%d", calls, done, total, lastDone, lastTotal)
		}
		lastDone, lastTotal = done, total
	}})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 8 || lastDone != 8 || lastTotal != 8 { // 2 layers, then 3 row blocks: 3·4/2 tiles
		t.Errorf("progress: %d calls, last %d/%d; want 8 calls ending 8/8", calls, lastDone, lastTotal)
	}
	if res.ConstantColumns[0] != 0 || res.ConstantColumns[1] != 1 {
		t.Errorf("constant columns %v, want [0 1]", res.ConstantColumns)
	}
}

type failingSource struct{ Slice }

func (f failingSource) Name(i int) string { return fmt.Sprintf("model-x/hi/layer_%d", i+1) }

func TestAllPairsBadInput(t *testing.T) {
	good, _ := randomLayers(4, 12, []int{4, 4})
	nan, _ := randomLayers(4, 12, []int{4, 4})
	nan[1].Data[9] = float32(math.NaN())
	short, _ := randomLayers(4, 11, []int{4})
	constant := Matrix{Rows: 12, Cols: 3, Data: make([]float32, 36)}
	tests := []struct {
		name string
		src  Source
		opt  Options
		msg  string
	}{
		{"nan", failingSource{nan}, Options{}, "model-x/hi/layer_2: non-finite value NaN at input 2, feature 1"},
		{"n differs", failingSource{Slice{good[0], short[0]}}, Options{}, "layer_2 has 11 inputs but model-x/hi/layer_1 has 12"},
		{"constant layer", failingSource{Slice{good[0], constant}}, Options{}, "layer_2: representation is constant"},
		{"bad shape", Slice{{Rows: 3, Cols: 3, Data: make([]float32, 8)}}, Options{}, "shape 3×3 does not match 8 values"},
		{"no layers", Slice{}, Options{}, "no layers"},
		{"debiased n<4", Slice{{Rows: 3, Cols: 2, Data: []float32{1, 2, 3, 4, 5, 7}}}, Options{Measure: MeasureDebiased}, "n ≥ 4"},
		{"minibatch too small", good, Options{Minibatch: 3}, "≥ 4"},
		{"unknown measure", good, Options{Measure: 42}, "unknown measure"},
	}
	for _, tt := range tests {
		_, err := AllPairs(tt.src, tt.opt)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.msg)
		}
	}
}

// TestSignatureRouteBlocks covers the blocked Gram of the signature route
// (n above one block: only blocks on and above the diagonal are computed).
// TestSignatureRouteBlocks runs the signatures route on the host Gram
// kernel and on the GoMLX panels (where the CPU has the kernel; elsewhere
// on the panels alone) against the pairwise float64 references.
func TestSignatureRouteBlocks(t *testing.T) { grampaneltest.Both(t, testSignatureRouteBlocks) }

func testSignatureRouteBlocks(t *testing.T) {
	layers, dense := randomLayers(5, 301, []int{9, 14, 9})
	for _, c := range []struct {
		opt Options
		ref func(x, y mat.Matrix) (float64, error)
	}{{Options{}, Standardized}, {Options{Measure: MeasureLinear}, Linear}, {Options{Measure: MeasureDebiased}, Debiased}} {
		res, err := AllPairs(layers, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		if res.Route != "signatures" {
			t.Fatalf("route %q", res.Route)
		}
		if c.opt.Measure != MeasureDebiased && res.TileSize >= 301 {
			t.Errorf("%v: one block of %d rows; want several", c.opt.Measure, res.TileSize)
		}
		for i := range layers {
			for j := range layers {
				want, _ := c.ref(dense[i], dense[j])
				if got := res.CKA.At(i, j); math.Abs(got-want) > 2e-5 {
					t.Errorf("%v (%d,%d) = %.8f, pairwise %.8f", c.opt.Measure, i, j, got, want)
				}
			}
		}
	}
}
