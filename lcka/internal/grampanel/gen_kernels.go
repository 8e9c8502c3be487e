//go:build ignore

// gen_kernels writes kernel_amd64.s: the tile micro-kernels (float32 and
// float64) and the gathers that transpose X. Run with go generate; the
// kernels are unrolled, so they are written by this program rather than by
// hand.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

var b strings.Builder

func w(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

// tile writes a 12×(2·lanes) tile kernel: p is "S" (float32) or "D".
func tile(name string, size int, p string) {
	lanes := 64 / size
	w("")
	w("// func %s(k int, a, b unsafe.Pointer, sa, sb uintptr, c unsafe.Pointer, ldc uintptr)", name)
	w("//")
	w("// For r < 12 and col < %d: c[r·ldc + col] += Σ_{t<k} a[t·sa + r]·b[t·sb + col]", 2*lanes)
	w("// (float%d, strides in bytes). Accumulators Z0–Z23 (row r in Z2r, Z2r+1),", 8*size)
	w("// the two vectors of b in Z24, Z25, broadcasts of a rotating over Z26–Z31.")
	w("// AVX-512F.")
	w("TEXT ·%s(SB), NOSPLIT, $0-56", name)
	w("\tMOVQ k+0(FP), CX")
	w("\tMOVQ a+8(FP), SI")
	w("\tMOVQ b+16(FP), DI")
	w("\tMOVQ sa+24(FP), R8")
	w("\tMOVQ sb+32(FP), R10")
	w("\tMOVQ c+40(FP), DX")
	w("\tMOVQ ldc+48(FP), R9")
	for i := 0; i < 24; i++ {
		w("\tVPXORQ Z%d, Z%d, Z%d", i, i, i)
	}
	w("\tTESTQ CX, CX")
	w("\tJLE store")
	w("loop:")
	w("\tVMOVUP%s (DI), Z24", p)
	w("\tVMOVUP%s 64(DI), Z25", p)
	if size == 8 {
		// The float64 kernel's right operand is, in the all-pairs
		// measures, a layer's packed basis that comes from memory: its
		// lines eight steps ahead are asked for early (BenchmarkMulPanels64,
		// cold: 62 → 67 GFLOP/s).
		w("\tPREFETCHT0 1024(DI)")
		w("\tPREFETCHT0 1088(DI)")
	}
	for r := 0; r < 12; r++ {
		t := 26 + r%6
		w("\tVBROADCASTS%s %d(SI), Z%d", p, size*r, t)
		w("\tVFMADD231P%s Z%d, Z24, Z%d", p, t, 2*r)
		w("\tVFMADD231P%s Z%d, Z25, Z%d", p, t, 2*r+1)
	}
	w("\tADDQ R8, SI")
	w("\tADDQ R10, DI")
	w("\tDECQ CX")
	w("\tJNZ loop")
	w("store:")
	for r := 0; r < 12; r++ {
		w("\tVADDP%s (DX), Z%d, Z%d", p, 2*r, 2*r)
		w("\tVMOVUP%s Z%d, (DX)", p, 2*r)
		w("\tVADDP%s 64(DX), Z%d, Z%d", p, 2*r+1, 2*r+1)
		w("\tVMOVUP%s Z%d, 64(DX)", p, 2*r+1)
		if r < 11 {
			w("\tADDQ R9, DX")
		}
	}
	w("\tVZEROUPPER")
	w("\tRET")
}

// tileAVX2 writes the same 12×(64/size·2) tile as tile, for CPUs with AVX2
// and FMA but no AVX-512: sixteen 32-byte registers hold a quarter of the
// tile, six rows × two vectors, so the k-loop runs four times, once per
// quarter (rows 0–5 and 6–11, the left and the right half of the
// columns), reading a and b again from the first-level cache. Every entry
// of c gets the same fused multiply-adds in the same order as in tile's
// kernel, so the two give the same bits.
func tileAVX2(name string, size int, p string) {
	lanes := 32 / size // per Y register
	cols := 4 * lanes  // 64/size·2, as tile's
	w("")
	w("// func %s(k int, a, b unsafe.Pointer, sa, sb uintptr, c unsafe.Pointer, ldc uintptr)", name)
	w("//")
	w("// For r < 12 and col < %d: c[r·ldc + col] += Σ_{t<k} a[t·sa + r]·b[t·sb + col]", cols)
	w("// (float%d, strides in bytes), in four quarters of six rows and %d", 8*size, 2*lanes)
	w("// columns: accumulators Y0–Y11 (row r of the quarter in Y2r, Y2r+1), the")
	w("// two vectors of b in Y12, Y13, broadcasts of a in Y14, Y15. AVX2, FMA.")
	w("TEXT ·%s(SB), NOSPLIT, $0-56", name)
	w("	MOVQ k+0(FP), R11")
	w("	MOVQ a+8(FP), R12")
	w("	MOVQ b+16(FP), R13")
	w("	MOVQ sa+24(FP), R8")
	w("	MOVQ sb+32(FP), R10")
	w("	MOVQ c+40(FP), R14")
	w("	MOVQ ldc+48(FP), R9")
	for q := 0; q < 4; q++ {
		h, half := 6*(q/2), q%2 // first row, column half
		w("	// Rows %d–%d, columns %d–%d.", h, h+5, half*2*lanes, half*2*lanes+2*lanes-1)
		for i := 0; i < 12; i++ {
			w("	VPXOR Y%d, Y%d, Y%d", i, i, i)
		}
		w("	MOVQ R11, CX")
		w("	MOVQ R12, SI")
		w("	MOVQ R13, DI")
		w("	TESTQ CX, CX")
		w("	JLE store%d", q)
		w("loop%d:", q)
		w("	VMOVUP%s %d(DI), Y12", p, half*64)
		w("	VMOVUP%s %d(DI), Y13", p, half*64+32)
		for r := 0; r < 6; r++ {
			t := 14 + r%2
			w("	VBROADCASTS%s %d(SI), Y%d", p, size*(h+r), t)
			w("	VFMADD231P%s Y%d, Y12, Y%d", p, t, 2*r)
			w("	VFMADD231P%s Y%d, Y13, Y%d", p, t, 2*r+1)
		}
		w("	ADDQ R8, SI")
		w("	ADDQ R10, DI")
		w("	DECQ CX")
		w("	JNZ loop%d", q)
		w("store%d:", q)
		// DX = c + h·ldc + half·64.
		w("	MOVQ R9, DX")
		w("	IMULQ $%d, DX", h)
		w("	ADDQ R14, DX")
		if half == 1 {
			w("	ADDQ $64, DX")
		}
		for r := 0; r < 6; r++ {
			w("	VADDP%s (DX), Y%d, Y%d", p, 2*r, 2*r)
			w("	VMOVUP%s Y%d, (DX)", p, 2*r)
			w("	VADDP%s 32(DX), Y%d, Y%d", p, 2*r+1, 2*r+1)
			w("	VMOVUP%s Y%d, 32(DX)", p, 2*r+1)
			if r < 5 {
				w("	ADDQ R9, DX")
			}
		}
	}
	w("	VZEROUPPER")
	w("	RET")
}

// gatherAVX2 writes gather's routine for AVX2: the 64/size rows in two
// gathers of 32 bytes each per column (index: Y for float32's eight 32-bit
// offsets, X for float64's four).
func gatherAVX2(name string, size int, p, index string) {
	rows := 64 / size
	half := rows / 2
	w("")
	w("// func %s(k int, x unsafe.Pointer, offsets unsafe.Pointer, xt unsafe.Pointer, ldt uintptr)", name)
	w("//")
	w("// For q < k and r < %d: xt[q·ldt + %dr] = x[offsets[r] + %dq] (bytes;", rows, size, size)
	w("// offsets holds int32s), as gather's routine, in two gathers of %d rows.", half)
	w("// AVX2.")
	w("TEXT ·%s(SB), NOSPLIT, $0-40", name)
	w("	MOVQ k+0(FP), CX")
	w("	MOVQ x+8(FP), SI")
	w("	MOVQ offsets+16(FP), AX")
	w("	MOVQ xt+24(FP), DI")
	w("	MOVQ ldt+32(FP), R9")
	w("	VMOVDQU (AX), %s1", index)
	w("	VMOVDQU %d(AX), %s2", 4*half, index)
	w("	TESTQ CX, CX")
	w("	JLE done")
	w("loop:")
	// The mask says which lanes to load; a gather clears it.
	w("	VPCMPEQD Y3, Y3, Y3")
	w("	VGATHERDP%s Y3, (SI)(%s1*1), Y0", p, index)
	w("	VPCMPEQD Y3, Y3, Y3")
	w("	VGATHERDP%s Y3, (SI)(%s2*1), Y4", p, index)
	w("	VMOVUP%s Y0, (DI)", p)
	w("	VMOVUP%s Y4, 32(DI)", p)
	w("	ADDQ $%d, SI", size)
	w("	ADDQ R9, DI")
	w("	DECQ CX")
	w("	JNZ loop")
	w("done:")
	w("	VZEROUPPER")
	w("	RET")
}

// gather writes a gather of 64/size rows: one column of them per store.
func gather(name string, size int, p, index string) {
	rows := 64 / size
	w("")
	w("// func %s(k int, x unsafe.Pointer, offsets unsafe.Pointer, xt unsafe.Pointer, ldt uintptr)", name)
	w("//")
	w("// For q < k and r < %d: xt[q·ldt + %dr] = x[offsets[r] + %dq] (bytes;", rows, size, size)
	w("// offsets holds int32s): the q-th column of %d rows of x becomes a row of", rows)
	w("// xt, one gather each. AVX-512F.")
	w("TEXT ·%s(SB), NOSPLIT, $0-40", name)
	w("\tMOVQ k+0(FP), CX")
	w("\tMOVQ x+8(FP), SI")
	w("\tMOVQ offsets+16(FP), AX")
	w("\tMOVQ xt+24(FP), DI")
	w("\tMOVQ ldt+32(FP), R9")
	w("\tVMOVDQU32 (AX), %s1", index)
	w("\tTESTQ CX, CX")
	w("\tJLE done")
	w("loop:")
	w("\tKXNORW K1, K1, K1")
	w("\tVGATHERDP%s (SI)(%s1*1), K1, Z0", p, index)
	w("\tVMOVUP%s Z0, (DI)", p)
	w("\tADDQ $%d, SI", size)
	w("\tADDQ R9, DI")
	w("\tDECQ CX")
	w("\tJNZ loop")
	w("done:")
	w("\tVZEROUPPER")
	w("\tRET")
}

// dir is where the files go: the first argument, else this folder.
func dir() string {
	if len(os.Args) > 1 {
		return os.Args[1]
	}
	return "."
}

func main() {
	w("// Code generated by gen_kernels.go; DO NOT EDIT.")
	w("")
	w("//go:build amd64")
	w("")
	w("#include \"textflag.h\"")
	tile("tile12x32", 4, "S")
	tile("tile12x16d", 8, "D")
	gather("gather16", 4, "S", "Z")
	gather("gather8d", 8, "D", "Y")
	tileAVX2("tile12x32AVX2", 4, "S")
	tileAVX2("tile12x16dAVX2", 8, "D")
	gatherAVX2("gather16AVX2", 4, "S", "Y")
	gatherAVX2("gather8dAVX2", 8, "D", "X")
	if err := os.WriteFile(filepath.Join(dir(), "kernel_amd64.s"), []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
