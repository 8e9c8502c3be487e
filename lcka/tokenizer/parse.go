package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The JSON shapes of a Hugging Face tokenizer.json (format version 1.0).

type fileJSON struct {
	Version       *string         `json:"version"`
	Truncation    json.RawMessage `json:"truncation"`
	Padding       json.RawMessage `json:"padding"`
	AddedTokens   []addedJSON     `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         json.RawMessage `json:"model"`
}

type addedJSON struct {
	ID         *int64  `json:"id"`
	Content    *string `json:"content"`
	SingleWord *bool   `json:"single_word"`
	LStrip     *bool   `json:"lstrip"`
	RStrip     *bool   `json:"rstrip"`
	Normalized *bool   `json:"normalized"`
	Special    *bool   `json:"special"`
}

type typed struct {
	Type string `json:"type"`
}

type modelJSON struct {
	Type                    *string  `json:"type"`
	Dropout                 *float64 `json:"dropout"`
	UnkToken                *string  `json:"unk_token"`
	ContinuingSubwordPrefix *string  `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string  `json:"end_of_word_suffix"`
	FuseUnk                 *bool    `json:"fuse_unk"`
	ByteFallback            *bool    `json:"byte_fallback"`
	IgnoreMerges            *bool    `json:"ignore_merges"`
}

func isNull(m json.RawMessage) bool {
	return len(bytes.TrimSpace(m)) == 0 || string(bytes.TrimSpace(m)) == "null"
}

func typeOf(m json.RawMessage) (string, error) {
	var t typed
	if err := json.Unmarshal(m, &t); err != nil {
		return "", err
	}
	if t.Type == "" {
		return "", errors.New(`missing "type"`)
	}
	return t.Type, nil
}

// Parse builds a tokenizer from the contents of a tokenizer.json file.
func Parse(data []byte) (*Tokenizer, error) {
	f, err := splitFile(data)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if f.Version != nil && *f.Version != "1.0" {
		return nil, fmt.Errorf("tokenizer: unknown tokenizer version %q", *f.Version)
	}
	if isNull(f.Model) {
		return nil, errors.New("tokenizer: missing model")
	}
	if !isNull(f.Padding) {
		return nil, fmt.Errorf("tokenizer: padding: %w", ErrUnsupported)
	}
	t := &Tokenizer{}
	if t.model, err = parseModel(f.Model); err != nil {
		return nil, fmt.Errorf("tokenizer: model: %w", err)
	}
	if t.normalizer, err = parseNormalizer(f.Normalizer, 0); err != nil {
		return nil, fmt.Errorf("tokenizer: normalizer: %w", err)
	}
	if t.pre, err = parsePreTokenizer(f.PreTokenizer, 0); err != nil {
		return nil, fmt.Errorf("tokenizer: pre_tokenizer: %w", err)
	}
	if t.post, err = parsePostProcessor(f.PostProcessor, 0); err != nil {
		return nil, fmt.Errorf("tokenizer: post_processor: %w", err)
	}
	if t.byteLevelDecoder, err = parseDecoder(f.Decoder); err != nil {
		return nil, fmt.Errorf("tokenizer: decoder: %w", err)
	}
	if t.trunc, err = parseTruncation(f.Truncation); err != nil {
		return nil, fmt.Errorf("tokenizer: truncation: %w", err)
	}
	tokens := make([]AddedToken, 0, len(f.AddedTokens))
	for i, a := range f.AddedTokens {
		if a.ID == nil || a.Content == nil || a.SingleWord == nil || a.LStrip == nil ||
			a.RStrip == nil || a.Normalized == nil || a.Special == nil {
			return nil, fmt.Errorf("tokenizer: added_tokens[%d]: missing field", i)
		}
		if *a.ID < 0 || *a.ID > math.MaxUint32 {
			return nil, fmt.Errorf("tokenizer: added_tokens[%d]: id %d out of range", i, *a.ID)
		}
		tokens = append(tokens, AddedToken{
			ID: int(*a.ID), Content: *a.Content, SingleWord: *a.SingleWord, LStrip: *a.LStrip,
			RStrip: *a.RStrip, Normalized: *a.Normalized, Special: *a.Special,
		})
	}
	t.added = buildAddedVocab(tokens, t.model, t.normalizer)
	if len(t.added.byID) > 0 && int64(len(t.model.vocab))+int64(len(t.added.byID)) > math.MaxInt32 {
		return nil, errors.New("tokenizer: vocabulary too large")
	}
	for id := range t.added.byID {
		if id < 0 {
			return nil, errors.New("tokenizer: added token ids overflow")
		}
	}
	return t, nil
}

// splitFile reads the top level of tokenizer.json, keeping the model's raw
// bytes for parseModel and decoding the other (small) fields.
func splitFile(data []byte) (*fileJSON, error) {
	r := &jreader{b: data}
	fields, err := r.rawFields()
	if err != nil {
		return nil, err
	}
	if r.peek() != 0 {
		return nil, errTrailing
	}
	f := &fileJSON{Model: fields["model"]}
	delete(fields, "model")
	raw := make(map[string]json.RawMessage, len(fields))
	for k, v := range fields {
		raw[k] = v
	}
	small, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(small, f); err != nil {
		return nil, err
	}
	return f, nil
}

func parseModel(m json.RawMessage) (*bpeModel, error) {
	var mj modelJSON
	var vocab map[string]int32
	var pairs [][2]string
	r := &jreader{b: m}
	if r.peek() != '{' {
		return nil, errors.New("model must be an object")
	}
	fields := map[string]json.RawMessage{}
	err := r.object(func(key string) error {
		switch key {
		case "vocab":
			if r.peek() == 'n' {
				vocab = nil
				return r.skip(0)
			}
			var err error
			vocab, err = readVocab(r)
			return err
		case "merges":
			if r.peek() == 'n' {
				pairs = nil
				return r.skip(0)
			}
			var err error
			pairs, err = readMerges(r)
			return err
		}
		r.ws()
		start := r.i
		if err := r.skip(0); err != nil {
			return err
		}
		fields[key] = r.b[start:r.i]
		return nil
	})
	if err != nil {
		return nil, err
	}
	small, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(small, &mj); err != nil {
		return nil, err
	}
	if mj.Type != nil && *mj.Type != "BPE" {
		return nil, fmt.Errorf("model type %q: %w", *mj.Type, ErrUnsupported)
	}
	if mj.Dropout != nil && *mj.Dropout != 0 {
		if *mj.Dropout < 0 || *mj.Dropout > 1 {
			return nil, errors.New("dropout must be in [0, 1]")
		}
		return nil, fmt.Errorf("BPE dropout: %w", ErrUnsupported)
	}
	if mj.ByteFallback != nil && *mj.ByteFallback {
		return nil, fmt.Errorf("BPE byte_fallback: %w", ErrUnsupported)
	}
	if vocab == nil || pairs == nil {
		return nil, errors.New("missing vocab/merges")
	}
	b := &bpeModel{
		vocab:  vocab,
		vocabR: make(map[int32]string, len(vocab)),
		cache:  newWordCache(),
	}
	for tok, id := range vocab {
		if prev, dup := b.vocabR[id]; dup {
			if prev > tok {
				prev, tok = tok, prev
			}
			return nil, fmt.Errorf("vocab id %d used by both %q and %q", id, prev, tok)
		}
		b.vocabR[id] = tok
	}
	if mj.UnkToken != nil {
		b.unkToken, b.hasUnk = *mj.UnkToken, true
	}
	if mj.ContinuingSubwordPrefix != nil {
		b.prefix, b.hasPrefix = *mj.ContinuingSubwordPrefix, true
	}
	if mj.EndOfWordSuffix != nil {
		b.suffix, b.hasSuffix = *mj.EndOfWordSuffix, true
	}
	b.fuseUnk = mj.FuseUnk != nil && *mj.FuseUnk
	b.ignoreMerges = mj.IgnoreMerges != nil && *mj.IgnoreMerges

	b.merges = make(map[uint64]uint64, len(pairs))
	var buf []byte
	for rank, p := range pairs {
		a, ok := b.vocab[p[0]]
		if !ok {
			return nil, fmt.Errorf("merge token %q is not in the vocabulary", p[0])
		}
		c, ok := b.vocab[p[1]]
		if !ok {
			return nil, fmt.Errorf("merge token %q is not in the vocabulary", p[1])
		}
		right := p[1]
		if b.hasPrefix {
			if !strings.HasPrefix(right, b.prefix) {
				return nil, fmt.Errorf("merge token %q lacks the continuing-subword prefix %q", right, b.prefix)
			}
			right = right[len(b.prefix):]
		}
		buf = append(append(buf[:0], p[0]...), right...)
		newID, ok := b.vocab[string(buf)]
		if !ok {
			return nil, fmt.Errorf("merge token %q is not in the vocabulary", buf)
		}
		if rank > math.MaxUint32 {
			return nil, errors.New("too many merges")
		}
		b.merges[pairKey(a, c)] = uint64(rank)<<32 | uint64(uint32(newID))
	}
	return b, nil
}

// readVocab reads the {"token": id, ...} object.
func readVocab(r *jreader) (map[string]int32, error) {
	vocab := make(map[string]int32)
	err := r.object(func(tok string) error {
		id, err := r.integer(0, math.MaxInt32)
		if err != nil {
			return fmt.Errorf("vocab %q: %w", tok, err)
		}
		vocab[tok] = int32(id)
		return nil
	})
	return vocab, err
}

// readMerges reads merges given as ["a b", ...] (legacy, with "#version"
// lines skipped) or as [["a", "b"], ...]; the first element decides.
func readMerges(r *jreader) ([][2]string, error) {
	var out [][2]string
	legacy, first := false, true
	err := r.array(func() error {
		if first {
			legacy, first = r.peek() == '"', false
		}
		if legacy {
			l, err := r.str()
			if err != nil {
				return err
			}
			if strings.HasPrefix(l, "#version") {
				return nil
			}
			a, b, ok := strings.Cut(l, " ")
			if !ok || strings.Contains(b, " ") {
				return fmt.Errorf("merges: line %d (%q) is not two space-separated tokens", len(out)+1, l)
			}
			out = append(out, [2]string{a, b})
			return nil
		}
		var pair [2]string
		n := 0
		err := r.array(func() error {
			if n >= 2 {
				return errors.New("merges: a pair has more than 2 strings")
			}
			s, err := r.str()
			pair[n] = s
			n++
			return err
		})
		if err != nil {
			return err
		}
		if n != 2 {
			return errors.New("merges: a pair has fewer than 2 strings")
		}
		out = append(out, pair)
		return nil
	})
	return out, err
}

func parseNormalizer(m json.RawMessage, depth int) (normalizer, error) {
	if isNull(m) {
		return nil, nil
	}
	if depth > maxNesting {
		return nil, errors.New("nesting too deep")
	}
	typ, err := typeOf(m)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "NFC":
		return unicodeNormalizer{norm.NFC}, nil
	case "NFD":
		return unicodeNormalizer{norm.NFD}, nil
	case "NFKC":
		return unicodeNormalizer{norm.NFKC}, nil
	case "NFKD":
		return unicodeNormalizer{norm.NFKD}, nil
	case "Sequence":
		q, err := parseSequence(m, "normalizers", "normalizer", depth, parseNormalizer)
		return sequenceNormalizer(q), err
	}
	return nil, fmt.Errorf("normalizer type %q: %w", typ, ErrUnsupported)
}

// parseSequence parses the components listed under key in a "Sequence"
// component, each with parse at the next depth; a missing list or a null
// component (what names its kind) is an error.
func parseSequence[T comparable](m json.RawMessage, key, what string, depth int, parse func(json.RawMessage, int) (T, error)) ([]T, error) {
	var s map[string]json.RawMessage
	if err := json.Unmarshal(m, &s); err != nil {
		return nil, err
	}
	var subs []json.RawMessage
	if raw, ok := s[key]; ok {
		if err := json.Unmarshal(raw, &subs); err != nil {
			return nil, err
		}
	}
	if subs == nil {
		return nil, fmt.Errorf("Sequence: missing %q", key)
	}
	var zero T
	out := make([]T, 0, len(subs))
	for _, sub := range subs {
		c, err := parse(sub, depth+1)
		if err != nil {
			return nil, err
		}
		if c == zero {
			return nil, fmt.Errorf("Sequence: null %s", what)
		}
		out = append(out, c)
	}
	return out, nil
}

func parsePreTokenizer(m json.RawMessage, depth int) (preTokenizer, error) {
	if isNull(m) {
		return nil, nil
	}
	if depth > maxNesting {
		return nil, errors.New("nesting too deep")
	}
	typ, err := typeOf(m)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "Split":
		var s struct {
			Pattern  map[string]*string `json:"pattern"`
			Behavior *string            `json:"behavior"`
			Invert   *bool              `json:"invert"`
		}
		if err := json.Unmarshal(m, &s); err != nil {
			return nil, err
		}
		if s.Behavior == nil || s.Invert == nil || len(s.Pattern) != 1 {
			return nil, errors.New("Split: needs one pattern, behavior and invert")
		}
		behavior, ok := behaviorNames[*s.Behavior]
		if !ok {
			return nil, fmt.Errorf("Split: unknown behavior %q", *s.Behavior)
		}
		p := &splitPreTokenizer{behavior: behavior, invert: *s.Invert}
		switch {
		case s.Pattern["Regex"] != nil:
			p.re, err = compileRegex(*s.Pattern["Regex"])
		case s.Pattern["String"] != nil:
			p.re, err = compileLiteral(*s.Pattern["String"])
		default:
			err = errors.New(`Split: pattern must be {"Regex": ...} or {"String": ...}`)
		}
		if err != nil {
			return nil, err
		}
		return p, nil
	case "ByteLevel":
		s := struct {
			AddPrefixSpace *bool `json:"add_prefix_space"`
			UseRegex       *bool `json:"use_regex"`
		}{}
		if err := json.Unmarshal(m, &s); err != nil {
			return nil, err
		}
		p := &byteLevelPreTokenizer{addPrefixSpace: true, useRegex: true}
		if s.AddPrefixSpace != nil {
			p.addPrefixSpace = *s.AddPrefixSpace
		}
		if s.UseRegex != nil {
			p.useRegex = *s.UseRegex
		}
		return p, nil
	case "Sequence":
		q, err := parseSequence(m, "pretokenizers", "pre-tokenizer", depth, parsePreTokenizer)
		return sequencePreTokenizer(q), err
	}
	return nil, fmt.Errorf("pre-tokenizer type %q: %w", typ, ErrUnsupported)
}

// templateJSON is TemplateProcessing before its special tokens are resolved.
type templateJSON struct {
	Single []map[string]struct {
		ID     *string `json:"id"`
		TypeID *int64  `json:"type_id"`
	} `json:"single"`
	SpecialTokens map[string]struct {
		ID     string   `json:"id"`
		IDs    []int64  `json:"ids"`
		Tokens []string `json:"tokens"`
	} `json:"special_tokens"`
}

func parsePostProcessor(m json.RawMessage, depth int) (postProcessor, error) {
	if isNull(m) {
		return nil, nil
	}
	if depth > maxNesting {
		return nil, errors.New("nesting too deep")
	}
	typ, err := typeOf(m)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "ByteLevel":
		return byteLevelProcessor{}, nil
	case "Sequence":
		q, err := parseSequence(m, "processors", "post-processor", depth, parsePostProcessor)
		return sequenceProcessor(q), err
	case "TemplateProcessing":
		var tj templateJSON
		if err := json.Unmarshal(m, &tj); err != nil {
			return nil, err
		}
		if tj.Single == nil {
			return nil, errors.New(`TemplateProcessing: missing "single"`)
		}
		tp := &templateProcessor{bos: -1}
		seen := false
		for i, pc := range tj.Single {
			if len(pc) != 1 {
				return nil, fmt.Errorf("TemplateProcessing: single[%d]: want one of Sequence or SpecialToken", i)
			}
			for kind, v := range pc {
				if v.ID == nil {
					return nil, fmt.Errorf("TemplateProcessing: single[%d]: missing id", i)
				}
				switch kind {
				case "Sequence":
					if *v.ID != "A" {
						return nil, fmt.Errorf("TemplateProcessing: single template uses sequence %q", *v.ID)
					}
					tp.single = append(tp.single, templatePiece{seq: true})
					seen = true
				case "SpecialToken":
					st, ok := tj.SpecialTokens[*v.ID]
					if !ok {
						return nil, fmt.Errorf("TemplateProcessing: missing special token %q", *v.ID)
					}
					if len(st.IDs) != len(st.Tokens) {
						return nil, fmt.Errorf("TemplateProcessing: special token %q: ids and tokens differ in length", *v.ID)
					}
					ids := make([]int32, len(st.IDs))
					for j, id := range st.IDs {
						if id < 0 || id > math.MaxInt32 {
							return nil, fmt.Errorf("TemplateProcessing: special token %q: id %d out of range", *v.ID, id)
						}
						ids[j] = int32(id)
					}
					if !seen && tp.bos < 0 && len(ids) > 0 {
						tp.bos = ids[0]
					}
					tp.single = append(tp.single, templatePiece{ids: ids})
					tp.nAdded += len(ids)
				default:
					return nil, fmt.Errorf("TemplateProcessing: single[%d]: unknown piece %q", i, kind)
				}
			}
		}
		return tp, nil
	}
	return nil, fmt.Errorf("post-processor type %q: %w", typ, ErrUnsupported)
}

// parseDecoder reports whether the decoder is ByteLevel (true) or absent.
func parseDecoder(m json.RawMessage) (bool, error) {
	if isNull(m) {
		return false, nil
	}
	typ, err := typeOf(m)
	if err != nil {
		return false, err
	}
	if typ != "ByteLevel" {
		return false, fmt.Errorf("decoder type %q: %w", typ, ErrUnsupported)
	}
	return true, nil
}

func parseTruncation(m json.RawMessage) (*truncParams, error) {
	if isNull(m) {
		return nil, nil
	}
	var tj struct {
		Direction *string `json:"direction"`
		MaxLength *int64  `json:"max_length"`
		Strategy  *string `json:"strategy"`
		Stride    *int64  `json:"stride"`
	}
	if err := json.Unmarshal(m, &tj); err != nil {
		return nil, err
	}
	if tj.MaxLength == nil || tj.Strategy == nil || tj.Stride == nil {
		return nil, errors.New("needs max_length, strategy and stride")
	}
	if *tj.MaxLength < 0 || *tj.MaxLength > math.MaxInt32 || *tj.Stride < 0 {
		return nil, errors.New("max_length or stride out of range")
	}
	if *tj.Stride > math.MaxInt32 {
		return nil, errors.New("stride out of range")
	}
	t := &truncParams{MaxLength: int(*tj.MaxLength), Stride: int(*tj.Stride)}
	if tj.Direction != nil {
		switch *tj.Direction {
		case "Left":
			t.Left = true
		case "Right":
		default:
			return nil, fmt.Errorf("unknown direction %q", *tj.Direction)
		}
	}
	switch *tj.Strategy {
	case "LongestFirst", "OnlyFirst":
	case "OnlySecond":
		t.OnlySecond = true
	default:
		return nil, fmt.Errorf("unknown strategy %q", *tj.Strategy)
	}
	return t, nil
}

// compileLiteral compiles a Split String pattern, matched literally.
func compileLiteral(s string) (*regex, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("tokenizer: split string %q: invalid UTF-8", s)
	}
	c := &compiler{}
	for _, r := range s {
		c.emit(inst{op: opRune, set: newSet([]rune{r, r}, nil, false, false)})
	}
	c.emit(inst{op: opMatch})
	if c.err != nil {
		return nil, c.err
	}
	return &regex{pattern: s, prog: c.prog}, nil
}
