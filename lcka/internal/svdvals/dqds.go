package svdvals

import "math"

// The singular values of an upper bidiagonal matrix B by the dqds
// algorithm (Fernando & Parlett, "Accurate singular values and differential
// qd algorithms", Numer. Math. 67, 1994; Parlett & Marques, "An
// implementation of the dqds algorithm (positive case)", Linear Algebra
// Appl. 309, 2000).
//
// gonum's Dlasq1 runs the same algorithm with LAPACK's shift strategy. It
// is not used first because on amd64 it spends half its time in calls of
// math.Min (an assembly function, which the compiler does not inline: two
// calls per element of every transform), and because one transform is a
// chain of dependent divisions, about 20 cycles an element, during which
// the core could do more. This one runs two transforms of the same array
// at once, with two shifts: a bold one, very close to the smallest
// eigenvalue, and a cautious one. When the bold one fails the cautious
// one's result is there, so failures cost no extra pass and the bold
// shifts make the convergence fast. Where it cannot finish (a zero in the
// matrix, values whose squares leave float64's range, no convergence in
// 30·n transforms) it says so, and Values runs gonum's Dlasq1 instead.
// Two chains leave most of the divider idle: bidiagonalValuesBatch runs
// up to four matrices' transforms in one loop (dqds_batch.go), and
// bidiagonalValues is its driver for one.
//
// The squared singular values are the eigenvalues of BᵀB, which the qd
// array q_i = d_i², e_i = e_i² represents without forming it. A transform
// with shift τ computes the qd array of BᵀB − τI by a recurrence in which
// only values of one sign are added, which keeps every eigenvalue's
// relative accuracy; it succeeds exactly when τ is below the smallest
// eigenvalue, and otherwise some d turns negative. Shifts accumulate in σ.
// The last off-diagonal e_{m−1} tends to zero, fast when τ is close to the
// smallest eigenvalue; once it is negligible against σ + q_m that
// eigenvalue is σ + q_m and the array shrinks by one (or by two, solving
// the last 2×2 block exactly, when e_{m−2} is negligible).

// dqdsTol2 is the deflation tolerance: an off-diagonal e (a square) below
// dqdsTol2·λ perturbs the singular value √λ by less than 100·ε, relatively
// (Weyl: by at most √e).
const dqdsTol2 = (100 * 0x1p-53) * (100 * 0x1p-53)

// dqdsWork is how many values bidiagonalValues needs in work, for n.
func dqdsWork(n int) int { return 6 * n }

// bidiagonalValues writes into out the singular values of the upper
// bidiagonal matrix with diagonal d and superdiagonal e[:len(d)−1] (both
// left as they are), in no particular order; work holds dqdsWork(len(d))
// values. It returns false, with out in an unspecified state, where it
// cannot. It is bidiagonalValuesBatch for one matrix.
func bidiagonalValues(out, d, e, work []float64) bool {
	p := [1]bidiagonal{{out: out, d: d, e: e}}
	bidiagonalValuesBatch(p[:], work[:dqdsWork(len(d))])
	return p[0].ok
}

// dqdsState says what a dqdsRun needs next.
type dqdsState int8

const (
	dqdsTransform dqdsState = iota // the transform set up in pass
	dqdsDone                       // nothing: the values are in out
	dqdsFailed                     // the fallback
)

// dqdsRun is one matrix's dqds as a sequence of steps, so that a driver
// can advance up to four of them in one loop (bidiagonalValuesBatch):
// start, then, while the state is dqdsTransform, pass's transform run to
// its end and advance.
type dqdsRun struct {
	out    []float64
	qs, es [3][]float64 // the current qd array (0) and the transforms' results
	n, m   int          // the order, and the active array's: qs[0][:m], es[0][:m−1]
	found  int          // values in out
	iter   int          // deflation checks so far
	scale  float64      // the power of two that scaled d and e
	sigma  float64      // the shifts so far
	dmin   float64      // an upper bound on the active array's smallest eigenvalue
	pass   qdPass       // the transform in progress
}

// start scales d and e into the qd array, turns it around where that helps,
// and sets up the first transform.
func (r *dqdsRun) start(out, d, e, work []float64) dqdsState {
	n := len(d)
	if n == 0 {
		return dqdsDone
	}
	// Scaled by a power of two (exactly) to a largest entry in [½, 1); an
	// entry below 2⁻²⁰⁰ of that, a zero among them (a split or a singular
	// matrix, which LAPACK's driver handles and this one leaves to it), or
	// a NaN or ±Inf goes to the fallback. So every q and e starts in
	// [2⁻⁴⁰², 1), and the products of two, in the shifts and the 2×2
	// blocks, stay far from underflow.
	peak := 0.0
	for i := range n {
		peak = max(peak, math.Abs(d[i]))
		if i < n-1 {
			peak = max(peak, math.Abs(e[i]))
		}
	}
	if !(peak > 0) || math.IsInf(peak, 0) {
		return dqdsFailed
	}
	_, exp := math.Frexp(peak)
	scale := math.Ldexp(1, -exp)
	if math.IsInf(scale, 0) {
		return dqdsFailed // a subnormal peak
	}
	for i := range n {
		if !(math.Abs(d[i])*scale >= 0x1p-201) || i < n-1 && !(math.Abs(e[i])*scale >= 0x1p-201) {
			return dqdsFailed
		}
	}
	// Three qd arrays: the current one and the two transforms' results,
	// which trade places with it when accepted.
	r.qs = [3][]float64{work[:n], work[2*n : 3*n], work[4*n : 5*n]}
	r.es = [3][]float64{work[n : 2*n], work[3*n : 4*n], work[5*n : 6*n]}
	q, ee := r.qs[0], r.es[0]
	for i := range n {
		di := d[i] * scale
		q[i] = di * di
		ee[i] = 0
		if i < n-1 {
			ei := e[i] * scale
			ee[i] = ei * ei
		}
	}
	// The bottom converges first, to the smallest eigenvalue, and faster
	// with the larger values at the top: the matrix is turned around
	// (rows and columns reversed, then transposed: the same singular
	// values) where its top is the smaller end.
	if 1.5*q[0] < q[n-1] {
		for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
			q[i], q[j] = q[j], q[i]
		}
		for i, j := 0, n-2; i < j; i, j = i+1, j-1 {
			ee[i], ee[j] = ee[j], ee[i]
		}
	}
	r.out, r.n, r.m, r.found, r.iter = out, n, n, 0, 0
	r.scale, r.sigma = scale, 0
	r.dmin = q[n-1] // an upper bound on the smallest eigenvalue, for the first shifts
	return r.next()
}

// next deflates the eigenvalues that have converged at the bottom and sets
// up the next transform, with new shifts; when none is left it takes the
// square roots.
func (r *dqdsRun) next() dqdsState {
	q, ee, m, sigma := r.qs[0], r.es[0], r.m, r.sigma
	// An eigenvalue below 2⁻⁷⁰⁰ (a singular value below 2⁻³⁵⁰ of the
	// largest entry) would take the 2×2 blocks' products near
	// underflow: the fallback scales as it goes.
	if r.iter > 30*r.n || sigma+q[m-1] < 0x1p-700 {
		return dqdsFailed
	}
	r.iter++
	out, found := r.out, r.found
	deflated := false
	for m > 0 {
		if m == 1 {
			out[found] = q[0] + sigma
			found++
			m = 0
		} else if ee[m-2] <= dqdsTol2*(sigma+q[m-1]) {
			out[found] = q[m-1] + sigma
			found++
			m--
		} else if big, small := eig2(q[m-2], ee[m-2], q[m-1]); m == 2 || ee[m-3] <= dqdsTol2*(sigma+small) {
			out[found], out[found+1] = big+sigma, small+sigma
			found += 2
			m -= 2
		} else {
			break
		}
		deflated = true
	}
	r.m, r.found = m, found
	if m == 0 {
		for i := range r.n {
			out[i] = math.Sqrt(out[i]) / r.scale
		}
		return dqdsDone
	}
	if deflated {
		r.dmin = q[m-1]
	}
	bold, cautious := shifts(q[:m], ee[:m-1], r.dmin)
	r.pass.begin(q[:m], ee[:m-1], r.qs[1], r.es[1], r.qs[2], r.es[2], bold, cautious)
	return dqdsTransform
}

// advance takes the finished transform's result: the bold one's where it
// succeeded, else the cautious one's, then next; where both failed, the
// transform again with a quarter of the cautious shift and zero.
func (r *dqdsRun) advance() dqdsState {
	p := &r.pass
	dminA, okA, dminB, okB := p.finish()
	if okA || okB {
		k, tau, dm := 1, p.ta, dminA
		if !okA {
			k, tau, dm = 2, p.tb, dminB
		}
		r.qs[0], r.qs[k] = r.qs[k], r.qs[0]
		r.es[0], r.es[k] = r.es[k], r.es[0]
		r.sigma += tau
		r.dmin = dm
		return r.next()
	}
	if p.tb == 0 {
		return dqdsFailed // a zero shift cannot fail on a positive array
	}
	p.begin(p.q, p.ee, p.qa, p.ea, p.qb, p.eb, p.tb*0.25, 0)
	return dqdsTransform
}

// shifts returns the two shifts of the next transform of the array q,
// ee, given dmin ≥ its smallest eigenvalue (the smallest d of the last
// transform). When dmin is the last q, the smallest eigenvalue is
// converging at the bottom and the smaller eigenvalue s of the last 2×2
// block (the coupling above left out), though above it, is very close:
// the bold shift is s less one part in 2⁴⁰, the cautious one s less the
// last e, or s/4 where that is more. Elsewhere they are fractions of dmin.
func shifts(q, ee []float64, dmin float64) (bold, cautious float64) {
	m := len(q)
	if !(dmin > 0) {
		return 0, 0
	}
	if m >= 2 && q[m-1] <= dmin {
		_, s := eig2(q[m-2], ee[m-2], q[m-1])
		return s * (1 - 0x1p-40), max(s-ee[m-2], s/4)
	}
	return dmin / 2, dmin / 8
}

// qdPass is the transform of the qd array q, ee (m and m−1 values) with
// shift ta into qa, ea and with tb into qb, eb, in progress: two
// recurrences, independent, in one loop, so that each one's divisions
// overlap the other's. Its elements are taken in order, by run (alone) or
// run4 and run8 (with other passes), any number at a time, the arithmetic
// the same however they are split.
type qdPass struct {
	q, ee, qa, ea, qb, eb []float64
	ta, tb                float64
	da, db                float64 // the recurrences' d at element i
	mina, minb            float64 // their smallest d so far
	i                     int     // the next element, of m − 1
}

// begin sets p up at the start of the transforms of q, ee (m ≥ 2 values)
// into qa, ea and qb, eb.
func (p *qdPass) begin(q, ee, qa, ea, qb, eb []float64, ta, tb float64) {
	m := len(q)
	da, db := q[0]-ta, q[0]-tb
	*p = qdPass{
		q: q, ee: ee[:m-1], qa: qa[:m], ea: ea[:m-1], qb: qb[:m], eb: eb[:m-1],
		ta: ta, tb: tb, da: da, db: db, mina: da, minb: db,
	}
}

// left returns how many elements are left to run.
func (p *qdPass) left() int { return len(p.ee) - p.i }

// run takes the next k elements.
func (p *qdPass) run(k int) {
	s := p.i
	ee := p.ee[s : s+k]
	q := p.q[s+1:][:len(ee)]
	qa, ea := p.qa[s:][:len(ee)], p.ea[s:][:len(ee)]
	qb, eb := p.qb[s:][:len(ee)], p.eb[s:][:len(ee)]
	nta, ntb := -p.ta, -p.tb // exact
	da, db, mina, minb := p.da, p.db, p.mina, p.minb
	for i, e := range ee {
		next := q[i]
		sa, sb := da+e, db+e
		qa[i], qb[i] = sa, sb
		ra, rb := next/sa, next/sb
		ea[i], eb[i] = e*ra, e*rb
		da, db = math.FMA(da, ra, nta), math.FMA(db, rb, ntb)
		mina, minb = min(mina, da), min(minb, db)
	}
	p.da, p.db, p.mina, p.minb = da, db, mina, minb
	p.i = s + k
}

// finish completes the transforms, once every element has run, and returns
// each one's smallest d and whether it succeeded (every d ≥ 0; a NaN, from
// a zero pivot, fails the comparison).
func (p *qdPass) finish() (float64, bool, float64, bool) {
	m := len(p.q)
	p.qa[m-1], p.qb[m-1] = p.da, p.db
	return p.mina, p.mina >= 0, p.minb, p.minb >= 0
}

// eig2 returns the eigenvalues of the 2×2 block of a qd array, those of
// BᵀB for B = [[a, b], [0, c]] with q1 = a², e1 = b², q2 = c²: their sum
// is q1 + e1 + q2 and their product q1·q2, and
// (q1 + e1 + q2)² − 4·q1·q2 = (q1 − q2 + e1)² + 4·e1·q2, so the larger
// comes from a sum of non-negative terms and the smaller from the product,
// both without cancellation. The root is taken of values divided by the
// largest of the three, whose squares can neither overflow nor vanish.
func eig2(q1, e1, q2 float64) (big, small float64) {
	s := max(q1, e1, q2)
	if !(s > 0) {
		return 0, 0
	}
	a, b, c := q1/s, e1/s, q2/s
	r := a - c + b
	big = s * 0.5 * (a + b + c + math.Sqrt(r*r+4*b*c))
	return big, q1 / big * q2
}
