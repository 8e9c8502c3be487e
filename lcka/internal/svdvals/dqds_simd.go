//go:build goexperiment.simd && amd64

package svdvals

import "simd/archsimd"

// haveAVX512 says whether run8 runs in assembly; a variable, so that the
// tests can run run8Go too.
var haveAVX512 = archsimd.X86.AVX512()

// chains8 is run8AVX512's view of four passes: per pass, where its ee, q
// (from the next element on), qa, ea, qb and eb are at the element
// the loop starts with, then the eight recurrences' negated shifts, d and
// smallest d, pass j's bold one at 2j and its cautious one at 2j+1. The
// assembly reads it at fixed offsets: ptr at 0, nt at 192, d at 256, m at
// 320.
type chains8 struct {
	ptr      [4][6]*float64
	nt, d, m [8]float64
}

// run8AVX512 is run8's loop in assembly (dqds_amd64.s), for k ≥ 1.
//
//go:noescape
func run8AVX512(c *chains8, k int)

// run8 is run8Go, in assembly where the CPU has AVX-512 (see
// dqds_batch.go: the compiler spills the Go loop's values, and tests for
// FMA at every math.FMA where GOAMD64 is v1 or v2).
func run8(a, b, c, d *qdPass, k int) {
	if !haveAVX512 || k < 1 {
		run8Go(a, b, c, d, k)
		return
	}
	var ch chains8
	for j, p := range [4]*qdPass{a, b, c, d} {
		s := p.i
		ee := p.ee[s : s+k]
		ch.ptr[j] = [6]*float64{&ee[0], &p.q[s+1:][:k][0], &p.qa[s:][:k][0], &p.ea[s:][:k][0], &p.qb[s:][:k][0], &p.eb[s:][:k][0]}
		ch.nt[2*j], ch.nt[2*j+1] = -p.ta, -p.tb // exact
		ch.d[2*j], ch.d[2*j+1] = p.da, p.db
		ch.m[2*j], ch.m[2*j+1] = p.mina, p.minb
	}
	run8AVX512(&ch, k)
	for j, p := range [4]*qdPass{a, b, c, d} {
		p.da, p.db = ch.d[2*j], ch.d[2*j+1]
		p.mina, p.minb = ch.m[2*j], ch.m[2*j+1]
		p.i += k
	}
}
