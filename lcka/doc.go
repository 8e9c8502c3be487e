// Package lcka is the engine of layersim: it runs language models on parallel
// prompts, keeps every layer's hidden state, and compares layers within a
// model, across models and across languages.
//
// The work is split into small packages with one job each:
//
//   - lcka/data: parallel prompt sets (built-in, Global-MMLU-Lite, files).
//   - lcka/hf: Hugging Face model folders, safetensors and the hub.
//   - lcka/tokenizer: tokenizer.json in pure Go, exact against Hugging Face.
//   - lcka/llm: decoder-only models in GoMLX returning every hidden state.
//   - lcka/extract: prompts and a model to activation artifacts, resumable.
//   - lcka/tinymodels: the project's tiny Llama models for the demo and tests.
//   - lcka/artifacts: the activation artifacts on disk (npz/npy + meta.json).
//   - lcka/cka: CKA in its variants and all-pairs CKA matrices at scale.
//   - lcka/rsa: representational similarity analysis.
//   - lcka/procrustes: orthogonal Procrustes residuals and distances.
//   - lcka/embed: the joint 3D embedding of layers and the language axis.
//   - lcka/study: the analysis job that turns artifacts into metrics.json.
package lcka
