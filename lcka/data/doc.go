// Package data provides the prompt sets of layersim: texts paired across
// languages, so that item i of every language is the same prompt.
//
// A Parallel holds the languages, item ids, optional subjects and the texts
// of each language. Sources:
//
//   - Builtin: 132 English–Hindi pairs written for this project over eleven
//     subjects, from two to about sixty words, some with numbers and line
//     breaks; embedded in the binary.
//   - Global-MMLU-Lite (Cohere For AI): the parquet files
//     <lang>/<split>-*.parquet (splits test and dev), from a local folder or
//     from the hub dataset CohereForAI/Global-MMLU-Lite through the
//     Hugging Face cache (package hf).
//   - Files: JSON (an array of objects {"id", "subject", "en", "hi", ...}
//     or an object of arrays), JSONL (one object per line), CSV (a header
//     with id, subject and one column per language), or one JSON array of
//     strings per language with {lang} in the path.
//
// Global-MMLU-Lite rows are paired by sample_id, in the order of the first
// language; rows without a counterpart in every language are dropped and
// listed in Parallel.Dropped (or rejected with Options.Strict). The prompt
// is the raw question by default, as in the original study, or, with
// QuestionWithOptions, the question with its options:
//
//	Question: <question>
//	A. <option_a>
//	B. <option_b>
//	C. <option_c>
//	D. <option_d>
//	Answer:
//
// Load takes the spec string of the command line ("builtin",
// "global-mmlu-lite[:split]", "global-mmlu-lite:/folder[:split]",
// "file:/path" or a path ending in .json, .jsonl or .csv), the languages and
// the number of items to keep. Missing languages, empty texts, invalid
// UTF-8, duplicate ids and lists of unequal length are errors that name the
// file and the item.
package data
