// Package robust measures how much a layer-similarity study depends on the
// prompt format and on prompt length (issue 15): the same models run on the
// same questions in two formats, for example the bare question (the study's
// format) and the question with its four options (layersim extract
// --with-options), and on length-matched subsets of the questions.
//
// # Inputs
//
// Two artifacts roots, A and B, as layersim extract writes them, hold the
// same models (the same model folders, model ids, layers and widths) run on
// the same n questions in the same order, in two languages ℓ₀ and ℓ₁ (en
// and hi in the study). Row i of every set is question i. Compare checks
// this: the number of rows, and, per row, that the texts in A and B are
// equal or one contains the other (the question with options contains the
// bare question); formats that rewrite the question itself skip that check
// (Options.SkipTextCheck). Let X^F_{ℓ,k} be the n × d states of layer k in
// language ℓ under format F ∈ {A, B}, and CKA the study's standardized CKA
// (or Options.Measure), computed by cka.AllPairs: one call over a model's
// 4L layers, one per length-matched subset.
//
// # What is compared
//
// Per model and language ℓ, the per-layer A-vs-B similarity
//
//	s_k = CKA(X^A_{ℓ,k}, X^B_{ℓ,k})
//
// says whether the two formats give the same representational geometry of
// the questions at layer k: identical states give 1, and a layer whose
// geometry the format reorganises drops below its neighbours.
//
// How much the layer map moves: M^F_{ij} = CKA(X^F_{ℓ,i}, X^F_{ℓ,j}) is the
// within-language layer×layer map the study draws. Over the P = L(L−1)/2
// pairs i < j (the diagonal is 1 under every format),
//
//	r        = Pearson(M^A_{ij}, M^B_{ij})
//	max |Δ|  = max_{i<j} |M^B_{ij} − M^A_{ij}|
//	mean |Δ| = (1/P) Σ_{i<j} |M^B_{ij} − M^A_{ij}|
//
// r says whether the map keeps its shape (which layers resemble which), the
// differences whether it keeps its values; r is undefined (null) for fewer
// than two pairs or a constant triangle. The whole difference M^B − M^A is
// kept for the heatmap.
//
// Per model, the cross-lingual curve, the study's main result, under A and
// under B, and their difference c^B_k − c^A_k (does the finding depend on
// the format?):
//
//	c^F_k = CKA(X^F_{ℓ₀,k}, X^F_{ℓ₁,k})
//
// # Length-matched subsets
//
// Translations differ in length, and a question that is relatively much
// longer in one language than in the other may be represented differently
// for that reason alone. Within one root, question i has lengths a_i in ℓ₀
// and b_i in ℓ₁ and log ratio ρ_i = log(b_i / a_i). The subset keeps
//
//	S = { i : Q(q) ≤ ρ_i ≤ Q(1 − q) },
//
// Q the empirical quantile of the ρ_i (linear interpolation, numpy's
// default), q = 0.25 by default: the central half of the ratios. The curve
// on S, c^S_k = CKA over the rows S of both languages, is reported next to
// the curve on all n questions, with |S|.
//
// Why this selection: it is one criterion per pair, so a question is kept or
// left out in both languages together and the rows stay paired by
// construction (a matching that pairs questions by length rank across
// languages would break the pairing CKA rests on). It removes the pairs
// whose length relation is atypical in either direction and keeps those
// whose ratio is close to the typical one, so that over S the two
// languages' lengths differ by about the same factor for every question: a
// constant factor is what a per-language tokenizer or script imposes, and
// it leaves the rows' relative lengths, and so length as a row covariate,
// the same in both languages. The log makes the selection symmetric in the
// two languages (swapping them negates ρ and keeps S, up to rounding at the
// bounds). Quantiles rather than a fixed band around ratio 1 adapt to each
// language pair (Hindi in characters is not English in characters) and fix
// |S| ≈ (1 − 2q)n, ties at a bound included. A shift between c^S and c flags a length effect, but a
// smaller sample also moves CKA by itself (biased CKA rises as n falls).
//
// # The subsampling baseline
//
// To separate the two, the curve is also computed on R random subsets
// S₁ … S_R of the same size |S| (Options.BaselineSubsets, 20 by default),
// each drawn without replacement from the n questions by RandomSubsets,
// seeded by Options.Seed, the same rows in both languages:
//
//	b^{(r)}_k = CKA over the rows S_r of both languages,
//
// reported per layer as their mean and 2.5th and 97.5th percentiles (linear
// interpolation, numpy's default), with the layers where c^S_k lies outside
// that band (LengthMatch.Baseline). Inside the band, the length-matched
// curve differs from the whole one by what any subset of its size does;
// outside it, the selection by length ratio moves the curve beyond
// subsampling. The band is that of R subsets: with R = 20 its bounds are
// close to the extreme values, and a larger R (each subset costs as much as
// the length-matched curve) sharpens them. A subset holding every question
// (q = 0) has no baseline.
//
// Lengths are characters (Unicode code points) of the texts the artifacts
// record (.texts.json): meta.json records only summary token statistics
// (tokens_per_text), not each text's count. Options.Length counts anything
// else, for example a model's tokens (layersim robustness --tokenizer).
//
// # Checks
//
// The tests compare every number with a numpy script run on the same
// matrices and texts (testdata/gen_robust.py, robust_ref.json), and with
// direct cka.Standardized calls, the baseline's curves on the rows of
// RandomSubsets included; identical roots give s_k = 1 and no map
// movement; the subsets keep rows paired; mismatched roots are errors that
// say what differs.
package robust
