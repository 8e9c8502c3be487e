//go:build goexperiment.simd && amd64

package main

import "simd/archsimd"

func available() bool { return archsimd.X86.AVX512() }

// sink keeps the accumulators' sum alive past the loop.
var sink [8]float64

func fmaLoop(iters int) {
	x := archsimd.BroadcastFloat64x8(1 - 0x1p-30)
	y := archsimd.BroadcastFloat64x8(0x1p-30)
	a0, a1, a2, a3 := archsimd.BroadcastFloat64x8(0), archsimd.BroadcastFloat64x8(1), archsimd.BroadcastFloat64x8(2), archsimd.BroadcastFloat64x8(3)
	a4, a5, a6, a7 := archsimd.BroadcastFloat64x8(4), archsimd.BroadcastFloat64x8(5), archsimd.BroadcastFloat64x8(6), archsimd.BroadcastFloat64x8(7)
	a8, a9, a10, a11 := archsimd.BroadcastFloat64x8(8), archsimd.BroadcastFloat64x8(9), archsimd.BroadcastFloat64x8(10), archsimd.BroadcastFloat64x8(11)
	for range iters {
		a0, a1, a2, a3 = a0.MulAdd(x, y), a1.MulAdd(x, y), a2.MulAdd(x, y), a3.MulAdd(x, y)
		a4, a5, a6, a7 = a4.MulAdd(x, y), a5.MulAdd(x, y), a6.MulAdd(x, y), a7.MulAdd(x, y)
		a8, a9, a10, a11 = a8.MulAdd(x, y), a9.MulAdd(x, y), a10.MulAdd(x, y), a11.MulAdd(x, y)
	}
	a0.Add(a1).Add(a2).Add(a3).Add(a4).Add(a5).Add(a6).Add(a7).Add(a8).Add(a9).Add(a10).Add(a11).Store(&sink)
	archsimd.ClearAVXUpperBits()
}
