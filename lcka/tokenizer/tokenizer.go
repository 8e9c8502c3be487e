package tokenizer

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"
)

// Tokenizer encodes text to token ids and back, as Hugging Face tokenizers
// does for the tokenizer.json it was parsed from. It is safe for concurrent
// use.
type Tokenizer struct {
	model            *bpeModel
	added            *addedVocab
	normalizer       normalizer
	pre              preTokenizer
	post             postProcessor
	byteLevelDecoder bool
	trunc            *truncParams // from tokenizer.json, or nil
}

// Load reads and parses a tokenizer.json file.
func Load(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return t, nil
}

// Encode returns the token ids of text. With addSpecial the post-processor's
// special tokens (such as Llama-3.1's <|begin_of_text|>) are added; special
// token strings inside text are always recognized. A truncation declared in
// tokenizer.json is applied. Invalid UTF-8 in text is first replaced by U+FFFD
// as Rust's String::from_utf8_lossy does.
func (t *Tokenizer) Encode(text string, addSpecial bool) ([]int, error) {
	return t.encode(text, addSpecial, t.trunc)
}

// EncodeTruncated is Encode with Hugging Face truncation to maxLength ids
// (strategy longest_first, direction right, stride 0): the text's ids are cut
// so that, with the special tokens added by the post-processor when
// addSpecial is set, at most maxLength ids remain.
func (t *Tokenizer) EncodeTruncated(text string, addSpecial bool, maxLength int) ([]int, error) {
	if maxLength < 0 {
		return nil, fmt.Errorf("tokenizer: negative max length %d", maxLength)
	}
	return t.encode(text, addSpecial, &truncParams{MaxLength: maxLength})
}

// EncodeBatch encodes texts in parallel; see Encode.
func (t *Tokenizer) EncodeBatch(texts []string, addSpecial bool) ([][]int, error) {
	return t.encodeBatch(texts, addSpecial, t.trunc)
}

// EncodeBatchTruncated encodes texts in parallel; see EncodeTruncated.
func (t *Tokenizer) EncodeBatchTruncated(texts []string, addSpecial bool, maxLength int) ([][]int, error) {
	if maxLength < 0 {
		return nil, fmt.Errorf("tokenizer: negative max length %d", maxLength)
	}
	return t.encodeBatch(texts, addSpecial, &truncParams{MaxLength: maxLength})
}

func (t *Tokenizer) encodeBatch(texts []string, addSpecial bool, tr *truncParams) ([][]int, error) {
	out := make([][]int, len(texts))
	errs := make([]error, len(texts))
	workers := min(runtime.GOMAXPROCS(0), len(texts))
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				k := i
				i++
				next.Unlock()
				if k >= len(texts) {
					return
				}
				out[k], errs[k] = t.encode(texts[k], addSpecial, tr)
			}
		}()
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("tokenizer: text %d: %w", k, err)
		}
	}
	return out, nil
}

func (t *Tokenizer) encode(text string, addSpecial bool, tr *truncParams) ([]int, error) {
	if !utf8.ValidString(text) {
		text = toValidUTF8([]byte(text))
	}
	pieces := t.added.extract(text, t.normalizer, nil)
	ids := make([]int32, 0, len(text)/3+4)
	var words []string
	var err error
	for _, p := range pieces {
		if p.added {
			ids = append(ids, p.id)
			continue
		}
		words = words[:0]
		if t.pre != nil {
			if words, err = t.pre.split(p.text, words); err != nil {
				return nil, err
			}
		} else {
			words = append(words, p.text)
		}
		for _, w := range words {
			if ids, err = t.model.tokenize(w, ids); err != nil {
				return nil, err
			}
		}
	}
	if tr != nil {
		if ids, err = truncate(ids, tr, t.SpecialTokensAdded(), addSpecial); err != nil {
			return nil, err
		}
	}
	if t.post != nil {
		ids = t.post.process(ids, addSpecial)
	}
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out, nil
}

// SpecialTokensAdded is the number of ids the post-processor adds to a single
// sequence when addSpecial is set (1 for Llama-3.1, 0 for Qwen3).
func (t *Tokenizer) SpecialTokensAdded() int {
	if t.post == nil {
		return 0
	}
	return t.post.added()
}

// Decode returns the text of ids, special tokens included, as Hugging Face's
// decode(ids, skip_special_tokens=false). Bytes that do not form valid UTF-8
// become U+FFFD. Unlike Hugging Face, which drops them silently, unknown ids
// are an error.
func (t *Tokenizer) Decode(ids []int) (string, error) {
	return t.decode(ids, false)
}

// DecodeSkipSpecial is Decode without the special tokens, as Hugging Face's
// decode(ids, skip_special_tokens=true).
func (t *Tokenizer) DecodeSkipSpecial(ids []int) (string, error) {
	return t.decode(ids, true)
}

func (t *Tokenizer) decode(ids []int, skipSpecial bool) (string, error) {
	toks := make([]string, 0, len(ids))
	for i, id := range ids {
		tok, ok := t.Token(id)
		if !ok {
			return "", fmt.Errorf("tokenizer: id %d at position %d is not in the vocabulary", id, i)
		}
		if skipSpecial && t.added.special[tok] {
			continue
		}
		toks = append(toks, tok)
	}
	if !t.byteLevelDecoder {
		return strings.Join(toks, " "), nil
	}
	var buf []byte
	for _, tok := range toks {
		buf = byteLevelDecode(buf, tok)
	}
	return toValidUTF8(buf), nil
}

// TokenID returns the id of a token string (an added token or a vocabulary
// entry, in byte-level form for byte-level models: "Ġthe" for " the").
func (t *Tokenizer) TokenID(tok string) (int, bool) {
	if id, ok := t.added.byContent[tok]; ok {
		return int(id), true
	}
	id, ok := t.model.vocab[tok]
	return int(id), ok
}

// Token returns the token string of an id.
func (t *Tokenizer) Token(id int) (string, bool) {
	if id < 0 || id > 1<<31-1 {
		return "", false
	}
	if a, ok := t.added.byID[int32(id)]; ok {
		return a.Content, true
	}
	tok, ok := t.model.vocabR[int32(id)]
	return tok, ok
}

// VocabSize is the number of distinct token strings, added tokens included
// (Hugging Face's get_vocab_size(true)): 128256 for Llama-3.
func (t *Tokenizer) VocabSize() int {
	n := len(t.model.vocab)
	for c := range t.added.byContent {
		if _, ok := t.model.vocab[c]; !ok {
			n++
		}
	}
	return n
}

// AddedTokens returns the added tokens, special ones first.
func (t *Tokenizer) AddedTokens() []AddedToken {
	return append([]AddedToken(nil), t.added.order...)
}

// BOS returns the first special token that the post-processor's template puts
// before the sequence, if any (<|begin_of_text|> for Llama-3.1).
func (t *Tokenizer) BOS() (int, bool) {
	var find func(p postProcessor) (int, bool)
	find = func(p postProcessor) (int, bool) {
		switch p := p.(type) {
		case *templateProcessor:
			if p.bos >= 0 {
				return int(p.bos), true
			}
		case sequenceProcessor:
			for _, q := range p {
				if id, ok := find(q); ok {
					return id, true
				}
			}
		}
		return 0, false
	}
	return find(t.post)
}
