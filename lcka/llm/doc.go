// Package llm computes the hidden states of decoder-only language models of
// the Llama family (Llama 3.x, Qwen2, Qwen3) as GoMLX graphs, returning every
// layer's states from one forward pass, as Hugging Face transformers returns
// them with output_hidden_states=True.
//
// # Hidden states
//
// For a model with L blocks, Model.HiddenStates returns L+1 arrays
// [batch, seq, hidden]:
//
//	h₀ = embed_tokens[token]                (index 0: the embedding output)
//	h_k = block_k(h_{k−1})                  (index k = 1..L−1)
//	index L = RMSNorm_final(block_L(h_{L−1}))
//
// The last entry is the final-norm output (transformers' last_hidden_state);
// the un-normalized output of block L is not returned, exactly as in
// transformers (checked in v4.47.1, LlamaModel.forward, and unchanged in
// v4.57, where check_model_inputs ties hidden_states[-1] to
// last_hidden_state). Model.PooledHiddenStates pools inside the graph over
// the real (mask = 1) tokens of each row — last token, mean (accumulated in
// float64) and element-wise maximum — and returns [L+1][batch][hidden].
//
// # Block
//
// With x the residual stream, RMSNorm(x; w) = w ⊙ x / √(mean(x²) + ε):
//
//	a = RMSNorm(x; input_layernorm)
//	q = a·W_qᵀ (+ b_q),  k = a·W_kᵀ (+ b_k),  v = a·W_vᵀ (+ b_v)     (per head, size d)
//	q, k = RMSNorm(q; q_norm), RMSNorm(k; k_norm)                   (Qwen3 only)
//	q, k = RoPE(q), RoPE(k)
//	attn_h = softmax(q_h·k_{g(h)}ᵀ / √d + M) · v_{g(h)}            (g(h) = h / (heads/kv_heads))
//	x = x + concat_h(attn_h)·W_oᵀ (+ b_o)
//	m = RMSNorm(x; post_attention_layernorm)
//	x = x + (silu(m·W_gateᵀ) ⊙ (m·W_upᵀ))·W_downᵀ                    (silu(z) = z·σ(z); optional biases)
//
// M masks key s for query t unless s ≤ t and mask[s] = 1. A query that sees
// no key (a left-padding position) gets transformers' result: its additive
// mask makes all scores equal, so it attends uniformly to all keys. The
// biases are selected by Config (Llama attention_bias → q, k, v and o;
// Qwen2 → q, k, v; Llama mlp_bias → MLP).
//
// RoPE rotates halves (rotate_half, not interleaved pairs): with
// θ_i = base^(−2i/d), i < d/2, and the angle φ = p·θ_{i mod d/2} at position
// id p, RoPE(x) = x⊙cos φ + rotate_half(x)⊙sin φ, rotate_half(x) =
// (−x[d/2:], x[:d/2]). Scaling of θ follows transformers'
// modeling_rope_utils: "linear" divides by factor; "llama3"
// (_compute_llama3_parameters) keeps θ_i when its wavelength λ_i = 2π/θ_i is
// below L/high_freq_factor, divides it by factor above L/low_freq_factor and
// otherwise interpolates (1−s)·θ_i/factor + s·θ_i with
// s = (L/λ_i − low_freq_factor)/(high_freq_factor − low_freq_factor), where
// L = original_max_position_embeddings. The float32 frequencies are computed
// with transformers' float32 operation order (bit-identical to its
// inv_freq in the fixtures); p·θ is a float32 product as in transformers, and
// its cos and sin are evaluated in float64 and rounded.
//
// # Positions and padding
//
// Without position ids a row's positions are 0..seq−1, as transformers
// uses when position_ids is not given: then a left-padded prompt's states
// differ from the prompt's states alone. PositionsFromMask gives
// cumsum(mask)−1 (the convention of transformers' generate), with which each
// real token of a left- or right-padded batch has the states of its prompt
// alone (to float32 rounding; tested to 1e-5).
//
// # Numerics and backends
//
// Weights and activations are float32; the mean of squares in RMSNorm and the
// mean pooling accumulate in float64. WithDType is reserved for bfloat16 on
// accelerators and accepts only float32 today. The backend is always passed
// in (for example gobackend.New("")); executables are compiled once per
// (batch, seq) shape and cached. The output head (lm_head) is never read,
// so tied and untied checkpoints behave alike.
//
// # Verification
//
//   - ReferenceHiddenStates is an independent float64 forward pass in plain
//     Go. On random models (hidden 64, 4 heads, 2 key/value heads, 3 layers,
//     vocab 300) in five variants — llama3 rope scaling; Llama biases with
//     head_dim 24 and linear scaling; Qwen2 q/k/v biases; Qwen3 q/k norms
//     with head_dim 32; multi-head attention — every state of every layer at
//     every position of a left- and right-padded batch agrees with Model to
//     1e-4 relative (observed ≤ 3e-6), with default, mask-derived and
//     offset positions.
//   - testdata holds hidden states computed by transformers itself (v4.47.1
//     for Llama and Qwen2, v4.51.3 for Qwen3; eager attention, float32, CPU):
//     Model and the reference agree with them to 1e-4 relative at every
//     layer and position, padding included (observed ≤ 3e-6), and inv_freq
//     matches bit for bit. See testdata/README.md.
//   - Padded rows equal their prompts alone; pooled states equal pooling of
//     the full states; invalid inputs and weights give errors (fuzzed).
//
// BenchmarkLlama1BShapeForward measures a Llama-3.2-1B-shaped model (vocab
// shrunk to 32768) on 8×64 tokens; on a shared 2-core AVX-512 machine
// with the Go backend it ran at about 15 tokens/s.
//
// # Not implemented
//
// Sliding-window attention, attention sinks and mixture-of-experts MLPs
// (GPT-OSS, Mistral with a window), and the yarn, dynamic and longrope RoPE
// types. Config has no fields for them (it rejects unknown RoPE types), so a
// loader must refuse checkpoints that need them. They would extend Config and the block in
// Model.forward (the mask M, the MLP) without changing the API.
package llm
