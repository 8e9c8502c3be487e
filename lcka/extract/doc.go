// Package extract runs a decoder-only language model over a set of parallel
// prompts and saves the pooled hidden state of every layer for every prompt,
// in the artifacts layout of the original study (package artifacts).
//
// # Data flow
//
//	model id or folder ──hf.Resolve──▶ folder ──hf.LoadConfig──▶ LLMConfig ──▶ llm.Config
//	                                     ├──tokenizer.Load(tokenizer.json)
//	                                     └──hf.OpenCheckpoint──▶ CheckpointWeights ──▶ llm.New (first batch)
//	prompt spec ──data.Load──▶ data.Parallel ──per language──▶
//	    encode (special tokens, truncation to MaxLength)
//	    sort by length, longest first; cut into batches of BatchSize
//	    for each batch: pad right, mask, positions = llm.PositionsFromMask(mask)
//	        llm.Model.PooledHiddenStates ──pool──▶ [layers, rows, hidden]
//	        ──▶ ROOT/models/<slug>/<lang>/activations/<slug>_<lang>_<split>.partial/
//	    all batches done: rows back in text order ──artifacts.Writer──▶
//	        <slug>_<lang>_<split>.npz, .meta.json, .texts.json; .partial removed
//
// Load resolves the model (a local folder is used as is; a hub id
// "org/name[@revision]" is downloaded into the Hugging Face cache), maps its
// config.json to llm.Config with LLMConfig, and opens its tokenizer.json
// and safetensors weights. LLMConfig accepts what package llm computes:
// Llama, Mistral, Qwen2, Qwen3 and GPT-OSS (attention sinks, MXFP4
// experts), RoPE default, linear, llama3 and yarn, sliding-window layers
// (set per layer as transformers does); it refuses other architectures,
// other quantizations, the dynamic and longrope RoPE types and partial
// rotary embeddings with an error wrapping ErrUnsupported. Weights are
// converted to float32 (exactly from bfloat16 and float16; MXFP4 blocks
// are passed as bytes) and copied to the backend when the first batch runs.
//
// # Tokens, batches and padding
//
// Each text is encoded as transformers' tokenizer(text, truncation=True,
// max_length=MaxLength) does: the post-processor's special tokens are added
// (BOS for Llama 3, none for Qwen3; Options.NoSpecialTokens leaves them out)
// and the text's ids are cut so that at most MaxLength ids remain (256 by
// default, as in the original study). Within each block of Block
// consecutive texts (256 by default), texts are sorted by token count,
// longest first (ties keep text order), and cut into batches of BatchSize,
// so that a batch holds texts of similar length and little padding; the
// batches run longest first. Batches never cross a block, so a shard of
// whole blocks runs the very batches of an unsharded run (see Shards). A batch
// is padded on the right to its longest text, with mask 1 on real tokens
// and 0 on padding, and positions cumsum(mask)−1: every real token gets the
// state it has when its text runs alone (package llm tests this to 1e-5).
// Padding on the right also keeps every real token at its own sequence
// index, which sliding windows (defined on indices) need.
// Rows are put back in text order when the set is written.
//
// # Pooling
//
// For text t with real tokens 1…n and h_k(i) the state of token i after
// block k:
//
//	last: v_k(t) = h_k(n)                      (the study's default)
//	mean: v_k(t) = (1/n)·Σᵢ h_k(i)             (accumulated in float64)
//	max:  v_k(t)_j = maxᵢ h_k(i)_j
//
// # Saved layers
//
// A model with L blocks gives transformers' L+1 hidden states: index 0 the
// embedding output, index k the output of block k, and index L the output
// of block L after the final RMSNorm. As in the original study
// (hidden_states[1:]), layer_k of the set is index k, k = 1…L, so layer_L
// has the final norm applied. With Options.EmbeddingLayer, index 0 is also
// written, as <slug>_<lang>_<split>.layer_0.npy (float32 [N, D], .npy 1.0)
// next to the set and named in meta.json ("embedding_layer"): the set
// itself must hold exactly layer_1…layer_L.
//
// # meta.json
//
// Besides model_id, num_layers, dtype ("float32", the dtype the model ran
// in), max_length, texts_count and subset (the prompt spec), meta.json holds
// revision (the hub commit, for hub models), pooling, tokens_per_text
// (mean, median, min, max and total of the token counts fed to the model,
// and truncated, the number of texts cut to max_length), add_special_tokens,
// padding_side, layers (the convention above), fingerprint, linear_kernel
// ("amx" or "backend") and backend: the one that ran, {"kind": "go"}, or
// for XLA {"kind": "xla", "platform", "plugin" (the PJRT plugin's file),
// "pjrt_version" (the PJRT C API version it reports)} (backend.Info).
//
// # Resuming
//
// Every finished batch is saved in the folder <slug>_<lang>_<split>.partial
// next to the set (a name Discover ignores): an .npy array [layers, rows,
// hidden] per batch and a manifest.json listing each array with its text
// indices and the run's fingerprint. Arrays and manifest are written
// atomically, array first, so a run killed at any moment leaves a manifest
// that lists complete arrays only. A later run with the same fingerprint
// loads the listed batches and computes only the missing texts; a manifest
// with another fingerprint is discarded. Once every text is done the set is
// written with artifacts.Writer (atomically) and the folder removed.
//
// The fingerprint is the SHA-256 of the model fingerprint, the dtype, the
// AMX kernel (when it runs the linear layers), the backend's kind (when not
// go: a run on XLA does not resume or reuse the go backend's states), the
// language, the pooling, MaxLength, the special-token and embedding-layer
// options, and the texts. The model fingerprint hashes config.json,
// tokenizer.json and, for each *.safetensors file and the index, its name,
// its size and: its blob name when it links into a hub cache's blobs
// folder (the hub's sha256), else its whole content up to 256 MiB, else its
// safetensors header and modification time. A set whose meta.json holds the
// run's fingerprint is skipped (Result.Skipped) unless Options.Force.
//
// # Shards
//
// With Options.Shard = i/N, Extract runs only the texts of shard.Range: the
// i-th of N contiguous ranges of whole blocks, by text index after pairing,
// so every language's shard holds the same prompts. It writes them as a
// part (artifacts.CreatePart) in the set's parts folder,
// <slug>_<lang>_<split>.parts/part-<i>-of-<N>.npz, .meta.json, .texts.json
// (and .layer_0.npy), with its checkpoint beside them
// (part-<i>-of-<N>.partial); a part already written by the same run is
// skipped, as is every shard once the merged set exists. A part's
// meta.json holds the fields of the whole set (the fingerprint of the
// run over all texts, the token statistics of all texts) and a "shard"
// field: index, count, first, rows, texts, block and batch_size.
//
// Merge (layersim merge) checks the parts (artifacts.OpenParts, and the
// range of each against shard.Range) and writes the whole set as an
// unsharded run does: the same batches give the same values, and the
// meta.json is the part's without "shard", so the set is byte for byte
// the unsharded run's on the same machine and backend, unless a batch was
// halved for memory (the halves run in other shapes).
//
// # Memory
//
// When a forward pass fails with an out-of-memory error (IsOutOfMemory:
// ErrOutOfMemory, or the messages of XLA and CUDA), the batch is halved
// and run again, and the following batches keep the smaller size; so does a
// batch whose EstimateBatchBytes exceeds Options.MemoryLimit. Each halving
// is reported in Result.Halvings and through Progress. A single text that
// does not fit is an error. The Go backend cannot report running out of
// memory (the Go runtime ends the process), so use MemoryLimit with it.
// Batches run longest first, so trouble shows in the first minutes.
//
// # Backend
//
// The model runs on the compute.Backend given in LoadOptions, or on
// NewGoBackend, GoMLX's pure-Go backend with sequential op scheduling
// ("ops_sequential"). With the default scheduling, graphs with many
// independent large products can deadlock that backend's worker pool on
// two cores (seen in package cka); the forward pass of package llm has at
// most three independent products and ran without hanging under both
// schedulings in our checks (tiny models, and hidden 1024 with
// intermediate 4096 on batches up to 32×32 tokens), at the same speed
// within noise, so the safe one is the default.
package extract
