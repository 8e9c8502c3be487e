package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// AddedToken is an entry of tokenizer.json's added_tokens, with the id Hugging
// Face tokenizers assigns to it (the id written in the file is only a hint).
type AddedToken struct {
	ID         int
	Content    string
	Special    bool // skipped by DecodeSkipSpecial
	SingleWord bool // matches only when not inside a word
	LStrip     bool // absorbs the whitespace on its left
	RStrip     bool // absorbs the whitespace on its right
	Normalized bool // matched against the normalized text instead of the raw text
}

// addedVocab reproduces Hugging Face's AddedVocabulary: added tokens are split
// off the raw text (normalized=false) or off the normalized text
// (normalized=true) before pre-tokenization, leftmost-longest first.
type addedVocab struct {
	byContent map[string]int32
	byID      map[int32]AddedToken
	special   map[string]bool
	order     []AddedToken // special tokens first, then the others, as matched
	raw, norm *literalMatcher
}

// buildAddedVocab mirrors AddedVocabulary::add_tokens followed by
// refresh_added_tokens for the list of tokens of a tokenizer.json.
func buildAddedVocab(tokens []AddedToken, model *bpeModel, nz normalizer) *addedVocab {
	v := &addedVocab{
		byContent: map[string]int32{},
		byID:      map[int32]AddedToken{},
		special:   map[string]bool{},
	}
	var specials, classic []AddedToken
	for _, t := range tokens {
		if t.Special && t.Content != "" && !v.special[t.Content] {
			specials = append(specials, t)
			v.special[t.Content] = true
		}
	}
	tokenToID := func(s string) (int32, bool) {
		if id, ok := v.byContent[s]; ok {
			return id, true
		}
		id, ok := model.vocab[s]
		return id, ok
	}
	modelSize := int64(len(model.vocab))
	nextID := modelSize
	existing := map[AddedToken]bool{}
	for _, t := range tokens {
		key := t
		key.ID = 0
		if t.Content == "" || existing[key] {
			continue
		}
		id, ok := tokenToID(t.Content)
		if !ok {
			id = int32(nextID)
			nextID++
		}
		v.byContent[t.Content] = id
		t.ID = int(id)
		v.byID[id] = t
		if !v.special[t.Content] {
			classic = append(classic, t)
		}
		existing[key] = true
	}
	var rawPats, normPats []string
	var rawIDs, normIDs []int32
	for _, t := range append(specials, classic...) {
		id, _ := tokenToID(t.Content)
		if t.Normalized {
			pat := t.Content
			if nz != nil {
				pat = nz.normalize(pat)
			}
			normPats, normIDs = append(normPats, pat), append(normIDs, id)
		} else {
			rawPats, rawIDs = append(rawPats, t.Content), append(rawIDs, id)
		}
	}
	for _, t := range append(specials, classic...) {
		id, _ := tokenToID(t.Content)
		t.ID = int(id)
		v.order = append(v.order, t)
	}
	v.raw = newLiteralMatcher(rawPats, rawIDs)
	v.norm = newLiteralMatcher(normPats, normIDs)
	return v
}

// piece is a part of the input: text to pre-tokenize, or an added token.
type piece struct {
	text  string
	id    int32
	added bool
}

// extract splits text on added tokens (raw ones first), normalizing the
// remaining text with nz, and appends the non-empty pieces to dst.
func (v *addedVocab) extract(text string, nz normalizer, dst []piece) []piece {
	var first []piece
	first = v.findMatches(text, v.raw, first)
	for _, p := range first {
		if p.added {
			dst = append(dst, p)
			continue
		}
		s := p.text
		if nz != nil {
			s = nz.normalize(s)
		}
		dst = v.findMatches(s, v.norm, dst)
	}
	return dst
}

// findMatches is AddedVocabulary::find_matches followed by the removal of
// empty splits.
func (v *addedVocab) findMatches(s string, m *literalMatcher, dst []piece) []piece {
	if s == "" {
		return dst
	}
	startOffset := 0
	for pos := 0; ; {
		start, stop, id, ok := m.next(s, pos)
		if !ok {
			break
		}
		pos = stop
		tok := v.byID[id]
		if tok.SingleWord {
			startSpace := start == 0 || !endsWithWord(s[:start])
			stopSpace := stop == len(s) || !startsWithWord(s[stop:])
			if !startSpace || !stopSpace {
				continue
			}
		}
		if tok.LStrip {
			start = max(trailingSpaceStart(s[:start]), startOffset)
		}
		if tok.RStrip {
			stop += leadingSpaceLen(s[stop:])
		}
		if startOffset < start {
			dst = append(dst, piece{text: s[startOffset:start]})
		}
		if stop > start {
			dst = append(dst, piece{text: s[start:stop], id: id, added: true})
		}
		startOffset = stop
	}
	if startOffset != len(s) {
		dst = append(dst, piece{text: s[startOffset:]})
	}
	return dst
}

// isWordRune is \w of Rust's regex crate: Alphabetic, M, Nd, Pc, Join_Control.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r) ||
		unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r) ||
		unicode.Is(unicode.Join_Control, r)
}

func endsWithWord(s string) bool {
	r, size := utf8.DecodeLastRuneInString(s)
	return size > 0 && isWordRune(r)
}

func startsWithWord(s string) bool {
	r, size := utf8.DecodeRuneInString(s)
	return size > 0 && isWordRune(r)
}

func isWhite(r rune) bool { return unicode.Is(unicode.White_Space, r) }

// trailingSpaceStart is the start of the whitespace run that ends s.
func trailingSpaceStart(s string) int {
	i := len(s)
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if !isWhite(r) {
			break
		}
		i -= size
	}
	return i
}

// leadingSpaceLen is the byte length of the whitespace run that starts s.
func leadingSpaceLen(s string) int {
	for i, r := range s {
		if !isWhite(r) {
			return i
		}
	}
	return len(s)
}

// literalMatcher finds leftmost-longest occurrences of a set of strings, like
// aho-corasick's MatchKind::LeftmostLongest (earlier patterns win ties).
type literalMatcher struct {
	nodes []trieNode
	first [256]bool
}

type trieNode struct {
	next  map[byte]int32
	id    int32
	final bool
}

func newLiteralMatcher(pats []string, ids []int32) *literalMatcher {
	m := &literalMatcher{nodes: []trieNode{{}}}
	for i, p := range pats {
		if p == "" {
			continue
		}
		m.first[p[0]] = true
		n := int32(0)
		for j := 0; j < len(p); j++ {
			nx, ok := m.nodes[n].next[p[j]]
			if !ok {
				if m.nodes[n].next == nil {
					m.nodes[n].next = map[byte]int32{}
				}
				nx = int32(len(m.nodes))
				m.nodes[n].next[p[j]] = nx
				m.nodes = append(m.nodes, trieNode{})
			}
			n = nx
		}
		if !m.nodes[n].final {
			m.nodes[n].final, m.nodes[n].id = true, ids[i]
		}
	}
	return m
}

// next returns the leftmost-longest match starting at or after from.
func (m *literalMatcher) next(s string, from int) (start, end int, id int32, ok bool) {
	if len(m.nodes) == 1 {
		return 0, 0, 0, false
	}
	for i := from; i < len(s); i++ {
		if !m.first[s[i]] {
			continue
		}
		n, best := int32(0), -1
		var bestID int32
		for j := i; j < len(s); j++ {
			nx, ok := m.nodes[n].next[s[j]]
			if !ok {
				break
			}
			n = nx
			if m.nodes[n].final {
				best, bestID = j+1, m.nodes[n].id
			}
		}
		if best >= 0 {
			return i, best, bestID, true
		}
	}
	return 0, 0, 0, false
}
