//go:build amd64

package rowkernels

// The passes over blocks of rows in assembly (kernels_amd64.s), for the
// AVX-512 kernels of kernels_simd.go. Their fused multiply-adds round once
// where the Go loops round twice, and do not overflow a product on its
// own: where a sum already holds ±Inf and a product overflows with the
// other sign, the Go loops give NaN and these ±Inf. The reductions never
// pass them such values (they refuse NaN and ±Inf and scale the matrix).

// dotsAVX512 sets out[i] = Σ_{j<n} a[i·stride + j]·u[j] for i < rows; n ≥ 1.
//
//go:noescape
func dotsAVX512(out, a *float64, stride, rows int, u *float64, n int)

// accumulateAVX512 adds Σ_{i<rows} v[i]·a[i·stride + j] to w[j] for j < n;
// n ≥ 1.
//
//go:noescape
func accumulateAVX512(w *float64, n int, a *float64, stride, rows int, v *float64)

// updateAVX512 applies, to each row r of the rows×n block at a (rows stride
// apart), r −= τ·v[i]·w, then, unless σ is ±0, r −= σ·(r·u)·u; n ≥ 1.
//
//go:noescape
func updateAVX512(a *float64, stride, rows int, w, u, v *float64, n int, tau, sigma float64)
