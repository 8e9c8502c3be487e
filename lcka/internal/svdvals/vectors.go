package svdvals

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/dense"
)

// LeftVectors returns the singular values of the m×n matrix a (m ≤ n;
// row-major, overwritten) in descending order and its left singular
// vectors as the rows of ut (m×m, row i for values[i]).
//
// It bidiagonalizes Aᵀ = Q·B·Pᵀ as Values does, forms Pᵀ from the right
// reflectors, and lets gonum's implicit-shift QR (Dbdsqr) diagonalize B
// while rotating the rows of Pᵀ: the rows that come out are the right
// singular vectors of Aᵀ, the left ones of A. mat.SVD rotates the columns
// of a row-major U instead, a strided walk over every row for each
// rotation, which takes most of its time at these sizes.
func LeftVectors(a []float64, m, n int) (values, ut []float64, err error) {
	if m < 1 || n < 1 || len(a) != m*n {
		return nil, nil, fmt.Errorf("svdvals: %d values for a %d×%d matrix", len(a), m, n)
	}
	if m > n {
		return nil, nil, fmt.Errorf("svdvals: LeftVectors of a %d×%d matrix: it needs no more rows than columns", m, n)
	}
	scale, err := peak(a)
	if err != nil {
		return nil, nil, err
	}
	ut = make([]float64, m*m)
	if scale == 0 {
		for i := range m {
			ut[i*m+i] = 1
		}
		return make([]float64, m), ut, nil
	}
	// t = Aᵀ scaled to a largest entry below 1, n×m with n ≥ m.
	t := temporary(n * m)
	defer release(t)
	dense.Transpose(t, a, m, n)
	exp := dense.ScaleDown(t, scale)
	d := make([]float64, m)
	e := make([]float64, m)
	sigmas := bidiagonalize(t, n, m, d, e)
	p := temporary(m * m)
	defer release(p)
	formP(p, t, m, sigmas)
	dense.Transpose(ut, p, m, m)
	var impl gonum.Implementation
	if !impl.Dbdsqr('U', m, m, 0, 0, d, e, ut, m, nil, 1, nil, 1, make([]float64, 4*m)) {
		return nil, nil, errors.New("svdvals: the bidiagonal QR iteration did not converge")
	}
	for i := range d {
		d[i] = math.Ldexp(d[i], exp)
	}
	return d, ut, nil
}

// Thin returns the singular values of the m×n matrix a (m ≤ n; row-major,
// overwritten) in descending order and its left singular vectors as the
// rows of ut (m×m): gonum's LQ factorization A = L·Q (Dgelqf, blocked),
// then LeftVectors of the m×m factor L, whose left singular vectors are
// A's. For a layer of n prompts and d ≥ n features this is mat.SVD's thin
// U at less than half the time.
func Thin(a []float64, m, n int) (values, ut []float64, err error) {
	if m < 1 || n < 1 || len(a) != m*n {
		return nil, nil, fmt.Errorf("svdvals: %d values for a %d×%d matrix", len(a), m, n)
	}
	if m > n {
		return nil, nil, fmt.Errorf("svdvals: Thin of a %d×%d matrix: it needs no more rows than columns", m, n)
	}
	if _, err := peak(a); err != nil {
		return nil, nil, err
	}
	var impl gonum.Implementation
	tau := make([]float64, m)
	work := make([]float64, 1)
	impl.Dgelqf(m, n, a, n, tau, work, -1)
	work = make([]float64, max(m, int(work[0])))
	impl.Dgelqf(m, n, a, n, tau, work, len(work))
	l := make([]float64, m*m)
	for i := range m {
		copy(l[i*m:i*m+i+1], a[i*n:i*n+i+1])
	}
	return LeftVectors(l, m, m)
}

// ThinU returns the singular values of x (descending) and its thin left
// singular vectors as the columns of u (m×min(m, n)): Thin where x has no
// more rows than columns, gonum's mat.SVD otherwise. x is overwritten when
// overwrite is true and left as it was otherwise.
func ThinU(x *mat.Dense, overwrite bool) (values []float64, u *mat.Dense, err error) {
	m, n := x.Dims()
	if m > n {
		var svd mat.SVD
		if !svd.Factorize(x, mat.SVDThinU) {
			return nil, nil, errors.New("svdvals: gonum's SVD failed")
		}
		u = new(mat.Dense)
		svd.UTo(u)
		return svd.Values(nil), u, nil
	}
	raw := x.RawMatrix()
	a := raw.Data
	if !overwrite || raw.Stride != n {
		a = make([]float64, m*n)
		for i := range m {
			copy(a[i*n:(i+1)*n], raw.Data[i*raw.Stride:i*raw.Stride+n])
		}
	} else {
		a = a[:m*n]
	}
	values, ut, err := Thin(a, m, n)
	if err != nil {
		return nil, nil, err
	}
	u = mat.NewDense(m, m, nil)
	dense.Transpose(u.RawMatrix().Data, ut, m, m)
	return values, u, nil
}

// formP sets p (m×m) to P = G₀·G₁⋯G_{m−2}, the product of the right
// reflectors that bidiagonalize left in the rows of t (m columns): G_k's
// vector u (u₀ = 1) is row k of t from column k+1 on, its σ sigmas[k]. P is
// built from the last reflector back, so that each touches only the block
// it changes (as LAPACK's dorgqr): the last ones one at a time, then, where
// the block is at least blockedFrom wide, panelWidth at a time in the
// compact WY form I − U·T·Uᵀ (Schreiber & Van Loan, "A storage-efficient
// WY representation for products of Householder transformations", SIAM J.
// Sci. Stat. Comput. 10, 1989), two products of inner dimension
// panelWidth and the block's width instead of a pass per reflector.
func formP(p, t []float64, m int, sigmas []float64) {
	clear(p)
	for i := range m {
		p[i*m+i] = 1
	}
	nb := panelWidth
	low := 0 // reflectors below low go by blocks
	if nb >= 1 && m-1-blockedFrom >= nb {
		low = (m - 1 - blockedFrom) / nb * nb
	}
	w := make([]float64, m)
	for k := m - 2; k >= low; k-- {
		if sigmas[k] == 0 {
			continue
		}
		size := m - k - 1
		u := t[k*m+k+1 : k*m+m]
		block := p[(k+1)*m+k+1:]
		ww := w[:size]
		clear(ww)
		accumulate(ww, block, m, size, u)
		update(block, m, size, ww, ww, u, sigmas[k], 0)
	}
	if low == 0 {
		return
	}
	// Per block: U (rows×nb) and Uᵀ, T (nb×nb, upper triangular) and W
	// (nb×the block's width).
	rows := m - 1
	parts, whole := temporaries(rows*nb, nb*rows, nb*nb, nb*rows)
	defer release(whole)
	uRows, uCols, tt, wk := parts[0], parts[1], parts[2], parts[3]
	for k0 := low - nb; k0 >= 0; k0 -= nb {
		size := m - k0 - 1 // the block: rows and columns k0+1 …
		// Uᵀ: row l is G_{k0+l}'s u from row k0+l+1 of the block on, zero
		// above; U the same, transposed.
		ut := uCols[:nb*size]
		clear(ut)
		for l := range nb {
			k := k0 + l
			copy(ut[l*size+l:(l+1)*size], t[k*m+k+1:k*m+m])
		}
		u := uRows[:size*nb]
		dense.Transpose(u, ut, nb, size)
		// T of the forward product G_{k0}⋯G_{k0+nb−1} = I − U·T·Uᵀ:
		// T[l, l] = σ_l, T[:l, l] = −σ_l·T[:l, :l]·(U[:, :l]ᵀ u_l).
		clear(tt)
		for l := range nb {
			sl := sigmas[k0+l]
			tt[l*nb+l] = sl
			if l == 0 || sl == 0 {
				continue
			}
			ul := ut[l*size : (l+1)*size]
			c := w[:l]
			dots(c, ut, size, l, ul)
			for i := range l {
				s := 0.0
				for j := i; j < l; j++ {
					s += tt[i*nb+j] * c[j]
				}
				tt[i*nb+l] = -sl * s
			}
		}
		// block −= U·(T·(Uᵀ·block)): W = −Uᵀ·block, then Z = −T·W, then
		// block −= U·Z.
		block := p[(k0+1)*m+k0+1:]
		wz := wk[:nb*size]
		clear(wz)
		rankUpdate(wz, size, nb, size, u, nb, block, m, size)
		for i := range nb {
			zi := w[:size]
			clear(zi)
			for j := i; j < nb; j++ {
				axpy(zi, wz[j*size:(j+1)*size], -tt[i*nb+j])
			}
			copy(wz[i*size:(i+1)*size], zi)
		}
		rankUpdate(block, m, size, size, ut, size, wz, size, nb)
	}
}
