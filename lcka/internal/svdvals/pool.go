package svdvals

import (
	"sync"

	"github.com/layersim/layersim/lcka/internal/rowkernels"
)

// The reductions' temporaries of a few hundred kilobytes come from a pool:
// an all-pairs measure makes tens of thousands of them, and fresh ones cost
// page faults and collections (15% of PWCCA's all-pairs time).
var pool sync.Pool

// temporary returns n float64s of unspecified contents, the first at a
// 64-byte boundary (rowkernels.Aligned), so that the reductions' results
// do not depend on where their temporaries lie.
func temporary(n int) []float64 {
	if p, ok := pool.Get().(*[]float64); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return rowkernels.Aligned(n)
}

// release hands t back to the pool; the caller must not use it after.
func release(t []float64) { pool.Put(&t) }

// temporaries returns consecutive parts of one pooled slice, of the given
// lengths and unspecified contents, and the whole, for release.
func temporaries(lengths ...int) (parts [][]float64, whole []float64) {
	total := 0
	for _, n := range lengths {
		total += n
	}
	whole = temporary(total)
	rest := whole
	parts = make([][]float64, len(lengths))
	for i, n := range lengths {
		parts[i], rest = rest[:n:n], rest[n:]
	}
	return parts, whole
}
