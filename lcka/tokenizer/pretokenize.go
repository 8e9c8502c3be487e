package tokenizer

import (
	"fmt"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites one piece of input text.
type normalizer interface {
	normalize(s string) string
}

type unicodeNormalizer struct{ form norm.Form }

func (n unicodeNormalizer) normalize(s string) string { return n.form.String(s) }

type sequenceNormalizer []normalizer

func (q sequenceNormalizer) normalize(s string) string {
	for _, n := range q {
		s = n.normalize(s)
	}
	return s
}

// preTokenizer splits one piece of normalized text into smaller pieces,
// appending the non-empty ones to dst.
type preTokenizer interface {
	split(s string, dst []string) ([]string, error)
}

type sequencePreTokenizer []preTokenizer

func (q sequencePreTokenizer) split(s string, dst []string) ([]string, error) {
	start := len(dst)
	dst = append(dst, s)
	var tmp []string
	for _, p := range q {
		tmp = tmp[:0]
		for _, piece := range dst[start:] {
			var err error
			if tmp, err = p.split(piece, tmp); err != nil {
				return dst[:start], err
			}
		}
		dst = append(dst[:start], tmp...)
	}
	return dst, nil
}

// splitBehavior is Hugging Face's SplitDelimiterBehavior.
type splitBehavior int

const (
	behaviorRemoved splitBehavior = iota
	behaviorIsolated
	behaviorMergedWithPrevious
	behaviorMergedWithNext
	behaviorContiguous
)

var behaviorNames = map[string]splitBehavior{
	"Removed":            behaviorRemoved,
	"Isolated":           behaviorIsolated,
	"MergedWithPrevious": behaviorMergedWithPrevious,
	"MergedWithNext":     behaviorMergedWithNext,
	"Contiguous":         behaviorContiguous,
}

// splitPreTokenizer is Hugging Face's Split pre-tokenizer.
type splitPreTokenizer struct {
	re       *regex
	behavior splitBehavior
	invert   bool
}

type span struct {
	start, end int
	flag       bool // is a match (find_matches), or is to be removed (after behavior)
}

func (p *splitPreTokenizer) split(s string, dst []string) ([]string, error) {
	// find_matches: cover s with matched and unmatched spans.
	var spans []span
	if s == "" {
		spans = append(spans, span{0, 0, false})
	} else {
		ms, err := p.re.findAll(s, nil)
		if err != nil {
			return dst, err
		}
		prev := 0
		for _, m := range ms {
			if prev != m[0] {
				spans = append(spans, span{prev, m[0], false})
			}
			spans = append(spans, span{m[0], m[1], true})
			prev = m[1]
		}
		if prev != len(s) {
			spans = append(spans, span{prev, len(s), false})
		}
	}
	if p.invert {
		for i := range spans {
			spans[i].flag = !spans[i].flag
		}
	}
	var out []span
	switch p.behavior {
	case behaviorIsolated:
		for _, sp := range spans {
			out = append(out, span{sp.start, sp.end, false})
		}
	case behaviorRemoved:
		out = spans
	case behaviorContiguous:
		prevMatch := false
		for _, sp := range spans {
			if sp.flag == prevMatch && len(out) > 0 {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, span{sp.start, sp.end, false})
			}
			prevMatch = sp.flag
		}
	case behaviorMergedWithPrevious:
		prevMatch := false
		for _, sp := range spans {
			if sp.flag && !prevMatch && len(out) > 0 {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, span{sp.start, sp.end, false})
			}
			prevMatch = sp.flag
		}
	case behaviorMergedWithNext:
		prevMatch := false
		for i := len(spans) - 1; i >= 0; i-- {
			sp := spans[i]
			if sp.flag && !prevMatch && len(out) > 0 {
				out[len(out)-1].start = sp.start
			} else {
				out = append(out, span{sp.start, sp.end, false})
			}
			prevMatch = sp.flag
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	default:
		return dst, fmt.Errorf("tokenizer: unknown split behavior %d", p.behavior)
	}
	for _, sp := range out {
		if !sp.flag && sp.end > sp.start {
			dst = append(dst, s[sp.start:sp.end])
		}
	}
	return dst, nil
}

// gpt2Pattern is the regex of Hugging Face's ByteLevel pre-tokenizer.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

var gpt2Regex = func() *regex {
	re, err := compileRegex(gpt2Pattern)
	if err != nil {
		panic(err) // a constant pattern: covered by the tests
	}
	return re
}()

// byteLevelPreTokenizer is Hugging Face's ByteLevel pre-tokenizer: optional
// prefix space, optional GPT-2 regex split, then the byte-to-rune mapping.
type byteLevelPreTokenizer struct {
	addPrefixSpace bool
	useRegex       bool
}

func (p *byteLevelPreTokenizer) split(s string, dst []string) ([]string, error) {
	if p.addPrefixSpace && (len(s) == 0 || s[0] != ' ') {
		s = " " + s
	}
	if !p.useRegex {
		if s != "" {
			dst = append(dst, byteLevelEncode(s))
		}
		return dst, nil
	}
	ms, err := gpt2Regex.findAll(s, nil)
	if err != nil {
		return dst, err
	}
	prev := 0
	for _, m := range ms {
		if prev < m[0] {
			dst = append(dst, byteLevelEncode(s[prev:m[0]]))
		}
		if m[1] > m[0] {
			dst = append(dst, byteLevelEncode(s[m[0]:m[1]]))
		}
		prev = m[1]
	}
	if prev < len(s) {
		dst = append(dst, byteLevelEncode(s[prev:]))
	}
	return dst, nil
}
