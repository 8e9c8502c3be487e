package llm

import (
	"math"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/layersim/layersim/internal/amx"
	"github.com/layersim/layersim/internal/testenv"
)

// needAMX skips the test on a CPU without AMX, and fails it (under CI) or
// skips it where the CPU has AMX but the process may not use it.
func needAMX(t *testing.T) {
	t.Helper()
	if amx.Available() {
		return
	}
	if testenv.CPUListsAMX() {
		testenv.Missing(t, "the CPU lists AMX but internal/amx is not available")
	}
	t.Skip("no AMX on this CPU")
}

// TestAMXEqualsGraph runs every small dense architecture in bfloat16 with
// its linear layers on the AMX kernel (the default where the CPU has it)
// and in one graph on the backend's kernel (WithoutAMX), on a padded
// batch and on a long one (300 rows: several tiles of the kernel), and
// compares every state at every position.
//
// Tolerance: the products differ only in the order of their float32
// accumulation (and TDPBF16PS's flushing of subnormals), a few float32
// ulps, but each linear output and the residual stream are rounded to
// bfloat16, where a float32 ulp of difference can flip one rounding by a
// bfloat16 ulp (2⁻⁸ relative), and the flips propagate through the next
// layers like any bfloat16 rounding error. So the AMX pass must be as
// accurate as the one-graph bfloat16 pass against the float64 reference
// (relative, with the layer's RMS as floor, at real positions): within
// 1.25 times its error plus 0.005 at every state; and the two passes may
// differ by at most 0.08 of the RMS at every position, the bound
// TestHalfAgainstReference sets for bfloat16 against the reference
// (observed: identical on the padded batch, whose products the backend
// accumulates in the same order; up to 0.05 of the RMS on the long one,
// where either pass is 0.03–0.11 from the reference). A wrong product (a
// lost tile, a transposed weight) moves states by the order of the RMS.
//
// In float32 (the linear layers as six bfloat16 products each, see
// amx.SplitWeight) the passes may differ by 1e-5 of the RMS, and the AMX
// pass's error against the reference must stay within 1.25 times the
// one-graph pass's plus 1e-6 (observed: both about 1e-6).
func TestAMXEqualsGraph(t *testing.T) {
	needAMX(t)
	for _, dt := range []dtypes.DType{dtypes.BFloat16, dtypes.Float32} {
		t.Run(dt.String(), func(t *testing.T) { testAMXEqualsGraph(t, dt) })
	}
}

func testAMXEqualsGraph(t *testing.T, dt dtypes.DType) {
	tokens, mask := paddedBatch()
	longTokens, longMask := longBatch(300)
	tol, floor := 0.08, 0.005
	if dt == dtypes.Float32 {
		tol, floor = 1e-5, 1e-6
	}
	for name, cfg := range smallConfigs() {
		if cfg.MoE != nil {
			continue
		}
		var w Weights = randomWeights{cfg: cfg, seed: 3}
		if dt == dtypes.BFloat16 {
			w = roundedWeights{randomWeights{cfg: cfg, seed: 3}, dtypes.BFloat16}
		}
		ref, err := New(testBackend(), cfg, w, WithDType(dt), WithoutAMX())
		if err != nil {
			t.Fatal(err)
		}
		defer ref.Close()
		m, err := New(testBackend(), cfg, w, WithDType(dt))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if m.amx == nil || ref.amx != nil {
			t.Fatalf("%s: AMX path %v by default, %v WithoutAMX", name, m.amx != nil, ref.amx != nil)
		}
		for _, batch := range []struct {
			name         string
			tokens, mask [][]int32
		}{{"padded", tokens, mask}, {"long", longTokens, longMask}} {
			t.Run(name+"/"+batch.name, func(t *testing.T) {
				pos := PositionsFromMask(batch.mask)
				want, err := ref.HiddenStates(batch.tokens, batch.mask, pos)
				if err != nil {
					t.Fatal(err)
				}
				got, err := m.HiddenStates(batch.tokens, batch.mask, pos)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("%d states, want %d", len(got), len(want))
				}
				exact, err := ReferenceHiddenStates(cfg, w, batch.tokens, batch.mask, pos)
				if err != nil {
					t.Fatal(err)
				}
				var worst, worstAMX, worstGraph float64
				for l := range want {
					e := relToRMS(got[l], want[l])
					worst = max(worst, e)
					if e > tol {
						t.Errorf("state %d: AMX differs from the one-graph pass by %.3g of the RMS (tolerance %.3g)", l, e, tol)
					}
					r := realPositions64(exact[l], batch.mask, cfg.HiddenSize)
					eAMX := maxRelErr(realPositions(got[l], batch.mask, cfg.HiddenSize), r)
					eGraph := maxRelErr(realPositions(want[l], batch.mask, cfg.HiddenSize), r)
					worstAMX, worstGraph = max(worstAMX, eAMX), max(worstGraph, eGraph)
					if eAMX > 1.25*eGraph+floor {
						t.Errorf("state %d: AMX's relative error %.3g against the float64 reference, the one-graph pass's %.3g", l, eAMX, eGraph)
					}
				}
				t.Logf("AMX vs one graph: %.3g of the RMS; against the float64 reference: AMX %.3g, one graph %.3g", worst, worstAMX, worstGraph)
				wantPooled, err := ref.PooledHiddenStates(batch.tokens, batch.mask, pos, PoolLast)
				if err != nil {
					t.Fatal(err)
				}
				pooled, err := m.PooledHiddenStates(batch.tokens, batch.mask, pos, PoolLast)
				if err != nil {
					t.Fatal(err)
				}
				for l := range wantPooled.Last {
					if e := relToRMS(slices.Concat(pooled.Last[l]...), slices.Concat(wantPooled.Last[l]...)); e > tol {
						t.Errorf("last-token state %d: AMX differs by %.3g of the RMS", l, e)
					}
				}
			})
		}
	}
}

// TestAMXRealTokensOnly checks the pooled pass, which computes the real
// tokens only (amxCall's compact layout), against the states of every
// token (HiddenStates) of the same model on the AMX path: last-token,
// mean and max pooling read at the real positions of those states. On
// right-padded and full rows every product, softmax and rounding sees the
// same values in the same order, so the states must be equal bit for bit;
// on a left-padded row the attention's sums start at another key (the
// padding's zero probabilities are left out), so it may differ by
// bfloat16 rounding flips (within TestAMXEqualsGraph's 0.08 of the RMS).
// A batch with a hole in a row's mask takes the full layout and must be
// equal everywhere.
func TestAMXRealTokensOnly(t *testing.T) {
	needAMX(t)
	tokens, mask := paddedBatch()          // full, right-padded, left-padded
	longTokens, longMask := longBatch(300) // right-padded
	holeTokens := [][]int32{{3, 4, 5, 6, 7}, {8, 9, 10, 11, 12}}
	holeMask := [][]int32{{1, 1, 0, 1, 1}, {1, 1, 1, 1, 0}}
	for name, cfg := range smallConfigs() {
		if cfg.MoE != nil {
			continue
		}
		w := roundedWeights{randomWeights{cfg: cfg, seed: 5}, dtypes.BFloat16}
		m, err := New(testBackend(), cfg, w, WithDType(dtypes.BFloat16))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		for _, batch := range []struct {
			name         string
			tokens, mask [][]int32
			exactRows    []bool
		}{
			{"padded", tokens, mask, []bool{true, true, false}},
			{"long", longTokens, longMask, []bool{true, true, true, true, true, true}},
			{"hole", holeTokens, holeMask, []bool{true, true}},
		} {
			t.Run(name+"/"+batch.name, func(t *testing.T) {
				pos := PositionsFromMask(batch.mask)
				states, err := m.HiddenStates(batch.tokens, batch.mask, pos)
				if err != nil {
					t.Fatal(err)
				}
				pooled, err := m.PooledHiddenStates(batch.tokens, batch.mask, pos, PoolLast, PoolMean, PoolMax)
				if err != nil {
					t.Fatal(err)
				}
				H, S := cfg.HiddenSize, len(batch.mask[0])
				for l, st := range states {
					for b, row := range batch.mask {
						last, n := -1, 0
						mean, mx := make([]float64, H), make([]float32, H)
						for j := range mx {
							mx[j] = float32(math.Inf(-1))
						}
						for s, v := range row {
							if v == 0 {
								continue
							}
							last, n = s, n+1
							for j, x := range st[(b*S+s)*H : (b*S+s+1)*H] {
								mean[j] += float64(x)
								mx[j] = max(mx[j], x)
							}
						}
						wantMean := make([]float32, H)
						for j := range mean {
							wantMean[j] = float32(mean[j] / float64(n))
						}
						for _, c := range []struct {
							name      string
							got, want []float32
						}{
							{"last", pooled.Last[l][b], st[(b*S+last)*H : (b*S+last+1)*H]},
							{"mean", pooled.Mean[l][b], wantMean},
							{"max", pooled.Max[l][b], mx},
						} {
							e := relToRMS(c.got, c.want)
							if batch.exactRows[b] && c.name != "mean" && e != 0 || batch.exactRows[b] && e > 1e-6 || e > 0.08 {
								t.Errorf("state %d, row %d, %s pooling: %.3g of the RMS from the full pass's (bit for bit: %v)", l, b, c.name, e, batch.exactRows[b])
							}
						}
					}
				}
			})
		}
	}
}

// TestAMXCompactLayout checks which batches the pooled pass computes on
// their real tokens only, and the rows it gives each sequence.
func TestAMXCompactLayout(t *testing.T) {
	needAMX(t)
	cfg := smallConfigs()["llama3"]
	m, err := New(testBackend(), cfg, roundedWeights{randomWeights{cfg: cfg, seed: 5}, dtypes.BFloat16}, WithDType(dtypes.BFloat16))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, c := range []struct {
		name            string
		mask            [][]int32
		realOnly        bool
		compact         bool
		first, start, n []int
	}{
		{"padded", [][]int32{{1, 1, 1, 1}, {1, 1, 0, 0}, {0, 1, 1, 1}}, true, true, []int{0, 0, 1}, []int{0, 4, 6}, []int{4, 2, 3}},
		{"every token asked", [][]int32{{1, 1, 1, 1}, {1, 1, 0, 0}}, false, false, []int{0, 0}, []int{0, 4}, []int{4, 4}},
		{"no padding", [][]int32{{1, 1, 1}, {1, 1, 1}}, true, false, []int{0, 0}, []int{0, 3}, []int{3, 3}},
		{"hole", [][]int32{{1, 0, 1}, {1, 1, 0}}, true, false, []int{0, 0}, []int{0, 3}, []int{3, 3}},
		{"empty row", [][]int32{{0, 0, 0}, {1, 1, 0}}, true, true, []int{3, 0}, []int{0, 0}, []int{0, 2}},
	} {
		tokens := make([][]int32, len(c.mask))
		for b := range tokens {
			tokens[b] = make([]int32, len(c.mask[b]))
		}
		args, err := m.inputs(tokens, c.mask, PositionsFromMask(c.mask), false)
		if err != nil {
			t.Fatal(err)
		}
		call := &amxCall{m: m, realOnly: c.realOnly}
		if err := call.prepare(args[1].(*tensors.Tensor), args[2].(*tensors.Tensor)); err != nil {
			t.Fatal(err)
		}
		freeInputs(args)
		if call.compact != c.compact || !slices.Equal(call.first, c.first) || !slices.Equal(call.seqStart, c.start) || !slices.Equal(call.seqLen, c.n) {
			t.Errorf("%s: compact %v, first %v, starts %v, lengths %v; want %v, %v, %v, %v",
				c.name, call.compact, call.first, call.seqStart, call.seqLen, c.compact, c.first, c.start, c.n)
		}
	}
}
