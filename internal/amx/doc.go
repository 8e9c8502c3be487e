// Package amx multiplies bfloat16 matrices on Intel AMX, from Go assembly.
//
// # What AMX is
//
// Advanced Matrix Extensions, on Intel Xeon CPUs from Sapphire Rapids on,
// add eight tile registers of up to 16 rows × 64 bytes, a 64-byte tile
// configuration that gives them their shapes (LDTILECFG), and a matrix unit
// that multiplies tiles. The one instruction this package is built around,
// TDPBF16PS, takes a 16 × 32 bfloat16 tile of A and a 32 × 16 bfloat16 tile
// of B (stored as 16 rows of 16 pairs, the "VNNI" layout) and adds their
// product into a 16 × 16 float32 tile: 16 384 floating-point operations in
// one instruction, about 1024 a cycle on one core. The package computes
//
//	C [M, N] float32 = A [M, K] bfloat16 · W [N, K]ᵀ bfloat16
//
// which is a torch Linear layer without its bias: W is the weight in its
// stored [out, in] layout, A a batch of M input rows.
//
// # Why it exists
//
// The matrix products of a transformer are most of its forward pass. On
// this project's benchmark machine (a 2-vCPU Sapphire Rapids VM, see
// docs/benchmarks.md) one product of the Llama-3.2-1B MLP, [1024, 2048] ·
// [2048, 8192], ran at about 90 GFLOP/s in GoMLX's Go backend (float32)
// and at about 1200 GFLOP/s in torch's bfloat16 path (oneDNN, on AMX). The
// kernel here reaches about 1000 GFLOP/s on one core for that shape,
// packing of A included. The Go assembler has no mnemonics for AMX, so the
// instructions are spelled out byte by byte in encodings_amd64.h, which also
// records how each encoding was derived and checked.
//
// # Use
//
// Pack each weight once with PackWeight (scalar Go: about 35 ms for an
// 8192 × 2048 weight), then call MatMul for every batch. Available tells
// whether the kernels can run; where it is false (another CPU, an old
// kernel, a container that forbids the permission request, another
// architecture) PackWeight returns an error and callers use their own
// float32 path. MatMul pads M to a multiple of 32 rows, so it is meant for
// batches of tens of rows or more; for one row it does 32 rows' work.
//
// # The permission request, and why AMX is safe in a Go process
//
// The tile data (8 KiB of registers) is an XSAVE state component that Linux
// (5.16 and later) enables per process on request: until the process calls
// arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA), the first instruction that
// touches tile data traps and the kernel sends SIGILL (LDTILECFG alone does
// not trap). The first call of Available, or of PackWeight, makes that
// request, after checking CPUID (AMX-TILE, AMX-BF16, AVX-512F for the
// packer, the tile geometry) and XCR0 (bits 17 and 18: the OS manages the
// tile state). The grant covers the whole process, threads started later
// included, and cannot be given back. Three things make it safe with Go's
// runtime:
//
//   - Tile registers are never live while Go code runs. Go does not
//     preempt assembly functions asynchronously, the kernel function calls
//     nothing, and every call loads its tile configuration on entry and ends
//     with TILERELEASE. A goroutine switch, or two goroutines taking turns
//     on one thread, therefore never sees or disturbs another call's tiles.
//   - Linux saves and restores the tile state itself, on context switches
//     and in signal frames, so a signal that lands inside the kernel
//     function (Go's preemption signal SIGURG among them) returns to intact
//     tiles.
//   - Signal frames grow by the tile data once it is permitted, and Linux
//     refuses the request if a thread's alternate signal stack is too small
//     for them. On the benchmark machine AT_MINSIGSTKSZ is 11 952 bytes,
//     tile data included; Go gives every thread a 32 KiB signal stack, so
//     the request succeeds and later threads start normally. (C code in a
//     cgo program that installs a smaller sigaltstack would see that call
//     fail; this package uses no cgo.)
//
// In the feasibility study before this package, 2 goroutines ran products
// in a loop for 2 s while the process received about 20 000 SIGURG and
// SIGUSR1 signals and the garbage collector ran: all 5 600 results were
// bit-identical, with asynchronous preemption on and off. The package does
// not need GODEBUG=asyncpreemptoff=1 (the project sets it for other
// reasons, see internal/simdrt).
//
// # Numbers
//
// A product of two bfloat16 is exact in float32, and TDPBF16PS adds in
// float32 with round-to-nearest-even, so results are at float32
// accumulation level: the tests find at most about 1.3e-7 of Σ|aₖ·wₖ|
// against a float64 reference, about one float32 ulp. TDPBF16PS ignores
// MXCSR: it treats denormal inputs as zero and flushes denormal results to
// zero. torch keeps denormals by default, so values below 2⁻¹²⁶ ≈ 1.2e-38
// can come out differently. Inputs are bfloat16 bit patterns (the top
// half of a float32); NaNs and infinities propagate as in float32.
//
// # Layout
//
// PackWeight stores W as ceil(N/32) panels of 32 rows of W (32 columns of
// C). Each panel is ceil(K/32) k-steps of 2 KiB: two 16-column B tiles in
// the VNNI layout, tile row r holding {W[n][k+2r], W[n][k+2r+1]} for 16
// values of n. N and K are padded with zeros to multiples of 32 (Bytes
// reports the size). MatMul packs A the same way, per call, into scratch
// memory from a pool: 32-row panels, each k-step two 16 × 32 tiles, rows
// past M and columns past K zero. The kernel computes a 32-row × 32·j
// column block of C as 2 × 2 float32 tiles, with 4 tile loads and 4
// TDPBF16PS per k-step. The blocking keeps a block of W of 2048 values of
// K by 256 columns (1 MiB) in L2 while every row panel of A passes it, and
// prefetches the next A panel into L2. Full 32 × 32 blocks are stored
// straight into C; partial ones (M or N not a multiple of 32) go through a
// small scratch block. Workers split the panels of W; each entry of C is
// summed in the same order whatever the number of workers, so results do
// not depend on it.
//
// # Measured speed
//
// BenchmarkMatMul, M = 1024 rows, the Llama-3.2-1B linear layers, A packed
// on every call and W once; GFLOP/s = 2·M·N·K / time. One sitting on
// 2026-12-07, a 2-vCPU Sapphire Rapids VM ("Intel(R) Xeon(R) Processor",
// Linux 6.18), Go 1.26.8 with GOEXPERIMENT=simd and
// GODEBUG=asyncpreemptoff=1, 20 calls per figure. The machine was shared:
// another job kept the other core busy throughout, so the workers = 2 column
// (not pinned) shows no gain; it shows only that the split works. Repeated
// runs on this VM vary by 10–30 %.
//
//	N × K        workers = 1 (taskset -c 1)   workers = 2
//	8192 × 2048  1025                          950
//	2048 × 2048  1061                         1056
//	2048 × 8192   938                          952
//	 512 × 2048   969                          889
//
// For scale, from the feasibility study on the same machine (an earlier
// sitting): the instruction alone, on tiles already loaded, ran at 3.0–3.3
// TFLOP/s on one core, and the kernel function on operands held in L1 and
// L2 at 2.0–2.9. The gap to a whole product (A and W streamed from L3 and
// memory, C stored at a row stride of 4·N bytes) is not closed.
package amx
