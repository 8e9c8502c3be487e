// Hand-encoded AMX instructions for kernel_amd64.s. The Go assembler has no
// mnemonics for AMX, so each instruction is spelled out as BYTE directives.
//
// How they were derived. Every instruction is VEX-encoded in map 0F38
// (Intel SDM vol. 2, "TILELOADD", "TDPBF16PS" ...):
//
//	C4 | ~R ~X ~B 0 0 0 1 0 | W=0 ~vvvv L=0 pp | opcode | ModRM [SIB] [disp]
//
// with pp = 0 (none), 1 (66), 2 (F3), 3 (F2) and R, X, B, vvvv stored
// inverted. The forms used:
//
//	LDTILECFG  m512        VEX.128.NP.0F38.W0 49 /0   (mod != 11)
//	TILERELEASE            VEX.128.NP.0F38.W0 49 C0
//	TILEZERO   tmm         VEX.128.F2.0F38.W0 49 11:rrr:000
//	TILELOADD  tmm, sib    VEX.128.F2.0F38.W0 4B mod:rrr:100 + SIB
//	TILESTORED sib, tmm    VEX.128.F3.0F38.W0 4B mod:rrr:100 + SIB
//	TDPBF16PS  t1, t2, t3  VEX.128.F3.0F38.W0 5C 11:t1:t2, vvvv = ~t3
//
// Things that are easy to get wrong: TILELOADD/TILESTORED must have a SIB
// byte, and its index register is the row stride in bytes (scale 1); a base
// of R12 sets VEX.B, which is stored inverted, so its second byte is C2
// where RBX/RSI/RDI give E2; TDPBF16PS takes its B operand (t3) from
// VEX.vvvv, inverted, so "tmm0 += tmm4·tmm6" has 4A as its third byte.
//
// How they were checked. The bytes were produced by a small encoder written
// from the tables above (the feasibility lab's amxenc.py) and disassembled
// with GNU objdump, which printed each one back as the intended instruction
// and operands and no "(bad)":
//
//	printf '\xc4\xe2\x4a\x5c\xc4' > x.bin
//	objdump -D -b binary -m i386:x86-64 x.bin   # tdpbf16ps %tmm6,%tmm4,%tmm0
//
// (objdump prints AT&T order: destination last). The kernel as linked into
// the test binary was disassembled the same way:
//
//	go test -c -o amx.test ./internal/amx
//	objdump -d amx.test | sed -n '/<.*amx.tileGEMM.abi0>:/,/ret/p'
//
// and the tests in this package check the arithmetic against a float64
// reference.
//
// Register assignment, fixed by these encodings (kernel_amd64.s follows it):
//
//	C tiles (16×16 float32, row stride CX bytes):
//	  tmm0 = (BX)(CX*1)   tmm1 = 64(BX)(CX*1)    rows 0-15,  columns 0-15 / 16-31
//	  tmm2 = (R12)(CX*1)  tmm3 = 64(R12)(CX*1)   rows 16-31, columns 0-15 / 16-31
//	A tiles (16 rows × 32 bf16, row stride DX = 64 bytes):
//	  tmm4 = (SI)(DX*1)   tmm5 = 1024(SI)(DX*1)  rows 0-15 / 16-31
//	B tiles (16 k-pairs × 16 columns × 2 bf16, row stride DX = 64 bytes):
//	  tmm6 = (DI)(DX*1)   tmm7 = 1024(DI)(DX*1)  columns 0-15 / 16-31
//	LDTILECFG reads its 64-byte operand at (DI).

// c4 e2 78 49 07: ldtilecfg (%rdi)
#define LDTILECFG_DI BYTE $0xc4; BYTE $0xe2; BYTE $0x78; BYTE $0x49; BYTE $0x07
// c4 e2 78 49 c0: tilerelease
#define TILERELEASE  BYTE $0xc4; BYTE $0xe2; BYTE $0x78; BYTE $0x49; BYTE $0xc0

// tilezero %tmmN: c4 e2 7b 49 (c0 + 8N)
#define TILEZERO_T0  BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x49; BYTE $0xc0
#define TILEZERO_T1  BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x49; BYTE $0xc8
#define TILEZERO_T2  BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x49; BYTE $0xd0
#define TILEZERO_T3  BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x49; BYTE $0xd8

// tileloadd (%rbx,%rcx,1),%tmm0 / 0x40(%rbx,%rcx,1),%tmm1 /
// (%r12,%rcx,1),%tmm2 / 0x40(%r12,%rcx,1),%tmm3
#define LOAD_T0_C    BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x4b; BYTE $0x04; BYTE $0x0b
#define LOAD_T1_C    BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x4b; BYTE $0x4c; BYTE $0x0b; BYTE $0x40
#define LOAD_T2_C    BYTE $0xc4; BYTE $0xc2; BYTE $0x7b; BYTE $0x4b; BYTE $0x14; BYTE $0x0c
#define LOAD_T3_C    BYTE $0xc4; BYTE $0xc2; BYTE $0x7b; BYTE $0x4b; BYTE $0x5c; BYTE $0x0c; BYTE $0x40

// tileloadd (%rsi,%rdx,1),%tmm4 / 0x400(%rsi,%rdx,1),%tmm5
#define LOAD_T4_A    BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x4b; BYTE $0x24; BYTE $0x16
#define LOAD_T5_A    BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x4b; BYTE $0xac; BYTE $0x16; BYTE $0x00; BYTE $0x04; BYTE $0x00; BYTE $0x00

// tileloadd (%rdi,%rdx,1),%tmm6 / 0x400(%rdi,%rdx,1),%tmm7
#define LOAD_T6_B    BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x4b; BYTE $0x34; BYTE $0x17
#define LOAD_T7_B    BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x4b; BYTE $0xbc; BYTE $0x17; BYTE $0x00; BYTE $0x04; BYTE $0x00; BYTE $0x00

// tilestored %tmm0,(%rbx,%rcx,1) / %tmm1,0x40(%rbx,%rcx,1) /
// %tmm2,(%r12,%rcx,1) / %tmm3,0x40(%r12,%rcx,1)
#define STORE_T0_C   BYTE $0xc4; BYTE $0xe2; BYTE $0x7a; BYTE $0x4b; BYTE $0x04; BYTE $0x0b
#define STORE_T1_C   BYTE $0xc4; BYTE $0xe2; BYTE $0x7a; BYTE $0x4b; BYTE $0x4c; BYTE $0x0b; BYTE $0x40
#define STORE_T2_C   BYTE $0xc4; BYTE $0xc2; BYTE $0x7a; BYTE $0x4b; BYTE $0x14; BYTE $0x0c
#define STORE_T3_C   BYTE $0xc4; BYTE $0xc2; BYTE $0x7a; BYTE $0x4b; BYTE $0x5c; BYTE $0x0c; BYTE $0x40

// tdpbf16ps %tmm6,%tmm4,%tmm0 (tmm0 += tmm4·tmm6) / %tmm7,%tmm4,%tmm1 /
// %tmm6,%tmm5,%tmm2 / %tmm7,%tmm5,%tmm3
#define TDP_T0_T4_T6 BYTE $0xc4; BYTE $0xe2; BYTE $0x4a; BYTE $0x5c; BYTE $0xc4
#define TDP_T1_T4_T7 BYTE $0xc4; BYTE $0xe2; BYTE $0x42; BYTE $0x5c; BYTE $0xcc
#define TDP_T2_T5_T6 BYTE $0xc4; BYTE $0xe2; BYTE $0x4a; BYTE $0x5c; BYTE $0xd5
#define TDP_T3_T5_T7 BYTE $0xc4; BYTE $0xe2; BYTE $0x42; BYTE $0x5c; BYTE $0xdd
