package svdvals

import (
	"fmt"
	"strings"
)

// Matrix is an M×N matrix for ValuesBatch: A holds its M·N values, row
// after row.
type Matrix struct {
	A    []float64
	M, N int
}

// ValuesBatch returns Values of each of mats (their A overwritten), the
// same values bit for bit. Finding a bidiagonal matrix's values (dqds) is
// a chain of dependent divisions, bound by their latency rather than by
// the divider's throughput; here four matrices' chains run in one loop
// (bidiagonalValuesBatch), mats taken four at a time in their order. On a
// CPU with AVX-512 (and GOEXPERIMENT=simd) that loop takes about 28% less
// time a matrix than two matrices' (ValuesPair), which makes ValuesBatch
// of four about 8% faster per matrix than ValuesPair at n = 200 and 5% at
// n = 399 (BenchmarkDqdsBatch, BenchmarkValuesBatch); elsewhere it is
// about as fast as ValuesPair. An all-pairs measure has such groups to
// spare. An error is a *MatrixError, which names the matrix it is about,
// and comes with no values.
func ValuesBatch(mats []Matrix) ([][]float64, error) {
	vals := make([][]float64, len(mats))
	for g := 0; g < len(mats); g += batchSize {
		if err := valuesGroup(mats[g:min(g+batchSize, len(mats))], vals[g:], g); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// valuesGroup is ValuesBatch for up to batchSize matrices, the first of
// them mats[first] of ValuesBatch's, into vals.
func valuesGroup(mats []Matrix, vals [][]float64, first int) error {
	var ps [batchSize]bidiagonal
	var exps, owners [batchSize]int
	k, works, outs := 0, 0, 0
	for i, m := range mats {
		d, e, exp, err := reduce(m.A, m.M, m.N)
		if err != nil {
			return &MatrixError{first + i, err}
		}
		vals[i] = d
		if e == nil {
			continue // a zero matrix, its values found
		}
		ps[k], exps[k], owners[k] = bidiagonal{d: d, e: e}, exp, i
		works += dqdsWork(len(d))
		outs += len(d)
		k++
	}
	if k == 0 {
		return nil
	}
	work := temporary(works + outs)
	defer release(work)
	out := work[works:]
	for j := range k {
		n := len(ps[j].d)
		ps[j].out, out = out[:n:n], out[n:]
	}
	bidiagonalValuesBatch(ps[:k], work[:works])
	// Each goes on as Values, with its own part of work for the fallback.
	w := work[:works]
	for j, p := range ps[:k] {
		n := dqdsWork(len(p.d))
		v, err := values(p.d, p.e, p.out, p.ok, exps[j], w[:n])
		if err != nil {
			return &MatrixError{first + owners[j], err}
		}
		vals[owners[j]] = v
		w = w[n:]
	}
	return nil
}

// MatrixError is an error of Values' about one of ValuesBatch's matrices,
// mats[Index].
type MatrixError struct {
	Index int
	Err   error
}

func (e *MatrixError) Error() string {
	return fmt.Sprintf("svdvals: matrix %d: %s", e.Index, strings.TrimPrefix(e.Err.Error(), "svdvals: "))
}

func (e *MatrixError) Unwrap() error { return e.Err }
