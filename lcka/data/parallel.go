package data

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Parallel is a set of prompts paired across languages: Texts[lang][i] is
// item i (IDs[i]) in language lang, for every language of Langs.
type Parallel struct {
	Name     string              // Where the set came from, e.g. "builtin".
	Langs    []string            // Language codes, e.g. "en", "hi".
	IDs      []string            // Item ids, unique.
	Subjects []string            // Subject of each item; nil when the source has none.
	Texts    map[string][]string // Language → texts, aligned with IDs.
	// Dropped lists, per language, the ids of rows that had no counterpart
	// in every other language and were left out (Global-MMLU-Lite pairing).
	Dropped map[string][]string
}

// Len returns the number of items.
func (p *Parallel) Len() int { return len(p.IDs) }

// Text returns item i in language lang.
func (p *Parallel) Text(lang string, i int) string { return p.Texts[lang][i] }

// Validate checks that the set is well formed: at least one language and
// one item, unique ids, one non-blank, valid UTF-8 text per item and
// language, and subjects (when present) for every item.
func (p *Parallel) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(p.Langs) == 0 {
		bad("no languages")
	}
	if len(p.IDs) == 0 {
		bad("no items")
	}
	seenLang := map[string]bool{}
	for _, l := range p.Langs {
		if !validLang(l) {
			bad("invalid language code %q", l)
		}
		if seenLang[l] {
			bad("language %q given twice", l)
		}
		seenLang[l] = true
		texts, ok := p.Texts[l]
		if !ok {
			bad("no texts for language %q", l)
			continue
		}
		if len(texts) != len(p.IDs) {
			bad("language %q has %d texts for %d ids", l, len(texts), len(p.IDs))
			continue
		}
		for i, t := range texts {
			if err := checkText(t); err != nil {
				bad("item %d (id %q), language %q: %v", i, p.IDs[i], l, err)
				if len(errs) > 20 {
					break
				}
			}
		}
	}
	if p.Subjects != nil && len(p.Subjects) != len(p.IDs) {
		bad("%d subjects for %d ids", len(p.Subjects), len(p.IDs))
	}
	seen := make(map[string]int, len(p.IDs))
	for i, id := range p.IDs {
		if id == "" {
			bad("item %d has an empty id", i)
		}
		if j, dup := seen[id]; dup {
			bad("id %q used by items %d and %d", id, j, i)
		}
		seen[id] = i
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("data: prompt set %s: %w", p.Name, errors.Join(errs...))
}

func checkText(t string) error {
	switch {
	case !utf8.ValidString(t):
		return errors.New("text is not valid UTF-8")
	case strings.TrimSpace(t) == "":
		return errors.New("empty text")
	}
	return nil
}

// validLang accepts codes such as "en", "hi", "pt-BR", "zh_Hans".
func validLang(l string) bool {
	if l == "" || len(l) > 32 {
		return false
	}
	for _, r := range l {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Head returns the first n items (all when n is 0 or at least Len). The
// result shares no slices with p.
func (p *Parallel) Head(n int) *Parallel {
	if n <= 0 || n > p.Len() {
		n = p.Len()
	}
	q := &Parallel{Name: p.Name, Langs: append([]string(nil), p.Langs...), IDs: append([]string(nil), p.IDs[:n]...),
		Texts: make(map[string][]string, len(p.Langs)), Dropped: p.Dropped}
	if p.Subjects != nil {
		q.Subjects = append([]string(nil), p.Subjects[:n]...)
	}
	for _, l := range p.Langs {
		q.Texts[l] = append([]string(nil), p.Texts[l][:n]...)
	}
	return q
}

// Select returns the set restricted to the given languages, in that order.
func (p *Parallel) Select(langs []string) (*Parallel, error) {
	if len(langs) == 0 {
		return nil, errors.New("data: no languages selected")
	}
	q := p.Head(0)
	q.Langs = append([]string(nil), langs...)
	q.Texts = make(map[string][]string, len(langs))
	for _, l := range langs {
		t, ok := p.Texts[l]
		if !ok {
			return nil, fmt.Errorf("data: prompt set %s has no language %q (it has %s)", p.Name, l, strings.Join(p.Langs, ", "))
		}
		q.Texts[l] = append([]string(nil), t...)
	}
	return q, q.Validate()
}
