// Package subspace removes a low-rank "language subspace" from paired
// representations and measures how cross-lingual similarity changes, the
// experiment the study proposed to test transfer (issue 15).
//
// # The directions
//
// For one layer, A and B are the n × d hidden states of the same n prompts
// in two languages (English and Hindi in the study): row i of both is the
// same question. The paired differences are D = A − B, and
//
//	Dc = D − 1·mᵀ,  m = mean over rows of D (the mean-difference vector),
//	Dc = U Σ Wᵀ     (thin SVD, σ₁ ≥ σ₂ ≥ …),
//	V  = the first r columns of W (d × r, orthonormal),
//	P  = I − V Vᵀ,
//
// and the representations with the directions removed are A·P and B·P
// (Project computes X − (X V) Vᵀ without forming P). The share of the
// differences' variance the directions hold is Σₖ≤ᵣ σₖ² / ‖Dc‖²_F.
// Estimate returns V (each column signed so that its largest-magnitude
// component is positive), σ₁..σᵣ, the cumulative shares and m; Remove
// returns A·P and B·P as well. The top r directions are nested, so one SVD
// serves every r up to the largest.
//
// # Why the centred differences
//
// The directions are those of D − mean(D), not of D itself. CKA, linear or
// standardized, centres every column first, so a shift that is the same for
// every prompt (B = A + 1·mᵀ) leaves it unchanged: the mean difference is
// invisible to the measure the experiment reports. What lowers cross-lingual
// CKA is a difference that varies from prompt to prompt, B = A + u·cᵀ with a
// per-prompt coefficient u along a direction c; that is the variance of the
// differences, and their centred SVD finds c. The top right singular vector
// of the uncentred D maximises ‖D v‖² = n (m·v)² + ‖Dc v‖²: it mixes the
// mean difference in, and tends to m/‖m‖ when the mean dominates
// (n ‖m‖² ≫ σ₁²), so it can spend the first direction on a shift CKA never
// saw. For r = 1 the centred direction is therefore not the mean-difference
// direction in general; the two coincide when the prompts' differences vary
// most along the mean shift itself (u with a non-zero mean along one c).
// Centring also makes the variance share a share of variance, and makes the
// directions invariant to a translation of either language (tested).
//
// # Before and after, and cross-fitting
//
// Measure returns a similarity (cka.Standardized, the study's, in the
// command) of A and B and of A·P and B·P for each r, with the variance
// shares. With r directions fitted on the same prompts, part of any gain is
// fitted noise: removing r directions of the differences always moves the
// pairs closer. MeasureCrossFit estimates V on one half of the prompts and
// measures the other half, both ways round, and averages the two; its
// "before" is the mean of the measure on the two halves (the same n/2
// prompts as "after"), and its variance share is that of the held-out
// differences (HeldFraction). Halves draws the two halves from a seed.
// CKA on n/2 prompts reads higher than on n (its bias grows as n falls), so
// compare before and after within one mode, not across the two.
//
// The directions are those of the raw activations: a few rogue dimensions
// with very large values (see lcka/outliers) can dominate them, while the
// standardized CKA weighs every column equally. And a direction along a
// coordinate axis leaves that column at rounding level, which
// standardization scales back to unit variance: real directions are not
// axis-aligned, but synthetic tests should not make them so.
//
// # The joint embedding before and after
//
// The other half of the study's proposal: where the layers sit in the joint
// embedding before and after the removal. JointCKA computes the 2L × 2L
// matrix of CKA (cka.AllPairs, the engine analyze uses) between every pair
// of a model's layers in the two languages (rows: layers 1..L of the first
// language, then of the second, as analyze orders them), with each layer's
// own top r directions projected out of that layer in both languages: the
// projection Measure uses, so entry (k, L+k) is Measure's value for layer
// k up to float32 rounding (the engine's precision). Cross-fitted, each
// half's matrix is computed on that half's prompts with the directions
// estimated on the other half, and the two matrices are averaged; the
// matrix before the removal is the mean of the two halves' matrices, as
// MeasureCrossFit's "before" is.
//
// JointEmbedding embeds the matrix before and each one after with
// embed.Joint (analyze's uncentered 3D embedding unless told otherwise).
// An embedding is defined up to an orthogonal transformation (its axes are
// eigenvectors, signed by convention), so each "after" embedding X is
// rotated onto the "before" one R by orthogonal Procrustes (Align):
// Q = argmin ‖XQ − R‖_F over orthogonal Q, Q = UWᵀ from XᵀR = UΣWᵀ
// (Schönemann 1966; reflections allowed). Point i after is then comparable
// with point i before.
//
// Separate measures how far apart the two languages sit in an embedding:
// the distance between layer k in one language and layer k in the other
// (per layer and its mean over layers; analyze's d3 for one model), and
// the share of the points' scatter between the two languages' centroids,
//
//	η² = Σ_g L ‖μ_g − μ‖² / Σᵢ ‖xᵢ − μ‖²,
//
// the trace form of the correlation ratio. Both are unchanged by the
// rotation. When the languages differ by a rank-1 offset, removing one
// direction moves every pair together (tested), and the matrices, aligned
// coordinates and separations agree with numpy (testdata/gen_embed_ref.py)
// to 1e-5.
//
// # Properties
//
// r = 0 changes nothing. The projected rows are orthogonal to V, and
// projecting twice is projecting once. When B = A + u·cᵀ + noise, removing
// one direction raises the standardized CKA to about that of A with A +
// noise, and the direction holds most of the differences' variance; two
// random directions move it little. All three are tested, and the
// directions, shares and projected matrices are checked against numpy
// (testdata/gen_ref.py) to 1e-10.
//
// # Bad input
//
// Nil, empty or non-finite matrices, A and B of different shapes, r < 0,
// r above min(n − 1, d) or above the rank of Dc (including A − B constant,
// where there is nothing to remove), and cross-fit halves that are not a
// partition or hold fewer than 2 prompts are errors; so are, for the joint
// embedding, no layers, layers of different numbers of prompts, and fewer
// points (2L) than the embedding's dimensions.
package subspace
