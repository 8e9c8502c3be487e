// Package rsa implements representational similarity analysis (RSA):
// two representations of the same n samples are compared through their
// representational dissimilarity matrices (RDMs).
//
// A representation is an n×d matrix X whose row x_i holds the d features of
// sample i. Its RDM is the n×n symmetric matrix D with zero diagonal and
//
//	Cosine:      D_ij = 1 − ⟨x_i, x_j⟩ / (‖x_i‖ ‖x_j‖)
//	Correlation: D_ij = 1 − ⟨x̃_i, x̃_j⟩ / (‖x̃_i‖ ‖x̃_j‖),  x̃_i = x_i − mean(x_i)
//	Euclidean:   D_ij = ‖x_i − x_j‖²
//
// (the scipy.spatial.distance.pdist metrics "cosine", "correlation" and
// "sqeuclidean"). All three are computed from the Gram matrix G = X Xᵀ
// (after row centring for Correlation, after column centring for Euclidean,
// which leaves the distances unchanged but avoids cancellation in
// G_ii + G_jj − 2G_ij), so an RDM costs one n×n×d matrix product. Cosine
// values are clamped to [0, 2] and squared distances at 0 against rounding.
// AllPairsFromGrams takes those Gram matrices from the caller (GramInput
// prepares the rows), so that a caller that computes them fast, in float32
// on a matrix engine as lcka/study does, needs no float64 copy of the
// activations.
//
// Two RDMs are compared on their strict upper triangles u, v (m = n(n−1)/2
// values each) by
//
//	Pearson:     r(u, v) = ⟨u − ū, v − v̄⟩ / (‖u − ū‖ ‖v − v̄‖)
//	Spearman:    r(rank(u), rank(v)), tied values getting their average rank
//	KendallTauA: τ_a = (n_c − n_d) / (m(m−1)/2)
//
// where n_c and n_d count the concordant and discordant pairs of positions;
// pairs tied in u or v count as neither, so τ_a of an RDM that has ties with
// itself is below 1. For Spearman and Pearson each
// triangle is ranked (Spearman), centred and scaled to unit norm once, so a
// comparison is a dot product and AllPairs is one L×m by m×L product (run in
// blocks on all cores; ranks come from a radix sort of the values). τ_a is
// computed in O(m log m) time with Knight's algorithm (W. R. Knight, "A
// computer method for calculating Kendall's tau with ungrouped data", J. Am.
// Stat. Assoc. 61 (1966) 436–439): sort by (u, v), count n_d as the
// inversions of v by merge sort, and use
//
//	n_c − n_d = m(m−1)/2 − t_u − t_v + t_uv − 2 n_d,
//
// with t_u, t_v, t_uv the numbers of pairs tied in u, in v and in both.
//
// CompareWith and CompareRDMsWith add four comparisons of rsatoolbox
// (rsatoolbox.rdm.compare), with m the number of dissimilarities:
//
//	KendallTauB:  τ_b = (n_c − n_d) / √((n₀ − t_u)(n₀ − t_v)),  n₀ = m(m−1)/2
//	RhoA:         ρ_a = 12 Σᵢ (r_i − r̄)(s_i − s̄) / (m³ − m)
//	WhitenedCosine:      ⟨HDH, HD′H⟩_F / (‖HDH‖_F ‖HD′H‖_F)
//	WhitenedCorrelation: the same after subtracting the mean dissimilarity
//	                     from the off-diagonal entries of D and D′
//
// τ_b is scipy's kendalltau (rsatoolbox's "tau-b"), corrected for ties, so
// an RDM with ties has τ_b = 1 with itself; it reuses τ_a's O(m log m)
// count. ρ_a (rsatoolbox's "rho-a", Nili et al. 2014) correlates the average
// ranks r, s with the denominator of untied ranks: the expected Spearman
// correlation under random tie breaking, below 1 for an RDM with ties
// against itself. The whitened comparisons are rsatoolbox's
// compare_cosine_cov_weighted ("cosine_cov") and
// compare_correlation_cov_weighted ("corr_cov") without a pattern
// covariance (sigma_k = None): the RDM is double-centred (H the centring
// matrix, the diagonal included) and the off-diagonal entries count twice,
// which whitens the dependence between dissimilarities that share a sample
// (Diedrichsen et al. 2021, "Comparing representational geometries using
// whitened unbiased-distance-matrix similarity"). For squared Euclidean
// RDMs −½HDH is the centred Gram matrix, so WhitenedCosine is linear CKA,
// positive bias for small n included.
//
// RSA needs n ≥ 3 samples, so that there are at least 3 dissimilarities to
// correlate. Inputs with NaN or ±Inf, zero rows (Cosine), constant rows
// (Correlation) and RDMs that are constant (max − min ≤ 1e-12·max|D_ij|,
// where every correlation is undefined) are rejected with an error; no
// function returns NaN.
//
// References: N. Kriegeskorte, M. Mur, P. Bandettini, "Representational
// similarity analysis – connecting the branches of systems neuroscience",
// Front. Syst. Neurosci. 2 (2008) 4; M. G. Kendall, "Rank Correlation
// Methods" (Griffin, 1948) for τ_a.
package rsa
