//go:build goexperiment.simd && amd64

package study

import (
	"simd/archsimd"
	"unsafe"
)

// simdBuild: the vector kernels are built in (tests ask for them where the
// CPU has them).
const simdBuild = true

var (
	haveAVX512 = archsimd.X86.AVX512()
	// haveAVX2: the 8-lane kernels (permRowAVX2, bootRowAVX2) for CPUs
	// without AVX-512, where the plain Go loops took 85% of analyze's
	// default run on an AMD EPYC (Zen 3).
	haveAVX2 = archsimd.X86.AVX2() && archsimd.X86.FMA()
)

// at16 returns the 16 values of s from offset o on; the callers check the
// bounds once per row instead of once per load.
func at16(s unsafe.Pointer, o int) archsimd.Float32x16 {
	return archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(s, 4*o)))
}

// permRow is permRowGo, on AVX-512 where the CPU has it: lp is a multiple of
// 16, and each block of 16 layers keeps its sum in a register across j.
func permRow(acc, ka, kb []float32, perm []int32, lp int) {
	if !haveAVX512 || len(perm) == 0 {
		if !permRowAVX2(acc, ka, kb, perm, lp) {
			permRowGo(acc, ka, kb, perm, lp)
		}
		return
	}
	nkb := len(kb) / lp
	for _, pj := range perm {
		if int(pj) >= nkb || pj < 0 {
			panic("study: permutation index out of range")
		}
	}
	_ = ka[len(perm)*lp-1]
	_ = acc[lp-1]
	pa, pb := unsafe.Pointer(&ka[0]), unsafe.Pointer(&kb[0])
	for q := 0; q < lp; q += 16 {
		s := archsimd.LoadFloat32x16Slice(acc[q:])
		o := q
		for _, pj := range perm {
			s = at16(pa, o).MulAdd(at16(pb, int(pj)*lp+q), s)
			o += lp
		}
		s.StoreSlice(acc[q:])
	}
	// Leaves the upper halves of the vector registers clean for the scalar
	// code that follows (see internal/simdrt).
	archsimd.ClearAVXUpperBits()
}

// bootRow is bootRowGo on AVX-512 where the CPU has it; c16 is c with each
// value repeated 16 times (a load, where a broadcast from a scalar register
// goes through a legacy-SSE insert).
func bootRow(a, b, ab, aa, bb, ka, kb []float32, drawn []int32, c, c16 []float32, lp int) {
	if !haveAVX512 || len(drawn) == 0 {
		if !bootRowAVX2(a, b, ab, aa, bb, ka, kb, drawn, c16, lp) {
			bootRowGo(a, b, ab, aa, bb, ka, kb, drawn, c, lp)
		}
		return
	}
	n := len(c)
	for _, j := range drawn {
		if int(j) >= n || j < 0 {
			panic("study: resample index out of range")
		}
	}
	_, _ = ka[n*lp-1], kb[n*lp-1]
	_ = c16[16*n-1]
	_, _, _, _, _ = a[lp-1], b[lp-1], ab[lp-1], aa[lp-1], bb[lp-1]
	pa, pb, pw := unsafe.Pointer(&ka[0]), unsafe.Pointer(&kb[0]), unsafe.Pointer(&c16[0])
	for q := 0; q < lp; q += 16 {
		sa := archsimd.LoadFloat32x16Slice(a[q:])
		sb := archsimd.LoadFloat32x16Slice(b[q:])
		sab := archsimd.LoadFloat32x16Slice(ab[q:])
		saa := archsimd.LoadFloat32x16Slice(aa[q:])
		sbb := archsimd.LoadFloat32x16Slice(bb[q:])
		for _, j32 := range drawn {
			j := int(j32)
			w := at16(pw, 16*j)
			o := j*lp + q
			x, y := at16(pa, o), at16(pb, o)
			wx, wy := x.Mul(w), y.Mul(w)
			sa = sa.Add(wx)
			sb = sb.Add(wy)
			sab = wx.MulAdd(y, sab)
			saa = wx.MulAdd(x, saa)
			sbb = wy.MulAdd(y, sbb)
		}
		sa.StoreSlice(a[q:])
		sb.StoreSlice(b[q:])
		sab.StoreSlice(ab[q:])
		saa.StoreSlice(aa[q:])
		sbb.StoreSlice(bb[q:])
	}
	archsimd.ClearAVXUpperBits()
}

// at8 is at16 for 8 values.
func at8(s unsafe.Pointer, o int) archsimd.Float32x8 {
	return archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(s, 4*o)))
}

// permRowAVX2 is permRow's AVX-512 loop on 8-lane vectors with FMA, two
// per block of 16 layers: each sum gets the same fused multiply-adds in the
// same order. It reports false, doing nothing, where the CPU lacks AVX2 or
// FMA or perm is empty.
func permRowAVX2(acc, ka, kb []float32, perm []int32, lp int) bool {
	if !haveAVX2 || len(perm) == 0 {
		return false
	}
	nkb := len(kb) / lp
	for _, pj := range perm {
		if int(pj) >= nkb || pj < 0 {
			panic("study: permutation index out of range")
		}
	}
	_ = ka[len(perm)*lp-1]
	_ = acc[lp-1]
	pa, pb := unsafe.Pointer(&ka[0]), unsafe.Pointer(&kb[0])
	for q := 0; q < lp; q += 16 {
		s0 := archsimd.LoadFloat32x8Slice(acc[q:])
		s1 := archsimd.LoadFloat32x8Slice(acc[q+8:])
		o := q
		for _, pj := range perm {
			p := int(pj)*lp + q
			s0 = at8(pa, o).MulAdd(at8(pb, p), s0)
			s1 = at8(pa, o+8).MulAdd(at8(pb, p+8), s1)
			o += lp
		}
		s0.StoreSlice(acc[q:])
		s1.StoreSlice(acc[q+8:])
	}
	archsimd.ClearAVXUpperBits()
	return true
}

// bootRowAVX2 is bootRow's AVX-512 loop on 8-lane vectors with FMA, 8
// layers per pass over drawn (the five sums of 16 would not fit the 16
// registers): the same operations per sum in the same order. It reports
// false, doing nothing, where the CPU lacks AVX2 or FMA or drawn is empty.
func bootRowAVX2(a, b, ab, aa, bb, ka, kb []float32, drawn []int32, c16 []float32, lp int) bool {
	if !haveAVX2 || len(drawn) == 0 {
		return false
	}
	n := len(c16) / 16
	for _, j := range drawn {
		if int(j) >= n || j < 0 {
			panic("study: resample index out of range")
		}
	}
	_, _ = ka[n*lp-1], kb[n*lp-1]
	_, _, _, _, _ = a[lp-1], b[lp-1], ab[lp-1], aa[lp-1], bb[lp-1]
	pa, pb, pw := unsafe.Pointer(&ka[0]), unsafe.Pointer(&kb[0]), unsafe.Pointer(&c16[0])
	for q := 0; q < lp; q += 8 {
		sa := archsimd.LoadFloat32x8Slice(a[q:])
		sb := archsimd.LoadFloat32x8Slice(b[q:])
		sab := archsimd.LoadFloat32x8Slice(ab[q:])
		saa := archsimd.LoadFloat32x8Slice(aa[q:])
		sbb := archsimd.LoadFloat32x8Slice(bb[q:])
		for _, j32 := range drawn {
			j := int(j32)
			w := at8(pw, 16*j)
			o := j*lp + q
			x, y := at8(pa, o), at8(pb, o)
			wx, wy := x.Mul(w), y.Mul(w)
			sa = sa.Add(wx)
			sb = sb.Add(wy)
			sab = wx.MulAdd(y, sab)
			saa = wx.MulAdd(x, saa)
			sbb = wy.MulAdd(y, sbb)
		}
		sa.StoreSlice(a[q:])
		sb.StoreSlice(b[q:])
		sab.StoreSlice(ab[q:])
		saa.StoreSlice(aa[q:])
		sbb.StoreSlice(bb[q:])
	}
	archsimd.ClearAVXUpperBits()
	return true
}
