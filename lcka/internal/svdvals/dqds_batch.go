package svdvals

import "math"

// Up to four matrices' dqds at once. A transform is a chain of dependent
// operations, an add, a divide and a fused multiply-add an element (about
// 22 cycles), bound by their latency; a qdPass runs two such chains (a
// bold and a cautious shift) so that their divisions overlap, and the
// divider, which starts one about every 4–5 cycles, could take about four
// times as many. An all-pairs measure has thousands of independent
// matrices: bidiagonalValuesBatch runs up to four of them, each its own
// dqdsRun, in lockstep. While they all have a transform to run, the
// transforms go through one loop together over the shortest array (run8:
// eight chains for four matrices; run4: four for two), then the rest of
// the longer arrays in fewer (runPasses), and every matrix is advanced
// (deflation, shifts, acceptance); a matrix that is done, or gone to its
// fallback, drops out and the others go on. (Starting each matrix's next
// transform as soon as its last one ends, so that the loop stays fused
// when the arrays' lengths differ, measured 2-5% slower for two: more,
// shorter loops.) Each matrix goes through exactly the arithmetic of
// bidiagonalValues, which is this driver for one, so its values are
// bitwise the same. For four matrices of about the same order, 98% of the
// elements go through run8.
//
// run8 is in assembly where the CPU has AVX-512 (dqds_amd64.s): in Go its
// 24 loop-carried and constant values do not fit the compiler's 15
// floating-point registers, and the spills made it no faster than two
// run4s (at n = 399, 1225 µs a matrix against 1264); with AVX-512's 32
// registers nothing is spilled. On the bidiagonal forms of products QaᵀQb
// (BenchmarkDqdsBatch, -cpu 1, Intel Xeon with AVX-512, alternating
// runs), the time per matrix is:
//
//	            one     two together   four together
//	n = 200     570 µs  360 µs         260 µs
//	n = 399    2100 µs 1350 µs         950 µs

// batchSize is the most matrices bidiagonalValuesBatch takes at once.
const batchSize = 4

// bidiagonal is one of bidiagonalValuesBatch's problems: the upper
// bidiagonal matrix with diagonal d and superdiagonal e[:len(d)−1], out
// for its singular values, and whether dqds found them.
type bidiagonal struct {
	out, d, e []float64
	ok        bool
}

// bidiagonalValuesBatch is bidiagonalValues for each of up to batchSize
// problems, with work of the sum of their dqdsWork values; it sets each
// one's ok, and its out where ok, as bidiagonalValues would.
func bidiagonalValuesBatch(ps []bidiagonal, work []float64) {
	if len(ps) > batchSize {
		panic("svdvals: more than batchSize bidiagonal matrices")
	}
	var runs [batchSize]dqdsRun
	var states [batchSize]dqdsState
	for i, p := range ps {
		w := dqdsWork(len(p.d))
		states[i] = runs[i].start(p.out, p.d, p.e, work[:w:w])
		work = work[w:]
	}
	var passes [batchSize]*qdPass
	for {
		k := 0
		for i := range ps {
			if states[i] == dqdsTransform {
				passes[k] = &runs[i].pass
				k++
			}
		}
		if k == 0 {
			break
		}
		runPasses(passes[:k])
		for i := range ps {
			if states[i] == dqdsTransform {
				states[i] = runs[i].advance()
			}
		}
	}
	for i := range ps {
		ps[i].ok = states[i] == dqdsDone
	}
}

// bidiagonalValuesPair is bidiagonalValuesBatch for two matrices, (dA, eA)
// into outA and (dB, eB) into outB, with work of dqdsWork(len(dA)) +
// dqdsWork(len(dB)) values.
func bidiagonalValuesPair(outA, dA, eA, outB, dB, eB, work []float64) (okA, okB bool) {
	ps := [2]bidiagonal{{out: outA, d: dA, e: eA}, {out: outB, d: dB, e: eB}}
	bidiagonalValuesBatch(ps[:], work)
	return ps[0].ok, ps[1].ok
}

// runPasses runs every pass of ps (which it reorders) to its end: four
// at a time over the shortest one's elements left, then two, then one.
func runPasses(ps []*qdPass) {
	for {
		// The passes with elements left, the longest first.
		k := 0
		for _, p := range ps {
			if p.left() > 0 {
				ps[k] = p
				k++
			}
		}
		ps = ps[:k]
		for i := 1; i < k; i++ {
			for j := i; j > 0 && ps[j].left() > ps[j-1].left(); j-- {
				ps[j], ps[j-1] = ps[j-1], ps[j]
			}
		}
		switch {
		case k == 0:
			return
		case k == 1:
			ps[0].run(ps[0].left())
		case k < 4:
			run4(ps[0], ps[1], ps[1].left())
		default:
			run8(ps[0], ps[1], ps[2], ps[3], ps[3].left())
		}
	}
}

// run4 takes the next k elements of both passes, a's two recurrences and
// b's two in one loop: four independent chains of divisions.
func run4(a, b *qdPass, k int) {
	s, t := a.i, b.i
	ee := a.ee[s : s+k]
	q := a.q[s+1:][:len(ee)]
	qa, ea := a.qa[s:][:len(ee)], a.ea[s:][:len(ee)]
	qb, eb := a.qb[s:][:len(ee)], a.eb[s:][:len(ee)]
	ff := b.ee[t:][:len(ee)]
	r := b.q[t+1:][:len(ee)]
	rc, fc := b.qa[t:][:len(ee)], b.ea[t:][:len(ee)]
	rd, fd := b.qb[t:][:len(ee)], b.eb[t:][:len(ee)]
	nta, ntb, ntc, ntd := -a.ta, -a.tb, -b.ta, -b.tb // exact
	da, db, dc, dd := a.da, a.db, b.da, b.db
	mina, minb, minc, mind := a.mina, a.minb, b.mina, b.minb
	for i, e := range ee {
		f := ff[i]
		next, nextr := q[i], r[i]
		sa, sb, sc, sd := da+e, db+e, dc+f, dd+f
		qa[i], qb[i], rc[i], rd[i] = sa, sb, sc, sd
		ra, rb, rcc, rdd := next/sa, next/sb, nextr/sc, nextr/sd
		ea[i], eb[i], fc[i], fd[i] = e*ra, e*rb, f*rcc, f*rdd
		da, db = math.FMA(da, ra, nta), math.FMA(db, rb, ntb)
		dc, dd = math.FMA(dc, rcc, ntc), math.FMA(dd, rdd, ntd)
		mina, minb, minc, mind = min(mina, da), min(minb, db), min(minc, dc), min(mind, dd)
	}
	a.da, a.db, a.mina, a.minb = da, db, mina, minb
	b.da, b.db, b.mina, b.minb = dc, dd, minc, mind
	a.i, b.i = s+k, t+k
}

// run8Go takes the next k elements of four passes, their eight recurrences
// in one loop: eight independent chains of divisions, about as many as
// the divider overlaps.
func run8Go(a, b, c, d *qdPass, k int) {
	s, t, u, v := a.i, b.i, c.i, d.i
	ea0 := a.ee[s : s+k]
	qa0 := a.q[s+1:][:len(ea0)]
	qa1, ea1 := a.qa[s:][:len(ea0)], a.ea[s:][:len(ea0)]
	qa2, ea2 := a.qb[s:][:len(ea0)], a.eb[s:][:len(ea0)]
	eb0 := b.ee[t:][:len(ea0)]
	qb0 := b.q[t+1:][:len(ea0)]
	qb1, eb1 := b.qa[t:][:len(ea0)], b.ea[t:][:len(ea0)]
	qb2, eb2 := b.qb[t:][:len(ea0)], b.eb[t:][:len(ea0)]
	ec0 := c.ee[u:][:len(ea0)]
	qc0 := c.q[u+1:][:len(ea0)]
	qc1, ec1 := c.qa[u:][:len(ea0)], c.ea[u:][:len(ea0)]
	qc2, ec2 := c.qb[u:][:len(ea0)], c.eb[u:][:len(ea0)]
	ed0 := d.ee[v:][:len(ea0)]
	qd0 := d.q[v+1:][:len(ea0)]
	qd1, ed1 := d.qa[v:][:len(ea0)], d.ea[v:][:len(ea0)]
	qd2, ed2 := d.qb[v:][:len(ea0)], d.eb[v:][:len(ea0)]
	nta1, nta2, ntb1, ntb2 := -a.ta, -a.tb, -b.ta, -b.tb // exact
	ntc1, ntc2, ntd1, ntd2 := -c.ta, -c.tb, -d.ta, -d.tb
	da1, da2, db1, db2 := a.da, a.db, b.da, b.db
	dc1, dc2, dd1, dd2 := c.da, c.db, d.da, d.db
	mina1, mina2, minb1, minb2 := a.mina, a.minb, b.mina, b.minb
	minc1, minc2, mind1, mind2 := c.mina, c.minb, d.mina, d.minb
	for i, ea := range ea0 {
		eb, ec, ed := eb0[i], ec0[i], ed0[i]
		sa1, sa2, sb1, sb2 := da1+ea, da2+ea, db1+eb, db2+eb
		sc1, sc2, sd1, sd2 := dc1+ec, dc2+ec, dd1+ed, dd2+ed
		qa1[i], qa2[i], qb1[i], qb2[i] = sa1, sa2, sb1, sb2
		qc1[i], qc2[i], qd1[i], qd2[i] = sc1, sc2, sd1, sd2
		na, nb, nc, nd := qa0[i], qb0[i], qc0[i], qd0[i]
		ra1, ra2, rb1, rb2 := na/sa1, na/sa2, nb/sb1, nb/sb2
		rc1, rc2, rd1, rd2 := nc/sc1, nc/sc2, nd/sd1, nd/sd2
		ea1[i], ea2[i], eb1[i], eb2[i] = ea*ra1, ea*ra2, eb*rb1, eb*rb2
		ec1[i], ec2[i], ed1[i], ed2[i] = ec*rc1, ec*rc2, ed*rd1, ed*rd2
		da1, da2 = math.FMA(da1, ra1, nta1), math.FMA(da2, ra2, nta2)
		db1, db2 = math.FMA(db1, rb1, ntb1), math.FMA(db2, rb2, ntb2)
		dc1, dc2 = math.FMA(dc1, rc1, ntc1), math.FMA(dc2, rc2, ntc2)
		dd1, dd2 = math.FMA(dd1, rd1, ntd1), math.FMA(dd2, rd2, ntd2)
		mina1, mina2, minb1, minb2 = min(mina1, da1), min(mina2, da2), min(minb1, db1), min(minb2, db2)
		minc1, minc2, mind1, mind2 = min(minc1, dc1), min(minc2, dc2), min(mind1, dd1), min(mind2, dd2)
	}
	a.da, a.db, a.mina, a.minb = da1, da2, mina1, mina2
	b.da, b.db, b.mina, b.minb = db1, db2, minb1, minb2
	c.da, c.db, c.mina, c.minb = dc1, dc2, minc1, minc2
	d.da, d.db, d.mina, d.minb = dd1, dd2, mind1, mind2
	a.i, b.i, c.i, d.i = s+k, t+k, u+k, v+k
}
