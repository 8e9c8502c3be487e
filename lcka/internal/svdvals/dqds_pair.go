package svdvals

import "math"

// Two matrices' dqds at once. A transform is a chain of dependent
// operations, an add, a divide and a fused multiply-add an element (about
// 22 cycles), bound by their latency; a qdPass runs two such chains (a
// bold and a cautious shift) so that their divisions overlap, and the
// divider could still take about twice as many. An all-pairs measure has
// thousands of independent matrices: bidiagonalValuesPair runs two of
// them, each its own dqdsRun, in lockstep. While both have a transform to
// run, one loop (run4) takes all four chains over the shorter array, the
// longer array's rest runs alone, and both are advanced (deflation,
// shifts, acceptance); once one matrix is done, or gone to its fallback,
// the other goes on alone. (Starting each matrix's next transform as soon
// as its last one ends, so that the loop stays fused when the arrays'
// lengths differ, measured 2-5% slower: more, shorter loops.) Each matrix
// goes through exactly the arithmetic of bidiagonalValues, so its values
// are bitwise the same.

// bidiagonalValuesPair is bidiagonalValues for two matrices, (dA, eA) into
// outA and (dB, eB) into outB, with work of dqdsWork(len(dA)) +
// dqdsWork(len(dB)) values; it returns each one's result, each as
// bidiagonalValues would.
func bidiagonalValuesPair(outA, dA, eA, outB, dB, eB, work []float64) (okA, okB bool) {
	var a, b dqdsRun
	w := dqdsWork(len(dA))
	sa := a.start(outA, dA, eA, work[:w])
	sb := b.start(outB, dB, eB, work[w:w+dqdsWork(len(dB))])
	for sa == dqdsTransform && sb == dqdsTransform {
		run4(&a.pass, &b.pass, min(a.pass.left(), b.pass.left()))
		a.pass.run(a.pass.left())
		b.pass.run(b.pass.left())
		sa, sb = a.advance(), b.advance()
	}
	return a.alone(sa) == dqdsDone, b.alone(sb) == dqdsDone
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
