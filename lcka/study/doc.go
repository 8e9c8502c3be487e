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
//     one lcka/cka.AllPairs call (the study's standardized CKA by default);
//  4. embeds the layers in 3D from S (lcka/embed) and finds the language axis
//     (exactly two languages);
//  5. for each model and pair of languages, pairs layer k of one language with
//     layer k of the other: their CKA (mean, median, min), their 3D distance
//     (count, mean, median, standard deviation with ddof 1, max), and the
//     orthogonal Procrustes residual between the two signature stacks, which
//     depends only on the within-language blocks of S (lcka/procrustes);
//  6. adds what the study lacked: a bootstrap confidence interval over prompts
//     for the mean pair CKA, and a permutation test of it (shuffled pairing of
//     prompts), both on at most StatsMaxN prompts;
//  7. computes RSA matrices next to CKA (lcka/rsa), unless disabled.
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
package study
