package tokenizer

import "fmt"

// postProcessor adds the special tokens of a template around an encoding.
type postProcessor interface {
	// added is the number of ids process adds to a single sequence.
	added() int
	process(ids []int32, addSpecial bool) []int32
}

// byteLevelProcessor only trims offsets in Hugging Face; ids are unchanged.
type byteLevelProcessor struct{}

func (byteLevelProcessor) added() int                          { return 0 }
func (byteLevelProcessor) process(ids []int32, _ bool) []int32 { return ids }

type sequenceProcessor []postProcessor

func (q sequenceProcessor) added() int {
	n := 0
	for _, p := range q {
		n += p.added()
	}
	return n
}

func (q sequenceProcessor) process(ids []int32, addSpecial bool) []int32 {
	for _, p := range q {
		ids = p.process(ids, addSpecial)
	}
	return ids
}

// templatePiece is either the input sequence (ids == nil) or a special token
// with its ids.
type templatePiece struct {
	seq bool
	ids []int32
}

// templateProcessor is TemplateProcessing applied to a single sequence.
type templateProcessor struct {
	single []templatePiece
	nAdded int
	bos    int32 // first special id before the sequence, or -1
}

func (t *templateProcessor) added() int { return t.nAdded }

func (t *templateProcessor) process(ids []int32, addSpecial bool) []int32 {
	out := make([]int32, 0, len(ids)+t.nAdded)
	for _, p := range t.single {
		switch {
		case p.seq:
			out = append(out, ids...)
		case addSpecial:
			out = append(out, p.ids...)
		}
	}
	return out
}

// truncParams is Hugging Face's TruncationParams for a single sequence.
type truncParams struct {
	MaxLength int
	Left      bool // drop tokens from the start instead of the end
	// Stride only matters for Hugging Face's overflowing encodings, which are
	// not produced; as there, it must be below the length kept.
	Stride int
	// OnlySecond reproduces strategy "only_second", which fails on a single
	// sequence; the other strategies behave alike for one sequence.
	OnlySecond bool
}

// truncate cuts ids to fit t, accounting for the ids the post-processor adds
// when addSpecial is set, as TokenizerImpl::post_process does.
func truncate(ids []int32, t *truncParams, nAdded int, addSpecial bool) ([]int32, error) {
	maxLen := t.MaxLength
	if addSpecial && nAdded > 0 {
		maxLen -= nAdded
		if maxLen < 0 {
			return nil, fmt.Errorf("tokenizer: max length %d is below the %d special tokens the post-processor adds", t.MaxLength, nAdded)
		}
	}
	if maxLen == 0 {
		return ids[:0], nil
	}
	if len(ids) <= maxLen {
		return ids, nil
	}
	if t.OnlySecond {
		return nil, fmt.Errorf("tokenizer: truncation strategy only_second needs a second sequence")
	}
	if t.Stride >= maxLen {
		return nil, fmt.Errorf("tokenizer: truncation stride %d is not below the length %d kept", t.Stride, maxLen)
	}
	if t.Left {
		return ids[len(ids)-maxLen:], nil
	}
	return ids[:maxLen], nil
}
