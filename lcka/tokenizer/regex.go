package tokenizer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds a small backtracking regular-expression engine with the
// Oniguruma semantics that Hugging Face tokenizers uses for Split
// pre-tokenizers (leftmost start, then the first alternative in priority
// order, greedy by default). The supported subset is documented in doc.go; any
// other syntax is rejected with an error wrapping ErrUnsupported.

// ErrUnsupported is wrapped by the errors returned for tokenizer.json features
// and regular-expression syntax outside the supported subset.
var ErrUnsupported = errors.New("unsupported")

// errBacktrack is returned when a search exceeds its step budget.
var errBacktrack = errors.New("tokenizer: regex backtracking limit exceeded")

const (
	maxRepeat   = 1000   // largest bound of a counted repetition
	maxProgram  = 100000 // largest compiled program, in instructions
	maxNesting  = 100    // deepest group nesting
	stepsBase   = 1 << 21
	stepsPerRun = 2000 // budget of VM steps per input rune, on top of stepsBase
)

type opcode uint8

const (
	opRune   opcode = iota // consume one rune in set, pc+1
	opSplit                // try x, on failure y
	opJmp                  // continue at x
	opLook                 // run body at x anchored here; continue at y if (matched != neg)
	opAtomic               // run body at x; continue at y from the body's first match end
	opMatch                // success of the (sub-)program
)

type inst struct {
	op   opcode
	neg  bool
	x, y int
	set  *runeSet
}

// regex is a compiled pattern; it is safe for concurrent use.
type regex struct {
	pattern string
	prog    []inst
}

// compileRegex parses and compiles an Oniguruma-syntax pattern.
func compileRegex(pattern string) (*regex, error) {
	if !utf8.ValidString(pattern) {
		return nil, fmt.Errorf("tokenizer: regex %q: invalid UTF-8", pattern)
	}
	p := &parser{src: []rune(pattern)}
	n, err := p.parseTop()
	if err != nil {
		return nil, fmt.Errorf("tokenizer: regex %q: %w", pattern, err)
	}
	if err := checkNode(n); err != nil {
		return nil, fmt.Errorf("tokenizer: regex %q: %w", pattern, err)
	}
	if progSize(n) > maxProgram {
		return nil, fmt.Errorf("tokenizer: regex %q: %w", pattern, unsupported("pattern compiles to more than %d instructions", maxProgram))
	}
	c := &compiler{}
	if err := c.compile(n); err != nil {
		return nil, fmt.Errorf("tokenizer: regex %q: %w", pattern, err)
	}
	c.emit(inst{op: opMatch})
	return &regex{pattern: pattern, prog: c.prog}, nil
}

// ---------------------------------------------------------------- syntax tree

type nodeKind uint8

const (
	nodeEmpty nodeKind = iota
	nodeRune
	nodeConcat
	nodeAlt
	nodeRepeat
	nodeLook
	nodeAtomic
)

type node struct {
	kind       nodeKind
	set        *runeSet // nodeRune
	lit        rune     // nodeRune from a literal, for the case-folding check
	isLit      bool
	fold       bool
	subs       []*node
	min, max   int // nodeRepeat; max < 0 means unbounded
	lazy, poss bool
	neg        bool // nodeLook
}

type parser struct {
	src   []rune
	pos   int
	fold  bool
	depth int
}

func (p *parser) eof() bool    { return p.pos >= len(p.src) }
func (p *parser) peek() rune   { return p.src[p.pos] }
func (p *parser) next() rune   { r := p.src[p.pos]; p.pos++; return r }
func (p *parser) rest() []rune { return p.src[p.pos:] }

func (p *parser) hasPrefix(s string) bool {
	rs := []rune(s)
	return len(p.rest()) >= len(rs) && slices.Equal(p.rest()[:len(rs)], rs)
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrUnsupported)
}

func (p *parser) parseTop() (*node, error) {
	n, err := p.parseGroupBody()
	if err != nil {
		return nil, err
	}
	if !p.eof() {
		return nil, fmt.Errorf("unmatched ')' at offset %d", p.pos)
	}
	return n, nil
}

// parseGroupBody parses alternatives up to a ')' or the end, accepting inline
// flags (?i) / (?-i) only at the start of the group, where Oniguruma's and
// Perl's scoping rules agree.
func (p *parser) parseGroupBody() (*node, error) {
	for {
		switch {
		case p.hasPrefix("(?i)"):
			p.pos += 4
			p.fold = true
			continue
		case p.hasPrefix("(?-i)"):
			p.pos += 5
			p.fold = false
			continue
		}
		break
	}
	var alts []*node
	for {
		c, err := p.parseConcat()
		if err != nil {
			return nil, err
		}
		alts = append(alts, c)
		if p.eof() || p.peek() == ')' {
			break
		}
		p.next() // '|'
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return &node{kind: nodeAlt, subs: alts}, nil
}

func (p *parser) parseConcat() (*node, error) {
	var items []*node
	for !p.eof() {
		c := p.peek()
		if c == '|' || c == ')' {
			break
		}
		atom, err := p.parseAtom()
		if err != nil {
			return nil, err
		}
		atom, err = p.parseQuantifier(atom)
		if err != nil {
			return nil, err
		}
		items = append(items, atom)
	}
	if err := checkFoldRun(items); err != nil {
		return nil, err
	}
	switch len(items) {
	case 0:
		return &node{kind: nodeEmpty}, nil
	case 1:
		return items[0], nil
	}
	return &node{kind: nodeConcat, subs: items}, nil
}

// parseInterval parses {n}, {n,}, {n,m} or {,m} at the current position. ok is
// false (and nothing is consumed) when the text is not an interval, in which
// case Oniguruma reads '{' as a literal.
func (p *parser) parseInterval() (lo, hi int, exact, ok bool, err error) {
	save := p.pos
	fail := func() (int, int, bool, bool, error) { p.pos = save; return 0, 0, false, false, nil }
	p.next() // '{'
	num := func() (int, bool) {
		start, v := p.pos, 0
		for !p.eof() && p.peek() >= '0' && p.peek() <= '9' {
			v = v*10 + int(p.next()-'0')
			if v > 1<<20 {
				v = 1 << 20
			}
		}
		return v, p.pos > start
	}
	lo, haveLo := num()
	if p.eof() {
		return fail()
	}
	if p.peek() == '}' {
		if !haveLo {
			return fail()
		}
		p.next()
		hi, exact = lo, true
	} else if p.peek() == ',' {
		p.next()
		var haveHi bool
		hi, haveHi = num()
		if p.eof() || p.peek() != '}' || (!haveLo && !haveHi) {
			return fail()
		}
		p.next()
		if !haveHi {
			hi = -1
		}
	} else {
		return fail()
	}
	if lo > maxRepeat || hi > maxRepeat {
		return 0, 0, false, false, unsupported("repetition bound above %d", maxRepeat)
	}
	if hi >= 0 && hi < lo {
		return 0, 0, false, false, errors.New("upper bound below lower bound in repetition")
	}
	return lo, hi, exact, true, nil
}

func (p *parser) parseQuantifier(atom *node) (*node, error) {
	if p.eof() {
		return atom, nil
	}
	var lo, hi int
	interval, exact := false, false
	switch p.peek() {
	case '*':
		p.next()
		lo, hi = 0, -1
	case '+':
		p.next()
		lo, hi = 1, -1
	case '?':
		p.next()
		lo, hi = 0, 1
	case '{':
		var ok bool
		var err error
		lo, hi, exact, ok, err = p.parseInterval()
		if err != nil {
			return nil, err
		}
		if !ok {
			return atom, nil
		}
		interval = true
	default:
		return atom, nil
	}
	rep := &node{kind: nodeRepeat, subs: []*node{atom}, min: lo, max: hi}
	if !p.eof() {
		switch p.peek() {
		case '?':
			if exact {
				return nil, unsupported("'{n}?' (its meaning differs between regex syntaxes)")
			}
			p.next()
			rep.lazy = true
		case '+':
			if interval {
				return nil, unsupported("'+' after an interval (its meaning differs between regex syntaxes)")
			}
			p.next()
			rep.poss = true
		}
	}
	if !p.eof() {
		switch c := p.peek(); c {
		case '*', '+', '?':
			return nil, unsupported("nested quantifier %q", string(c))
		case '{':
			save := p.pos
			_, _, _, ok, err := p.parseInterval()
			p.pos = save
			if err != nil {
				return nil, err
			}
			if ok {
				return nil, unsupported("nested quantifier '{'")
			}
		}
	}
	return rep, nil
}

func (p *parser) parseAtom() (*node, error) {
	c := p.next()
	switch c {
	case '(':
		return p.parseGroup()
	case '[':
		set, err := p.parseClass()
		if err != nil {
			return nil, err
		}
		return &node{kind: nodeRune, set: set, fold: p.fold}, nil
	case '.':
		return &node{kind: nodeRune, set: newSet([]rune{'\n', '\n'}, nil, true, false)}, nil
	case '\\':
		r, item, err := p.parseEscape()
		if err != nil {
			return nil, err
		}
		if item != nil {
			if p.fold && !item.foldSafe {
				return nil, unsupported("escape %q inside a case-insensitive group", item.name)
			}
			return &node{kind: nodeRune, set: newSet(nil, []tableItem{*item}, false, false)}, nil
		}
		return p.literal(r)
	case '^', '$':
		return nil, unsupported("anchor %q", string(c))
	case '*', '+', '?':
		return nil, fmt.Errorf("target of repeat operator %q is not specified", string(c))
	case '{':
		p.pos--
		_, _, _, ok, err := p.parseInterval()
		if err != nil {
			return nil, err
		}
		if ok {
			return nil, errors.New("target of repeat operator '{' is not specified")
		}
		p.next()
		return p.literal('{')
	}
	return p.literal(c)
}

func (p *parser) literal(r rune) (*node, error) {
	if p.fold {
		for _, f := range foldOrbit(r) {
			if slices.Contains(multiFoldRunes, f) {
				return nil, unsupported("case-insensitive %q (multi-character case folding)", string(r))
			}
		}
		orbit := foldOrbit(r)
		ranges := make([]rune, 0, 2*len(orbit))
		for _, f := range orbit {
			ranges = append(ranges, f, f)
		}
		return &node{kind: nodeRune, set: newSet(ranges, nil, false, false), lit: r, isLit: true, fold: true}, nil
	}
	return &node{kind: nodeRune, set: newSet([]rune{r, r}, nil, false, false), lit: r, isLit: true}, nil
}

func (p *parser) parseGroup() (*node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxNesting {
		return nil, unsupported("group nesting deeper than %d", maxNesting)
	}
	saveFold := p.fold
	defer func() { p.fold = saveFold }()
	kind := nodeEmpty // plain group
	neg := false
	if !p.eof() && p.peek() == '?' {
		switch {
		case p.hasPrefix("?:"):
			p.pos += 2
		case p.hasPrefix("?i:"):
			p.pos += 3
			p.fold = true
		case p.hasPrefix("?-i:"):
			p.pos += 4
			p.fold = false
		case p.hasPrefix("?="):
			p.pos += 2
			kind = nodeLook
		case p.hasPrefix("?!"):
			p.pos += 2
			kind, neg = nodeLook, true
		case p.hasPrefix("?>"):
			p.pos += 2
			kind = nodeAtomic
		case p.hasPrefix("?i)"), p.hasPrefix("?-i)"):
			return nil, unsupported("inline flag group not at the start of a group")
		default:
			end := min(p.pos+3, len(p.src))
			return nil, unsupported("group syntax %q", "("+string(p.src[p.pos:end]))
		}
	}
	body, err := p.parseGroupBody()
	if err != nil {
		return nil, err
	}
	if p.eof() || p.next() != ')' {
		return nil, errors.New("missing ')'")
	}
	switch kind {
	case nodeLook:
		return &node{kind: nodeLook, subs: []*node{body}, neg: neg}, nil
	case nodeAtomic:
		return &node{kind: nodeAtomic, subs: []*node{body}}, nil
	}
	// A plain group: wrap in a one-element concat so that literal runs are
	// not merged across group boundaries by checkFoldRun.
	return &node{kind: nodeConcat, subs: []*node{body}}, nil
}

func hexVal(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= 'a' && r <= 'f':
		return int(r-'a') + 10
	case r >= 'A' && r <= 'F':
		return int(r-'A') + 10
	}
	return -1
}

// parseEscape parses the escape after a backslash: either a rune or a class
// item (\s, \p{L}, ...).
func (p *parser) parseEscape() (rune, *tableItem, error) {
	if p.eof() {
		return 0, nil, errors.New("trailing backslash")
	}
	c := p.next()
	switch c {
	case 't':
		return '\t', nil, nil
	case 'n':
		return '\n', nil, nil
	case 'r':
		return '\r', nil, nil
	case 'f':
		return '\f', nil, nil
	case 'v':
		return '\v', nil, nil
	case 'a':
		return '\a', nil, nil
	case 'e':
		return 0x1b, nil, nil
	case 'x':
		if !p.eof() && p.peek() == '{' {
			p.next()
			v, n := 0, 0
			for !p.eof() && hexVal(p.peek()) >= 0 {
				v = v*16 + hexVal(p.next())
				n++
				if n > 8 {
					return 0, nil, errors.New("too long \\x{...} escape")
				}
			}
			if n == 0 || p.eof() || p.next() != '}' {
				return 0, nil, errors.New("invalid \\x{...} escape")
			}
			if v > unicode.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
				return 0, nil, errors.New("invalid code point in \\x{...} escape")
			}
			return rune(v), nil, nil
		}
		v, n := 0, 0
		for n < 2 && !p.eof() && hexVal(p.peek()) >= 0 {
			v = v*16 + hexVal(p.next())
			n++
		}
		if n == 0 {
			return 0, nil, errors.New("invalid \\x escape")
		}
		if v >= 0x80 {
			return 0, nil, unsupported("\\x escape of a non-ASCII byte")
		}
		return rune(v), nil, nil
	case 'u':
		v := 0
		for i := 0; i < 4; i++ {
			if p.eof() || hexVal(p.peek()) < 0 {
				return 0, nil, errors.New("invalid \\u escape")
			}
			v = v*16 + hexVal(p.next())
		}
		if v >= 0xD800 && v <= 0xDFFF {
			return 0, nil, unsupported("surrogate in \\u escape")
		}
		return rune(v), nil, nil
	case 's':
		return 0, &tableItem{name: `\s`, table: unicode.White_Space, foldSafe: true}, nil
	case 'S':
		return 0, &tableItem{name: `\S`, table: unicode.White_Space, neg: true, foldSafe: true}, nil
	case 'd':
		return 0, &tableItem{name: `\d`, table: unicode.Nd, foldSafe: true}, nil
	case 'D':
		return 0, &tableItem{name: `\D`, table: unicode.Nd, neg: true, foldSafe: true}, nil
	case 'p', 'P':
		if p.eof() || p.next() != '{' {
			return 0, nil, errors.New("invalid \\p escape")
		}
		start := p.pos
		for !p.eof() && p.peek() != '}' {
			p.next()
		}
		if p.eof() {
			return 0, nil, errors.New("invalid \\p escape: missing '}'")
		}
		name := string(p.src[start:p.pos])
		p.next()
		neg := c == 'P'
		if strings.HasPrefix(name, "^") {
			name = name[1:]
			neg = !neg
		}
		t, ok := propertyTable(name)
		if !ok {
			return 0, nil, unsupported("property \\p{%s}", name)
		}
		return 0, &tableItem{name: `\p{` + name + `}`, table: t, neg: neg}, nil
	}
	if c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c)) {
		return 0, nil, unsupported("escape \\%c", c)
	}
	return c, nil, nil
}

// propertyTable maps \p{...} names to Unicode tables: general categories
// (except C and Cn, whose Oniguruma definitions include unassigned code points)
// and scripts.
func propertyTable(name string) (*unicode.RangeTable, bool) {
	if name == "C" {
		return nil, false
	}
	if t, ok := unicode.Categories[name]; ok {
		return t, true
	}
	t, ok := unicode.Scripts[name]
	return t, ok
}

func (p *parser) parseClass() (*runeSet, error) {
	negate := false
	if !p.eof() && p.peek() == '^' {
		p.next()
		negate = true
	}
	if !p.eof() && p.peek() == ']' {
		return nil, unsupported("']' as the first class member")
	}
	var ranges []rune
	var tables []tableItem
	first := true
	for {
		if p.eof() {
			return nil, errors.New("missing ']'")
		}
		c := p.next()
		if c == ']' {
			break
		}
		var lo rune
		switch {
		case c == '[':
			return nil, unsupported("nested character class or POSIX bracket")
		case c == '&' && !p.eof() && p.peek() == '&':
			return nil, unsupported("class intersection '&&'")
		case c == '\\':
			r, item, err := p.parseEscape()
			if err != nil {
				return nil, err
			}
			if item != nil {
				if p.fold {
					return nil, unsupported("escape %q in a case-insensitive class", item.name)
				}
				tables = append(tables, *item)
				if !p.eof() && p.peek() == '-' && len(p.rest()) > 1 && p.rest()[1] != ']' {
					return nil, unsupported("range with a class escape as its start")
				}
				first = false
				continue
			}
			lo = r
		default:
			lo = c
		}
		hi := lo
		if !p.eof() && p.peek() == '-' && len(p.rest()) > 1 && p.rest()[1] != ']' && !(first && c == '-') {
			p.next()
			h := p.next()
			switch h {
			case '\\':
				r, item, err := p.parseEscape()
				if err != nil {
					return nil, err
				}
				if item != nil {
					return nil, unsupported("range with a class escape as its end")
				}
				hi = r
			case '[':
				return nil, unsupported("nested character class or POSIX bracket")
			default:
				hi = h
			}
			if hi < lo {
				return nil, errors.New("empty range in character class")
			}
		}
		first = false
		ranges = append(ranges, lo, hi)
	}
	if p.fold {
		for _, m := range multiFoldRunes {
			for _, f := range foldOrbit(m) {
				if inRanges(ranges, f) {
					return nil, unsupported("case-insensitive class containing %q (multi-character case folding)", string(m))
				}
			}
		}
	}
	return newSet(ranges, tables, negate, p.fold), nil
}

// checkFoldRun rejects case-insensitive literal runs that Oniguruma could match
// against a single rune through a multi-character case folding (such as "ss"
// against "ß"), which this engine does not implement.
func checkFoldRun(items []*node) error {
	var run []rune
	flush := func() error {
		if len(run) < 2 {
			run = run[:0]
			return nil
		}
		s := string(run)
		for _, t := range multiFoldTargets {
			if strings.Contains(s, canonicalFold(t)) {
				return unsupported("case-insensitive literal %q (multi-character case folding)", s)
			}
		}
		run = run[:0]
		return nil
	}
	for _, it := range items {
		if it.kind == nodeRune && it.isLit && it.fold {
			run = append(run, canonicalRune(it.lit))
			continue
		}
		if err := flush(); err != nil {
			return err
		}
	}
	return flush()
}

// foldOrbit returns r and the runes equivalent to it under simple case folding.
func foldOrbit(r rune) []rune {
	out := []rune{r}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		out = append(out, f)
	}
	return out
}

// canonicalRune is the smallest rune of r's simple case-folding orbit.
func canonicalRune(r rune) rune {
	return slices.Min(foldOrbit(r))
}

func canonicalFold(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(canonicalRune(r))
	}
	return b.String()
}

// checkNode rejects loops whose body can match the empty string: Oniguruma
// stops such loops with its own empty-check rules, which are not reproduced.
func checkNode(n *node) error {
	for _, s := range n.subs {
		if err := checkNode(s); err != nil {
			return err
		}
	}
	if n.kind == nodeRepeat && (n.max < 0 || n.max > 1) && nullable(n.subs[0]) {
		return unsupported("repetition of a sub-expression that can match the empty string")
	}
	return nil
}

// progSize bounds the number of instructions n compiles to, saturating above
// maxProgram.
func progSize(n *node) int {
	size := 0
	switch n.kind {
	case nodeRune:
		size = 1
	case nodeConcat, nodeAlt:
		for _, s := range n.subs {
			size += progSize(s) + 2
		}
	case nodeLook, nodeAtomic:
		size = progSize(n.subs[0]) + 2
	case nodeRepeat:
		copies := max(n.min, n.max, 1) + 1
		size = copies*(progSize(n.subs[0])+2) + 2
	}
	return min(size, maxProgram+1)
}

func nullable(n *node) bool {
	switch n.kind {
	case nodeRune:
		return false
	case nodeConcat:
		for _, s := range n.subs {
			if !nullable(s) {
				return false
			}
		}
		return true
	case nodeAlt:
		for _, s := range n.subs {
			if nullable(s) {
				return true
			}
		}
		return false
	case nodeRepeat:
		return n.min == 0 || nullable(n.subs[0])
	case nodeAtomic:
		return nullable(n.subs[0])
	}
	return true // nodeEmpty, nodeLook
}

// ---------------------------------------------------------------- rune sets

type tableItem struct {
	name     string
	table    *unicode.RangeTable
	neg      bool
	foldSafe bool // the set is closed under simple case folding
}

// runeSet is a set of runes: explicit ranges and Unicode tables, optionally
// closed under simple case folding, optionally negated (negation applies after
// folding, as in Oniguruma).
type runeSet struct {
	ascii  [2]uint64
	ranges []rune // lo, hi pairs
	tables []tableItem
	negate bool
	fold   bool
}

func newSet(ranges []rune, tables []tableItem, negate, fold bool) *runeSet {
	s := &runeSet{ranges: ranges, tables: tables, negate: negate, fold: fold}
	for r := rune(0); r < utf8.RuneSelf; r++ {
		if s.slow(r) {
			s.ascii[r>>6] |= 1 << (r & 63)
		}
	}
	return s
}

func inRanges(ranges []rune, r rune) bool {
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i] <= r && r <= ranges[i+1] {
			return true
		}
	}
	return false
}

func (s *runeSet) raw(r rune) bool {
	if inRanges(s.ranges, r) {
		return true
	}
	for _, t := range s.tables {
		if unicode.Is(t.table, r) != t.neg {
			return true
		}
	}
	return false
}

func (s *runeSet) slow(r rune) bool {
	in := s.raw(r)
	if !in && s.fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if s.raw(f) {
				in = true
				break
			}
		}
	}
	return in != s.negate
}

func (s *runeSet) match(r rune) bool {
	if r < utf8.RuneSelf {
		return s.ascii[r>>6]&(1<<(r&63)) != 0
	}
	return s.slow(r)
}

// ---------------------------------------------------------------- compiler

type compiler struct {
	prog []inst
	err  error
}

func (c *compiler) emit(in inst) int {
	if len(c.prog) >= maxProgram {
		c.err = unsupported("pattern compiles to more than %d instructions", maxProgram)
	}
	c.prog = append(c.prog, in)
	return len(c.prog) - 1
}

func (c *compiler) compile(n *node) error {
	c.gen(n)
	return c.err
}

func (c *compiler) gen(n *node) {
	if c.err != nil {
		return
	}
	switch n.kind {
	case nodeEmpty:
	case nodeRune:
		c.emit(inst{op: opRune, set: n.set})
	case nodeConcat:
		for _, s := range n.subs {
			c.gen(s)
		}
	case nodeAlt:
		var jumps []int
		for i, s := range n.subs {
			if i < len(n.subs)-1 {
				split := c.emit(inst{op: opSplit})
				c.prog[split].x = len(c.prog)
				c.gen(s)
				jumps = append(jumps, c.emit(inst{op: opJmp}))
				c.prog[split].y = len(c.prog)
			} else {
				c.gen(s)
			}
		}
		for _, j := range jumps {
			c.prog[j].x = len(c.prog)
		}
	case nodeLook, nodeAtomic:
		op := opLook
		if n.kind == nodeAtomic {
			op = opAtomic
		}
		at := c.emit(inst{op: op, neg: n.neg})
		c.prog[at].x = len(c.prog)
		c.gen(n.subs[0])
		c.emit(inst{op: opMatch})
		c.prog[at].y = len(c.prog)
	case nodeRepeat:
		if n.poss {
			at := c.emit(inst{op: opAtomic})
			c.prog[at].x = len(c.prog)
			c.genRepeat(n)
			c.emit(inst{op: opMatch})
			c.prog[at].y = len(c.prog)
			return
		}
		c.genRepeat(n)
	}
}

// patchSplit sets a split to prefer the body (greedy) or the exit (lazy).
func (c *compiler) patchSplit(at, body, exit int, lazy bool) {
	if lazy {
		c.prog[at].x, c.prog[at].y = exit, body
	} else {
		c.prog[at].x, c.prog[at].y = body, exit
	}
}

func (c *compiler) genRepeat(n *node) {
	sub := n.subs[0]
	for i := 0; i < n.min; i++ {
		c.gen(sub)
	}
	if n.max < 0 {
		// L: split(body, exit); body; jmp L
		loop := c.emit(inst{op: opSplit})
		body := len(c.prog)
		c.gen(sub)
		c.emit(inst{op: opJmp, x: loop})
		c.patchSplit(loop, body, len(c.prog), n.lazy)
		return
	}
	// Optional copies, nested: (sub (sub (...)?)?)?
	var splits []int
	for i := n.min; i < n.max; i++ {
		at := c.emit(inst{op: opSplit})
		splits = append(splits, at)
		c.gen(sub)
	}
	exit := len(c.prog)
	for _, at := range splits {
		c.patchSplit(at, at+1, exit, n.lazy)
	}
}

// ---------------------------------------------------------------- matcher

type thread struct{ pc, pos int }

// machine runs a program over the runes of one input.
type machine struct {
	prog  []inst
	runes []rune
	stack []thread
	steps int
	limit int
}

// run executes the (sub-)program starting at pc, anchored at pos, and returns
// the end of its first match in priority order.
func (m *machine) run(pc, pos int) (int, bool, error) {
	base := len(m.stack)
	n := len(m.runes)
	for {
		m.steps++
		if m.steps > m.limit {
			m.stack = m.stack[:base]
			return 0, false, errBacktrack
		}
		in := &m.prog[pc]
		switch in.op {
		case opRune:
			if pos < n && in.set.match(m.runes[pos]) {
				pc++
				pos++
				continue
			}
		case opSplit:
			m.stack = append(m.stack, thread{in.y, pos})
			pc = in.x
			continue
		case opJmp:
			pc = in.x
			continue
		case opMatch:
			m.stack = m.stack[:base]
			return pos, true, nil
		case opLook:
			_, ok, err := m.run(in.x, pos)
			if err != nil {
				m.stack = m.stack[:base]
				return 0, false, err
			}
			if ok != in.neg {
				pc = in.y
				continue
			}
		case opAtomic:
			end, ok, err := m.run(in.x, pos)
			if err != nil {
				m.stack = m.stack[:base]
				return 0, false, err
			}
			if ok {
				pc, pos = in.y, end
				continue
			}
		}
		// Failure: backtrack.
		if len(m.stack) == base {
			return 0, false, nil
		}
		t := m.stack[len(m.stack)-1]
		m.stack = m.stack[:len(m.stack)-1]
		pc, pos = t.pc, t.pos
	}
}

// findAll returns the byte offsets of the successive non-overlapping matches
// of re in s, as the onig crate's find_iter yields them (an empty match right
// after the previous match is skipped by advancing one character).
func (re *regex) findAll(s string, dst [][2]int) ([][2]int, error) {
	runes := make([]rune, 0, len(s))
	offs := make([]int, 0, len(s)+1)
	for i, r := range s {
		runes = append(runes, r)
		offs = append(offs, i)
	}
	offs = append(offs, len(s))
	m := &machine{prog: re.prog, runes: runes, limit: stepsBase + stepsPerRun*len(runes)}
	lastEnd, lastMatchEnd := 0, -1
	for lastEnd <= len(runes) {
		start, end, ok := -1, -1, false
		for st := lastEnd; st <= len(runes); st++ {
			e, matched, err := m.run(0, st)
			if err != nil {
				return dst, err
			}
			if matched {
				start, end, ok = st, e, true
				break
			}
		}
		if !ok {
			break
		}
		if start == end && lastMatchEnd == end {
			lastEnd++
			continue
		}
		lastEnd, lastMatchEnd = end, end
		dst = append(dst, [2]int{offs[start], offs[end]})
	}
	return dst, nil
}
