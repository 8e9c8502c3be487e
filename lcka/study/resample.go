package study

import (
	"github.com/layersim/layersim/internal/describe"
	"math"
	"sync/atomic"
	"unsafe"

	"github.com/layersim/layersim/lcka/internal/parallel"
)

// resampler holds one model's centred Gram matrices in two languages, laid
// out for the bootstrap and the permutation test of the mean pair CKA.
//
// Both statistics are sums over the n² entries of products of the two
// languages' Gram matrices, layer by layer, with the same resample for every
// layer. The matrices are therefore interleaved by layer, entry (i, j) of
// layer k at (i·n + j)·lp + k, so that one resample walks the entries once and
// updates all layers with contiguous vector operations, and the products that
// do not depend on the resample (Ka∘Kb, Ka∘Ka, Kb∘Kb) are formed once. Each
// layer's matrices are scaled to unit Frobenius norm first (CKA does not
// depend on the scale), so float32 holds them without overflow; sums run in
// float32 along a row of n entries and in float64 across rows. The products
// Ka∘Kb, Ka∘Ka and Kb∘Kb are formed as the entries stream by: storing them
// would hold 2.5 times the memory and read it on every resample.
type resampler struct {
	n, L, lp int       // lp: L rounded up to a multiple of 16, the padding zero
	ka, kb   []float32 // the Gram matrices, interleaved
	// kb16 is kb rounded to bfloat16 (nil where the CPU lacks the kernels
	// or kb is not finite), for screening permutations: see permutedScreen.
	kb16 []uint16
}

// screenBound bounds |permutedScreen − permuted| for one permutation of n
// prompts. The rounding of Kb to bfloat16 (8 significant bits) moves each
// entry by at most 2⁻⁸ of itself, so each layer's exact sum by at most
// 2⁻⁸·Σ|Ka||Kb| ≤ 2⁻⁸·‖Ka‖‖Kb‖ = 2⁻⁸ (Cauchy–Schwarz over the entries
// off the diagonal, twice the pairs i < j; unit norms up to their float32
// rounding, the 1e-6), and so their mean. The float32 sums along the rows
// differ from exact ones by at most γ_n·Σ|Ka||Kb| ≤ γ_n (float32 Kb) and
// γ_n·Σ|Ka||Kb16| ≤ γ_n·(1 + 2⁻⁸) (bfloat16 Kb), γ_n = nu/(1−nu) with
// u = 2⁻²⁴ (one rounding per fused multiply-add, at most n of them). The
// diagonal terms are the same float64 products in both, and the float64
// sums across rows and layers add far less than the 1e-9 allowed for them.
func screenBound(n int) float64 {
	u := math.Ldexp(1, -24)
	gamma := float64(n) * u / (1 - float64(n)*u)
	return math.Ldexp(1, -8)*(1+1e-6) + (2+math.Ldexp(1, -8))*gamma + 1e-9
}

// newResampler interleaves the n×n Gram matrices ka[k], kb[k] (row-major).
func newResampler(ka, kb [][]float32, n int) *resampler {
	L := len(ka)
	lp := (L + 15) / 16 * 16
	r := &resampler{n: n, L: L, lp: lp}
	size := n * n * lp
	r.ka, r.kb = make([]float32, size), make([]float32, size)
	sa, sb := make([]float64, L), make([]float64, L)
	parallel.For(L, 0, func(k int) { sa[k], sb[k] = 1/frobenius(ka[k]), 1/frobenius(kb[k]) })
	screen := permAsm && screenPermutations
	if screen {
		r.kb16 = make([]uint16, size)
	}
	// Rows of entries on all cores, each entry's layers written together.
	var finite atomic.Bool
	finite.Store(true)
	parallel.For(n, 0, func(i int) {
		for e := i * n; e < (i+1)*n; e++ {
			da, db := r.ka[e*lp:(e+1)*lp], r.kb[e*lp:(e+1)*lp]
			for k := 0; k < L; k++ {
				da[k], db[k] = float32(float64(ka[k][e])*sa[k]), float32(float64(kb[k][e])*sb[k])
			}
			if screen {
				h := r.kb16[e*lp : (e+1)*lp]
				for k, v := range db {
					if v-v != 0 { // NaN or ±Inf: no screen
						finite.Store(false)
					}
					h[k] = bfloat16(v)
				}
			}
		}
	})
	if !finite.Load() {
		r.kb16 = nil
	}
	return r
}

// screenPermutations turns the bfloat16 screen on (tests turn it off to
// compare).
var screenPermutations = true

// bfloat16 rounds v to the nearest bfloat16, ties to even (v finite).
func bfloat16(v float32) uint16 {
	u := math.Float32bits(v)
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

func frobenius(g []float32) float64 {
	s := 0.0
	for _, v := range g {
		s += float64(v) * float64(v)
	}
	if s == 0 {
		return 1 // a zero Gram matrix (all prompts alike) gives CKA NaN, as before
	}
	return math.Sqrt(s)
}

// observed is the mean pair CKA of the n prompts.
func (r *resampler) observed() float64 {
	perm := make([]int32, r.n)
	for i := range perm {
		perm[i] = int32(i)
	}
	out := make([]float64, 1)
	r.permuted([][]int32{perm}, out)
	return out[0]
}

// permuted sets out[b] to the mean over layers of the CKA between language
// a and language b with prompt i of a paired with prompt perms[b][i] of b:
// Σᵢⱼ Ka[i,j]·Kb[p(i), p(j)] / (‖Ka‖‖Kb‖), the norms being 1 (a permutation
// leaves Kb centred and its norm unchanged). Both matrices are symmetric, so
// the sum is twice the sum over i < j plus the diagonal. Each row of Ka is
// read once for all the permutations of the batch; the rows of Kb they need
// are scattered and make this memory-bound.
func (r *resampler) permuted(perms [][]int32, out []float64) { r.permutedWith(perms, out, false) }

// permutedWith is permuted, with Kb read in bfloat16 (kb16) off the
// diagonal where screen is true (permutedScreen).
func (r *resampler) permutedWith(perms [][]int32, out []float64, screen bool) {
	n, lp := r.n, r.lp
	acc := make([]float32, lp)
	tot := make([][]float64, len(perms))
	for b := range tot {
		tot[b] = make([]float64, lp)
	}
	for _, perm := range perms {
		checkPerm(perm, n)
	}
	for i := 0; i < n; i++ {
		kaRow := r.ka[i*n*lp : (i+1)*n*lp]
		for b, perm := range perms {
			pi := int(perm[i])
			kbRow := r.kb[pi*n*lp : (pi+1)*n*lp]
			clear(acc)
			switch {
			case i+1 == n:
			case screen:
				permRowAsm(acc, kaRow[(i+1)*lp:], unsafe.Pointer(&r.kb16[pi*n*lp]), 2, perm[i+1:], lp)
			case permAsm:
				permRowAsm(acc, kaRow[(i+1)*lp:], unsafe.Pointer(&kbRow[0]), 4, perm[i+1:], lp)
			default:
				permRow(acc, kaRow[(i+1)*lp:], kbRow, perm[i+1:], lp)
			}
			t := tot[b]
			x, y := kaRow[i*lp:(i+1)*lp], kbRow[pi*lp:(pi+1)*lp]
			for k := range acc {
				t[k] += 2*float64(acc[k]) + float64(x[k])*float64(y[k])
			}
		}
	}
	for b := range perms {
		s := 0.0
		for k := 0; k < r.L; k++ {
			s += tot[b][k]
		}
		out[b] = s / float64(r.L)
	}
}

// permutedScreen is permuted with Kb rounded to bfloat16 (kb16): half the
// bytes of the scattered reads that bound permuted, and within screenBound
// of permuted's value for every permutation. Callers decide with it where
// that settles the question, and ask permuted where it does not.
func (r *resampler) permutedScreen(perms [][]int32, out []float64) {
	if r.kb16 == nil {
		panic("study: permutedScreen without the bfloat16 copy of Kb")
	}
	r.permutedWith(perms, out, true)
}

// checkDrawn panics unless every index of drawn lies in [0, n).
func checkDrawn(drawn []int32, n int) {
	for _, v := range drawn {
		if v < 0 || int(v) >= n {
			panic("study: resample index out of range")
		}
	}
}

// checkPerm panics unless perm is a list of n indices in [0, n): the
// kernels read where it points.
func checkPerm(perm []int32, n int) {
	if len(perm) != n {
		panic("study: permutation of the wrong length")
	}
	for _, v := range perm {
		if v < 0 || int(v) >= n {
			panic("study: permutation index out of range")
		}
	}
}

// resample is one bootstrap resample: c[i] copies of prompt i (Σc = n), the
// prompts with c[i] > 0 listed in drawn; c16 repeats each c[i] 16 times, for
// the vector kernel.
type resample struct {
	c, c16 []float32
	drawn  []int32
}

// newResample returns the resample of the prompts idx (indices in [0, n)).
func newResample(idx []int, n int) resample {
	c := make([]float32, n)
	for _, i := range idx {
		c[i]++
	}
	c16 := make([]float32, 16*n)
	var drawn []int32
	for i, ci := range c {
		if ci > 0 {
			drawn = append(drawn, int32(i))
			for q := range 16 {
				c16[16*i+q] = ci
			}
		}
	}
	return resample{c, c16, drawn}
}

// bootstrap sets out[b] to the mean pair CKA on resample b (the mean over
// layers of bootstrapLayers).
func (r *resampler) bootstrap(batch []resample, out []float64) {
	per := make([][]float64, len(batch))
	for q := range per {
		per[q] = make([]float64, r.L)
	}
	r.bootstrapLayers(batch, per)
	for q := range batch {
		out[q] = describe.Mean(per[q])
	}
}

// bootstrapLayers sets out[b][k] to the CKA of layer k on resample b, the
// resampled Gram matrices double-centred again. With a = Ka·c, S_a = cᵀKa·c and the
// same for b, ⟨HAH, HBH⟩ = Σᵢⱼ cᵢcⱼ·Kaᵢⱼ·Kbᵢⱼ − (2/n)·Σᵢ cᵢ·aᵢ·bᵢ + S_a·S_b/n²,
// and the norms likewise; only the prompts drawn contribute. Each row of Ka
// and Kb is read once for the whole batch, which then runs from the cache.
func (r *resampler) bootstrapLayers(batch []resample, out [][]float64) {
	n, lp := r.n, r.lp
	for _, rs := range batch { // the kernels read where drawn points
		if len(rs.c) != n {
			panic("study: resample of the wrong length")
		}
		checkDrawn(rs.drawn, n)
	}
	acc := make([]float32, 5*lp)
	a, b, ab, aa, bb := acc[:lp], acc[lp:2*lp], acc[2*lp:3*lp], acc[3*lp:4*lp], acc[4*lp:]
	sums := make([][8][]float64, len(batch)) // ab, aa, bb, cab, caa, cbb, sa, sb
	for q := range sums {
		for v := range sums[q] {
			sums[q][v] = make([]float64, lp)
		}
	}
	for i := 0; i < n; i++ {
		kaRow, kbRow := r.ka[i*n*lp:(i+1)*n*lp], r.kb[i*n*lp:(i+1)*n*lp]
		for q, rs := range batch {
			ci := float64(rs.c[i])
			if ci == 0 {
				continue
			}
			clear(acc)
			if permAsm {
				bootRowAsm(acc, kaRow, kbRow, rs.drawn, rs.c, lp)
			} else {
				bootRow(a, b, ab, aa, bb, kaRow, kbRow, rs.drawn, rs.c, rs.c16, lp)
			}
			s := &sums[q]
			for k := 0; k < r.L; k++ {
				ak, bk := float64(a[k]), float64(b[k])
				s[0][k] += ci * float64(ab[k])
				s[1][k] += ci * float64(aa[k])
				s[2][k] += ci * float64(bb[k])
				s[3][k] += ci * ak * bk
				s[4][k] += ci * ak * ak
				s[5][k] += ci * bk * bk
				s[6][k] += ci * ak
				s[7][k] += ci * bk
			}
		}
	}
	nf := float64(n)
	for q := range batch {
		s := &sums[q]
		for k := 0; k < r.L; k++ {
			sa, sb := s[6][k], s[7][k]
			dot := s[0][k] - 2/nf*s[3][k] + sa*sb/(nf*nf)
			na := s[1][k] - 2/nf*s[4][k] + sa*sa/(nf*nf)
			nb := s[2][k] - 2/nf*s[5][k] + sb*sb/(nf*nf)
			out[q][k] = dot / math.Sqrt(na*nb)
		}
	}
}

// permRowGo adds Σⱼ ka[j·lp + k]·kb[perm[j]·lp + k] to acc[k] for k < lp,
// j over the indices of perm.
func permRowGo(acc, ka, kb []float32, perm []int32, lp int) {
	for j, pj := range perm {
		x := ka[j*lp : (j+1)*lp]
		y := kb[int(pj)*lp : (int(pj)+1)*lp]
		for k := range acc {
			acc[k] += x[k] * y[k]
		}
	}
}

// bootRowGo adds Σⱼ c[j]·m[j·lp + k] over the drawn j to the accumulators
// a, b, ab, aa, bb, for m = ka, kb, ka∘kb, ka∘ka, kb∘kb in turn.
func bootRowGo(a, b, ab, aa, bb, ka, kb []float32, drawn []int32, c []float32, lp int) {
	for _, j32 := range drawn {
		j := int(j32)
		w := c[j]
		o := j * lp
		x, y := ka[o:o+lp], kb[o:o+lp]
		for k := range a {
			a[k] += w * x[k]
			b[k] += w * y[k]
			ab[k] += w * (x[k] * y[k])
			aa[k] += w * (x[k] * x[k])
			bb[k] += w * (y[k] * y[k])
		}
	}
}
