// gen_ref.js writes hf_ref.json, the reference token ids of the tiny
// models' tokenizer used by the tests of package
// github.com/layersim/layersim/lcka/tinymodels.
//
// Reference implementation: Hugging Face tokenizers 0.22.2 (Rust), through
// the Node bindings @anush008/tokenizers 0.6.0, the copy pinned and
// installed for package tokenizer (lcka/tokenizer/testdata/ref, `npm ci`
// there). Tested with Node 20.20.2.
//
// Usage (from the repository root; gen_ref.sh does all of it):
//
//	go run ./cmd/layersim make-models --out /tmp/tiny
//	node lcka/tinymodels/testdata/gen_ref.js /tmp/tiny/tiny-a/tokenizer.json
//
// Inputs: the tokenizer.json, the built-in prompts (lcka/data/builtin.jsonl)
// and the hard cases below. Output: testdata/hf_ref.json with the sha256 of
// the tokenizer file and, per text, the ids with and without special tokens
// and the decoded plain ids.
"use strict";

const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const { Tokenizer } = require(path.join(__dirname, "../../tokenizer/testdata/ref/node_modules/@anush008/tokenizers"));

async function main() {
  const tokPath = process.argv[2];
  if (!tokPath) {
    console.error("usage: node gen_ref.js TOKENIZER_JSON");
    process.exit(2);
  }
  const json = fs.readFileSync(tokPath);
  const tok = Tokenizer.fromString(json.toString("utf8"));
  const texts = [];
  const builtin = fs.readFileSync(path.join(__dirname, "../../data/builtin.jsonl"), "utf8");
  for (const line of builtin.split("\n")) {
    if (line.trim() === "") continue;
    const row = JSON.parse(line);
    texts.push(row.en, row.hi);
  }
  // Text the tokenizer was not trained on: other scripts, whitespace runs,
  // contractions, digits, emoji, special-token strings inside text.
  texts.push(
    "",
    "  two  spaces   and three ",
    "It's, they're, we'll, I'd — don't!",
    "12345678 and 3.14159",
    "line1\nline2\r\nline3\n\n",
    "\ttab\tseparated\t",
    "Ünïcödé ñ ß 中文 日本語 😀👍",
    "मैं 2024 में दिल्ली गया।",
    "<|begin_of_text|>inside<|end_of_text|> text",
    "Здравствуй, мир!",
  );
  const cases = [];
  for (const text of texts) {
    const ids = Array.from((await tok.encode(text, null, { addSpecialTokens: false })).getIds());
    const special = Array.from((await tok.encode(text, null, { addSpecialTokens: true })).getIds());
    const decoded = await tok.decode(ids, false);
    cases.push({ text, ids, special, decoded });
  }
  const out = {
    source: "Hugging Face tokenizers 0.22.2 via @anush008/tokenizers 0.6.0 (Node " + process.versions.node + ")",
    tokenizer_sha256: crypto.createHash("sha256").update(json).digest("hex"),
    vocab_size: tok.getVocabSize(true),
    cases,
  };
  fs.writeFileSync(path.join(__dirname, "hf_ref.json"), JSON.stringify(out, null, 0) + "\n");
  console.log(`wrote hf_ref.json: ${cases.length} texts`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
