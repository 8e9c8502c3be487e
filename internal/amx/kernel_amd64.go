//go:build amd64

package amx

import "fmt"

// Implemented in kernel_amd64.s.

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv0() (eax, edx uint32)

// tileGEMM computes a 32-row by 32·nj-column block of C over ksteps k-steps;
// see kernel_amd64.s for the operand layout.
//
//go:noescape
func tileGEMM(a, b *uint16, bStride uintptr, c *float32, ldc uintptr, nj, ksteps int, accum bool, pf *uint16)

// packRow copies nsteps × 32 bfloat16 from src (contiguous) to dst with a
// stride of 1024 elements (AVX-512F).
//
//go:noescape
func packRow(dst, src *uint16, nsteps int)

// XCR0 bits: the SSE, AVX and AVX-512 register state (packRow), and the
// AMX tile state.
const (
	xcr0AVX512       = 1<<1 | 1<<2 | 1<<5 | 1<<6 | 1<<7
	xfeatureTileCfg  = 17
	xfeatureTileData = 18
)

// probe checks the CPU and the OS, then asks for the permission
// (requestPermission, per OS). It returns nil when the kernels can run.
func probe() error {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return fmt.Errorf("CPUID max leaf %#x has no structured feature flags", maxLeaf)
	}
	_, ebx7, _, edx7 := cpuid(7, 0)
	if edx7&(1<<24) == 0 || edx7&(1<<22) == 0 {
		return fmt.Errorf("CPU lacks AMX-TILE or AMX-BF16 (CPUID.7.0:EDX = %#x)", edx7)
	}
	if ebx7&(1<<16) == 0 {
		return fmt.Errorf("CPU lacks AVX-512F (CPUID.7.0:EBX = %#x)", ebx7)
	}
	if maxLeaf < 0x1e {
		return fmt.Errorf("CPUID max leaf %#x has no tile information", maxLeaf)
	}
	// Palette 1 must offer 8 tiles of 16 rows × 64 bytes, and the TMUL unit
	// K = 16 rows and N = 64 bytes: the shapes the kernel is written for.
	if maxPalette, _, _, _ := cpuid(0x1d, 0); maxPalette < 1 {
		return fmt.Errorf("CPU has no tile palette 1")
	}
	_, b, c, _ := cpuid(0x1d, 1)
	bytesPerRow, names, rows := b&0xffff, b>>16, c&0xffff
	_, tb, _, _ := cpuid(0x1e, 0)
	maxK, maxN := tb&0xff, (tb>>8)&0xffff
	if bytesPerRow < 64 || names < 8 || rows < 16 || maxK < 16 || maxN < 64 {
		return fmt.Errorf("tile palette 1 is %d tiles of %d rows × %d bytes, TMUL K=%d N=%d bytes; need 8 × 16 × 64, 16, 64",
			names, rows, bytesPerRow, maxK, maxN)
	}
	_, _, ecx1, _ := cpuid(1, 0)
	if ecx1&(1<<27) == 0 {
		return fmt.Errorf("OS has not enabled XSAVE (CPUID.1:ECX.OSXSAVE = 0)")
	}
	lo, hi := xgetbv0()
	xcr0 := uint64(hi)<<32 | uint64(lo)
	if want := uint64(1)<<xfeatureTileCfg | 1<<xfeatureTileData; xcr0&want != want {
		return fmt.Errorf("OS has not enabled the tile state (XCR0 = %#x, bits 17 and 18 needed)", xcr0)
	}
	if xcr0&xcr0AVX512 != xcr0AVX512 {
		return fmt.Errorf("OS has not enabled the AVX-512 state (XCR0 = %#x)", xcr0)
	}
	return requestPermission()
}
