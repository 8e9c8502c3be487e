// Package cka computes centered kernel alignment (CKA) between representations:
// matrices X (n×d₁) and Y (n×d₂) whose rows are the same n inputs (prompts) seen
// by two layers, two models or two languages.
//
// # Measures
//
// With H = I − 11ᵀ/n the centering matrix, K = XXᵀ and L = YYᵀ,
//
//	HSIC(K, L) = tr(KHLH)                    (the 1/(n−1)² factor cancels)
//	CKA(K, L)  = HSIC(K, L) / √(HSIC(K, K)·HSIC(L, L))
//
// Linear computes linear CKA (Kornblith et al., "Similarity of Neural Network
// Representations Revisited", ICML 2019). For centered features it has two equal
// forms: the Gram route ⟨HKH, HLH⟩_F / (‖HKH‖_F‖HLH‖_F), costing O(n²d), and the
// feature route ‖XᵀY‖²_F / (‖XᵀX‖_F‖YᵀY‖_F), costing O(nd²). Linear picks the
// cheaper one; LinearRoute forces one.
//
// Standardized is the measure of the study layersim replaces and the default for
// layer maps: every column is standardized to mean 0 and standard deviation 1
// (constant columns carry no information and are set to zero), then linear CKA is
// taken. Its Signature is the double-centered Gram matrix of the standardized
// features, flattened and scaled to unit L2 norm; the dot product of two
// signatures is their standardized CKA.
//
// Debiased replaces HSIC with the unbiased estimator of Song et al. ("Feature
// Selection via Dependence Maximization", JMLR 2012), as Kornblith et al. do:
// with K̃ and L̃ the Grams with zeroed diagonals,
//
//	HSIC₁(K, L) = [tr(K̃L̃) + 1ᵀK̃1·1ᵀL̃1/((n−1)(n−2)) − 2/(n−2)·1ᵀK̃L̃1] / (n(n−3))
//
// which needs n ≥ 4. Its expectation is zero for independent X and Y, where
// biased CKA stays positive.
//
// RBF uses the Gaussian kernel k(x, x') = exp(−‖x−x'‖²/(2σ²)) with
// σ² = t²·median(‖xᵢ−xⱼ‖²) over all n² pairs (diagonal included), as in
// Kornblith et al.'s reference code, for a threshold t.
//
// Minibatch accumulates HSIC₁ over minibatches and divides the means (Nguyen,
// Raghu & Kornblith, "Do Wide and Deep Networks Learn the Same Things?", ICLR
// 2021), for n too large to hold an n×n Gram.
//
// # All pairs at scale
//
// AllPairs computes the CKA matrix over any list of layers in one call, by
// one of two routes, both with GoMLX. When the L signatures fit a quarter of
// the memory budget (small n), it streams the layers once: each is centered
// or standardized, the part of its Gram matrix on and above the block
// diagonal is computed one panel of rows at a time and kept as its signature
// (values right of the diagonal blocks scaled by √2), and one product of the
// signature matrix with itself gives every inner product, summed in float32
// over chunks of 16,384 values and in float64 across chunks. Otherwise it
// preprocesses each layer once and sweeps the n×n Gram matrices tile by
// tile, on and above the diagonal: each tile's Gram blocks (one per layer,
// float32) give its L×L inner products, summed the same way and added into a
// float64 accumulator, so the L×n² signature matrix is never formed. Layers
// beyond half the budget are kept in a scratch file: groups of row blocks
// that fit the budget are held while the other blocks stream past them, so
// each block is read once per group rather than once per tile
// (Result.BlocksHeld).
//
// # Bad input
//
// NaN or Inf anywhere is an error naming the layer. A representation with no
// variance (all columns constant) has no CKA with anything and is an error.
// Different n between inputs is an error: callers decide how to trim.
package cka
