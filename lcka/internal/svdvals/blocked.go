package svdvals

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/layersim/layersim/lcka/internal/grampanel"
)

// The blocked reduction (LAPACK's dgebrd and dlabrd: Dongarra, Sorensen &
// Hammarling, "Block reduction of matrices to condensed forms for
// eigenvalue computations", J. Comput. Appl. Math. 27, 1989). The
// unblocked one makes, per column, a pass that reads the trailing matrix
// and one that reads and writes it twice over. The blocked one leaves the
// trailing matrix as it is for a panel of columns, reads it twice per
// column (w = Aᵀv and x = Au, with the panel's earlier reflectors applied
// as low-rank corrections), and then applies the whole panel in one
// product of rank 2·panel, in place, on grampanel's tile kernel. Values
// took 8.9–9.3 ms so at n = 399, against 11.0–11.2 ms column by column,
// and 1.58–1.62 against 1.68–1.71 ms at n = 200 (BenchmarkValues, dqds
// included, both on the assembly kernels). Since the kernels read whole
// cache lines, panels of 8 columns down to 48 reduce a 200×200 matrix in
// 0.69–0.77 ms against 0.76–0.77 with panels of 16 down to 96, and a
// 400×400 in 4.95–5.05 against 5.17–5.28 ms.
var (
	// panelWidth is the number of columns reduced per panel.
	panelWidth = 8
	// blockedFrom is the narrowest trailing matrix reduced by panels;
	// narrower ones, and what is left of a wider one, go column by column.
	blockedFrom = 48
)

// panels holds a panel's reflectors and their images (LAPACK's V, X, Y and
// U), transposed so that every correction is a pass over contiguous rows:
// with nb columns per panel, row l of vx is the left reflector of the
// panel's column l (rows from its diagonal on, 1 on the diagonal) and row
// nb+l the vector X of dlabrd; row l of yu is Y's column l, and row nb+l a
// copy of the right reflector of column l, made for the trailing update.
type panels struct {
	vx, yu []float64
	coef   []float64
	corr   []float64
}

// reduceBlocked reduces the panels of a (m×n, m ≥ n, row stride n) while
// the trailing matrix is at least blockedFrom columns wide, storing d, e
// and the right reflectors as bidiagonalize does, and returns the first
// column it left for the unblocked reduction.
func reduceBlocked(a []float64, m, n int, d, e, sigmas []float64) int {
	nb := panelWidth
	if nb < 1 || n-nb < blockedFrom || n < 2 {
		return 0
	}
	parts, whole := temporaries(2*nb*m, 2*nb*n, 2*nb, m)
	defer release(whole)
	clear(whole)
	ws := panels{vx: parts[0], yu: parts[1], coef: parts[2], corr: parts[3]}
	p := 0
	for ; n-p-nb >= blockedFrom; p += nb {
		reducePanel(a, m, n, p, nb, d, e, sigmas, &ws)
		trailingUpdate(a, m, n, p, nb, &ws)
	}
	return p
}

// reducePanel reduces columns p … p+nb−1 (and rows) of a, leaving the
// trailing matrix a[p+nb:, p+nb:] to trailingUpdate.
func reducePanel(a []float64, m, n, p, nb int, d, e, sigmas []float64, ws *panels) {
	vrow := func(l int) []float64 { return ws.vx[l*m : (l+1)*m] }
	xrow := func(l int) []float64 { return ws.vx[(nb+l)*m : (nb+l+1)*m] }
	yrow := func(l int) []float64 { return ws.yu[l*n : (l+1)*n] }
	coef := ws.coef
	corr := ws.corr[:m]
	for j := range nb {
		k := p + j
		// Column k as the panel's j earlier steps left it:
		// A[k:, k] − V·Y[k, :]ᵀ − X·U[:, k].
		v := vrow(j)[k:m]
		columnAsLeft(v, a, m, n, p, j, k, ws)
		var tauq float64
		d[k], tauq = reflector(v)
		// y = τ(Aᵀv − Y·(Vᵀv) − Uᵀ(Xᵀv)) over columns k+1 …
		y := yrow(j)[k+1 : n]
		clear(y)
		if tauq != 0 {
			accumulate(y, a[k*n+k+1:], n, m-k, v)
			if j > 0 {
				dots(coef[:j], ws.vx[k:], m, j, v)
				dots(coef[nb:nb+j], ws.vx[nb*m+k:], m, j, v)
				scaleBy(coef[:j], -1)
				scaleBy(coef[nb:nb+j], -1)
				accumulate(y, ws.yu[k+1:], n, j, coef[:j])
				accumulate(y, a[p*n+k+1:], n, j, coef[nb:nb+j])
			}
			scaleBy(y, tauq)
		}
		// Row k: A[k, k+1:] − V[k, :]·Yᵀ − X[k, :]·U, then its right
		// reflector, kept in the row.
		row := a[k*n+k+1 : k*n+n]
		for l := 0; l <= j; l++ {
			coef[l] = -vrow(l)[k]
		}
		accumulate(row, ws.yu[k+1:], n, j+1, coef[:j+1])
		if j > 0 {
			for l := range j {
				coef[nb+l] = -xrow(l)[k]
			}
			accumulate(row, a[p*n+k+1:], n, j, coef[nb:nb+j])
		}
		var taup float64
		e[k], taup = reflector(row)
		sigmas[k] = taup
		// x = σ(Au − V·(Yᵀu) − X·(U·u)) over rows k+1 …
		x := xrow(j)[k+1 : m]
		if taup == 0 || m == k+1 {
			clear(x)
			continue
		}
		cr := corr[:m-k-1]
		clear(cr)
		dots(coef[:j+1], ws.yu[k+1:], n, j+1, row)
		accumulate(cr, ws.vx[k+1:], m, j+1, coef[:j+1])
		if j > 0 {
			dots(coef[nb:nb+j], a[p*n+k+1:], n, j, row)
			accumulate(cr, ws.vx[nb*m+k+1:], m, j, coef[nb:nb+j])
		}
		dots(x, a[(k+1)*n+k+1:], n, m-k-1, row)
		for i := range x {
			x[i] = taup * (x[i] - cr[i])
		}
	}
}

// columnAsLeft sets c to rows k … of column k (step j's) as the panel's
// earlier steps left it: A[k:, k] − V[k:, :j]·Y[k, :j]ᵀ − X[k:, :j]·U[:j, k].
func columnAsLeft(c, a []float64, m, n, p, j, k int, ws *panels) {
	for i := k; i < m; i++ {
		c[i-k] = a[i*n+k]
	}
	if j == 0 {
		return
	}
	nb := len(ws.coef) / 2
	coef := ws.coef
	for l := range j {
		coef[l] = -ws.yu[l*n+k]
		coef[nb+l] = -a[(p+l)*n+k]
	}
	accumulate(c, ws.vx[k:], m, j, coef[:j])
	accumulate(c, ws.vx[nb*m+k:], m, j, coef[nb:nb+j])
}

// trailingUpdate applies the panel at p to the trailing matrix:
// A[q:, q:] −= V·Yᵀ + X·U (q = p+nb), a product of inner dimension 2·nb,
// in place, so that nothing but the matrix and the panel needs the cache.
func trailingUpdate(a []float64, m, n, p, nb int, ws *panels) {
	q := p + nb
	rows, cols := m-q, n-q
	if rows == 0 || cols == 0 {
		return
	}
	for l := range nb {
		copy(ws.yu[(nb+l)*n+q:(nb+l+1)*n], a[(p+l)*n+q:(p+l+1)*n])
	}
	rankUpdate(a[q*n+q:], n, rows, cols, ws.vx[q:], m, ws.yu[q:], n, 2*nb)
}

// rankUpdate sets a[i, c] −= Σ_l p[l, i]·q[l, c] (l < k) over the
// rows×cols block at a (rows lda apart); row l of p is ldp after row l−1,
// row l of q ldq after. Where the CPU has AVX-512 it runs on grampanel's
// tile kernel (SubMulTN64): at n = 399 that makes the whole reduction
// 20% faster than a kernel of four rows by sixteen columns written here in
// Go's SIMD, which ran the update at about 22 GFLOP/s.
func rankUpdate(a []float64, lda, rows, cols int, p []float64, ldp int, q []float64, ldq, k int) {
	if grampanel.Host() && grampanel.SubMulTN64(a, lda, p, ldp, q, ldq, k, rows, cols) == nil {
		return
	}
	rankUpdateGo(a, lda, rows, cols, p, ldp, q, ldq, k)
}

// rankUpdateGo is rankUpdate with gonum's Dgemm.
func rankUpdateGo(a []float64, lda, rows, cols int, p []float64, ldp int, q []float64, ldq, k int) {
	blas64.Implementation().Dgemm(blas.Trans, blas.NoTrans, rows, cols, k, -1, p, ldp, q, ldq, 1, a, lda)
}

// scaleBy sets x *= c.
func scaleBy(x []float64, c float64) {
	for i := range x {
		x[i] *= c
	}
}
