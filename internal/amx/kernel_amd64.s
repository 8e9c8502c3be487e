//go:build amd64

#include "textflag.h"
#include "encodings_amd64.h"

// The LDTILECFG operand: palette 1, start row 0, tiles 0-7 of 16 rows × 64
// bytes, tiles 8-15 unused (zero), reserved bytes zero. Layout: byte 0
// palette, byte 1 start row, bytes 16-47 the bytes per row of tiles 0-15
// (uint16 each), bytes 48-63 the rows of tiles 0-15 (one byte each).
DATA tilecfg<>+0(SB)/8, $1
DATA tilecfg<>+8(SB)/8, $0
DATA tilecfg<>+16(SB)/8, $0x0040004000400040
DATA tilecfg<>+24(SB)/8, $0x0040004000400040
DATA tilecfg<>+32(SB)/8, $0
DATA tilecfg<>+40(SB)/8, $0
DATA tilecfg<>+48(SB)/8, $0x1010101010101010
DATA tilecfg<>+56(SB)/8, $0
GLOBL tilecfg<>(SB), RODATA|NOPTR, $64

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv0() (eax, edx uint32)
TEXT ·xgetbv0(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func tileGEMM(a, b *uint16, bStride uintptr, c *float32, ldc uintptr, nj, ksteps int, accum bool, pf *uint16)
//
// For j in [0, nj): C[0:32, 32j:32j+32] (+)= A·B_j over ksteps k-steps of 32.
//
//	a:   a packed A panel: per k-step two 16×32 bf16 tiles (rows 0-15,
//	     then 16-31), 2 KiB per k-step, contiguous.
//	b:   the first packed B panel: per k-step two VNNI tiles (columns 0-15,
//	     then 16-31; tile row r holds {W[n][2r], W[n][2r+1]} for 16 n),
//	     2 KiB per k-step; panel j starts at b + j·bStride.
//	c:   float32 C, row stride ldc bytes. accum loads C into the
//	     accumulators first; otherwise they start at zero.
//	pf:  where to PREFETCHT1 4 lines (256 B) per k-step: the A panel that
//	     the next call will read (prefetches never fault).
//
// Tile state lives only inside this call: LDTILECFG on entry, TILERELEASE
// before RET. Go never preempts asynchronously inside assembly, and nothing
// here calls back into Go.
//
// Registers: AX k-step count, BX C of rows 0-15, R12 C of rows 16-31, CX
// ldc, DX 64 (tile row stride of A and B), SI/DI current A/B k-step, R8
// panels left, R9 current B panel, R10 bStride, R11 A panel, R13 prefetch
// pointer. R14 and R15 are left alone.
TEXT ·tileGEMM(SB), NOSPLIT, $0-72
	LEAQ tilecfg<>(SB), DI
	LDTILECFG_DI
	MOVQ a+0(FP), R11
	MOVQ b+8(FP), R9
	MOVQ bStride+16(FP), R10
	MOVQ c+24(FP), BX
	MOVQ ldc+32(FP), CX
	MOVQ nj+40(FP), R8
	MOVQ pf+64(FP), R13
	MOVQ $64, DX

panel:
	LEAQ (BX)(CX*8), R12
	LEAQ (R12)(CX*8), R12 // C + 16 rows
	CMPB accum+56(FP), $0
	JEQ  zero
	LOAD_T0_C
	LOAD_T1_C
	LOAD_T2_C
	LOAD_T3_C
	JMP  kstart

zero:
	TILEZERO_T0
	TILEZERO_T1
	TILEZERO_T2
	TILEZERO_T3

kstart:
	MOVQ R11, SI
	MOVQ R9, DI
	MOVQ ksteps+48(FP), AX

kloop:
	LOAD_T4_A
	LOAD_T6_B
	TDP_T0_T4_T6
	PREFETCHT1 0(R13)
	PREFETCHT1 64(R13)
	PREFETCHT1 128(R13)
	PREFETCHT1 192(R13)
	ADDQ $256, R13
	LOAD_T7_B
	TDP_T1_T4_T7
	LOAD_T5_A
	TDP_T2_T5_T6
	TDP_T3_T5_T7
	ADDQ $2048, SI
	ADDQ $2048, DI
	DECQ AX
	JNZ  kloop

	STORE_T0_C
	STORE_T1_C
	STORE_T2_C
	STORE_T3_C
	ADDQ $128, BX
	ADDQ R10, R9
	DECQ R8
	JNZ  panel

	TILERELEASE
	RET

// func packRow(dst, src *uint16, nsteps int)
//
// Copies nsteps × 32 bfloat16 (64 bytes each) from src, contiguous, to dst
// with a stride of 2048 bytes: one row of A into its row of each k-step of
// a packed panel. Needs AVX-512F (probe checks it).
TEXT ·packRow(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ nsteps+16(FP), CX
	TESTQ CX, CX
	JEQ  done

loop:
	VMOVDQU64 (SI), Z0
	VMOVDQU64 Z0, (DI)
	ADDQ $64, SI
	ADDQ $2048, DI
	DECQ CX
	JNZ  loop
	VZEROUPPER

done:
	RET
