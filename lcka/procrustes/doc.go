// Package procrustes implements orthogonal Procrustes distances between
// representations and orthogonal Procrustes residuals between paired
// stacks of vectors.
//
// # Orthogonal Procrustes
//
// For matrices A (L×p) and B (L×p) with paired rows, the orthogonal
// Procrustes problem min over orthogonal R of ‖AR − B‖_F is solved by
// R = UVᵀ from the SVD AᵀB = UΣVᵀ (Schönemann 1966), and expanding the
// square gives the minimum without R:
//
//	min_R ‖AR − B‖²_F = ‖A‖²_F + ‖B‖²_F − 2‖AᵀB‖_*,
//
// where ‖M‖_* = Σ σ_i(M) is the nuclear norm. When A and B have different
// numbers of columns, the narrower one is padded with zero columns (as in
// Williams et al. 2021); padding adds only zero rows or columns to AᵀB and
// leaves its nuclear norm unchanged, so it is never materialised.
//
// # Two residuals between signature stacks
//
// For a model's stacks of CKA signatures in two languages, A and B (L×n²,
// row k the unit-norm centred Gram matrix of layer k, so that ⟨a_i, b_j⟩ is
// a CKA value), two orthogonal Procrustes problems make sense, and they
// measure different things.
//
// LayerResidual is the original study's figure: an orthogonal L×L map Q of
// the rows,
//
//	min_Q ‖QA − B‖²_F = ‖A‖²_F + ‖B‖²_F − 2‖BAᵀ‖_*,
//
// lets each layer of one language be matched by an orthogonal mix of the
// other's layers, in the same n² coordinates. BAᵀ is the cross-lingual block
// of the CKA matrix, and ‖A‖²_F = ‖B‖²_F = L, so the residual needs only
// that block (LayerResidualFromCross). It is small when the cross-lingual
// CKA values are high; for unrelated languages ‖BAᵀ‖_* is far below L and
// rel approaches 1 (about 0.7 to 0.78 for independent random layers of
// n = 30 to 400 prompts, 0.55 to 0.58 on the study's real models).
//
// Residual is the residual under a rotation R of the n²-dimensional
// signature space, min_R ‖AR − B‖_F, with ‖AᵀB‖_*. Since L ≪ n², both stacks
// span only L dimensions and a rotation can carry one L-dimensional
// configuration onto any other with the same shape: the residual depends
// only on the within-language Gram matrices AAᵀ and BBᵀ (ResidualFromGrams),
// i.e. on how alike the two languages' layer-to-layer CKA maps are, and not
// at all on the cross-lingual CKA. It is 0 whenever AAᵀ = BBᵀ, even for
// languages whose representations are unrelated; on independent random
// layers it is about 0.01, against about 0.7 for the study's figure.
//
// They agree only in special cases (B = A gives 0 for both); B = QA makes
// the first 0 and generally not the second, B = AR the other way round. The
// study's question, how well the two languages' layers line up, is the
// first's; the second answers whether the layer geometries of the two
// languages have the same shape. lcka/study reports both
// (procrustes_res/_rel and procrustes_signature_res/_rel).
//
// # Distance
//
// Distance is the squared Procrustes distance of Ding, Denain & Steinhardt
// (2021) between representations X (n×d_x) and Y (n×d_y) of the same n
// samples: with X̂, Ŷ the inputs with centred columns scaled to ‖X̂‖_F =
// ‖Ŷ‖_F = 1,
//
//	d²(X, Y) = 2 − 2‖X̂ᵀŶ‖_* = min_R ‖X̂R − Ŷ‖²_F ∈ [0, 2].
//
// It is 0 exactly when Y is a translated, isotropically scaled and rotated
// (or reflected) copy of X, and √d² is a metric (Williams et al. 2021).
//
// # Nuclear norms through Gram matrices
//
// The singular values of XᵀY (X n×d_x, Y n×d_y) can be obtained from the n×n
// Gram matrices G_X = XXᵀ and G_Y = YYᵀ alone:
//
//	σ_i(XᵀY)² = λ_i((XᵀY)ᵀ(XᵀY)) = λ_i(Yᵀ·G_X Y),
//
// and the nonzero eigenvalues of Yᵀ(G_X Y) are those of (G_X Y)Yᵀ = G_X G_Y,
// since PQ and QP share their nonzero eigenvalues. With the
// eigendecomposition G = UΛUᵀ and F = UΛ^{1/2} (so FFᵀ = G and the symmetric
// square root is G^{1/2} = FUᵀ), the nonzero eigenvalues of
// G_X G_Y = F_X(F_XᵀF_Y)F_Yᵀ are those of M Mᵀ for M = F_XᵀF_Y. Hence
//
//	‖XᵀY‖_* = ‖F_XᵀF_Y‖_* = ‖G_X^{1/2} G_Y^{1/2}‖_*,
//
// the last because G_X^{1/2}G_Y^{1/2} = U_X M U_Yᵀ with orthogonal U_X, U_Y.
// Distance and Residual use this route when it costs fewer flops than the
// SVD of the d_x×d_y matrix XᵀY (roughly when d ≫ n), and ResidualFromGrams
// always does, so a caller that holds only Gram matrices (for example CKA
// matrices of signature stacks) gets the residual without the stacks.
// Eigenvalues at or below n·ε·λ_max are dropped from F as rounding noise
// (centred inputs are rank deficient); singular values below about
// √(n·ε)·σ_max are therefore not resolved by the Gram route, which limits
// its absolute accuracy to about 1e-8 relative to the scale in the worst
// case, against about 1e-15 for the direct route.
//
// Inputs with NaN or ±Inf, mismatched numbers of samples or rows, too few
// samples, and zero-variance inputs are rejected with an error.
//
// References:
//
//   - P. H. Schönemann, "A generalized solution of the orthogonal Procrustes
//     problem", Psychometrika 31 (1966) 1–10.
//   - F. Ding, J.-S. Denain, J. Steinhardt, "Grounding representation
//     similarity through statistical testing", NeurIPS 2021.
//   - A. H. Williams, E. Kunz, S. Kornblith, S. W. Linderman, "Generalized
//     shape metrics on neural representations", NeurIPS 2021.
package procrustes
