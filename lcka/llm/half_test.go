package llm

import (
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
)

// TestHalfAgainstReference runs every small architecture in bfloat16 and
// float16 and compares all states at real positions with the float64
// reference forward pass on the same (rounded) weights. Half-precision
// rounding of the residual stream bounds the agreement: 2⁻⁸ relative per
// rounding for bfloat16, 2⁻¹¹ for float16; over 3 layers the observed
// errors stay well under the tolerances below. The exact comparison with
// transformers' own bfloat16 computation is TestTransformersBFloat16.
func TestHalfAgainstReference(t *testing.T) {
	tokens, mask := paddedBatch()
	pos := PositionsFromMask(mask)
	for _, c := range []struct {
		dt  dtypes.DType
		tol float64
	}{{dtypes.BFloat16, 0.08}, {dtypes.Float16, 0.01}} {
		for name, cfg := range smallConfigs() {
			t.Run(c.dt.String()+"/"+name, func(t *testing.T) {
				w := roundedWeights{randomWeights{cfg: cfg, seed: 3}, c.dt}
				m, err := New(testBackend(), cfg, w, WithDType(c.dt))
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				if m.DType() != c.dt {
					t.Fatalf("DType() = %s", m.DType())
				}
				got, err := m.HiddenStates(tokens, mask, pos)
				if err != nil {
					t.Fatal(err)
				}
				ref, err := ReferenceHiddenStates(cfg, w, tokens, mask, pos)
				if err != nil {
					t.Fatal(err)
				}
				worst := 0.0
				for l := range ref {
					g, r := realPositions(got[l], mask, cfg.HiddenSize), realPositions64(ref[l], mask, cfg.HiddenSize)
					e := maxRelErr(g, r)
					worst = max(worst, e)
					if e > c.tol {
						t.Errorf("layer %d: relative error %.3g vs the float64 reference (tol %g)", l, e, c.tol)
					}
				}
				t.Logf("max relative error %.2g", worst)
			})
		}
	}
}

// roundedWeights serves randomWeights rounded to a half dtype (nearest,
// ties to even) and widened back, so that a half model and the float64
// reference read the same values.
type roundedWeights struct {
	randomWeights
	dt dtypes.DType
}

func (r roundedWeights) Tensor(name string) ([]float32, []int, error) {
	data, shape, err := r.randomWeights.Tensor(name)
	if err != nil {
		return nil, nil, err
	}
	out := make([]float32, len(data))
	for i, v := range data {
		if r.dt == dtypes.BFloat16 {
			out[i] = bfloat16.FromFloat32(v).Float32()
		} else {
			out[i] = float16.FromFloat32(v).Float32()
		}
	}
	return out, shape, nil
}

// realPositions returns the rows of a [B,S,H] state where mask is 1.
func realPositions(x []float32, mask [][]int32, hidden int) []float32 {
	var out []float32
	seq := len(mask[0])
	for b, row := range mask {
		for s, v := range row {
			if v != 0 {
				off := (b*seq + s) * hidden
				out = append(out, x[off:off+hidden]...)
			}
		}
	}
	return out
}

func realPositions64(x []float64, mask [][]int32, hidden int) []float64 {
	var out []float64
	seq := len(mask[0])
	for b, row := range mask {
		for s, v := range row {
			if v != 0 {
				off := (b*seq + s) * hidden
				out = append(out, x[off:off+hidden]...)
			}
		}
	}
	return out
}
