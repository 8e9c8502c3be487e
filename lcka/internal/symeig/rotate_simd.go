//go:build goexperiment.simd && amd64

package symeig

import "simd/archsimd"

var haveAVX512 = archsimd.X86.AVX512()

// rotateSweep is rotateSweepGo on AVX-512 where the CPU has it, with fused
// multiply-adds (so the last bit may differ). It takes the rows a block of
// columns at a time and carries the row that the next rotation shares in
// registers, so that each row is loaded and stored once per sweep, where
// rotating two whole rows at a time loads and stores each twice.
func rotateSweep(zt []float64, n, lo, hi int, cs []float64) {
	if !haveAVX512 || n < 8 || hi <= lo {
		rotateSweepGo(zt, n, lo, hi, cs)
		return
	}
	_ = zt[(hi+1)*n-1]
	_ = cs[3*(hi-lo)]
	j := 0
	for ; j+32 <= n; j += 32 {
		top := zt[hi*n+j : hi*n+j+32]
		y0 := archsimd.LoadFloat64x8Slice(top[0:])
		y1 := archsimd.LoadFloat64x8Slice(top[8:])
		y2 := archsimd.LoadFloat64x8Slice(top[16:])
		y3 := archsimd.LoadFloat64x8Slice(top[24:])
		for i := hi - 1; i >= lo; i-- {
			p := cs[3*(i-lo) : 3*(i-lo)+4]
			c := archsimd.LoadFloat64x2Slice(p[0:]).Broadcast1To8()
			s := archsimd.LoadFloat64x2Slice(p[1:]).Broadcast1To8()
			ns := archsimd.LoadFloat64x2Slice(p[2:]).Broadcast1To8()
			x := zt[i*n+j : i*n+j+32]
			below := zt[(i+1)*n+j : (i+1)*n+j+32]
			x0 := archsimd.LoadFloat64x8Slice(x[0:])
			x1 := archsimd.LoadFloat64x8Slice(x[8:])
			x2 := archsimd.LoadFloat64x8Slice(x[16:])
			x3 := archsimd.LoadFloat64x8Slice(x[24:])
			x0.MulAdd(s, y0.Mul(c)).StoreSlice(below[0:])
			x1.MulAdd(s, y1.Mul(c)).StoreSlice(below[8:])
			x2.MulAdd(s, y2.Mul(c)).StoreSlice(below[16:])
			x3.MulAdd(s, y3.Mul(c)).StoreSlice(below[24:])
			y0 = x0.MulAdd(c, y0.Mul(ns))
			y1 = x1.MulAdd(c, y1.Mul(ns))
			y2 = x2.MulAdd(c, y2.Mul(ns))
			y3 = x3.MulAdd(c, y3.Mul(ns))
		}
		bottom := zt[lo*n+j : lo*n+j+32]
		y0.StoreSlice(bottom[0:])
		y1.StoreSlice(bottom[8:])
		y2.StoreSlice(bottom[16:])
		y3.StoreSlice(bottom[24:])
	}
	for ; j+8 <= n; j += 8 {
		y := archsimd.LoadFloat64x8Slice(zt[hi*n+j : hi*n+j+8])
		for i := hi - 1; i >= lo; i-- {
			p := cs[3*(i-lo) : 3*(i-lo)+4]
			c := archsimd.LoadFloat64x2Slice(p[0:]).Broadcast1To8()
			s := archsimd.LoadFloat64x2Slice(p[1:]).Broadcast1To8()
			ns := archsimd.LoadFloat64x2Slice(p[2:]).Broadcast1To8()
			x := archsimd.LoadFloat64x8Slice(zt[i*n+j : i*n+j+8])
			x.MulAdd(s, y.Mul(c)).StoreSlice(zt[(i+1)*n+j : (i+1)*n+j+8])
			y = x.MulAdd(c, y.Mul(ns))
		}
		y.StoreSlice(zt[lo*n+j : lo*n+j+8])
	}
	// Leaves the upper halves of the vector registers clean for the scalar
	// code that follows (see internal/simdrt).
	archsimd.ClearAVXUpperBits()
	for ; j < n; j++ {
		y := zt[hi*n+j]
		for i := hi - 1; i >= lo; i-- {
			c, s := cs[3*(i-lo)], cs[3*(i-lo)+1]
			x := zt[i*n+j]
			zt[(i+1)*n+j] = s*x + c*y
			y = c*x - s*y
		}
		zt[lo*n+j] = y
	}
}
