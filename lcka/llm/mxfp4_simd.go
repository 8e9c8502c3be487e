//go:build goexperiment.simd && amd64

package llm

import (
	"math"
	"simd/archsimd"
)

// e8m0Bits holds the float32 bits of e8m0Values.
var e8m0Bits = func() (t [256]uint32) {
	for s, v := range e8m0Values {
		t[s] = math.Float32bits(v)
	}
	return t
}()

// dequantGroupsAVX512 is dequantizeMXFP4IntoTransposed's loop over the
// groups [g0, g1) and the full 16-row tiles with AVX-512 (and VBMI's byte
// permutations): the 16 rows' bytes of one group are transposed to
// columns in registers, and each column's 16 codes
// become 16 values by a permutation of the E2M1 table (VPERMPS, whose
// index is the low 4 bits: the code) and one product with the rows'
// scales, the same float32 product as the scalar loop. It reports false,
// having done nothing, on a CPU without AVX-512.
//
// The loop has no legacy SSE instruction, which after the AVX-512
// instructions here pays the CPU's AVX-to-SSE transition penalty: the
// scales move as their bits (Go compiles scalar float moves to SSE), and
// the high nibbles are shifted by a vector of counts (Go 1.26 compiles
// ShiftAllRight's count to a legacy MOVQ into an XMM register, which made
// this loop 20× slower than without it).
func dequantGroupsAVX512(dst []float32, blocks, scales []uint8, rows, groups, g0, g1 int) bool {
	if !haveAVX512Dequant() {
		return false
	}
	table := archsimd.LoadFloat32x16(&e2m1Values)
	low := archsimd.BroadcastUint32x16(0x0F)
	four4 := archsimd.BroadcastUint32x16(4)
	t1, t2 := byteTransposeIndices()
	var zero archsimd.Uint8x32
	var sc [16]uint32
	for g := g0; g < g1; g++ {
		out := dst[g*mxfp4Group*rows : (g+1)*mxfp4Group*rows]
		for r0 := 0; r0+16 <= rows; r0 += 16 {
			row := func(i int) archsimd.Uint8x16 {
				return archsimd.LoadUint8x16((*[16]uint8)(blocks[((r0+i)*groups+g)*mxfp4Group/2:]))
			}
			four := func(i int) archsimd.Uint8x64 { // rows i…i+3, row-major
				lo, hi := zero.SetLo(row(i)).SetHi(row(i+1)), zero.SetLo(row(i+2)).SetHi(row(i+3))
				return archsimd.Uint8x64{}.SetLo(lo).SetHi(hi)
			}
			for i := range 16 {
				sc[i] = e8m0Bits[scales[(r0+i)*groups+g]]
			}
			s := archsimd.LoadUint32x16(&sc).AsFloat32x16()
			// A 16×16 byte transpose: for each four columns, rows 0–7 and
			// 8–15 gathered from two row vectors each, then merged.
			v0, v1, v2, v3 := four(0), four(4), four(8), four(12)
			for p := range 4 {
				cols := v0.ConcatPermute(v1, t1[p]).ConcatPermute(v2.ConcatPermute(v3, t1[p]), t2) // columns 4p…4p+3
				for c, col := range [4]archsimd.Uint8x16{cols.GetLo().GetLo(), cols.GetLo().GetHi(), cols.GetHi().GetLo(), cols.GetHi().GetHi()} {
					j := 4*p + c
					codes := col.ExtendToUint32()
					table.Permute(codes.And(low)).Mul(s).Store((*[16]float32)(out[2*j*rows+r0:]))
					table.Permute(codes.ShiftRight(four4)).Mul(s).Store((*[16]float32)(out[(2*j+1)*rows+r0:]))
				}
			}
		}
	}
	archsimd.ClearAVXUpperBits() // see roundBlocksAVX512
	return true
}

// byteTransposeIndices returns the VPERMI2B indices of a 16×16 byte
// transpose held in four 64-byte vectors of four rows each (byte 16·r+j of
// vector q is row 4q+r, column j). For the output vector p (columns
// 4p…4p+3, byte 16·c+i is row i of column 4p+c), t1[p] picks from two
// row vectors (rows 0–7, or 8–15 from the other two) into the positions of
// their rows, and t2 takes positions of rows 0–7 from the first result and
// of rows 8–15 from the second.
func byteTransposeIndices() (t1 [4]archsimd.Uint8x64, t2 archsimd.Uint8x64) {
	var b1 [4][64]uint8
	var b2 [64]uint8
	for c := range 4 {
		for i := range 16 {
			pos := 16*c + i
			for p := range 4 {
				b1[p][pos] = uint8(16*(i%8) + 4*p + c) // row i%8 of the pair, column 4p+c
			}
			b2[pos] = uint8(pos)
			if i >= 8 {
				b2[pos] += 64
			}
		}
	}
	for p := range 4 {
		t1[p] = archsimd.LoadUint8x64(&b1[p])
	}
	return t1, archsimd.LoadUint8x64(&b2)
}

// haveAVX512Dequant reports whether the CPU runs dequantGroupsAVX512.
func haveAVX512Dequant() bool { return archsimd.X86.AVX512() && archsimd.X86.AVX512VBMI() }
