// Package cca compares two representations by canonical correlation
// analysis: SVCCA (Raghu, Gilmer, Yosinski & Sohl-Dickstein, "SVCCA:
// Singular Vector Canonical Correlation Analysis for Deep Learning Dynamics
// and Interpretability", NeurIPS 2017) and PWCCA (Morcos, Raghu & Bengio,
// "Insights on representational similarity in neural networks with
// canonical correlation", NeurIPS 2018).
//
// X (n×d₁) and Y (n×d₂) hold the same n inputs in their rows; both are
// centred column by column first.
//
// # Canonical correlations
//
// With Q_X (n×r_X) an orthonormal basis of the column space of the centred X
// (its left singular vectors whose singular values exceed
// max(n, d)·ε·s_max, r_X its numerical rank) and Q_Y likewise, the canonical
// correlations ρ₁ ≥ … ≥ ρ_m, m = min(r_X, r_Y), are the singular values of
// Q_XᵀQ_Y (Björck & Golub 1973). This is exact, unregularized CCA; it is
// the same as the textbook Σ_XX^{-1/2} Σ_XY Σ_YY^{-1/2} when the covariances
// are invertible, and still defined when they are not. When r_X + r_Y ≥ n
// the column spaces must share directions and many ρ are 1: CCA needs n well
// above the dimension, which is why SVCCA reduces it first.
//
// # SVCCA
//
// Each centred representation is reduced to its top singular directions,
// X ≈ U_r S_r V_rᵀ, keeping either a stated count r or the fewest directions
// whose squared singular values hold a stated fraction of the variance
// (Raghu et al. keep 99%: Σ_{i≤r} s_i² ≥ 0.99 Σ s_i²). SVCCA is the mean of
// the canonical correlations of the reduced representations U_r S_r:
//
//	SVCCA(X, Y) = (1/m) Σᵢ ρᵢ,  m = min(r_X, r_Y).
//
// Result reports r_X and r_Y (KeptX, KeptY): SVCCA values are comparable
// only at the same numbers of kept directions.
//
// # PWCCA
//
// Projection weighting replaces the mean by a weighted mean, weights being
// how much of the representation each canonical variate accounts for. With
// hᵢ = Q_X pᵢ the canonical variates of X (pᵢ the left singular vectors of
// Q_XᵀQ_Y, unit norm in sample space) and x_j the centred columns of X,
//
//	αᵢ = Σ_j |⟨hᵢ, x_j⟩|,   PWCCA(X, Y) = Σᵢ αᵢρᵢ / Σᵢ αᵢ.
//
// The weights are taken on the side with fewer directions (the smaller
// rank; X on a tie), as google/svcca's pwcca.py does by neuron count, so
// that every canonical variate of that side has a correlation; PWCCA is not
// symmetric otherwise. It is computed on the full representations, no SVD
// reduction, as in Morcos et al. This follows the paper's formula: the
// reference code's pwcca.py builds its directions as coef_xᵀ(X − mean) +
// mean, without the Σ_XX^{-1/2} of the canonical directions, and
// orthonormalizes them by QR; its values differ from the formula's.
//
// Where canonical correlations repeat, their canonical variates are any
// basis of a shared subspace and the weights, sums of absolute values,
// depend on which: PWCCA is then defined only up to that choice (values
// from one SVD to another can differ in the third decimal on such pairs).
// Two layers of ranks r_X + r_Y > n − 1 share at least r_X + r_Y − (n − 1)
// directions of the centred space, each a correlation of 1, so this holds
// for every such pair: for normal random layers of 300 rows and 150 and 200
// columns (51 correlations of 1; numpy's default_rng(300)), testdata's
// gen_ref.py pwcca gives 0.77972 with numpy 1.24.2 and PWCCA 0.78002.
// In particular a layer of rank n − 1 (at least as wide as n, as LLM layers
// are at n in the hundreds) spans the whole centred space: every canonical
// correlation with any other layer is 1, PWCCA is 1, and AllPairs says so
// without an SVD. SVCCA's reduction is what keeps such layers apart.
//
// SVCCA takes each layer's singular directions from the eigendecomposition
// of its centred Gram matrix XcXcᵀ (n×n): the eigenvectors are the left
// singular vectors, completed to an orthonormal basis of Rⁿ. Its rank is
// then that of the singular values above √(max(n, d)·ε)·s_max: directions
// below hold under 10⁻¹² of the variance (see spectrum), and those just
// above are resolved only to about 10⁻⁶, which matters only to a Keep count
// that reaches them. With A and B the kept spans (r_X and r_Y directions)
// and A⊥, B⊥ the rest of the basis,
//
//	Σᵢ ρᵢ(A, B) = Σᵢ ρᵢ(A⊥, B⊥) + r_X + r_Y − n,
//
// because every principal angle strictly between 0 and π/2 appears on both
// sides, and the intersections' dimensions differ by r_X + r_Y − n. When a
// layer's variance is spread, 99% of it needs most directions and the
// complement problem is small: AllPairs takes whichever side is cheaper.
//
// AllPairs decomposes each layer once and compares every pair of a list of
// layers on all cores; each pair costs an SVD of an r_i×r_j matrix (SVCCA:
// or of its complement's), O(n³) at worst.
//
// NewSpectrum decomposes one layer for SVCCAOf, to compare it with many
// others; Spectrum.Permuted reorders its inputs without decomposing it
// again, for a permutation null (lcka/calibrate): reordering the rows
// permutes the entries of the Gram matrix's eigenvectors and leaves its
// eigenvalues.
//
// # Invariances
//
// Canonical correlations depend on X only through the column space of the
// centred X, so CCA is invariant to translation, isotropic scaling and any
// invertible linear map of the features. SVCCA's reduction sees the
// singular values as well: it is invariant to translation, isotropic
// scaling and orthogonal maps. PWCCA's weights sum absolute values over the
// columns (neurons), so they depend on the basis: PWCCA is invariant to
// translation, isotropic scaling, and permutations and sign flips of the
// columns, not to rotations (Morcos et al. define it on neurons). All give
// 1 for identical inputs.
//
// # Bad input
//
// Different n, fewer than 2 inputs, NaN or ±Inf, a representation with no
// variance, and a Keep with neither or both of a fraction in (0, 1] and a
// count ≥ 1 are errors.
package cca
