package tokenizer

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type regexRef struct {
	Inputs []string `json:"inputs"`
	Cases  []struct {
		Name     string            `json:"name"`
		Pattern  map[string]string `json:"pattern"`
		Behavior string            `json:"behavior"`
		Invert   bool              `json:"invert"`
		Pieces   [][]string        `json:"pieces"`
		Error    string            `json:"error"`
	} `json:"cases"`
}

// TestSplitAgainstHF compares the pieces of Split pre-tokenizers with those of
// Hugging Face tokenizers 0.22.2 (Oniguruma regexes), from gen_ref.js.
func TestSplitAgainstHF(t *testing.T) {
	var ref regexRef
	readGzJSON(t, filepath.Join("testdata", "ref", "regex.ref.json.gz"), &ref)
	if len(ref.Cases) < 20 {
		t.Fatalf("only %d cases in the reference", len(ref.Cases))
	}
	for _, c := range ref.Cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Error != "" {
				t.Fatalf("reference failed to compile: %s", c.Error)
			}
			p := &splitPreTokenizer{behavior: behaviorNames[c.Behavior], invert: c.Invert}
			var err error
			if re, ok := c.Pattern["Regex"]; ok {
				p.re, err = compileRegex(re)
			} else {
				p.re, err = compileLiteral(c.Pattern["String"])
			}
			if err != nil {
				t.Fatal(err)
			}
			bad := 0
			for i, in := range ref.Inputs {
				got, err := p.split(in, nil)
				if err != nil {
					t.Fatalf("split(%q): %v", snippet(in), err)
				}
				if !slices.Equal(got, c.Pieces[i]) && !(len(got) == 0 && len(c.Pieces[i]) == 0) {
					bad++
					if bad <= 3 {
						t.Errorf("split(%q) = %q, want %q", snippet(in), got, c.Pieces[i])
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d inputs differ", bad, len(ref.Inputs))
			}
		})
	}
}

func TestRegexUnsupported(t *testing.T) {
	for _, pat := range []string{
		`^a`, `a$`, `\bword`, `(?<=a)b`, `(?<!a)b`, `(?<name>a)`, `(a)\1`, `\w+`, `\h`,
		`[[:alpha:]]`, `[a[b]]`, `[a&&b]`, `\p{C}`, `\p{Nope}`, `a(?i)b`, `(?m:a)`, `(?x)a`,
		`a{2}?`, `a{1,2}+`, `(?i:\p{L})`, `(?i:[\s])`, `(?i:ss)`, `(?i:ß)`, `(?i:[a-zß])`,
		`(?i:ST)`, `(a*)*`, `(a|)+`, `(?:)*`, `a{1001}`, `a**`, `a+*`, `\xff`, `\uD800`,
	} {
		_, err := compileRegex(pat)
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("compileRegex(%q) = %v, want an ErrUnsupported error", pat, err)
		}
	}
}

func TestRegexInvalid(t *testing.T) {
	for _, pat := range []string{`(a`, `a)`, `[a`, `*a`, `a|+`, `\`, `[b-a]`, `a{3,2}`, `\p{L`, `\x{110000}`, `\u12`, "\xff"} {
		if _, err := compileRegex(pat); err == nil || errors.Is(err, ErrUnsupported) {
			t.Errorf("compileRegex(%q) = %v, want a syntax error", pat, err)
		}
	}
}

// TestRegexMatches checks hand-worked Oniguruma semantics on small cases; each
// expectation was also checked with Hugging Face tokenizers 0.22.2 (a Split
// pre-tokenizer with behavior Removed and invert, which keeps the matches).
func TestRegexMatches(t *testing.T) {
	for _, tc := range []struct {
		pat, in string
		want    []string
	}{
		// Alternation is ordered, not longest: "ab" wins over "abc".
		{`ab|abc`, "abc", []string{"ab"}},
		// Backtracking into an earlier group to let the rest match.
		{`(ab|a)(c|bcd)`, "abcd", []string{"abc"}},
		{`(a|ab)(c|bcd)`, "abcd", []string{"abcd"}},
		// Greedy run given back for the lookahead: of two spaces before x, the
		// first is matched alone, then the second by the second alternative.
		{`\s+(?!\S)|\s+`, "a  x", []string{" ", " "}},
		{`\s+(?!\S)`, "a  x", []string{" "}},
		{`a+?`, "aaa", []string{"a", "a", "a"}},
		{`a{2,3}`, "aaaaaaa", []string{"aaa", "aaa"}},
		{`x{,2}y`, "xxxy", []string{"xxy"}},
		{`a++a`, "aaa", nil},
		{`(?>a+)b`, "aab", []string{"aab"}},
		// Empty matches: none directly after a match, find_iter-style.
		{`a|b?`, "ab", []string{"a", "b"}},
		{`b?`, "ab", []string{"", "b"}},
		{`(?i:'s)`, "'S 'ſ 's", []string{"'S", "'ſ", "'s"}},
		{`(?i)k`, "kKK", []string{"k", "K", "K"}},
		{`[^\s\p{L}]+`, "ab 12-3 c", []string{"12-3"}},
		{`\p{Devanagari}+`, "xनमस्ते y", []string{"नमस्ते"}},
		{`a{`, "a{", []string{"a{"}},
		{`\x41\u00e9\x{1F600}`, "Aé😀", []string{"Aé😀"}},
		{`.`, "a\nb", []string{"a", "b"}},
	} {
		re, err := compileRegex(tc.pat)
		if err != nil {
			t.Errorf("compileRegex(%q): %v", tc.pat, err)
			continue
		}
		ms, err := re.findAll(tc.in, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, tc.in[m[0]:m[1]])
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q on %q: got %q, want %q", tc.pat, tc.in, got, tc.want)
		}
	}
}

// TestRegexBacktrackLimit checks that catastrophic patterns end with an error.
func TestRegexBacktrackLimit(t *testing.T) {
	re, err := compileRegex(`(?:a|aa)+b`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = re.findAll(strings.Repeat("a", 200), nil)
	if !errors.Is(err, errBacktrack) {
		t.Fatalf("got %v, want errBacktrack", err)
	}
	// Linear patterns on long inputs stay within the budget.
	llama, err := compileRegex(`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{strings.Repeat(" ", 100000), strings.Repeat("a", 100000), strings.Repeat("\n ", 50000)} {
		if _, err := llama.findAll(in, nil); err != nil {
			t.Errorf("len %d: %v", len(in), err)
		}
	}
}

type normRef struct {
	Inputs []string            `json:"inputs"`
	Out    map[string][]string `json:"out"`
}

// TestNormalizersAgainstHF compares NFC, NFD, NFKC and NFKD with Hugging Face
// tokenizers 0.22.2 (unicode-normalization-alignments 0.1.12).
func TestNormalizersAgainstHF(t *testing.T) {
	var ref normRef
	readGzJSON(t, filepath.Join("testdata", "ref", "normalize.ref.json.gz"), &ref)
	for _, form := range []string{"NFC", "NFD", "NFKC", "NFKD"} {
		n, err := parseNormalizer([]byte(`{"type":"`+form+`"}`), 0)
		if err != nil {
			t.Fatal(err)
		}
		want := ref.Out[form]
		if len(want) != len(ref.Inputs) {
			t.Fatalf("%s: %d outputs for %d inputs", form, len(want), len(ref.Inputs))
		}
		for i, in := range ref.Inputs {
			if got := n.normalize(in); got != want[i] {
				t.Errorf("%s(%q) = %q, want %q", form, snippet(in), snippet(got), snippet(want[i]))
			}
		}
	}
}
