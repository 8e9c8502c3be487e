package llm

import (
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"

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
func TestAMXEqualsGraph(t *testing.T) {
	needAMX(t)
	tokens, mask := paddedBatch()
	longTokens, longMask := longBatch(300)
	const tol = 0.08
	for name, cfg := range smallConfigs() {
		if cfg.MoE != nil {
			continue
		}
		w := roundedWeights{randomWeights{cfg: cfg, seed: 3}, dtypes.BFloat16}
		ref, err := New(testBackend(), cfg, w, WithDType(dtypes.BFloat16), WithoutAMX())
		if err != nil {
			t.Fatal(err)
		}
		defer ref.Close()
		m, err := New(testBackend(), cfg, w, WithDType(dtypes.BFloat16))
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
					if eAMX > 1.25*eGraph+0.005 {
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
