package tinymodels

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"sync"

	"github.com/layersim/layersim/lcka/data"
)

// Special tokens of the tiny tokenizer, named as in Llama 3.
const (
	BOS = "<|begin_of_text|>"
	EOS = "<|end_of_text|>"
)

// MaxMerges bounds the number of BPE merges of the tiny tokenizer; training
// on the built-in prompts stops earlier, at 1292 merges, when no pair of
// symbols occurs twice any more (vocabulary 1550 with BOS and EOS).
const MaxMerges = 1500

// llama3Split is the pre-tokenizer regex of Llama 3's tokenizer.json, written
// into the tokenizer file and applied exactly by package tokenizer.
const llama3Split = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// trainSplit approximates llama3Split for counting words during training:
// Go's regexp has no lookahead, so the alternative \s+(?!\S) is left out
// (a run of spaces before a word then stays whole instead of giving its last
// space to the word). This changes which pairs are counted, never how a
// text is encoded.
var trainSplit = regexp.MustCompile(`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+`)

// byteRunes is GPT-2's byte-to-character table (bytes_to_unicode): bytes
// that are printable Latin-1 characters ('!'..'~', '¡'..'¬', '®'..'ÿ') map
// to themselves, the other 68 bytes to U+0100 onwards, in byte order.
var byteRunes = func() [256]rune {
	var t [256]rune
	next := rune(256)
	for b := range 256 {
		if b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF {
			t[b] = rune(b)
		} else {
			t[b] = next
			next++
		}
	}
	return t
}()

// byteLevel returns the byte-level form of s: one character per byte.
func byteLevel(s string) string {
	var b []rune
	for i := 0; i < len(s); i++ {
		b = append(b, byteRunes[s[i]])
	}
	return string(b)
}

// pair is two adjacent symbols, by symbol id.
type pair struct{ a, b int32 }

// trainBPE learns up to numMerges byte-level BPE merges from texts: words
// are counted, then the most frequent adjacent pair of symbols is merged
// repeatedly (ties go to the pair whose left, then right, symbol sorts first
// as a string), until numMerges merges are made or no pair occurs twice.
// It returns the symbols (the 256 byte characters, in byte order, then the
// new string of each merge) and the merges as pairs of symbol strings.
func trainBPE(texts []string, numMerges int) (symbols []string, merges [][2]string) {
	symbolID := map[string]int32{}
	for b := range 256 {
		symbols = append(symbols, string(byteRunes[b]))
		symbolID[symbols[b]] = int32(b)
	}
	counts := map[string]int{}
	for _, t := range texts {
		for _, w := range trainSplit.FindAllString(t, -1) {
			counts[w]++
		}
	}
	// Words in a fixed order, as symbol ids.
	keys := make([]string, 0, len(counts))
	for w := range counts {
		keys = append(keys, w)
	}
	sort.Strings(keys)
	words := make([][]int32, len(keys))
	freq := make([]int, len(keys))
	pairCount := map[pair]int{}
	where := map[pair][]int32{}
	for i, w := range keys {
		for j := 0; j < len(w); j++ {
			words[i] = append(words[i], int32(w[j]))
		}
		freq[i] = counts[w]
		for j := 0; j+1 < len(words[i]); j++ {
			p := pair{words[i][j], words[i][j+1]}
			pairCount[p] += freq[i]
			where[p] = append(where[p], int32(i))
		}
	}
	less := func(p, q pair) bool { // p before q among equal counts
		if symbols[p.a] != symbols[q.a] {
			return symbols[p.a] < symbols[q.a]
		}
		return symbols[p.b] < symbols[q.b]
	}
	stamp := make([]int, len(words))
	for m := 1; m <= numMerges; m++ {
		best, bestCount := pair{}, 1
		for p, c := range pairCount {
			if c > bestCount || c == bestCount && c > 1 && less(p, best) {
				best, bestCount = p, c
			}
		}
		if bestCount < 2 {
			break
		}
		// A string reached before by other merges keeps its symbol, as the
		// encoder works on strings.
		merged := symbols[best.a] + symbols[best.b]
		id, seen := symbolID[merged]
		if !seen {
			id = int32(len(symbols))
			symbols = append(symbols, merged)
			symbolID[merged] = id
		}
		merges = append(merges, [2]string{symbols[best.a], symbols[best.b]})
		for _, wi := range where[best] {
			if stamp[wi] == m {
				continue
			}
			stamp[wi] = m
			w, f := words[wi], freq[wi]
			for j := 0; j+1 < len(w); j++ {
				pairCount[pair{w[j], w[j+1]}] -= f
			}
			out := w[:0]
			for j := 0; j < len(w); j++ {
				if j+1 < len(w) && w[j] == best.a && w[j+1] == best.b {
					out = append(out, id)
					j++
				} else {
					out = append(out, w[j])
				}
			}
			words[wi] = out
			for j := 0; j+1 < len(out); j++ {
				p := pair{out[j], out[j+1]}
				pairCount[p] += f
				if p.a == id || p.b == id {
					where[p] = append(where[p], wi)
				}
			}
		}
		for p, c := range pairCount {
			if c <= 0 {
				delete(pairCount, p)
			}
		}
		delete(where, best)
	}
	return symbols, merges
}

// tokenizerJSON is built once: training is deterministic.
var tokenizerJSON = sync.OnceValues(func() ([]byte, error) {
	p := data.Builtin()
	var texts []string
	for _, lang := range p.Langs {
		texts = append(texts, p.Texts[lang]...)
	}
	symbols, merges := trainBPE(texts, MaxMerges)
	return encodeTokenizer(symbols, merges)
})

// TokenizerJSON returns the tokenizer.json of the tiny models: a byte-level
// BPE tokenizer in the layout of Llama 3's (the Llama 3 split regex, the
// ByteLevel pre-tokenizer and decoder, and a TemplateProcessing
// post-processor that puts BOS before the text), with at most MaxMerges
// merges trained on the English and Hindi texts of the built-in prompt set. Ids
// 0–255 are the bytes, then one id per merge, then BOS and EOS.
func TokenizerJSON() ([]byte, error) {
	b, err := tokenizerJSON()
	return bytes.Clone(b), err
}

// vocabSize is the number of ids of the tiny tokenizer, special tokens included.
func vocabSize() (int, error) {
	b, err := tokenizerJSON()
	if err != nil {
		return 0, err
	}
	var t struct {
		Model struct {
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
		Added []json.RawMessage `json:"added_tokens"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return 0, err
	}
	return len(t.Model.Vocab) + len(t.Added), nil
}

// encodeTokenizer writes the tokenizer.json document.
func encodeTokenizer(symbols []string, merges [][2]string) ([]byte, error) {
	type obj = map[string]any
	vocab := make(map[string]int, len(symbols))
	for i, s := range symbols {
		vocab[s] = i
	}
	mergeStrings := make([]string, len(merges))
	for i, m := range merges {
		mergeStrings[i] = m[0] + " " + m[1]
	}
	bos, eos := len(symbols), len(symbols)+1
	added := func(id int, content string) obj {
		return obj{"id": id, "content": content, "single_word": false, "lstrip": false,
			"rstrip": false, "normalized": false, "special": true}
	}
	special := func(typeID int) obj { return obj{"SpecialToken": obj{"id": BOS, "type_id": typeID}} }
	seq := func(id string, typeID int) obj { return obj{"Sequence": obj{"id": id, "type_id": typeID}} }
	doc := obj{
		"version":      "1.0",
		"truncation":   nil,
		"padding":      nil,
		"added_tokens": []obj{added(bos, BOS), added(eos, EOS)},
		"normalizer":   nil,
		"pre_tokenizer": obj{"type": "Sequence", "pretokenizers": []obj{
			{"type": "Split", "pattern": obj{"Regex": llama3Split}, "behavior": "Isolated", "invert": false},
			{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
		}},
		"post_processor": obj{"type": "Sequence", "processors": []obj{
			{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
			{"type": "TemplateProcessing",
				"single":         []obj{special(0), seq("A", 0)},
				"pair":           []obj{special(0), seq("A", 0), special(1), seq("B", 1)},
				"special_tokens": obj{BOS: obj{"id": BOS, "ids": []int{bos}, "tokens": []string{BOS}}},
			},
		}},
		"decoder": obj{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
		"model": obj{
			"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil,
			"end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false, "ignore_merges": true,
			"vocab": vocab, "merges": mergeStrings,
		},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("tinymodels: %w", err)
	}
	return buf.Bytes(), nil
}
