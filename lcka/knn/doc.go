// Package knn compares two representations by their nearest neighbours:
// mutual k-nearest-neighbour alignment and CKNNA, as defined by Huh, Cheung,
// Wang and Isola, "The Platonic Representation Hypothesis" (ICML 2024), and
// by their code (github.com/minyoungg/platonic-rep, metrics.py, functions
// mutual_knn, cknna and hsic_unbiased; commit dcd76ba3).
//
// X (n×d₁) and Y (n×d₂) hold the same n inputs in their rows. With
// Similarity Cosine the rows are first scaled to unit L2 norm (what
// platonic-rep's measure_alignment.py does before every measure); with
// Inner they are used as given (metrics.py on its own). The kernels are the
// inner products K = XXᵀ and L = YYᵀ, no centring.
//
// # Neighbours
//
// N_K(i) is the set of the k inputs j ≠ i with the largest K_ij: an input is
// never its own neighbour (metrics.py puts −1e8, or −∞ in cknna, on the
// diagonal before its top-k). Ties are broken towards the lower index;
// torch.topk and argsort leave the order of ties unspecified, so on inputs
// with tied similarities the two may pick different neighbours. Continuous
// activations have no ties.
//
// # Mutual k-NN
//
//	MutualKNN(X, Y) = (1/n) Σᵢ |N_K(i) ∩ N_L(i)| / k
//
// in [0, 1]: 1 when both representations give every input the same k
// neighbours, about k/(n−1) for independent representations.
//
// # CKNNA
//
// Centered kernel nearest-neighbour alignment restricts the kernels to the
// pairs that are neighbours in both: with the (not symmetric) mask
// Mᵢⱼ = 1 if j ∈ N_K(i) ∩ N_L(i), A = M∘K and B = M∘L,
//
//	CKNNA(X, Y) = HSIC₁(A, B) / √(HSIC₁(M_K∘K, M_K∘K) · HSIC₁(M_L∘L, M_L∘L))
//
// where M_K is the mask of N_K alone and HSIC₁ is the unbiased estimator of
// Song et al. (JMLR 2012) written for matrices that need not be symmetric,
// as hsic_unbiased computes it (diagonals are zero here):
//
//	HSIC₁(A, B) = [Σᵢⱼ AᵢⱼBⱼᵢ + 1ᵀA1·1ᵀB1/((n−1)(n−2)) − 2·1ᵀAB1/(n−2)] / (n(n−3)).
//
// CKNNA is symmetric in X and Y but for the term 1ᵀAB1 = Σⱼ (1ᵀA)ⱼ(B1)ⱼ,
// column sums of A against row sums of B: as the masks are not symmetric,
// CKNNA(X, Y) and CKNNA(Y, X) differ slightly (on independent random data
// by about 1e-3 of the value). CKNNA follows platonic-rep's argument order.
//
// With k = n−1 every input is everyone's neighbour and CKNNA is debiased
// linear CKA of the uncentred rows. platonic-rep adds 1e-6 to the
// denominator as a guard against zero; CKNNA does not, so identical inputs
// give exactly 1 and a zero or negative self term is an error. Their value
// is CKNNA·D/(D + 1e-6) with D the denominator above.
//
// # Cost
//
// Each representation costs one n×n Gram matrix and a top-k selection per
// row; a comparison then works on the n·k neighbour lists alone, O(nk log k).
// AllPairs prepares every layer once (a layer per core) and compares all
// pairs on all cores.
//
// The Gram matrix is computed in float32 with GoMLX's Go backend, as the
// CKA signatures are, and the neighbours are then confirmed in float64, so
// that they are exactly those of a float64 Gram matrix: a float32 inner
// product of rows xᵢ, xⱼ of width d is within γ_{d+2}‖xᵢ‖‖xⱼ‖ of the exact
// one (γₘ = mu/(1−mu), u = 2⁻²⁴; Higham, Accuracy and Stability of
// Numerical Algorithms, §3.1), so every input whose float32 similarity lies
// within twice that bound of the k-th largest is a candidate, the
// candidates' similarities are computed again in float64 and the k largest
// kept. Near-ties (real ones, or values closer than float32 resolves) cost
// a few more float64 inner products; the values kept for CKNNA are the
// float64 ones. For mutual k-NN alone (AllPairs) only the inputs left in
// doubt are computed again. Under Inner the values are first scaled by a power of two
// (exact) so that float32 neither overflows nor underflows.
//
// # Invariances
//
// Both measures depend on X only through K, so they are invariant to
// orthogonal transforms of the features (X → XQ). With Cosine they are
// invariant to scaling each row (isotropic scaling included); with Inner,
// mutual k-NN is invariant to isotropic scaling and CKNNA is too (it is a
// ratio of HSICs, each scaling as c²). Neither is invariant to translation
// or to non-orthogonal linear maps. Identical inputs give 1.
//
// # Bad input
//
// Different n, NaN or ±Inf, k outside 1…n−1 (2…n−1 for CKNNA), n < 4 for
// CKNNA, and zero rows under Cosine are errors.
package knn
