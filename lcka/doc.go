// Package lcka is the engine of layersim: it compares the hidden states of
// language models layer by layer, within a model, across models and across
// languages.
//
// The work is split into small packages with one job each:
//
//   - lcka/cka: CKA in its variants and all-pairs CKA matrices at scale.
//   - lcka/rsa: representational similarity analysis.
//   - lcka/procrustes: orthogonal Procrustes residuals and distances.
//   - lcka/embed: the joint 3D embedding of layers and the language axis.
//   - lcka/artifacts: the activation artifacts on disk (npz/npy + meta.json).
//   - lcka/study: the analysis job that turns artifacts into metrics.json.
package lcka
