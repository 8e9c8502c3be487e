// Package study is the analysis job: it turns an artifacts tree (every layer
// of every model in every language, see lcka/artifacts) into the results of a
// layer-similarity study.
//
// Analyze
//
//  1. finds the activation sets under ROOT/models for the chosen languages and
//     split, models ordered by slug and layers by index; a model that lacks one
//     of the languages is left out and named in Metrics.Notes;
//  2. trims every set to the common number of prompts n (the first n rows) when
//     they differ, as the original study did, and says so in Notes;
//  3. computes the CKA matrix S of all layers of all models in all languages in
//     one lcka/cka.AllPairs call (the study's standardized CKA by default),
//     or another measure's matrix in its place (Options.Main, see Other
//     measures below);
//  4. embeds the layers in 3D from S (lcka/embed) and finds the language axis
//     (exactly two languages) and, for any number of languages, the language
//     discriminant (see Languages below);
//  5. for each model and pair of languages, pairs layer k of one language with
//     layer k of the other: their CKA (mean, median, min), their 3D distance
//     (count, mean, median, standard deviation with ddof 1, max), and the
//     study's orthogonal Procrustes residual between the two signature stacks
//     (an orthogonal map of the layers, from the cross-lingual block of S),
//     next to the residual under a rotation of the signature space, which
//     depends only on the within-language blocks of S (lcka/procrustes
//     compares the two);
//  6. adds what the study lacked: a bootstrap confidence interval over prompts
//     for the mean pair CKA, and a permutation test of it (shuffled pairing of
//     prompts), both on at most StatsMaxN prompts;
//  7. computes RSA matrices next to CKA (lcka/rsa), unless disabled (see RSA
//     below);
//  8. maps cross-lingual alignment along depth (Metrics.Depth): per layer the
//     CKA with a bootstrap interval, and the layers where it changes (see
//     Depth map below).
//
// Write stores metrics.json, the heatmap JSONs (within a model per language,
// across languages within a model, across models per language; CKA and RSA)
// and the joint coordinates, each written atomically.
//
// # Statistics
//
// The bootstrap resamples prompts with replacement. Each resample re-centers
// the standardized features (it double-centers the resampled Gram matrix) but
// keeps the per-feature scale estimated on all prompts, so it costs O(n²) per
// layer instead of O(n²d). Resampling with replacement repeats prompts, and a
// repeated prompt is perfectly similar to itself in both languages, so the
// resampled CKA sits above the observed one (by about 0.1 at n = 132 in the
// demo). The interval is therefore the 2.5th and 97.5th percentiles of the
// resampled mean pair CKA shifted by that bias (their mean minus the observed
// value), reported as cka_bootstrap_bias. The permutation test pairs prompt i of one
// language with prompt π(i) of the other for random permutations π; its
// p-value is (1 + #{null ≥ observed}) / (1 + permutations).
//
// Both statistics are sums over the n² entries of products of the two
// languages' centred Gram matrices, layer by layer, and every resample
// re-reads all of them: 1,000 resamples and 1,000 permutations of the study's
// four models (n = 400, 100 layers per language) take about 2·10¹⁰ products.
// The Gram matrices are the ones the CKA engine computes anyway (it hands
// them over through cka.GramSink when the statistics use all prompts; they
// are computed again only for a subset of the prompts or on the engine's
// tiled route). They are stored in float32, each scaled to unit norm and
// interleaved by layer, entry (i, j) of all layers of a model side by side,
// so that one resample walks the entries once and updates every layer with
// AVX-512 vector operations (plain Go elsewhere), the products Ka∘Kb, Ka∘Ka
// and Kb∘Kb formed on the fly; batches of 25 resamples share each pass over
// a row, and the batches run on all cores. The draws are made first from one
// generator, so results do not depend on the number of cores, and they
// equal the float64 definitions to rounding (within 1e-6 in
// TestPairStatsAgainstDefinition; the intervals of the study-sized run of
// docs/benchmarks.md moved by 1e-8).
//
// # Depth map
//
// Metrics.Depth holds, for every model and pair of languages, the CKA of
// layer k in one language against layer k in the other along depth, each
// with a 95% bootstrap interval over prompts. The intervals come from the
// bootstrap of the mean pair CKA above, layer by layer: the same resamples
// for every layer (so the resampled curves keep the correlation of
// neighbouring layers) and the same shifted percentile interval, the 2.5th
// and 97.5th percentiles of a layer's resampled CKA taken around their mean
// (m-out-of-n and scaled when StatsN < n).
//
// Change points are found by binary segmentation of the curve c₀ … c_{L−1}
// with a bootstrap threshold (FindChangePoints). A segment [s, e) of two
// layers or more is split at the t that maximizes the drop in the sum of
// squared deviations from the segment means,
//
//	G(t) = SSD(s, e) − SSD(s, t) − SSD(t, e) = (t−s)(e−t)/(e−s) · (c̄[t, e) − c̄[s, t))²,
//
// and the split is kept when max_t G(t) exceeds the 95th percentile of the
// same maximum computed on the bootstrap curves centred on their per-layer
// means, c*_b − mean_b(c*_b), which have the curve's sampling noise but no
// change; the two halves are then segmented in turn. Each change point is
// reported with its layer, its effect (the mean CKA of the segment's layers
// after it minus that of its layers before it) with the 95% bootstrap
// interval of that difference, the gain and the threshold, the segment split
// and the order in which it was found.
//
// This rule was chosen over comparing consecutive layers because alignment
// often moves gradually: neighbouring layers differ by less than their
// noise while a block of layers differs clearly from the next, and the
// segment means pool the layers' evidence. It assumes that prompts are
// exchangeable (the bootstrap's premise), that the centred bootstrap curves
// reproduce the sampling noise of the curve, correlation across layers
// included, and that the curve is piecewise constant: a gradual trend that
// exceeds the noise is reported as a staircase of changes, each significant
// but none a sharp transition. Each test is at the 5% level given the
// splits before it; the probability of at least one spurious change grows
// with the number of segments tested (about 7% for a flat curve of 12
// layers in TestFindChangePoints), so the effects, not the count, are the
// thing to read.
//
// # Languages
//
// Any number of languages (two or more) can be studied at once; every pair
// of them gets a Pair. Metrics.LanguageMatrices holds, per model, the
// language × language matrix of cross-lingual CKA: entry (a, b) at layer k
// is the CKA of layer k in language a against layer k in language b (read
// from S), and cka_mean averages it over the layers, so that its
// off-diagonal entries are the pairs' cka_mean.
//
// The language axis of the study picks the one embedding coordinate that
// correlates best with the ±1 language label, which needs exactly two
// languages. Metrics.LanguageDiscriminant generalises it: the Fisher linear
// discriminants (FisherLDA) of the language labels on the 3D coordinates,
// the directions w that maximize the ratio λ of between-language to
// within-language scatter of the scores w·x, at most min(languages − 1, 3)
// of them, with η² = λ/(1+λ) the share of the scores' variance that the
// language explains. With two languages the single discriminant is the
// least-squares regression of the ±1 label on (x, y, z): its scores
// correlate with the label at R = √η², the multiple correlation, which is
// at least the language axis's |r| (equal when the regression puts all its
// weight on that coordinate), and it is oriented so that the first
// language scores higher, the sign convention of the axis's label.
//
// # RSA
//
// RSA compares the layers' representational dissimilarity matrices. Their
// Gram matrices (of the rows centred across features, for the default
// correlation dissimilarity) are computed in float32 with GoMLX as the CKA
// engine loads each layer, so the activations are read once, and lcka/rsa
// turns them into RDMs, ranks and one product of the rank vectors.
//
// # Other measures
//
// Options.ExtraMeasures adds measures beside CKA: mutual k-NN alignment and
// CKNNA (lcka/knn), SVCCA and PWCCA (lcka/cca), the angular shape distance
// θ_α (lcka/shape), named as `layersim compare` names them
// (ParseExtraMeasure). Each is computed all pairs over the same joint rows as
// S, by its package's AllPairs on the layers trimmed to n prompts and
// widened to float64, into a joint heatmap (heatmaps/measureN_NAME.json) and
// Metrics.ExtraMeasures: its formula, the time it took, and per model and
// pair of languages the measure between layer k in one language (the row)
// and layer k in the other, with their mean. They are reported only: S (the
// CKA matrix, or Options.Main's) alone drives the embedding, the pairs, the bootstrap, the permutations and the
// depth map. PWCCA and θ_α cost an SVD per pair of layers, O(n³), which
// at 200 layers takes many minutes (Notes says so); SVCCA's SVD is of the
// smaller of the kept and the complementary directions, from seconds to a
// minute at 200 layers (lcka/cca); a measure that
// fails on the layers (k ≥ n, a layer with no variance) is left out with a
// note, the rest of the results standing.
//
// Options.ExtraMeasureNull = P sets each of those cross-lingual values
// against its permutation null (lcka/calibrate): the measure of layer k in
// one language against layer k in the other with the second's prompts
// shuffled, P times, the same shuffles (calibrate.Permutations of Seed) for
// every layer, so that the null of the mean over layers is the mean of the
// per-layer nulls, shuffle by shuffle. MeasurePair.Null holds, per layer and
// for the mean, the null's mean and spread, the calibrated value
// (value − mean)/spread and the one-sided p-value in the direction of
// agreement. It costs P evaluations of the measure per cross-lingual pair
// of layers.
//
// Options.Main makes one of those measures the study's own, in CKA's place:
// its joint matrix is cut into the heatmaps (files named after it, e.g.
// svcca_<slug>_en__<slug>_hi.json), the layers are embedded from it, and
// every field of Metrics named for CKA (the pairs, the values to the last
// layer, the language matrices, the depth map) holds its values;
// Metrics.Measure names it, with MeasureFormula and MeasureDistance. PWCCA
// and CKNNA are not symmetric: the study's matrix holds the mean of layer i
// against j and j against i (a note says so). The shape distance θ is
// embedded, and its Procrustes residuals computed, from cos θ, the
// similarity whose arc it is, so that the same code serves both. The
// bootstrap and the permutation test cannot use CKA's Gram-matrix shortcuts:
// each resample (the prompts of the statistics drawn with replacement,
// PCG(seed, 0xb007)) and each permutation (calibrate.Permutations of the
// seed) computes the measure again on each of the pair's layers (both ways
// round for PWCCA and CKNNA, as the matrix holds them), the same draws for
// every layer, so they cost Bootstrap + Permutations evaluations per layer
// (twice that for PWCCA and CKNNA) and run only when asked for: with Main,
// a count of 0 means none. SVCCA and the shape distance take a resample
// from its distinct prompts weighted by their counts (the same value,
// cca.NewSpectrumResample and shape.WhitenResample) and a permutation by
// reordering each layer's decomposition (Spectrum.Permuted,
// Whitened.Permuted). The
// interval is the study's shifted percentile interval, the m-out-of-n one
// when StatsMaxN < n; the permutation p-value, null and calibrated value
// are MeasureNull's, in the direction of agreement (a distance's calibrated
// value is negative where the languages are closer than chance). A measure
// that fails on the prompts of the statistics (a kNN measure with k at
// least their number) leaves the pair without statistics, with a note.
// Main holds every layer in memory; the CKA engine's MemoryBudget, TempDir
// and Checkpoint do not apply and are an error with it. Where a measure of
// ExtraMeasures that fails on the layers is left out with a note, Main
// failing fails the study, which has no other matrix.
package study
