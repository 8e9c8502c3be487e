// Package calibrate puts a similarity score next to its permutation null.
//
// Raw CKA and k-NN scores of unrelated representations are not 0: they rise
// with the dimension and width of the representations and fall with the
// number of inputs (Murphy, Zylberberg & Fyshe 2024 on biased CKA at n ≪ d),
// so scores of layers of different widths are not comparable as they are.
// Calibrate measures the score of x against y with y's rows shuffled, P
// times: the shuffles break the pairing of inputs and keep everything else
// (widths, spectra, n), so their scores are the measure's value for
// unrelated inputs of the same shapes. It reports
//
//	score, null mean μ, null spread σ (standard deviation, ddof 1),
//	calibrated = (score − μ) / σ,
//	p = (1 + #{null ≥ score}) / (P + 1),
//
// the calibrated value being the issue's "score minus null, scaled by the
// null's spread", and p the one-sided permutation p-value (Phipson & Smyth
// 2010). For a distance (shape metrics), pass its negation or read
// calibrated with the sign reversed: p counts nulls at least as high.
//
// The shuffles come from a PCG generator seeded by Options.Seed, so a run is
// repeatable. Permutations, Null and FromNull are Calibrate's steps, for a
// caller that shuffles several pairs alike: layersim analyze --also-null
// sets every layer of a model against the same shuffles, so that the null
// of the mean over layers is the mean of the layers' nulls, shuffle by
// shuffle. Any measure of two matrices fits: the functions of lcka/cka,
// lcka/knn, lcka/cca, lcka/shape and lcka/rsa.
package calibrate
