//go:build amd64

#include "textflag.h"

// The matrix–vector passes over blocks of rows (see kernels_amd64.go): those that
// only read four rows at a time, eight values a vector, the last partial
// vector of each row through the mask K1 (masked loads and stores do not
// touch memory past a row's end).
// Written by hand: the compiler's code for the same loops in Go's SIMD
// spilled to the stack and rechecked bounds around every fused
// multiply-add, about 80 instructions for four.

// K1 = the low n&7 lanes, CX = n&7 (0: no partial vector), R11 = (n &^ 7)·8,
// the bytes of whole vectors. Uses AX.
#define TAILMASK(n) \
	MOVQ n, CX; \
	ANDQ $7, CX; \
	MOVQ $1, AX; \
	SHLQ CX, AX; \
	DECQ AX; \
	KMOVW AX, K1; \
	MOVQ n, R11; \
	ANDQ $-8, R11; \
	SHLQ $3, R11

// HEADMASK is TAILMASK for a row that starts where base (register) points,
// with a head of h = min(n, values to base's next 64-byte boundary) values
// in front of the whole vectors: K2 = the low h lanes, R10 = h·8, where
// the whole vectors start, and K1, CX, R11 as TAILMASK sets them for the
// n − h values after the head, R11 counted from the row's start. So every
// whole vector of the first row, and of every row where the stride is a
// multiple of eight, is a load from one cache line: loads across two cost
// half the speed on rows read from the second-level cache, as the
// reductions' rows, which start one column further each step, mostly
// would. Uses AX and BX.
#define HEADMASK(base, n) \
	MOVQ base, BX; \
	NEGQ BX; \
	SHRQ $3, BX; \
	ANDQ $7, BX; \
	CMPQ BX, n; \
	CMOVQGT n, BX; \
	MOVQ BX, CX; \
	MOVQ $1, AX; \
	SHLQ CX, AX; \
	DECQ AX; \
	KMOVW AX, K2; \
	SUBQ BX, n; \
	TAILMASK(n); \
	SHLQ $3, BX; \
	MOVQ BX, R10; \
	ADDQ R10, R11

// The sum of Z's lanes in X's low lane; Y, X are Z's lower halves
// (registers below 16, which the VEX-encoded steps need; Y15 is scratch).
#define HADD(Z, Y, X) \
	VEXTRACTF64X4 $1, Z, Y15; \
	VADDPD Y15, Y, Y; \
	VEXTRACTF128 $1, Y, X15; \
	VADDPD X15, X, X; \
	VPERMILPD $1, X, X15; \
	VADDSD X15, X, X

// HADD, stored to the float64 at dst.
#define HSUM(Z, Y, X, dst) \
	HADD(Z, Y, X); \
	VMOVSD X, dst

// func dotsAVX512(out, a *float64, stride, rows int, u *float64, n int)
//
// out[i] = Σ_{j<n} a[i·stride + j]·u[j] for i < rows; n ≥ 1.
TEXT ·dotsAVX512(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ stride+16(FP), R8
	SHLQ $3, R8
	MOVQ rows+24(FP), R9
	MOVQ u+32(FP), DX
	MOVQ n+40(FP), R10
	HEADMASK(SI, R10)

four:
	CMPQ R9, $4
	JLT one
	MOVQ SI, R12
	LEAQ (SI)(R8*1), R13
	LEAQ (SI)(R8*2), R14
	LEAQ (R14)(R8*1), AX
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	TESTQ R10, R10
	JZ fourBody
	VMOVUPD.Z (DX), K2, Z8
	VMOVUPD.Z (R12), K2, Z4
	VFMADD231PD Z4, Z8, Z0
	VMOVUPD.Z (R13), K2, Z5
	VFMADD231PD Z5, Z8, Z1
	VMOVUPD.Z (R14), K2, Z6
	VFMADD231PD Z6, Z8, Z2
	VMOVUPD.Z (AX), K2, Z7
	VFMADD231PD Z7, Z8, Z3

fourBody:
	MOVQ R10, BX

fourLoop:
	CMPQ BX, R11
	JGE fourTail
	VMOVUPD (DX)(BX*1), Z8
	VFMADD231PD (R12)(BX*1), Z8, Z0
	VFMADD231PD (R13)(BX*1), Z8, Z1
	VFMADD231PD (R14)(BX*1), Z8, Z2
	VFMADD231PD (AX)(BX*1), Z8, Z3
	ADDQ $64, BX
	JMP fourLoop

fourTail:
	TESTQ CX, CX
	JZ fourSum
	VMOVUPD.Z (DX)(BX*1), K1, Z8
	VMOVUPD.Z (R12)(BX*1), K1, Z4
	VFMADD231PD Z4, Z8, Z0
	VMOVUPD.Z (R13)(BX*1), K1, Z5
	VFMADD231PD Z5, Z8, Z1
	VMOVUPD.Z (R14)(BX*1), K1, Z6
	VFMADD231PD Z6, Z8, Z2
	VMOVUPD.Z (AX)(BX*1), K1, Z7
	VFMADD231PD Z7, Z8, Z3

fourSum:
	HSUM(Z0, Y0, X0, 0(DI))
	HSUM(Z1, Y1, X1, 8(DI))
	HSUM(Z2, Y2, X2, 16(DI))
	HSUM(Z3, Y3, X3, 24(DI))
	ADDQ $32, DI
	LEAQ (SI)(R8*4), SI
	SUBQ $4, R9
	JMP four

one:
	TESTQ R9, R9
	JLE done
	VPXORQ Z0, Z0, Z0
	TESTQ R10, R10
	JZ oneBody
	VMOVUPD.Z (DX), K2, Z8
	VMOVUPD.Z (SI), K2, Z4
	VFMADD231PD Z4, Z8, Z0

oneBody:
	MOVQ R10, BX

oneLoop:
	CMPQ BX, R11
	JGE oneTail
	VMOVUPD (DX)(BX*1), Z8
	VFMADD231PD (SI)(BX*1), Z8, Z0
	ADDQ $64, BX
	JMP oneLoop

oneTail:
	TESTQ CX, CX
	JZ oneSum
	VMOVUPD.Z (DX)(BX*1), K1, Z8
	VMOVUPD.Z (SI)(BX*1), K1, Z4
	VFMADD231PD Z4, Z8, Z0

oneSum:
	HSUM(Z0, Y0, X0, 0(DI))
	ADDQ $8, DI
	ADDQ R8, SI
	DECQ R9
	JMP one

done:
	VZEROUPPER
	RET

// func accumulateAVX512(w *float64, n int, a *float64, stride, rows int, v *float64)
//
// w[j] += Σ_{i<rows} v[i]·a[i·stride + j] for j < n; n ≥ 1.
TEXT ·accumulateAVX512(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ n+8(FP), R10
	MOVQ a+16(FP), SI
	MOVQ stride+24(FP), R8
	SHLQ $3, R8
	MOVQ rows+32(FP), R9
	MOVQ v+40(FP), DX
	HEADMASK(SI, R10)

four:
	CMPQ R9, $4
	JLT one
	MOVQ SI, R12
	LEAQ (SI)(R8*1), R13
	LEAQ (SI)(R8*2), R14
	LEAQ (R14)(R8*1), AX
	VBROADCASTSD 0(DX), Z4
	VBROADCASTSD 8(DX), Z5
	VBROADCASTSD 16(DX), Z6
	VBROADCASTSD 24(DX), Z7
	TESTQ R10, R10
	JZ fourBody
	VMOVUPD.Z (DI), K2, Z0
	VMOVUPD.Z (R12), K2, Z8
	VFMADD231PD Z8, Z4, Z0
	VMOVUPD.Z (R13), K2, Z8
	VFMADD231PD Z8, Z5, Z0
	VMOVUPD.Z (R14), K2, Z8
	VFMADD231PD Z8, Z6, Z0
	VMOVUPD.Z (AX), K2, Z8
	VFMADD231PD Z8, Z7, Z0
	VMOVUPD Z0, K2, (DI)

fourBody:
	MOVQ R10, BX

fourLoop:
	CMPQ BX, R11
	JGE fourTail
	// Two chains of two: w + r0·c0 + r1·c1 and r2·c2 + r3·c3.
	VMOVUPD (DI)(BX*1), Z0
	VMULPD (R14)(BX*1), Z6, Z1
	VFMADD231PD (R12)(BX*1), Z4, Z0
	VFMADD231PD (AX)(BX*1), Z7, Z1
	VFMADD231PD (R13)(BX*1), Z5, Z0
	VADDPD Z1, Z0, Z0
	VMOVUPD Z0, (DI)(BX*1)
	ADDQ $64, BX
	JMP fourLoop

fourTail:
	TESTQ CX, CX
	JZ fourNext
	VMOVUPD.Z (DI)(BX*1), K1, Z0
	VMOVUPD.Z (R12)(BX*1), K1, Z8
	VFMADD231PD Z8, Z4, Z0
	VMOVUPD.Z (R13)(BX*1), K1, Z8
	VFMADD231PD Z8, Z5, Z0
	VMOVUPD.Z (R14)(BX*1), K1, Z8
	VFMADD231PD Z8, Z6, Z0
	VMOVUPD.Z (AX)(BX*1), K1, Z8
	VFMADD231PD Z8, Z7, Z0
	VMOVUPD Z0, K1, (DI)(BX*1)

fourNext:
	ADDQ $32, DX
	LEAQ (SI)(R8*4), SI
	SUBQ $4, R9
	JMP four

one:
	TESTQ R9, R9
	JLE done
	VBROADCASTSD 0(DX), Z4
	TESTQ R10, R10
	JZ oneBody
	VMOVUPD.Z (DI), K2, Z0
	VMOVUPD.Z (SI), K2, Z8
	VFMADD231PD Z8, Z4, Z0
	VMOVUPD Z0, K2, (DI)

oneBody:
	MOVQ R10, BX

oneLoop:
	CMPQ BX, R11
	JGE oneTail
	VMOVUPD (DI)(BX*1), Z0
	VFMADD231PD (SI)(BX*1), Z4, Z0
	VMOVUPD Z0, (DI)(BX*1)
	ADDQ $64, BX
	JMP oneLoop

oneTail:
	TESTQ CX, CX
	JZ oneNext
	VMOVUPD.Z (DI)(BX*1), K1, Z0
	VMOVUPD.Z (SI)(BX*1), K1, Z8
	VFMADD231PD Z8, Z4, Z0
	VMOVUPD Z0, K1, (DI)(BX*1)

oneNext:
	ADDQ $8, DX
	ADDQ R8, SI
	DECQ R9
	JMP one

done:
	VZEROUPPER
	RET

// func updateAVX512(a *float64, stride, rows int, w, u, v *float64, n int, tau, sigma float64)
//
// For each row r of the rows×n block at a (rows stride apart): r −= τ·v[i]·w,
// then, unless σ is ±0, r −= σ·(r·u)·u; n ≥ 1.
TEXT ·updateAVX512(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ stride+8(FP), R8
	SHLQ $3, R8
	MOVQ rows+16(FP), R9
	MOVQ w+24(FP), R12
	MOVQ u+32(FP), R13
	MOVQ v+40(FP), DX
	MOVQ n+48(FP), R10
	TAILMASK(R10)
	VBROADCASTSD tau+56(FP), Z10
	VBROADCASTSD sigma+64(FP), Z11
	// R14 = 0 for σ = ±0 (the sign bit shifted out), else the right pass.
	MOVQ sigma+64(FP), R14
	SHLQ $1, R14

row:
	TESTQ R9, R9
	JLE done
	VBROADCASTSD (DX), Z1
	VMULPD Z10, Z1, Z1
	VPXORQ Z0, Z0, Z0
	XORQ BX, BX

left:
	CMPQ BX, R11
	JGE leftTail
	VMOVUPD (SI)(BX*1), Z2
	VFNMADD231PD (R12)(BX*1), Z1, Z2
	VMOVUPD Z2, (SI)(BX*1)
	VFMADD231PD (R13)(BX*1), Z2, Z0
	ADDQ $64, BX
	JMP left

leftTail:
	TESTQ CX, CX
	JZ rightStart
	VMOVUPD.Z (SI)(BX*1), K1, Z2
	VMOVUPD.Z (R12)(BX*1), K1, Z3
	VFNMADD231PD Z3, Z1, Z2
	VMOVUPD Z2, K1, (SI)(BX*1)
	VMOVUPD.Z (R13)(BX*1), K1, Z3
	VFMADD231PD Z3, Z2, Z0

rightStart:
	TESTQ R14, R14
	JZ next
	HADD(Z0, Y0, X0)
	VMULSD X11, X0, X0
	VBROADCASTSD X0, Z4
	XORQ BX, BX

right:
	CMPQ BX, R11
	JGE rightTail
	VMOVUPD (SI)(BX*1), Z2
	VFNMADD231PD (R13)(BX*1), Z4, Z2
	VMOVUPD Z2, (SI)(BX*1)
	ADDQ $64, BX
	JMP right

rightTail:
	TESTQ CX, CX
	JZ next
	VMOVUPD.Z (SI)(BX*1), K1, Z2
	VMOVUPD.Z (R13)(BX*1), K1, Z3
	VFNMADD231PD Z3, Z4, Z2
	VMOVUPD Z2, K1, (SI)(BX*1)

next:
	ADDQ R8, SI
	ADDQ $8, DX
	DECQ R9
	JMP row

done:
	VZEROUPPER
	RET
