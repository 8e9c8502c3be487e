// Package embed places layers in a common low-dimensional space from their
// all-pairs similarity matrix, and finds the language axis in it.
//
// # Joint embedding
//
// S is the M×M matrix of CKA values between all layers of all models in all
// languages. With S = VΛVᵀ its eigendecomposition (eigenvalues descending),
// the coordinates of layer i are
//
//	xᵢₖ = Vᵢₖ·√λₖ,  k = 1..dims
//
// which is the study's uncentered variant: since S is the Gram matrix of the
// unit-norm signatures, these are the signatures' coordinates on their top
// principal axes (uncentered PCA). Classical MDS (Torgerson 1952) is the option
// that first double-centers S, B = HSH: it is MDS on the distances
// ‖sᵢ − sⱼ‖² = 2 − 2Sᵢⱼ between signatures.
//
// Eigenvectors have no intrinsic sign. Joint fixes it so results are
// deterministic: in each coordinate the entry of largest magnitude is
// positive (the first one if several tie).
//
// # Language axis
//
// LanguageAxis correlates every coordinate with the language label (+1 for the
// first language, −1 for the second) by Pearson's r over all points, picks the
// coordinate with the largest |r| as the language axis and reports r on that
// coordinate within each group (model).
package embed
