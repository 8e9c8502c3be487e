//go:build goexperiment.simd && amd64

package svdvals

import "simd/archsimd"

var haveAVX512 = archsimd.X86.AVX512()

// The kernels below are the Go loops of svdvals.go eight values at a time
// on AVX-512 where the CPU has it, with fused multiply-adds (so the last
// bit may differ); accumulate and dots, the panels' two passes over the
// trailing matrix, call assembly (kernels_amd64.s). Each takes a whole
// block of rows, so that a column's pass over the trailing matrix is one
// call, not one per row.
//
// No scalar floating-point arithmetic runs between their vector
// instructions: Go's scalar code is legacy SSE, which costs a transition
// each time while the vector registers' upper halves are in use. The
// coefficients are therefore written, eight copies each, into a scratch
// slice before the vector code starts, and loaded from it.

// spread writes c[i]·f eight times at scratch[8i:] for every i.
func spread(scratch, c []float64, f float64) {
	for i, v := range c {
		v *= f
		s := scratch[8*i : 8*i+8]
		s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7] = v, v, v, v, v, v, v, v
	}
}

func lanes8(s []float64, i int) archsimd.Float64x8 {
	return archsimd.LoadFloat64x8((*[8]float64)(s[8*i : 8*i+8]))
}

// axpy is axpyGo.
func axpy(y, x []float64, alpha float64) {
	n := len(y)
	if !haveAVX512 || n < 8 {
		axpyGo(y, x, alpha)
		return
	}
	axpyVec(y, x[:n], archsimd.BroadcastFloat64x8(alpha))
	// Leaves the upper halves of the vector registers clean for the scalar
	// code that follows (see internal/simdrt).
	archsimd.ClearAVXUpperBits()
}

func axpyVec(y, x []float64, av archsimd.Float64x8) {
	n := len(y)
	i := 0
	for ; i+8 <= n; i += 8 {
		archsimd.LoadFloat64x8Slice(x[i:]).MulAdd(av, archsimd.LoadFloat64x8Slice(y[i:])).StoreSlice(y[i:])
	}
	if i < n {
		archsimd.LoadFloat64x8SlicePart(x[i:]).MulAdd(av, archsimd.LoadFloat64x8SlicePart(y[i:])).StoreSlicePart(y[i:])
	}
}

// accumulate is accumulateGo, in assembly (accumulateAVX512).
func accumulate(w, a []float64, stride, rows int, v, scratch []float64) {
	n := len(w)
	if !haveAVX512 || n < 1 || rows < 1 {
		accumulateGo(w, a, stride, rows, v, scratch)
		return
	}
	_ = a[(rows-1)*stride+n-1]
	_ = v[rows-1]
	accumulateAVX512(&w[0], n, &a[0], stride, rows, &v[0])
}

// Index vectors of a butterfly that leaves a vector's sum in every lane.
var swap1, swap2, swap4 = [8]uint64{1, 0, 3, 2, 5, 4, 7, 6}, [8]uint64{2, 3, 0, 1, 6, 7, 4, 5}, [8]uint64{4, 5, 6, 7, 0, 1, 2, 3}

// update is updateGo.
func update(a []float64, stride, rows int, w, u, v []float64, tau, sigma float64, scratch []float64) {
	n := len(w)
	if !haveAVX512 || n < 8 {
		updateGo(a, stride, rows, w, u, v, tau, sigma, scratch)
		return
	}
	_ = a[(rows-1)*stride+n-1]
	u = u[:n]
	right := sigma != 0 // compared here, not between vector instructions
	spread(scratch, v[:rows], -tau)
	var ns [8]float64
	spread(ns[:], []float64{-sigma}, 1)
	nsigma := archsimd.LoadFloat64x8(&ns)
	p1, p2, p4 := archsimd.LoadUint64x8(&swap1), archsimd.LoadUint64x8(&swap2), archsimd.LoadUint64x8(&swap4)
	for i := range rows {
		r := a[i*stride : i*stride+n]
		cv := lanes8(scratch, i)
		// Two sums halve the chain of dependent fused multiply-adds.
		var acc, acc1 archsimd.Float64x8
		j := 0
		for ; j+16 <= n; j += 16 {
			r0 := archsimd.LoadFloat64x8Slice(w[j:]).MulAdd(cv, archsimd.LoadFloat64x8Slice(r[j:]))
			r1 := archsimd.LoadFloat64x8Slice(w[j+8:]).MulAdd(cv, archsimd.LoadFloat64x8Slice(r[j+8:]))
			r0.StoreSlice(r[j:])
			r1.StoreSlice(r[j+8:])
			acc = r0.MulAdd(archsimd.LoadFloat64x8Slice(u[j:]), acc)
			acc1 = r1.MulAdd(archsimd.LoadFloat64x8Slice(u[j+8:]), acc1)
		}
		acc = acc.Add(acc1)
		for ; j+8 <= n; j += 8 {
			nr := archsimd.LoadFloat64x8Slice(w[j:]).MulAdd(cv, archsimd.LoadFloat64x8Slice(r[j:]))
			nr.StoreSlice(r[j:])
			acc = nr.MulAdd(archsimd.LoadFloat64x8Slice(u[j:]), acc)
		}
		if j < n {
			nr := archsimd.LoadFloat64x8SlicePart(w[j:]).MulAdd(cv, archsimd.LoadFloat64x8SlicePart(r[j:]))
			nr.StoreSlicePart(r[j:])
			acc = nr.MulAdd(archsimd.LoadFloat64x8SlicePart(u[j:]), acc)
		}
		if !right {
			continue
		}
		acc = acc.Add(acc.Permute(p1))
		acc = acc.Add(acc.Permute(p2))
		acc = acc.Add(acc.Permute(p4))
		axpyVec(r, u, acc.Mul(nsigma))
	}
	archsimd.ClearAVXUpperBits()
}

// dots is dotsGo, in assembly (dotsAVX512).
func dots(out, a []float64, stride, rows int, u, scratch []float64) {
	n := len(u)
	if !haveAVX512 || n < 1 || rows < 1 {
		dotsGo(out, a, stride, rows, u, scratch)
		return
	}
	_ = a[(rows-1)*stride+n-1]
	_ = out[rows-1]
	dotsAVX512(&out[0], &a[0], stride, rows, &u[0], n)
}

// magnitude is magnitudeGo. The vector maximum does not keep a NaN, so
// finiteness is found apart: v·0 is 0 for a finite v and NaN for NaN and
// ±Inf, and a sum of those is NaN if any is.
func magnitude(a []float64) (float64, bool) {
	n := len(a)
	if !haveAVX512 || n < 8 {
		return magnitudeGo(a)
	}
	absMask := archsimd.BroadcastUint64x8(1<<63 - 1)
	var zero, m0, m1, z0, z1 archsimd.Float64x8
	i := 0
	for ; i+16 <= n; i += 16 {
		v0, v1 := archsimd.LoadFloat64x8Slice(a[i:]), archsimd.LoadFloat64x8Slice(a[i+8:])
		m0 = m0.Max(v0.AsUint64x8().And(absMask).AsFloat64x8())
		m1 = m1.Max(v1.AsUint64x8().And(absMask).AsFloat64x8())
		z0 = v0.MulAdd(zero, z0)
		z1 = v1.MulAdd(zero, z1)
	}
	for ; i < n; i += 8 {
		v := archsimd.LoadFloat64x8SlicePart(a[i:])
		m0 = m0.Max(v.AsUint64x8().And(absMask).AsFloat64x8())
		z0 = v.MulAdd(zero, z0)
	}
	var ms, zs [8]float64
	m0.Max(m1).Store(&ms)
	z0.Add(z1).Store(&zs)
	archsimd.ClearAVXUpperBits()
	p, z := 0.0, 0.0
	for k := range 8 {
		p = max(p, ms[k])
		z += zs[k]
	}
	return p, z == 0
}
