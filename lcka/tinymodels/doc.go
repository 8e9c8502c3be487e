// Package tinymodels makes the small Llama-architecture models of layersim's
// demo: random but deterministic weights and a byte-level BPE tokenizer,
// written as ordinary Hugging Face model folders, so that the same loader
// (packages hf, tokenizer and extract) reads them as it reads real models.
//
// # Sizes
//
//	name    hidden  layers  heads  kv heads  head dim  intermediate
//	tiny-a  128     4       4      2         32        384
//	tiny-b  192     6       6      3         32        512
//
// Both use RMSNorm ε = 1e-5, RoPE θ = 10000 without scaling, SiLU MLPs, no
// biases and tied embeddings (model_type llama, float32).
//
// # Tokenizer
//
// TokenizerJSON is a tokenizer.json in the layout of Llama 3's: the Llama 3
// split regex and the ByteLevel pre-tokenizer, a BPE model over the 256
// byte characters of GPT-2's bytes_to_unicode table (ids 0–255, in byte
// order), the learned merges (one new id each; 1292 of them), then the special
// tokens <|begin_of_text|> (BOS) and <|end_of_text|> (EOS), and a
// TemplateProcessing post-processor that puts BOS before every text.
//
// The merges are learned from the English and Hindi texts of the built-in
// prompt set (data.Builtin) by plain BPE: words are counted, the most
// frequent pair of adjacent symbols is merged (ties to the pair whose left,
// then right, symbol sorts first), and so on until MaxMerges merges or no
// pair occurs twice. Words are split for counting by the Llama 3 regex
// without its lookahead alternative \s+(?!\S) (Go's regexp has no
// lookahead); this changes only which pairs are counted, as encoding always
// uses the full regex.
//
// # Weights
//
// Each tensor is drawn from its own SplitMix64 stream, seeded by the seed
// and the tensor's name, with Box–Muller normals, so that a (size, seed)
// always gives the same bytes. The scales keep every block's update about
// as large as the residual stream, so that representations change from
// layer to layer without exploding or collapsing:
//
//	embed_tokens                 N(0, 1)
//	RMSNorm weights              1 + 0.25·N(0, 1)
//	q_proj, k_proj               N(0, 2²/H)       (sharper attention)
//	v_proj, gate_proj, up_proj   N(0, 1/H)
//	o_proj                       N(0, 1/(heads·d))
//	down_proj                    N(0, 1/(0.35·I)) (E[silu(g)²·u²] ≈ 0.356 for standard normal g, u)
//
// where H is the hidden size, d the head size and I the intermediate size.
// On the first 64 English prompts of the built-in set, with last-token
// pooling, standardized CKA between the embedding output and the last layer
// is 0.62 for tiny-a and 0.59 for tiny-b, and between neighbouring layers at
// least 0.85 and 0.90 (TestLayersDiffer requires at most 0.8, at least 0.7
// and a gap of 0.2).
package tinymodels
