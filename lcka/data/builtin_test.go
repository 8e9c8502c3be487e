package data

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// scriptShare returns the share of Devanagari among the letters and marks
// of s that are Devanagari or Latin.
func scriptShare(s string) (deva, latin int) {
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Devanagari, r):
			deva++
		case unicode.Is(unicode.Latin, r):
			latin++
		}
	}
	return
}

var digitRun = regexp.MustCompile(`[0-9][0-9,.]*[0-9]|[0-9]`)

func TestBuiltin(t *testing.T) {
	p := Builtin()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Name != "builtin" || !slices.Equal(p.Langs, []string{"en", "hi"}) {
		t.Errorf("name %q, langs %v", p.Name, p.Langs)
	}
	if p.Len() < 120 {
		t.Errorf("%d pairs, want at least 120", p.Len())
	}
	subjects := map[string]int{}
	for _, s := range p.Subjects {
		subjects[s]++
	}
	for _, s := range []string{"science", "history", "geography", "math", "literature", "everyday", "health", "law", "economics", "technology", "culture"} {
		if subjects[s] < 8 {
			t.Errorf("subject %s has %d pairs, want at least 8", s, subjects[s])
		}
	}
	var short, long, newlines, numbers int
	seen := map[string]map[string]string{"en": {}, "hi": {}}
	for i, id := range p.IDs {
		en, hi := p.Text("en", i), p.Text("hi", i)
		for lang, text := range map[string]string{"en": en, "hi": hi} {
			if prev, dup := seen[lang][text]; dup {
				t.Errorf("%s text of %s repeats %s", lang, id, prev)
			}
			seen[lang][text] = id
			if strings.TrimSpace(text) != text {
				t.Errorf("%s %s has leading or trailing space", id, lang)
			}
		}
		for _, r := range en {
			if r > unicode.MaxASCII {
				t.Errorf("%s: English text has non-ASCII %q", id, r)
				break
			}
		}
		deva, latin := scriptShare(hi)
		if deva == 0 || float64(deva)/float64(deva+latin) < 0.8 {
			t.Errorf("%s: Hindi text is %d Devanagari and %d Latin letters, want mostly Devanagari: %q", id, deva, latin, hi)
		}
		// Numbers written in digits must agree between the two languages
		// (word order may differ).
		a, b := digitRun.FindAllString(en, -1), digitRun.FindAllString(hi, -1)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Errorf("%s: numbers differ: en %v, hi %v", id, a, b)
		}
		if strings.Count(en, "\n") != strings.Count(hi, "\n") {
			t.Errorf("%s: %d line breaks in English, %d in Hindi", id, strings.Count(en, "\n"), strings.Count(hi, "\n"))
		}
		words := len(strings.Fields(en))
		switch {
		case words <= 5:
			short++
		case words >= 35:
			long++
		}
		if words > 65 {
			t.Errorf("%s has %d words, want at most about 60", id, words)
		}
		if strings.Contains(en, "\n") {
			newlines++
		}
		if strings.ContainsAny(en, "0123456789") {
			numbers++
		}
	}
	if short < 5 || long < 5 || newlines < 5 || numbers < 15 {
		t.Errorf("variety: %d short, %d long, %d with line breaks, %d with numbers", short, long, newlines, numbers)
	}
	// Builtin returns a fresh copy each time.
	q := Builtin()
	q.Texts["en"][0] = "changed"
	if Builtin().Texts["en"][0] == "changed" {
		t.Error("Builtin shares its slices between calls")
	}
}
