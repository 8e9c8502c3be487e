// Package outliers prepares representations whose few "rogue" dimensions
// (Timkey and van Schijndel, EMNLP 2021: a handful of features with values
// far larger than the rest) would otherwise dominate a similarity measure,
// and reports how much a measure depends on them.
//
// # Clipping and normalising, as platonic-rep does
//
// Huh et al., "The Platonic Representation Hypothesis" (ICML 2024), prepare
// every representation before measuring alignment (github.com/minyoungg/
// platonic-rep, metrics.py remove_outliers and measure_alignment.py
// prepare_features and compute_score): all values are clipped to [−t, t]
// with one threshold t for the whole n×d matrix, then every row is scaled
// to unit L2 norm. The threshold is the q-quantile of |X| (q = 0.95 there),
// in one of two ways, the Quantile methods:
//
//   - Exact (their exact=True, the --precise run): all n·d values of |X|
//     sorted ascending, t = the value at 0-based position ⌊q·n·d⌋.
//   - RowMean (their default): the q-quantile of each row's |values| with
//     linear interpolation (torch.quantile, numpy's "linear": position
//     q·(d−1) between the two nearest order statistics), averaged over the
//     rows.
//
// q = 1 leaves X as it is (remove_outliers returns at once). Normalize
// divides each row by max(‖xᵢ‖, 1e-12), as torch.nn.functional.normalize
// does, so a zero row stays zero. Prepare is Clip followed by Normalize.
// platonic-rep computes in float32; this package in float64.
//
// # Dropping the top-variance dimensions
//
// DropTop removes the k columns with the largest variance (ties to the
// lower index), the other remedy for rogue dimensions. Dependence returns a
// measure with and without them, which says how much the measure rests on a
// few dimensions: a linear CKA of 0.9 that falls to 0.3 without the top 3
// dimensions of each side is a statement about those 3 dimensions.
//
// # Invariances
//
// Clip at q = 1 and DropTop with k = 0 return X unchanged. Clip commutes with
// permutations of the rows and of the columns and with sign flips of
// columns, and scales with X (Clip(cX) = c·Clip(X) for c > 0); Normalize is
// invariant to positive scaling of each row. DropTop is invariant to
// translations of the columns (variance is) and commutes with column
// permutations up to ties.
//
// # Bad input
//
// Empty matrices, NaN or ±Inf, q outside (0, 1], k < 0 or k ≥ d, and
// matrices with different numbers of rows (Dependence) are errors.
package outliers
