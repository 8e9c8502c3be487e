package amx

import (
	"errors"
	"fmt"
	"math"
	"sync"
)

// availability runs probe once, on first use.
var availability = sync.OnceValue(probe)

// Available reports whether this process can run the AMX kernels: an amd64
// CPU with AMX-TILE and AMX-BF16, the OS enabling the tile state (XCR0 bits
// 17, 18), and Linux granting the permission (requested once, lazily, with
// arch_prctl). The first call does the request; later calls return the
// cached answer. Safe for concurrent use.
func Available() bool { return availability() == nil }

// maxDim bounds N, K and M so that every size and byte offset the package
// computes fits in an int, padding included.
const maxDim = 1 << 30

// Weight is a bfloat16 matrix W [N, K] (a torch Linear weight, [out, in],
// row-major) packed for the kernel. It is read-only once packed, so any
// number of goroutines may call MatMul on it at once.
type Weight struct {
	n, k  int
	data  []uint16 // packed panels, see packWeight
	bytes int64    // allocated for data
}

// PackWeight packs w (bfloat16 bit patterns, len n*k). Errors for bad sizes
// or when !Available().
func PackWeight(w []uint16, n, k int) (*Weight, error) {
	if n < 1 || k < 1 || n > maxDim || k > maxDim || n > math.MaxInt/k {
		return nil, fmt.Errorf("amx: PackWeight: bad size %d×%d", n, k)
	}
	if len(w) != n*k {
		return nil, fmt.Errorf("amx: PackWeight: len(w) = %d, want %d×%d = %d", len(w), n, k, n*k)
	}
	if err := availability(); err != nil {
		return nil, fmt.Errorf("amx: not available: %w", err)
	}
	data, bytes := packWeight(w, n, k)
	return &Weight{n: n, k: k, data: data, bytes: bytes}, nil
}

// N returns the number of rows of W, the columns of MatMul's result.
func (w *Weight) N() int { return w.n }

// K returns the number of columns of W, the inner dimension.
func (w *Weight) K() int { return w.k }

// Bytes returns the memory held by the packed copy: N and K rounded up to
// multiples of 32, two bytes an element.
func (w *Weight) Bytes() int64 { return w.bytes }

var errNotPacked = errors.New("amx: MatMul on a Weight not made by PackWeight")

// MatMul sets c [m, N] (row-major float32, len m*N) to a·Wᵀ for a [m, K]
// bfloat16 (len m*K), accumulating in float32. workers ≥ 1 goroutines split
// the work. Safe for concurrent use on the same Weight (scratch space comes
// from a pool). Errors (never panics) for bad lengths.
//
// Products of bfloat16 are exact in float32; the sums are rounded to
// float32, and denormal inputs and results are flushed to zero (see the
// package documentation).
func (w *Weight) MatMul(c []float32, a []uint16, m, workers int) error {
	return w.product(c, a, m, workers, false)
}

// MatMulAdd adds a·Wᵀ to c, as MatMul computes it: the sums start from
// c's values.
func (w *Weight) MatMulAdd(c []float32, a []uint16, m, workers int) error {
	return w.product(c, a, m, workers, true)
}

func (w *Weight) product(c []float32, a []uint16, m, workers int, add bool) error {
	if w == nil || w.data == nil {
		return errNotPacked
	}
	if m < 0 || m > maxDim {
		return fmt.Errorf("amx: MatMul: bad row count m = %d", m)
	}
	if workers < 1 {
		return fmt.Errorf("amx: MatMul: workers = %d, need at least 1", workers)
	}
	if len(a) != m*w.k {
		return fmt.Errorf("amx: MatMul: len(a) = %d, want m×K = %d×%d = %d", len(a), m, w.k, m*w.k)
	}
	if len(c) != m*w.n {
		return fmt.Errorf("amx: MatMul: len(c) = %d, want m×N = %d×%d = %d", len(c), m, w.n, m*w.n)
	}
	if m == 0 {
		return nil
	}
	w.matmul(c, a, m, workers, add)
	return nil
}
