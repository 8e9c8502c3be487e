// Package grampanel computes Gram matrices G = X·Xᵀ: in float32 for the CKA
// engine, RSA's Gram matrices and the k-nearest-neighbour measures, in
// float64 for RSA's rank product. Its float64 tile kernel also runs the
// products Aᵀ·B of the canonical correlations and the shape metrics
// (MulTN64, or MulPanels64 on operands packed once as Panels, as the
// all-pairs measures pack each layer's basis) and the panel updates
// C −= Aᵀ·B of the Householder reductions of lcka/internal/svdvals and
// lcka/internal/symeig (SubMulTN64). Its buffers start at 64-byte
// boundaries, as lcka/internal/rowkernels needs for results that do not
// depend on where they lie.
//
// On an amd64 CPU with AVX-512, or with AVX2 and FMA (Host), Full computes
// the upper triangle's 12×32 tiles with a micro-kernel of its own on the
// transposed rows (see host.go for why). The AVX2 routines compute each
// tile in four quarters of 6 rows × 16 columns (sixteen 32-byte registers
// hold a quarter) with the same fused multiply-adds in the same order per
// entry, so both sets give the same bits (TestTileModel, TestAVX2SameBits).
// Elsewhere NewExec runs GoMLX in row panels: panel r (rows [s_r, e_r))
// against rows [s_r, n), the upper part of G, about 62% of the full
// product's work for four panels. The panels come as separate inputs,
// because the Go backend's Slice copies value by value and its Concatenate
// block by block.
package grampanel

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// MaxRows bounds the rows of a panel.
const MaxRows = 128

// Height returns the rows of each panel (the last may have fewer) for n
// rows: as many equal panels as MaxRows requires.
func Height(n int) int {
	panels := (n + MaxRows - 1) / MaxRows
	return (n + panels - 1) / panels
}

// NewExec returns the executable that takes the panels of X (float32,
// [rows_r, d] each, in order) and returns, for each panel r, its rows of
// G against rows s_r…n−1: [rows_r, n − s_r].
//
// The products run one after the other (a scheduling barrier on the
// previous one), each on all of the backend's workers. Run side by side,
// four or more of them hung GoMLX's Go backend (github.com/gomlx/compute
// v0.1.2) now and then: each product is a task of its worker pool, whose
// size is 2·GOMAXPROCS, and each waits in the pool's Saturate for a free
// worker that none of them will free (TestNewExecNoHang).
func NewExec(backend compute.Backend) (*graph.Exec, error) {
	e, err := graph.NewExec(backend, func(blocks []*graph.Node) []*graph.Node {
		var out []*graph.Node
		for r := range blocks {
			rest := blocks[r]
			if r+1 < len(blocks) {
				rest = graph.Concatenate(blocks[r:], 0)
			}
			panel := blocks[r]
			if r > 0 {
				panel = graph.SchedulingBarrier(panel, out[r-1])
			}
			out = append(out, graph.Einsum("nd,md->nm", panel, rest))
		}
		return out
	})
	if err != nil {
		return nil, fmt.Errorf("building the Gram graph: %w", err)
	}
	return e, nil
}

// Mirror writes the panels' products outs (as NewExec returns them, for n
// rows) into full (n×n, row-major), both triangles, and finalizes them.
func Mirror(full []float32, outs []*tensors.Tensor, n int) error {
	if len(full) != n*n {
		return fmt.Errorf("grampanel: %d values for a %d×%d matrix", len(full), n, n)
	}
	s0 := 0
	var err error
	for _, o := range outs {
		width := n - s0
		d := o.Shape().Dimensions
		if len(d) != 2 || d[1] != width || s0+d[0] > n {
			err = fmt.Errorf("grampanel: a panel of shape %v at row %d of %d", d, s0, n)
			break
		}
		rows := d[0]
		if e := tensors.ConstFlatData(o, func(p []float32) {
			for a := 0; a < rows; a++ {
				for c, v := range p[a*width : (a+1)*width] {
					full[(s0+a)*n+s0+c] = v
					full[(s0+c)*n+s0+a] = v
				}
			}
		}); e != nil {
			err = e
			break
		}
		s0 += rows
	}
	for _, o := range outs {
		o.FinalizeAll()
	}
	if err == nil && s0 != n {
		err = fmt.Errorf("grampanel: panels of %d rows for %d", s0, n)
	}
	return err
}

// Host reports whether Full runs here: an amd64 CPU with AVX-512F, or
// with AVX2 and FMA, and the kernel not turned off by SetHost. Where it
// does not, callers use NewExec.
func Host() bool { return hostAvailable() && !hostOff.Load() }

// HostFor reports whether callers computing on backend (nil: the Go
// backend) use Full: where Host is true and the backend is GoMLX's Go
// backend. On another backend (XLA on a GPU) the Gram products stay on it.
func HostFor(backend compute.Backend) bool {
	// The Go backend's String is its registered name, "go" (its Name is
	// a description).
	return Host() && (backend == nil || backend.String() == gobackend.BackendName)
}

// SetHost turns the host kernel on (where the CPU has it) or off, for the
// whole process, and returns the previous setting: tests and benchmarks use
// it to run the GoMLX panels on a CPU that has the kernel.
func SetHost(on bool) (was bool) { return !hostOff.Swap(!on) }

// Full writes G = X·Xᵀ (n×n, row-major, both triangles) into g for the
// row-major n×d matrix x in float32, on up to workers goroutines
// (GOMAXPROCS if workers ≤ 0), on the host's AVX-512 or AVX2 units. It
// returns an error where the CPU has neither (whatever SetHost says: that
// setting is for the callers that choose, through Host) and for sizes that
// do not match.
func Full(g, x []float32, n, d, workers int) error {
	if err := check(len(g), len(x), n, d); err != nil {
		return err
	}
	fullCalls.Add(1)
	gramHost(g, x, n, d, workers, kernel32)
	return nil
}

// check returns an error unless the CPU has the kernel and lg and lx
// values hold an n×n Gram matrix of n×d rows.
func check(lg, lx, n, d int) error {
	if !hostAvailable() {
		return errors.New("grampanel: this CPU has neither AVX-512 nor AVX2 and FMA for the host Gram kernel")
	}
	if n <= 0 || d <= 0 || n > math.MaxInt/d || lx != n*d || lg != n*n {
		return fmt.Errorf("grampanel: %d values for %d×%d and %d for its Gram matrix", lx, n, d, lg)
	}
	return nil
}

// fullCalls counts the calls of Full and Full64 (FullCalls).
var fullCalls atomic.Int64

// FullCalls returns how many Gram matrices Full and Full64 have computed
// in this process: tests check with it that a job ran on the host kernel.
func FullCalls() int64 { return fullCalls.Load() }

// Full64 is Full in float64: the products and their sums in float64, as a
// float64 matrix product computes them (the order of the additions aside).
func Full64(g, x []float64, n, d, workers int) error {
	if err := check(len(g), len(x), n, d); err != nil {
		return err
	}
	fullCalls.Add(1)
	gramHost(g, x, n, d, workers, kernel64)
	return nil
}
