// Package shape computes the generalized shape metrics of Williams, Kunz,
// Kornblith and Linderman, "Generalized Shape Metrics on Neural
// Representations" (NeurIPS 2021): the angular Procrustes distance and its
// partial-whitening family, as their package netrep computes them
// (github.com/ahwillia/netrep, LinearMetric with center_columns=True,
// zero_pad=True, score_method="angular"; commit 0186b8a7).
//
// # The metric
//
// X (n×d₁) and Y (n×d₂) hold the same n inputs in their rows. Each is
// centred column by column and partially whitened with a parameter
// α ∈ [0, 1]:
//
//	φ_α(X) = X (αI + (1−α)(XᵀX)^{-1/2}),
//
// with the eigenvalues λ of XᵀX clipped below at 10⁻⁷ as netrep does
// (eigval_tol; for α > 1 − 10⁻⁷ it does not whiten at all). Then
//
//	θ_α(X, Y) = arccos( ‖φ_α(X)ᵀφ_α(Y)‖_* / (‖φ_α(X)‖_F ‖φ_α(Y)‖_F) ),
//
// the angle between the two after the best rotation (the nuclear norm ‖·‖_*
// is the sum of singular values: max over orthogonal Q of ⟨φ(X)Q, φ(Y)⟩).
// With X = P S Vᵀ the thin SVD of the centred X, φ_α(X) = P f(S) Vᵀ with
// f(s) = s(α + (1−α)/max(s, √10⁻⁷)), so only P f(S) (n×r) is formed, and
// different widths need no zero padding (netrep's padding adds zero
// eigenvalues whose directions carry no data). netrep also rescales φ to
// keep the total variance, which the angle does not see.
//
// α = 1 is the angular Procrustes distance (no whitening; for the
// normalized inputs of package procrustes, its squared distance is
// 2 − 2 cos θ₁). α = 0 whitens fully: θ₀ is the arccos of the mean canonical
// correlation, scaled as Σρᵢ/√(r_X r_Y), and is invariant to any invertible
// linear map. θ lies in [0, π/2].
//
// # A metric
//
// θ_α is a metric on representations modulo the transformations it ignores
// (Williams et al., Proposition 1): symmetric, zero for X = Y, and it
// satisfies the triangle inequality, because it is the angle between points
// on a sphere after optimal rotation. The package's tests check all three on
// random triples, at several α.
//
// # Invariances
//
// Every θ_α is invariant to translation (centring) and to orthogonal maps of
// the features. θ₁ and θ₀ are invariant to isotropic scaling; for
// 0 < α < 1 they are not, because netrep's φ_α uses the unnormalized XᵀX:
// f(cs) is not proportional to f(s), so the scale of the activations, and
// n, shift the balance between the Procrustes and CCA ends. θ₀ is
// degenerate when d ≥ n − 1: every centred column space is the whole
// (n−1)-dimensional space and all distances are 0.
//
// # Bad input
//
// Different n, fewer than 2 inputs, NaN or ±Inf, a representation with no
// variance and α outside [0, 1] are errors.
package shape
