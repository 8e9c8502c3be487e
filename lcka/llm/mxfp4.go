package llm

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"

	"github.com/layersim/layersim/lcka/internal/parallel"
)

// mxfp4Group is the number of values sharing one E8M0 scale (16 bytes of
// two E2M1 values each).
const mxfp4Group = 32

// e2m1Values are the 16 E2M1 (FP4) values, indexed by the 4-bit code:
// bit 3 is the sign, bits 2–1 the exponent, bit 0 the mantissa. The table
// is the OCP Microscaling (MX) v1.0 FP4 E2M1 encoding, the FP4_VALUES of
// transformers' integrations/mxfp4.py, code 8 being −0.
var e2m1Values = [16]float32{0, 0.5, 1, 1.5, 2, 3, 4, 6, negativeZero, -0.5, -1, -1.5, -2, -3, -4, -6}

// negativeZero is −0 (a Go constant −0.0 is +0).
var negativeZero = float32(math.Copysign(0, -1))

// e8m0Scale returns the E8M0 scale 2^(s−127); s = 255 (NaN in the MX
// specification) is rejected by checkMXFP4 before it can be used.
func e8m0Scale(s uint8) float64 { return math.Ldexp(1, int(s)-127) }

// mxfp4ByteTable is [256][2]float32: the values of the low and the high
// nibble of each byte, in that order (the low nibble is the even column).
func mxfp4ByteTable() []float32 {
	t := make([]float32, 512)
	for b := range 256 {
		t[2*b] = e2m1Values[b&0x0F]
		t[2*b+1] = e2m1Values[b>>4]
	}
	return t
}

// e8m0Table is [256]float32: 2^(s−127), exact in float32 (2^−127 is a
// subnormal; 2^128 overflows to +Inf and is never selected, see checkMXFP4).
func e8m0Table() []float32 {
	t := make([]float32, 256)
	for s := range 256 {
		t[s] = float32(e8m0Scale(uint8(s)))
	}
	return t
}

// checkMXFP4 reports an error when blocks and scales would dequantize to a
// value that is not finite in float32 (or bfloat16, which has the same
// exponent range): a scale of 255, or a scale so large that the block's
// largest code overflows. Every finite value v·2^(s−127) is exact in both.
func checkMXFP4(name string, blocks, scales []uint8) error {
	if len(blocks) != len(scales)*mxfp4Group/2 {
		return fmt.Errorf("llm: %s: %d block bytes for %d scales, want %d", name, len(blocks), len(scales), len(scales)*mxfp4Group/2)
	}
	for i, s := range scales {
		if s <= 252 {
			continue // |v| ≤ 6·2^125 < MaxFloat32
		}
		if s == 255 {
			return fmt.Errorf("llm: %s: E8M0 scale 255 (NaN) at flat index %d", name, i)
		}
		for j, b := range blocks[i*mxfp4Group/2 : (i+1)*mxfp4Group/2] {
			for _, code := range []uint8{b & 0x0F, b >> 4} {
				if v := float64(e2m1Values[code]) * e8m0Scale(s); math.Abs(v) > math.MaxFloat32 {
					return fmt.Errorf("llm: %s: block value %g·2^%d at scale index %d, byte %d overflows float32",
						name, e2m1Values[code], int(s)-127, i, j)
				}
			}
		}
	}
	return nil
}

// dequantizeMXFP4 builds the float32 matrix [rows, cols] of expert e from
// blocks [E, rows, cols/32, 16] and scales [E, rows, cols/32], following
// transformers' convert_moe_packed_tensors: byte j of group k of row r
// holds columns 32k+2j (low nibble) and 32k+2j+1 (high nibble), each
// multiplied by 2^(scale[r,k]−127).
//
// The expert is sliced with an index that depends on after, so that a
// parallel scheduler cannot dequantize the experts of all layers at once
// (each would hold a float32 copy of its weights): the expert is read only
// once after is computed.
func dequantizeMXFP4(blocks, scales *graph.Node, e int, after *graph.Node) *graph.Node {
	idx := graph.SchedulingBarrier(graph.Const(blocks.Graph(), []int32{int32(e)}), after)
	return dequantizeMXFP4At(blocks, scales, idx)
}

// dequantizeMXFP4At is dequantizeMXFP4 of the expert idx ([1] int32, a
// graph value).
func dequantizeMXFP4At(blocks, scales, idx *graph.Node) *graph.Node {
	g := blocks.Graph()
	dims := blocks.Shape().Dimensions
	rows, groups := dims[1], dims[2]
	b := graph.Gather(blocks, idx) // [rows, groups, 16]
	s := graph.Gather(scales, idx) // [rows, groups]
	b = graph.ConvertDType(graph.Reshape(b, rows, groups, mxfp4Group/2, 1), dtypes.Int32)
	s = graph.ConvertDType(graph.Reshape(s, rows, groups, 1), dtypes.Int32)
	values := graph.Gather(graph.Reshape(graph.Const(g, mxfp4ByteTable()), 256, 2), b) // [rows, groups, 16, 2]
	values = graph.Reshape(values, rows, groups, mxfp4Group)
	scale := graph.Gather(graph.Const(g, e8m0Table()), s) // [rows, groups]
	values = graph.Mul(values, graph.ExpandAxes(scale, -1))
	return graph.Reshape(values, rows, groups*mxfp4Group)
}

// dequantizeMXFP4IntoTransposed writes the float32 values of one expert's
// MXFP4 matrix, blocks [rows, groups, 16] and scales [rows, groups],
// transposed into dst [groups·32, rows]: the values dequantizeMXFP4
// computes in a graph (the same float32 products), at host speed. The Go
// backend's Gather costs tens of nanoseconds a value, which made the
// dequantization half of a GPT-OSS pass. It goes group by group, down
// all the rows, so that a group writes 32 sequential runs of dst (the rows
// in the other order wrote each cache line from a different page and ran
// 3× slower); 16 rows at a time use AVX-512 where the build and the CPU
// have it (dequantGroupsAVX512). Groups are split over workers.
func dequantizeMXFP4IntoTransposed(dst []float32, blocks, scales []uint8, rows, workers int) {
	if rows == 0 || len(scales) == 0 {
		return
	}
	groups := len(scales) / rows
	table, exp := &mxfp4Pairs, &e8m0Values
	workers = max(1, min(workers, groups))
	parallel.For(workers, workers, func(w int) {
		g0, g1 := groups*w/workers, groups*(w+1)/workers
		r0 := 0 // the rows left to the scalar loop
		if useAVX512Dequant && dequantGroupsAVX512(dst, blocks, scales, rows, groups, g0, g1) {
			r0 = rows / 16 * 16
		}
		for g := g0; g < g1; g++ {
			out := dst[g*mxfp4Group*rows : (g+1)*mxfp4Group*rows]
			for r := r0; r < rows; r++ {
				gi := r*groups + g
				s := exp[scales[gi]]
				src := (*[mxfp4Group / 2]uint8)(blocks[gi*mxfp4Group/2:])
				for j, b := range src {
					pair := &table[b]
					out[2*j*rows+r] = pair[0] * s
					out[(2*j+1)*rows+r] = pair[1] * s
				}
			}
		}
	})
}

// useAVX512Dequant lets tests run the scalar loop on full tiles.
var useAVX512Dequant = true

// mxfp4Pairs and e8m0Values are mxfp4ByteTable and e8m0Table as arrays
// for dequantizeMXFP4IntoTransposed.
var (
	mxfp4Pairs = func() (t [256][2]float32) {
		flat := mxfp4ByteTable()
		for b := range t {
			t[b] = [2]float32{flat[2*b], flat[2*b+1]}
		}
		return t
	}()
	e8m0Values = [256]float32(e8m0Table())
)
