//go:build amd64

#include "textflag.h"

// The permutation test's row kernels (see permrow_amd64.go). For j < m and
// v < V: acc[16v:16v+16] += ka[j·lpa + 16v …] ∘ kb[perm[j]·lpb + 16v …],
// lpa and lpb the row strides in bytes. The F kernels read kb in float32,
// the B kernels in bfloat16 (widened exactly: zero-extended and shifted).
// The entries of kb are scattered; one entry's vectors are read together.

// func permRowF1(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)
TEXT ·permRowF1(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), AX
	MOVQ ka+8(FP), SI
	MOVQ kb+16(FP), DI
	MOVQ perm+24(FP), BX
	MOVQ m+32(FP), CX
	MOVQ lpa+40(FP), R8
	MOVQ lpb+48(FP), R10
	VMOVUPS 0(AX), Z0
	TESTQ CX, CX
	JLE done
loop:
	MOVLQSX (BX), DX
	IMULQ R10, DX
	VMOVUPS 0(SI), Z8
	VFMADD231PS 0(DI)(DX*1), Z8, Z0
	ADDQ $4, BX
	ADDQ R8, SI
	DECQ CX
	JNZ loop
done:
	VMOVUPS Z0, 0(AX)
	VZEROUPPER
	RET

// func permRowF2(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)
TEXT ·permRowF2(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), AX
	MOVQ ka+8(FP), SI
	MOVQ kb+16(FP), DI
	MOVQ perm+24(FP), BX
	MOVQ m+32(FP), CX
	MOVQ lpa+40(FP), R8
	MOVQ lpb+48(FP), R10
	VMOVUPS 0(AX), Z0
	VMOVUPS 64(AX), Z1
	TESTQ CX, CX
	JLE done
loop:
	MOVLQSX (BX), DX
	IMULQ R10, DX
	VMOVUPS 0(SI), Z8
	VFMADD231PS 0(DI)(DX*1), Z8, Z0
	VMOVUPS 64(SI), Z9
	VFMADD231PS 64(DI)(DX*1), Z9, Z1
	ADDQ $4, BX
	ADDQ R8, SI
	DECQ CX
	JNZ loop
done:
	VMOVUPS Z0, 0(AX)
	VMOVUPS Z1, 64(AX)
	VZEROUPPER
	RET

// func permRowF3(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)
TEXT ·permRowF3(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), AX
	MOVQ ka+8(FP), SI
	MOVQ kb+16(FP), DI
	MOVQ perm+24(FP), BX
	MOVQ m+32(FP), CX
	MOVQ lpa+40(FP), R8
	MOVQ lpb+48(FP), R10
	VMOVUPS 0(AX), Z0
	VMOVUPS 64(AX), Z1
	VMOVUPS 128(AX), Z2
	TESTQ CX, CX
	JLE done
loop:
	MOVLQSX (BX), DX
	IMULQ R10, DX
	VMOVUPS 0(SI), Z8
	VFMADD231PS 0(DI)(DX*1), Z8, Z0
	VMOVUPS 64(SI), Z9
	VFMADD231PS 64(DI)(DX*1), Z9, Z1
	VMOVUPS 128(SI), Z10
	VFMADD231PS 128(DI)(DX*1), Z10, Z2
	ADDQ $4, BX
	ADDQ R8, SI
	DECQ CX
	JNZ loop
done:
	VMOVUPS Z0, 0(AX)
	VMOVUPS Z1, 64(AX)
	VMOVUPS Z2, 128(AX)
	VZEROUPPER
	RET

// func permRowF4(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)
TEXT ·permRowF4(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), AX
	MOVQ ka+8(FP), SI
	MOVQ kb+16(FP), DI
	MOVQ perm+24(FP), BX
	MOVQ m+32(FP), CX
	MOVQ lpa+40(FP), R8
	MOVQ lpb+48(FP), R10
	VMOVUPS 0(AX), Z0
	VMOVUPS 64(AX), Z1
	VMOVUPS 128(AX), Z2
	VMOVUPS 192(AX), Z3
	TESTQ CX, CX
	JLE done
loop:
	MOVLQSX (BX), DX
	IMULQ R10, DX
	VMOVUPS 0(SI), Z8
	VFMADD231PS 0(DI)(DX*1), Z8, Z0
	VMOVUPS 64(SI), Z9
	VFMADD231PS 64(DI)(DX*1), Z9, Z1
	VMOVUPS 128(SI), Z10
	VFMADD231PS 128(DI)(DX*1), Z10, Z2
	VMOVUPS 192(SI), Z11
	VFMADD231PS 192(DI)(DX*1), Z11, Z3
	ADDQ $4, BX
	ADDQ R8, SI
	DECQ CX
	JNZ loop
done:
	VMOVUPS Z0, 0(AX)
	VMOVUPS Z1, 64(AX)
	VMOVUPS Z2, 128(AX)
	VMOVUPS Z3, 192(AX)
	VZEROUPPER
	RET

// func permRowB1(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)
TEXT ·permRowB1(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), AX
	MOVQ ka+8(FP), SI
	MOVQ kb+16(FP), DI
	MOVQ perm+24(FP), BX
	MOVQ m+32(FP), CX
	MOVQ lpa+40(FP), R8
	MOVQ lpb+48(FP), R10
	VMOVUPS 0(AX), Z0
	TESTQ CX, CX
	JLE done
loop:
	MOVLQSX (BX), DX
	IMULQ R10, DX
	VMOVUPS 0(SI), Z8
	VPMOVZXWD 0(DI)(DX*1), Z16
	VPSLLD $16, Z16, Z16
	VFMADD231PS Z16, Z8, Z0
	ADDQ $4, BX
	ADDQ R8, SI
	DECQ CX
	JNZ loop
done:
	VMOVUPS Z0, 0(AX)
	VZEROUPPER
	RET

// func permRowB2(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)
TEXT ·permRowB2(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), AX
	MOVQ ka+8(FP), SI
	MOVQ kb+16(FP), DI
	MOVQ perm+24(FP), BX
	MOVQ m+32(FP), CX
	MOVQ lpa+40(FP), R8
	MOVQ lpb+48(FP), R10
	VMOVUPS 0(AX), Z0
	VMOVUPS 64(AX), Z1
	TESTQ CX, CX
	JLE done
loop:
	MOVLQSX (BX), DX
	IMULQ R10, DX
	VMOVUPS 0(SI), Z8
	VPMOVZXWD 0(DI)(DX*1), Z16
	VPSLLD $16, Z16, Z16
	VFMADD231PS Z16, Z8, Z0
	VMOVUPS 64(SI), Z9
	VPMOVZXWD 32(DI)(DX*1), Z17
	VPSLLD $16, Z17, Z17
	VFMADD231PS Z17, Z9, Z1
	ADDQ $4, BX
	ADDQ R8, SI
	DECQ CX
	JNZ loop
done:
	VMOVUPS Z0, 0(AX)
	VMOVUPS Z1, 64(AX)
	VZEROUPPER
	RET

// func permRowB3(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)
TEXT ·permRowB3(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), AX
	MOVQ ka+8(FP), SI
	MOVQ kb+16(FP), DI
	MOVQ perm+24(FP), BX
	MOVQ m+32(FP), CX
	MOVQ lpa+40(FP), R8
	MOVQ lpb+48(FP), R10
	VMOVUPS 0(AX), Z0
	VMOVUPS 64(AX), Z1
	VMOVUPS 128(AX), Z2
	TESTQ CX, CX
	JLE done
loop:
	MOVLQSX (BX), DX
	IMULQ R10, DX
	VMOVUPS 0(SI), Z8
	VPMOVZXWD 0(DI)(DX*1), Z16
	VPSLLD $16, Z16, Z16
	VFMADD231PS Z16, Z8, Z0
	VMOVUPS 64(SI), Z9
	VPMOVZXWD 32(DI)(DX*1), Z17
	VPSLLD $16, Z17, Z17
	VFMADD231PS Z17, Z9, Z1
	VMOVUPS 128(SI), Z10
	VPMOVZXWD 64(DI)(DX*1), Z18
	VPSLLD $16, Z18, Z18
	VFMADD231PS Z18, Z10, Z2
	ADDQ $4, BX
	ADDQ R8, SI
	DECQ CX
	JNZ loop
done:
	VMOVUPS Z0, 0(AX)
	VMOVUPS Z1, 64(AX)
	VMOVUPS Z2, 128(AX)
	VZEROUPPER
	RET

// func permRowB4(acc, ka, kb unsafe.Pointer, perm *int32, m int, lpa, lpb uintptr)
TEXT ·permRowB4(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), AX
	MOVQ ka+8(FP), SI
	MOVQ kb+16(FP), DI
	MOVQ perm+24(FP), BX
	MOVQ m+32(FP), CX
	MOVQ lpa+40(FP), R8
	MOVQ lpb+48(FP), R10
	VMOVUPS 0(AX), Z0
	VMOVUPS 64(AX), Z1
	VMOVUPS 128(AX), Z2
	VMOVUPS 192(AX), Z3
	TESTQ CX, CX
	JLE done
loop:
	MOVLQSX (BX), DX
	IMULQ R10, DX
	VMOVUPS 0(SI), Z8
	VPMOVZXWD 0(DI)(DX*1), Z16
	VPSLLD $16, Z16, Z16
	VFMADD231PS Z16, Z8, Z0
	VMOVUPS 64(SI), Z9
	VPMOVZXWD 32(DI)(DX*1), Z17
	VPSLLD $16, Z17, Z17
	VFMADD231PS Z17, Z9, Z1
	VMOVUPS 128(SI), Z10
	VPMOVZXWD 64(DI)(DX*1), Z18
	VPSLLD $16, Z18, Z18
	VFMADD231PS Z18, Z10, Z2
	VMOVUPS 192(SI), Z11
	VPMOVZXWD 96(DI)(DX*1), Z19
	VPSLLD $16, Z19, Z19
	VFMADD231PS Z19, Z11, Z3
	ADDQ $4, BX
	ADDQ R8, SI
	DECQ CX
	JNZ loop
done:
	VMOVUPS Z0, 0(AX)
	VMOVUPS Z1, 64(AX)
	VMOVUPS Z2, 128(AX)
	VMOVUPS Z3, 192(AX)
	VZEROUPPER
	RET
