package grampanel

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// fma32 is a·b + c rounded once to float32 (the exact value in 200 bits:
// a product of two float32 needs 48).
func fma32(a, b, c float32) float32 {
	x := new(big.Float).SetPrec(200).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetPrec(200).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetPrec(200).SetFloat64(float64(c)))
	f, _ := x.Float32()
	return f
}

// TestTileModel runs the tile routines the host kernel uses on this CPU
// (both sets where it has AVX-512, AVX2 and FMA) against their model: for
// every entry of the 12×32 (float32) or 12×16 (float64) tile, a sum that
// starts at 0 and takes a fused multiply-add per step t < k in order, then
// one addition to c's old value. Equal bits for every set means equal bits
// between the sets (what gen_kernels.go's tileAVX2 claims). The strides are
// odd and c's rows longer than the tile: the entries past it must stay.
func TestTileModel(t *testing.T) {
	requireHost(t)
	sets := []bool{false, true} // AVX2 routines off, on
	defer useAVX2(!hasAVX512())
	ran := 0
	for _, avx2 := range sets {
		if !useAVX2(avx2) {
			continue
		}
		ran++
		r := rand.New(rand.NewPCG(7, 8))
		for _, k := range []int{0, 1, 5, 37, kc} {
			const sa, sb, ldc = 13, 35, 40
			a, b, c := make([]float32, k*sa+16), make([]float32, k*sb+40), make([]float32, 12*ldc)
			for _, s := range [][]float32{a, b, c} {
				for i := range s {
					s[i] = float32(r.NormFloat64())
				}
			}
			want := append([]float32(nil), c...)
			for row := range 12 {
				for col := range 32 {
					var acc float32
					for q := range k {
						acc = fma32(a[q*sa+row], b[q*sb+col], acc)
					}
					want[row*ldc+col] += acc
				}
			}
			kernel32.tile(k, unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), sa*4, sb*4, unsafe.Pointer(&c[0]), ldc*4)
			for i := range c {
				if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
					t.Fatalf("AVX2 %v, k = %d: float32 entry %d is %g, the model's %g", avx2, k, i, c[i], want[i])
				}
			}
			a64, b64, c64 := make([]float64, k*sa+16), make([]float64, k*sb+40), make([]float64, 12*ldc)
			for _, s := range [][]float64{a64, b64, c64} {
				for i := range s {
					s[i] = r.NormFloat64()
				}
			}
			w64 := append([]float64(nil), c64...)
			for row := range 12 {
				for col := range 16 {
					var acc float64
					for q := range k {
						acc = math.FMA(a64[q*sa+row], b64[q*sb+col], acc)
					}
					w64[row*ldc+col] += acc
				}
			}
			kernel64.tile(k, unsafe.Pointer(&a64[0]), unsafe.Pointer(&b64[0]), sa*8, sb*8, unsafe.Pointer(&c64[0]), ldc*8)
			for i := range c64 {
				if math.Float64bits(c64[i]) != math.Float64bits(w64[i]) {
					t.Fatalf("AVX2 %v, k = %d: float64 entry %d is %g, the model's %g", avx2, k, i, c64[i], w64[i])
				}
			}
		}
	}
	if ran == 0 {
		t.Fatal("no set of tile routines ran, though Host() is true")
	}
}
