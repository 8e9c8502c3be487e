// Package llm computes the hidden states of decoder-only language models of
// the Llama family (Llama 3.x, Qwen2, Qwen3) and of GPT-OSS (mixture of
// experts with MXFP4 weights, attention sinks, sliding-window layers, yarn
// RoPE) as GoMLX graphs, returning every layer's states from one forward
// pass, as Hugging Face transformers returns them with
// output_hidden_states=True.
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
// M masks key s for query t unless s ≤ t and mask[s] = 1, and in the
// layers whose Config.LayerTypes entry is "sliding_attention" also unless
// s > t − SlidingWindow (sequence indices, as transformers v4.55.4's
// masking_utils: causal and sliding_window_overlay). A query that sees no
// key (a left-padding position) gets transformers' result: its additive
// mask makes all scores equal, so it attends uniformly to all keys. The
// biases are selected by Config (Llama attention_bias → q, k, v and o;
// Qwen2 → q, k, v; Llama mlp_bias → MLP; GPT-OSS → q, k, v and o).
//
// # GPT-OSS
//
// GPT-OSS (transformers v4.55.4, modeling_gpt_oss, eval mode) changes the
// block in three places. Attention sinks (Config.AttentionSinks): head h has
// a learned logit σ_h (self_attn.sinks) that joins its softmax and is then
// dropped,
//
//	attn_h = softmax([q_h·kᵀ/√d + M, σ_h])[:S] · v
//
// so the weights of a row sum to less than 1; a query that sees no key
// puts all its weight on the sink and its attention output is zero (the
// block then adds only the o_proj bias). The MLP is a mixture of experts
// (Config.MoE, GptOssMLP): with router logits z = m·W_rᵀ + b_r over E
// experts, S the TopK largest (ties to the lower index) and
// w_e = exp(z_e)/Σ_{e'∈S} exp(z_e') for e ∈ S (0 otherwise),
//
//	[g, u] = m·W_eᵀ + b_e                  (gate = even rows, up = odd rows of gate_up_proj)
//	g = min(g, limit),  u = clamp(u, −limit, limit)
//	y_e = ((u + 1) ⊙ g ⊙ σ(α·g))·D_eᵀ + d_e
//	x = x + Σ_e w_e·y_e
//
// with α = 1.702 and limit = 7 in transformers v4.55.4 (GptOssExperts fixes
// both). transformers in eval mode evaluates every expert on every token and
// weights the unselected ones by zero, so a pass costs E/TopK times the
// expert arithmetic of the selected experts (8 for gpt-oss-20b). Model runs
// only the selected experts: a mixture of experts runs block by block, and
// between the router and the experts the host groups the batch's tokens by
// expert (padded to a few row counts, so that a job compiles few shapes);
// each expert with tokens then runs in its own executable, which gathers
// its rows, computes the expert and adds w_e·y_e into the block's float32
// sum with a scatter, in expert order as the dense sum. The states equal
// the dense form's (WithDenseExperts, which keeps transformers' eval
// computation in one graph) up to float32 rounding: on the test models
// within 5.1e-6 of the layer's RMS in float32, the matrix kernel blocking a
// few rows differently from many, and identical in bfloat16
// (TestSparseEqualsDense).
// RoPE uses yarn scaling (below).
//
// Expert weights stay in MXFP4, as the checkpoints store them
// (Uint8WeightShapes): *_blocks [E, rows, cols/32, 16] hold two E2M1 codes
// a byte and *_scales [E, rows, cols/32] one E8M0 exponent per 32 values.
// Following transformers' convert_moe_packed_tensors, column c of a row is
// the low (c even) or high nibble of byte (c mod 32)/2 of group c/32, and
//
//	value = e2m1[code] · 2^(scale − 127),  e2m1 = 0, ½, 1, 1½, 2, 3, 4, 6 and their negatives (code ≥ 8)
//
// (OCP Microscaling Formats v1.0). Each value is exact in float32 and in
// bfloat16, so dequantizing to float32 in the graph gives transformers'
// bfloat16 weights exactly; a scale of 255 (NaN) or a value beyond float32
// is refused by New. The selected experts are dequantized for each call:
// on the Go backend by the host (dequantizeMXFP4IntoTransposed, with AVX-512,
// where the backend's Gather costs tens of nanoseconds a value and made the
// dequantization half of a pass), into two float32 buffers that every
// expert of the call reuses, transposed to the layout the backend's matrix
// kernel packs fastest; on a backend whose buffers are not host memory
// inside the expert's executable, from the MXFP4 bytes already there. The
// dense form dequantizes inside its graph, one expert after the other (a
// scheduling barrier), so that at most a couple of float32 expert matrices
// exist at once.
//
// # AMX
//
// A bfloat16 dense model on a CPU with Intel AMX (internal/amx: AMX-TILE,
// AMX-BF16, and Linux's permission, asked once) runs block by block on the
// host: its seven linear layers and the attention's two products on the
// project's AMX kernel, about ten times the Go backend's float32 kernel on
// the widened operands, and the rest of each block (RMSNorm, RoPE, the
// masked softmax, SiLU, the residual additions) in AVX-512 code on the
// bfloat16 activations (hostmath.go, amxhost.go), each step computing what
// the one-graph code computes: the same float32 operations and bfloat16
// roundings, summed in another order and with an exp of its own (within
// 2 ulp of float32). The weights are packed once at load and the originals
// freed. The products accumulate in float32 as before, in another order,
// and TDPBF16PS flushes subnormals: the states agree with the one-graph
// pass (WithoutAMX) to bfloat16 rounding, and are as close to the float64
// reference (TestAMXEqualsGraph) and to transformers' own bfloat16 states
// (TestTransformersBFloat16).
//
// A float32 dense model runs the same way in float32: each linear weight
// is held as three bfloat16 parts (hi + mid + lo, its 24 bits; 6 bytes a
// value instead of 4) and each product is six bfloat16 products on AMX
// accumulated in float32, leaving out only terms below 2⁻²⁴ relative
// (amx.SplitWeight); the rest of the block is the one-graph pass's float32
// code on the host (hostmath32.go). Its states are as close to the
// float64 reference and to transformers' float32 states as the graph's
// (about 1e-6 relative; TestAMXEqualsGraph, TestTransformersFixtures).
//
// The pooled states (PooledHiddenStates) read real tokens only: where
// every row's real tokens are one contiguous run, the AMX pass computes
// those alone (no padding rows in the products or the attention) and
// leaves the padding's states zero; HiddenStates computes every token.
//
// Float16 models, models with attention sinks or experts, and backends
// whose buffers are not host memory keep the graphs; WithoutAMX keeps
// them everywhere.
// Packing runs a garbage collection after each block and returns the freed
// memory to the OS at the end (runtime.GC, debug.FreeOSMemory), so that the
// replaced weights do not linger next to their packed copies.
//
// # Memory
//
// A Model holds copies of the non-expert weights in the compute dtype and
// the MXFP4 bytes of the experts. For gpt-oss-20b (24 layers, hidden 2880,
// 32 experts, vocabulary 201088; 20.9B parameters, 3.6B active per token,
// checked against OpenAI's model card in TestGptOSS20BSize) that is
// 10.15 GB of MXFP4 experts plus, in float32, 4.90 GB (the embedding
// 2.32 GB, attention 2.55 GB, routers, biases, sinks and norms 0.04 GB):
// 15.05 GB; in bfloat16 half of the 4.90 GB, 12.6 GB in all. Loading adds
// one tensor's conversion at a time; a forward pass adds the
// activations and the dequantized experts of one block: the two host
// buffers of the routed form (0.10 GB in float32: one expert's gate_up and
// down projections, reused by every expert), or one or two float32 experts
// and their temporaries in the dense form. The real model could not be
// run here (no weights offline); a random-weight checkpoint of its shape,
// in bfloat16 (12.6 GB of weights), extracted with a peak of 13.3 GB
// resident (17.0 GB when extract's garbage-collector limit left a quarter
// more room; docs/benchmarks.md). In float32 the weights alone are 15.05 GB
// and the same margin puts a run near 20 GB: bfloat16, the checkpoint's
// dtype, is the one to use on a 24 GB machine.
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
// L = original_max_position_embeddings; "yarn" (_compute_yarn_parameters)
// uses the factor max_position_embeddings/L when
// original_max_position_embeddings = L is given (else L =
// max_position_embeddings and rope_scaling's factor), the ramp bounds
// low = max(dim(beta_fast), 0) and high = min(dim(beta_slow), d−1) with
// dim(r) = d·ln(L/(2πr))/(2 ln base) (rounded outwards unless truncate is
// false), r_i = clamp((i − low)/(high − low), 0, 1) and
// θ_i/factor·r_i + θ_i·(1 − r_i), and multiplies cos and sin by the
// attention factor (attention_factor, else 0.1·ln(factor) + 1, or the
// mscale/mscale_all_dim ratio). The float32 frequencies are computed
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
// WithDType selects the compute dtype: float32 (the default), bfloat16 or
// float16. Weights are held on the backend in that dtype (RawWeights are
// copied from their stored encoding, tensor by tensor, never widened to
// float32 as a whole). In float32 the mean of squares in RMSNorm and the
// mean pooling accumulate in float64. In a half dtype the residual stream,
// the embedding and every linear layer's output are in that dtype, as in
// transformers with torch_dtype=bfloat16: matrix products take half inputs
// and accumulate in float32 (a bias is added in float32 before the single
// rounding, as torch's addmm); RMSNorm widens x to float32, normalizes and
// rounds before the product with its weight (GPT-OSS: the product in
// float32, then rounded); RoPE's cos and sin are computed in float32 and
// rounded; attention scores are scaled in float32, rounded, and the softmax
// is float32 with the probabilities rounded; SiLU is computed in float32
// and rounded once. GPT-OSS's experts run in float32 on the rounded
// states. Pooled and returned states are float32 (exact widening). The
// backend is always passed in (for example gobackend.New("")); executables
// are compiled once per (batch, seq) shape and cached. The output head
// (lm_head) is never read, so tied and untied checkpoints behave alike.
//
// Every matrix product of a half compute dtype widens its operands to
// float32 (exactly) in the graph and runs on the Go backend's float32
// kernel: the values of a half product with float32 accumulation, as
// PyTorch's CPU kernels compute them. GoMLX compute v0.1.2's own half
// kernels are avoided: its AVX-512 bfloat16 kernel ran a Llama-1B forward
// pass about 50× slower than the float32 one, and its half products with
// the contracted axis last in both operands (its "transposed" layout) are
// wrong for contracted sizes of 16 and more. The widened weight is a
// temporary of its product; the weights stay in the half dtype in memory.
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
//   - GPT-OSS: a random model (3 layers: sliding, full, sliding with a
//     window of 3 on 7-token inputs; 4 heads, 2 key/value heads, head_dim
//     24; sinks; yarn; 4 MXFP4 experts, top 2) agrees with the reference to
//     1e-4 relative (observed ≤ 3e-6) and with transformers v4.55.4's own
//     GptOssForCausalLM (testdata/transformers-4.55.4-gpt-oss.json; its
//     experts dequantized by transformers' convert_moe_packed_tensors) to
//     1e-4 (observed 4.6e-6 for Model, 2.8e-6 for the reference) at every
//     layer and position, padding included. The dequantized experts equal
//     transformers' bit for bit (SHA-256 of layer 0's), and yarn's inverse
//     frequencies equal transformers' to one float32 ulp for six settings,
//     gpt-oss-20b's among them (30 of its 32 bit-identical). Each GPT-OSS
//     feature is shown to change the test model's states
//     (TestGptOSSFeaturesMatter); the SwiGLU clamp acts on 6% of its gate
//     and 13% of its up values.
//   - bfloat16: testdata/transformers-4.55.4-bf16.json holds transformers'
//     own bfloat16 and float32 runs of Llama, Qwen2, Qwen3, Mistral (with a
//     sliding window) and GPT-OSS on the same bfloat16 weights and 16 padded
//     prompts. In float32 Model agrees with them to 1e-4; in bfloat16 the
//     relative Frobenius error of every layer is at most twice (GPT-OSS:
//     three times) transformers' own bfloat16-versus-float32 difference
//     (observed: about equal to it, 1.1–1.3% at the last layer of the
//     dense models), and the linear CKA of the last-token states is at
//     least 0.999 (observed ≥ 0.99994 dense, 0.9997 GPT-OSS).
//   - Padded rows equal their prompts alone; pooled states equal pooling of
//     the full states; invalid inputs and weights give errors (fuzzed, with
//     a fuzz test of MXFP4 decoding against the reference decoder).
//
// BenchmarkLlama1BShapeForward measures a Llama-3.2-1B-shaped model (vocab
// shrunk to 32768) by dtype and batch shape; on an idle 2-core Sapphire
// Rapids machine (2026-12-03, GODEBUG=asyncpreemptoff=1) 8×64 tokens ran
// at 40.7 tokens/s in float32 (peak 5.2 GiB, random float32 weights
// generated in memory included) and 36.8 in bfloat16 (2.7 GiB).
// BenchmarkGptOSS20BLayerForward runs one gpt-oss-20b block; on the same
// machine (2026-12-07) 4×32 tokens ran at 6.6 tokens/s with every expert
// (WithDenseExperts) and at 88.7 with only the routed ones (13×), 16×64
// tokens at 22.5 and 172.3 (7.6×). A whole random gpt-oss-20b extracted
// 16 English and 16 Hindi questions at 3.6–3.9 and 4.3–4.8 tokens/s with a
// peak of 13.3–17.0 GB (the lower memory, and speed, with extract's tighter
// garbage-collector limit). docs/benchmarks.md has the commands and compares whole
// extractions with transformers.
//
// # Not implemented
//
// The dynamic and longrope RoPE types (Config rejects unknown types, so a
// loader must refuse checkpoints that need them); experts stored other than
// as MXFP4 (a dequantized GPT-OSS checkpoint); skipping the unselected
// experts; GPT-OSS's own bfloat16 casts inside the experts and the sink
// softmax.
package llm
