package symeig

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/layersim/layersim/lcka/internal/grampanel"
	"github.com/layersim/layersim/lcka/internal/rowkernels"
)

// The Householder tridiagonalization (LAPACK's dsytrd with dlatrd, lower
// form: Dongarra, Sorensen & Hammarling, "Block reduction of matrices to
// condensed forms for eigenvalue computations", J. Comput. Appl. Math. 27,
// 1989), written here rather than taken from gonum: gonum's Dsytrd spends
// its time in pure-Go symmetric matrix–vector and rank-2k kernels (Dsymv,
// Dsyr2k), half of Descending's time at n = 400. This one keeps both
// triangles of the matrix, so that the one matrix–vector product per
// column is a pass over contiguous rows (lcka/internal/rowkernels' Dots),
// and applies each panel's reflectors to the trailing matrix in one
// product of rank 2·panelWidth on grampanel's tile kernel.
var (
	// panelWidth is the number of columns reduced per panel.
	panelWidth = 16
	// blockedFrom is the narrowest trailing matrix reduced by panels;
	// narrower ones, and what is left of a wider one, go column by column.
	blockedFrom = 64
	// groupWidth is the number of reflectors formQ applies at once.
	groupWidth = 32
)

// tridiagonalize reduces a (n×n, row-major, symmetric with both triangles
// stored, entries at most 1 in magnitude) to the tridiagonal T = QᵀAQ with
// Q = H₀H₁⋯H_{n−2}, H_k = I − τ_k v_k v_kᵀ: d is T's diagonal, e[k] =
// T[k, k+1] (e[n−1] = 0), tau[k] = τ_k. Row k of a keeps v_k from column
// k+1 on (v_k[k+1] = 1, zero before); the rest of a is overwritten.
func tridiagonalize(a []float64, n int, d, e, tau []float64) {
	p := reduceBlocked(a, n, d, e, tau)
	reduceColumns(a, n, p, d, e, tau)
	e[n-1] = 0
}

// reduceColumns reduces rows p … of a one at a time (LAPACK's dsytd2):
// per row one pass over the trailing matrix for w = τAv and one for its
// rank-2 update A −= vwᵀ + wvᵀ.
func reduceColumns(a []float64, n, p int, d, e, tau []float64) {
	if p >= n {
		return
	}
	w := grampanel.Scratch64(n)
	defer grampanel.Release64(w)
	for k := p; k < n; k++ {
		row := a[k*n+k : (k+1)*n]
		d[k] = row[0]
		if k == n-1 {
			break
		}
		v := row[1:]
		e[k], tau[k] = rowkernels.Reflector(v)
		if tau[k] == 0 {
			continue
		}
		m := n - k - 1
		trail := a[(k+1)*n+k+1:]
		wk := w[:m]
		rowkernels.Dots(wk, trail, n, m, v)
		finishW(wk, v, tau[k])
		for i := range m {
			r := trail[i*n : i*n+m]
			rowkernels.Axpy(r, wk, -v[i])
			rowkernels.Axpy(r, v, -wk[i])
		}
	}
}

// finishW turns w = Av into the w of A −= vwᵀ + wvᵀ: w = τ·w − ½τ²(vᵀAv)·v,
// so that the update is H·A·H with H = I − τvvᵀ.
func finishW(w, v []float64, tau float64) {
	for i := range w {
		w[i] *= tau
	}
	dot := 0.0
	for i, x := range w {
		dot += x * v[i]
	}
	rowkernels.Axpy(w, v, -0.5*tau*dot)
}

// reduceBlocked reduces the panels of a while the trailing matrix is at
// least blockedFrom + panelWidth wide, as tridiagonalize does, and returns
// the first row it left for reduceColumns.
//
// Within a panel the matrix stays as it was at the panel's start; row k
// (that is column k) is brought up to date when its turn comes by the
// panel's earlier reflectors, as the low-rank correction −VW[k]ᵀ − WV[k]ᵀ
// (V the reflectors' vectors as rows, W their w), and w = τ·A·v is formed
// from the stale trailing matrix with the same correction. After the
// panel the trailing matrix takes A −= VᵀW + WᵀV (rows as columns) at once.
func reduceBlocked(a []float64, n int, d, e, tau []float64) int {
	nb := panelWidth
	if nb < 1 || n-nb < blockedFrom {
		return 0
	}
	// Rows 0 … nb−1 of buf are V, nb … 2nb−1 W and 2nb … 3nb−1 V again,
	// so that [V; W] and [W; V] are both nb·2 rows n apart, the two sides
	// of the trailing update. Only the part of each row from its
	// reflector's support on is written or read.
	buf := grampanel.Scratch64(3*nb*n + 2*nb)
	defer grampanel.Release64(buf)
	vs, ws, coef := buf[:nb*n], buf[nb*n:2*nb*n], buf[3*nb*n:]
	cw, cv := coef[:nb], coef[nb:]
	p := 0
	for ; n-p-nb >= blockedFrom; p += nb {
		for j := range nb {
			k := p + j
			row := a[k*n+k : (k+1)*n]
			if j > 0 {
				for l := range j {
					cw[l] = -ws[l*n+k]
					cv[l] = -vs[l*n+k]
				}
				rowkernels.Accumulate(row, vs[k:], n, j, cw[:j])
				rowkernels.Accumulate(row, ws[k:], n, j, cv[:j])
			}
			d[k] = row[0]
			v := row[1:]
			e[k], tau[k] = rowkernels.Reflector(v)
			copy(vs[j*n+k+1:(j+1)*n], v)
			w := ws[j*n+k+1 : (j+1)*n]
			if tau[k] == 0 {
				clear(w)
				continue
			}
			rowkernels.Dots(w, a[(k+1)*n+k+1:], n, n-k-1, v)
			if j > 0 {
				// w −= V·(Wᵀv) + W·(Vᵀv).
				rowkernels.Dots(cw[:j], ws[k+1:], n, j, v)
				rowkernels.Dots(cv[:j], vs[k+1:], n, j, v)
				for l := range j {
					cw[l], cv[l] = -cw[l], -cv[l]
				}
				rowkernels.Accumulate(w, vs[k+1:], n, j, cw[:j])
				rowkernels.Accumulate(w, ws[k+1:], n, j, cv[:j])
			}
			finishW(w, v, tau[k])
		}
		q := p + nb
		for l := range nb {
			copy(buf[(2*nb+l)*n+q:(2*nb+l+1)*n], vs[l*n+q:(l+1)*n])
		}
		subMulTN(a[q*n+q:], n, buf[q:], n, buf[nb*n+q:], n, 2*nb, n-q, n-q)
	}
	return p
}

// formQ writes Q = H₀H₁⋯H_{n−2} (n×n, row-major) into q from the reflectors
// tridiagonalize left in a and tau, groupWidth reflectors at a time from
// the last (LAPACK's dorgqr): Q ← (I − VTVᵀ)·Q with V the group's vectors
// as columns and T upper triangular (dlarft), as two products on
// grampanel's tile kernel. Applied from the last group on, each touches
// only the rows and columns after its first reflector's.
func formQ(q, a []float64, n int, tau []float64) {
	clear(q)
	for i := range n {
		q[i*n+i] = 1
	}
	if n < 2 {
		return
	}
	nb := max(1, groupWidth)
	rs := n - 1 // reflectors
	work := grampanel.Scratch64(2*nb*rs + 2*nb*rs + nb*nb)
	defer grampanel.Release64(work)
	for k0 := (rs - 1) / nb * nb; k0 >= 0; k0 -= nb {
		b := min(nb, rs-k0)
		s := k0 + 1 // first row and column the group touches
		r := n - s
		vt := work[:b*r]             // the vectors as rows (b×r)
		vc := work[b*r : 2*b*r]      // and as columns (r×b)
		wt := work[2*b*r : 3*b*r]    // −VᵀQ
		m := work[3*b*r : 4*b*r]     // T·VᵀQ
		t := work[4*b*r : 4*b*r+b*b] // T (b×b, upper)
		for l := range b {
			row := vt[l*r : (l+1)*r]
			clear(row[:l])
			copy(row[l:], a[(k0+l)*n+k0+l+1:(k0+l+1)*n])
			for i := l; i < r; i++ {
				vc[i*b+l] = row[i]
			}
			for i := range l {
				vc[i*b+l] = 0
			}
		}
		// T: T[l, l] = τ_l, T[:l, l] = −τ_l·T[:l, :l]·(Vᵀv_l)[:l].
		for l := range b {
			tl := tau[k0+l]
			col := m[:l] // scratch
			rowkernels.Dots(col, vt, r, l, vt[l*r:(l+1)*r])
			for i := range l {
				sum := 0.0
				for j := i; j < l; j++ {
					sum += t[i*b+j] * col[j]
				}
				t[i*b+l] = -tl * sum
			}
			t[l*b+l] = tl
			for i := l + 1; i < b; i++ {
				t[i*b+l] = 0
			}
		}
		qb := q[s*n+s:]
		clear(wt)
		subMulTN(wt, r, vc, b, qb, n, r, b, r) // wt = −VᵀQ
		// m = T·VᵀQ = −T·wt, and Q −= V·m.
		clear(m)
		for i := range b {
			for j := i; j < b; j++ {
				if c := t[i*b+j]; c != 0 {
					rowkernels.Axpy(m[i*r:(i+1)*r], wt[j*r:(j+1)*r], -c)
				}
			}
		}
		subMulTN(qb, n, vt, r, m, r, b, r, r)
	}
}

// subMulTN sets c −= aᵀ·b for the k×rows matrix a and k×cols matrix b
// (row strides lda, ldb) and the rows×cols block at c (row stride ldc), on
// grampanel's tile kernel where the CPU has it and with gonum's Dgemm
// elsewhere.
func subMulTN(c []float64, ldc int, a []float64, lda int, b []float64, ldb, k, rows, cols int) {
	if grampanel.Host() && grampanel.SubMulTN64(c, ldc, a, lda, b, ldb, k, rows, cols) == nil {
		return
	}
	blas64.Implementation().Dgemm(blas.Trans, blas.NoTrans, rows, cols, k, -1, a, lda, b, ldb, 1, c, ldc)
}
