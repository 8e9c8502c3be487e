package grampanel

import (
	"errors"
	"fmt"
)

// Side says which factor of a product Aᵀ·B a Panels is packed for.
type Side int

const (
	// Left packs A, in panels of the tile's 12 rows of C.
	Left Side = iota
	// Right packs B, in panels of the tile's 16 columns of C.
	Right
)

// Panels is an n×k matrix packed once for the tile kernel, as MulTN64
// packs each operand on every call: the all-pairs measures multiply every
// layer's basis with every other's, so packing each basis once per layer
// instead of once per pair saves a copy of both operands per product
// (a tenth of SVCCA's all-pairs time on layers of 400 prompts).
type Panels struct {
	data  []float64
	n, k  int
	width int
}

// Dims returns the rows and columns of the matrix packed.
func (p *Panels) Dims() (n, k int) { return p.n, p.k }

// Pack64 packs, as side of a product, the n×k matrix x (row-major, rows
// ld ≥ k apart). It returns an error where the CPU lacks the kernel and
// for sizes that do not match.
func Pack64(x []float64, ld, n, k int, side Side) (*Panels, error) {
	if !hostAvailable() {
		return nil, errors.New("grampanel: this CPU has neither AVX-512 nor AVX2 and FMA for the host kernel")
	}
	if n < 1 || k < 1 || ld < k || len(x) < (n-1)*ld+k {
		return nil, fmt.Errorf("grampanel: Pack64 of %d×%d (stride %d, %d values)", n, k, ld, len(x))
	}
	p := newPanels(n, k, side)
	pack(p.data, x, ld, n, k, p.width)
	return p, nil
}

// newPanels returns zero panels for an n×k matrix as side.
func newPanels(n, k int, side Side) *Panels {
	w := tileRows
	if side == Right {
		w = kernel64.cols
	}
	return &Panels{data: make([]float64, n*((k+w-1)/w)*w), n: n, k: k, width: w}
}

// PackT64 packs, as side of a product, the n×k matrix whose transpose xt
// (k×n, row-major, rows ld ≥ n apart) is given: column j of the matrix is
// row j of xt, as a symmetric eigensolver returns its eigenvectors. It
// returns an error where the CPU lacks the kernel and for sizes that do
// not match.
func PackT64(xt []float64, ld, n, k int, side Side) (*Panels, error) {
	if !hostAvailable() {
		return nil, errors.New("grampanel: this CPU has neither AVX-512 nor AVX2 and FMA for the host kernel")
	}
	if n < 1 || k < 1 || ld < n || len(xt) < (k-1)*ld+n {
		return nil, fmt.Errorf("grampanel: PackT64 of %d×%d (stride %d, %d values)", k, n, ld, len(xt))
	}
	p := newPanels(n, k, side)
	w := p.width
	// Panel q holds columns q·w … of row 0, then of row 1, …: it is
	// written in order, each of its rows gathered from the w rows of xt
	// it spans, read side by side (a line of each serves eight rows), so
	// that neither side leaves the first-level cache; row by row of xt
	// instead, each panel was written w times over, and packing a layer's
	// eigenvectors from memory took several times as long. The padding
	// stays 0.
	for q := 0; q*w < k; q++ {
		rows := min(w, k-q*w)
		src := xt[q*w*ld:]
		dst := p.data[q*n*w : (q+1)*n*w]
		for t := range n {
			out := dst[t*w : t*w+rows]
			for s := range out {
				out[s] = src[s*ld+t]
			}
		}
	}
	return p, nil
}

// MulPanels64 writes C = Aᵀ·B (a's k × b's k, row-major) for a packed as
// Left and b as Right, on the calling goroutine, with the same sums as
// MulTN64's. It returns an error for sizes or sides that do not match.
func MulPanels64(c []float64, a, b *Panels) error {
	if a == nil || b == nil || a.width != tileRows || b.width != kernel64.cols || a.n != b.n || len(c) != a.k*b.k {
		return errors.New("grampanel: MulPanels64 needs a Left and a Right Panels of the same rows and a product's worth of values")
	}
	fullCalls.Add(1)
	mulPanels(c, a.data, b.data, a.n, a.k, b.k, 1)
	return nil
}
