package svdvals

import "sync"

// The reductions' temporaries of a few hundred kilobytes come from a pool:
// an all-pairs measure makes tens of thousands of them, and fresh ones cost
// page faults and collections (15% of PWCCA's all-pairs time).
var temporaries sync.Pool

// temporary returns n float64s of unspecified contents.
func temporary(n int) []float64 {
	if p, ok := temporaries.Get().(*[]float64); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]float64, n)
}

// release hands t back to the pool; the caller must not use it after.
func release(t []float64) { temporaries.Put(&t) }
