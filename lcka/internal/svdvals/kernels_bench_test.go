package svdvals

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkRowKernels: the passes over an n×n block in the second-level
// cache, of whole rows and of rows that start one column in (off1), as the
// reductions' trailing matrices do.
func BenchmarkRowKernels(b *testing.B) {
	for _, n := range []int{64, 128, 200, 400} {
		r := rand.New(rand.NewPCG(1, 2))
		a := make([]float64, n*n)
		for i := range a {
			a[i] = r.NormFloat64()
		}
		u, w := make([]float64, n), make([]float64, n)
		for i := range u {
			u[i] = r.NormFloat64()
		}
		b.Run(fmt.Sprintf("dots-off1/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				dots(w[:n-1], a[1:], n, n-1, u[:n-1])
			}
			b.ReportMetric(2*float64(n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("acc-off1/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				accumulate(w[:n-1], a[1:], n, n-1, u[:n-1])
			}
			b.ReportMetric(2*float64(n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("update-off1/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				update(a[1:], n, n-1, w[:n-1], u[:n-1], u, 1e-3, 1e-3)
			}
			b.ReportMetric(6*float64(n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("dots/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				dots(w, a, n, n, u)
			}
			b.ReportMetric(2*float64(n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("accumulate/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				accumulate(w, a, n, n, u)
			}
			b.ReportMetric(2*float64(n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
