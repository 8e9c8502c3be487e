package robust

import (
	"errors"
	"fmt"
	"github.com/layersim/layersim/internal/describe"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/cka"
)

// DefaultQuantile is the default lower quantile q of the length-matched
// subset: the central half of the length ratios is kept.
const DefaultQuantile = 0.25

// Options configures Compare. The zero value compares every model of both
// roots on the study's standardized CKA, split "test", languages en and hi,
// lengths in characters, the central half of the length ratios.
type Options struct {
	// Langs are the two languages: the cross-lingual curve is CKA of layer k
	// in Langs[0] against layer k in Langs[1], and the length ratio is
	// len(Langs[1]) / len(Langs[0]). Empty means en, hi.
	Langs []string
	// Split of the activation sets; "" means "test".
	Split string
	// Models are the slugs to compare; empty means every model folder of
	// root A, which root B must hold too.
	Models []string
	// Measure is the CKA of every value (cka.MeasureStandardized, the
	// study's, by default).
	Measure cka.Measure
	// Quantile q in [0, 0.5): the length-matched subset keeps the questions
	// whose log length ratio lies between its q- and (1−q)-quantiles. 0
	// means DefaultQuantile; a negative value keeps every question.
	Quantile float64
	// Length, if set, measures a prompt's length (for example its number of
	// tokens); nil counts characters (Unicode code points). LengthUnit names
	// what it counts ("tokens of …").
	Length     func(text string) (int, error)
	LengthUnit string
	// SkipTextCheck accepts rows whose texts in A and B neither match nor
	// contain one another (formats that rewrite the question itself).
	SkipTextCheck bool
	// AllPairs passes backend, memory budget and scratch folder to the CKA
	// engine; its Measure is set from Measure.
	AllPairs cka.Options
	// BaselineSubsets is the number of random subsets of the length-matched
	// subset's size whose cross-lingual curves make the subsampling
	// baseline (LengthMatch.Baseline); each costs as much as the
	// length-matched curve. 0 means DefaultBaselineSubsets; a negative
	// value skips the baseline. Seed seeds their draw.
	BaselineSubsets int
	Seed            uint64
}

// Report is the outcome of Compare, written as robustness.json.
type Report struct {
	RootA   string    `json:"root_a"`
	RootB   string    `json:"root_b"`
	Langs   [2]string `json:"langs"`
	Split   string    `json:"split"`
	Measure string    `json:"measure"`
	// LengthUnit is what the lengths of the length-matched subsets count.
	LengthUnit string `json:"length_unit"`
	// Quantile is q: the subsets keep log ratios in [Q(q), Q(1−q)].
	Quantile float64  `json:"quantile"`
	Models   []Model  `json:"models"`
	Notes    []string `json:"notes,omitempty"`
}

// Model holds the comparison of one model's states under the two formats.
type Model struct {
	Slug   string    `json:"slug"`
	ID     string    `json:"model_id"`
	N      int       `json:"n"`
	Layers []int     `json:"layers"`
	Subset [2]string `json:"subset"` // meta.json's subset (the prompt set) in A and B
	// Languages holds, per language of Report.Langs, the per-layer A-vs-B
	// CKA and the movement of the layer×layer map.
	Languages []Language `json:"languages"`
	// CrossA and CrossB are the cross-lingual curves, CKA of layer k in
	// Langs[0] against layer k in Langs[1], under A and under B; CrossDiff
	// is CrossB − CrossA.
	CrossA    []float64 `json:"cross_a"`
	CrossB    []float64 `json:"cross_b"`
	CrossDiff []float64 `json:"cross_diff"`
	// LengthMatched holds the length-matched subsets of A and of B.
	LengthMatched [2]LengthMatch `json:"length_matched"`
}

// Language is one language's comparison of A and B.
type Language struct {
	Lang string `json:"lang"`
	// AB[k] is the CKA between layer k under A and layer k under B, on the
	// same questions; ABMean its mean over layers.
	AB     []float64 `json:"ab"`
	ABMean float64   `json:"ab_mean"`
	// MapA and MapB are the layer×layer CKA maps within the language under
	// A and B; MapDiff is MapB − MapA.
	MapA     [][]float64 `json:"map_a"`
	MapB     [][]float64 `json:"map_b"`
	MapDiff  [][]float64 `json:"map_diff"`
	Movement Movement    `json:"movement"`
	// SameTexts is true when A and B fed the model the same texts.
	SameTexts bool `json:"same_texts"`
}

// LengthMatch is the cross-lingual curve on a length-matched subset of one
// root against the curve on all its questions.
type LengthMatch struct {
	Root string `json:"root"` // "a" or "b"
	Selection
	// MeanLength are the mean lengths in Langs[0] and Langs[1], over all
	// questions and over the subset.
	MeanLength       [2]float64 `json:"mean_length"`
	SubsetMeanLength [2]float64 `json:"subset_mean_length"`
	Whole            []float64  `json:"whole"`
	Matched          []float64  `json:"matched"`
	Diff             []float64  `json:"diff"` // Matched − Whole
	// Baseline is the curve on random subsets of N questions; nil when
	// skipped or when the subset holds every question.
	Baseline *Baseline `json:"baseline,omitempty"`
}

// pair is one model's four activation sets: [root][language].
type pair struct {
	slug string
	sets [2][2]*artifacts.Set
}

// Compare compares the activations of the same models and questions in
// rootA and rootB, made with two prompt formats (package documentation).
func Compare(rootA, rootB string, opt Options) (*Report, error) {
	langs := opt.Langs
	if len(langs) == 0 {
		langs = []string{"en", "hi"}
	}
	if len(langs) != 2 || langs[0] == "" || langs[1] == "" || langs[0] == langs[1] {
		return nil, fmt.Errorf("robust: want two different languages, got %q", langs)
	}
	split := opt.Split
	if split == "" {
		split = "test"
	}
	q := opt.Quantile
	switch {
	case q == 0:
		q = DefaultQuantile
	case q < 0:
		q = 0
	case q >= 0.5:
		return nil, fmt.Errorf("robust: quantile %g: want q in [0, 0.5)", q)
	}
	if opt.Measure < cka.MeasureStandardized || opt.Measure > cka.MeasureDebiased {
		return nil, fmt.Errorf("robust: unknown measure %v", opt.Measure)
	}
	length, unit := opt.Length, opt.LengthUnit
	if length == nil {
		length = func(s string) (int, error) { return utf8.RuneCountInString(s), nil }
		unit = "characters (Unicode code points)"
	} else if unit == "" {
		unit = "custom"
	}
	slugs := opt.Models
	if len(slugs) == 0 {
		var err error
		if slugs, err = modelDirs(rootA, rootB); err != nil {
			return nil, err
		}
	}
	rep := &Report{RootA: rootA, RootB: rootB, Langs: [2]string{langs[0], langs[1]}, Split: split,
		Measure: opt.Measure.String(), LengthUnit: unit, Quantile: q}
	var pairs []pair
	for _, slug := range slugs {
		p, err := open(rootA, rootB, slug, rep.Langs, split)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, p)
	}
	for _, p := range pairs {
		m, notes, err := compareModel(p, rep.Langs, q, length, opt)
		if err != nil {
			return nil, err
		}
		rep.Models = append(rep.Models, *m)
		rep.Notes = append(rep.Notes, notes...)
	}
	return rep, nil
}

// modelDirs lists the model folders of root A and checks that root B has
// the same ones.
func modelDirs(rootA, rootB string) ([]string, error) {
	var lists [2][]string
	for i, root := range []string{rootA, rootB} {
		ents, err := os.ReadDir(filepath.Join(root, "models"))
		if err != nil {
			return nil, fmt.Errorf("robust: root %s: %w", "AB"[i:i+1], err)
		}
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), ".") && isDir(filepath.Join(root, "models"), e) {
				lists[i] = append(lists[i], e.Name())
			}
		}
	}
	if len(lists[0]) == 0 {
		return nil, fmt.Errorf("robust: root A (%s) has no model folders", rootA)
	}
	if !slices.Equal(lists[0], lists[1]) {
		return nil, fmt.Errorf("robust: the roots hold different models: A (%s) has %s, B (%s) has %s; name the models to compare",
			rootA, strings.Join(lists[0], ", "), rootB, strings.Join(lists[1], ", "))
	}
	return lists[0], nil
}

func isDir(dir string, e fs.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	st, err := os.Stat(filepath.Join(dir, e.Name())) // a symbolic link to a folder
	return err == nil && st.IsDir()
}

// open opens a model's four sets and checks that they are the same model,
// layers and number of questions.
func open(rootA, rootB, slug string, langs [2]string, split string) (pair, error) {
	p := pair{slug: slug}
	for r, root := range []string{rootA, rootB} {
		for l, lang := range langs {
			s, err := artifacts.Open(root, slug, lang, split)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return p, fmt.Errorf("robust: root %s (%s) has no %s activations of %s in %s (split %s)", "AB"[r:r+1], root, lang, slug, lang, split)
				}
				return p, fmt.Errorf("robust: %w", err)
			}
			p.sets[r][l] = s
		}
	}
	a := p.sets[0][0]
	for r := range 2 {
		for l := range 2 {
			s := p.sets[r][l]
			where := fmt.Sprintf("%s/%s in root %s", slug, langs[l], "AB"[r:r+1])
			switch {
			case s.Model != a.Model:
				return p, fmt.Errorf("robust: different models: %s is %q, %s/%s in root A is %q", where, s.Model, slug, langs[0], a.Model)
			case len(s.Layers) != len(a.Layers):
				return p, fmt.Errorf("robust: %s has %d layers, %s/%s in root A %d", where, len(s.Layers), slug, langs[0], len(a.Layers))
			case s.Rows != a.Rows:
				return p, fmt.Errorf("robust: different questions: %s has %d rows, %s/%s in root A %d; the roots must hold the same questions in the same order",
					where, s.Rows, slug, langs[0], a.Rows)
			}
			for i := range s.Cols {
				if r == 0 && s.Cols[i] != a.Cols[i] {
					return p, fmt.Errorf("robust: %s layer %d has %d columns, %s in root A %d", where, s.Layers[i], s.Cols[i], langs[0], a.Cols[i])
				}
				if r == 1 && s.Cols[i] != p.sets[0][l].Cols[i] {
					return p, fmt.Errorf("robust: different models: %s layer %d has %d columns, in root A %d", where, s.Layers[i], s.Cols[i], p.sets[0][l].Cols[i])
				}
			}
		}
	}
	return p, nil
}

// texts reads the texts of the four sets and checks that A and B hold the
// same questions: per row, equal texts or one containing the other. It
// returns the texts [root][lang] and, per language, whether A and B have
// identical texts.
func texts(p pair, langs [2]string, skipCheck bool) ([2][2][]string, [2]bool, error) {
	var t [2][2][]string
	var same [2]bool
	for r := range 2 {
		for l := range 2 {
			s := p.sets[r][l]
			x, err := s.Texts()
			if err != nil {
				return t, same, fmt.Errorf("robust: %s/%s in root %s: %w (the texts say which questions the rows are, and give their lengths)", p.slug, langs[l], "AB"[r:r+1], err)
			}
			if len(x) != s.Rows {
				return t, same, fmt.Errorf("robust: %s/%s in root %s: %d texts for %d rows", p.slug, langs[l], "AB"[r:r+1], len(x), s.Rows)
			}
			t[r][l] = x
		}
	}
	for l := range 2 {
		same[l] = slices.Equal(t[0][l], t[1][l])
		if same[l] || skipCheck {
			continue
		}
		for i, a := range t[0][l] {
			b := t[1][l][i]
			if !strings.Contains(a, b) && !strings.Contains(b, a) {
				return t, same, fmt.Errorf("robust: different questions: %s/%s row %d is %q in root A and %q in root B (neither contains the other); "+
					"the roots must hold the same questions in the same order (skip this check for formats that rewrite the question)",
					p.slug, langs[l], i, clip(a), clip(b))
			}
		}
	}
	return t, same, nil
}

func clip(s string) string {
	if utf8.RuneCountInString(s) <= 60 {
		return s
	}
	return string([]rune(s)[:57]) + "…"
}

// compareModel computes one model's comparison.
func compareModel(p pair, langs [2]string, q float64, length func(string) (int, error), opt Options) (*Model, []string, error) {
	t, same, err := texts(p, langs, opt.SkipTextCheck)
	if err != nil {
		return nil, nil, err
	}
	a := p.sets[0][0]
	L := len(a.Layers)
	m := &Model{Slug: p.slug, ID: a.Model, N: a.Rows, Layers: slices.Clone(a.Layers),
		Subset: [2]string{a.Meta.Subset, p.sets[1][0].Meta.Subset}}
	// One all-pairs call over the 4L layers: [root A: lang 0, lang 1; root B: lang 0, lang 1].
	src := &layers{p: p}
	res, err := allPairs(src, opt)
	if err != nil {
		return nil, nil, err
	}
	at := func(r, l, k, r2, l2, k2 int) float64 {
		return res.CKA.At((2*r+l)*L+k, (2*r2+l2)*L+k2)
	}
	for l, lang := range langs {
		lg := Language{Lang: lang, SameTexts: same[l]}
		for k := range L {
			lg.AB = append(lg.AB, at(0, l, k, 1, l, k))
		}
		lg.ABMean = describe.Mean(lg.AB)
		lg.MapA, lg.MapB, lg.MapDiff = make([][]float64, L), make([][]float64, L), make([][]float64, L)
		for i := range L {
			lg.MapA[i], lg.MapB[i], lg.MapDiff[i] = make([]float64, L), make([]float64, L), make([]float64, L)
			for j := range L {
				lg.MapA[i][j], lg.MapB[i][j] = at(0, l, i, 0, l, j), at(1, l, i, 1, l, j)
				lg.MapDiff[i][j] = lg.MapB[i][j] - lg.MapA[i][j]
			}
		}
		if lg.Movement, err = MapMovement(lg.MapA, lg.MapB, m.Layers); err != nil {
			return nil, nil, fmt.Errorf("robust: %s/%s: %w", p.slug, lang, err)
		}
		m.Languages = append(m.Languages, lg)
	}
	for k := range L {
		m.CrossA = append(m.CrossA, at(0, 0, k, 0, 1, k))
		m.CrossB = append(m.CrossB, at(1, 0, k, 1, 1, k))
		m.CrossDiff = append(m.CrossDiff, m.CrossB[k]-m.CrossA[k])
	}
	var notes []string
	for l, lang := range langs {
		if same[l] {
			notes = append(notes, fmt.Sprintf("%s/%s: roots A and B fed the model the same texts", p.slug, lang))
		}
	}
	for r, whole := range [2][]float64{m.CrossA, m.CrossB} {
		lm, err := lengthMatch(p, r, t[r], whole, q, length, opt)
		if err != nil {
			return nil, nil, err
		}
		switch count := opt.BaselineSubsets; {
		case count < 0:
		case lm.N == lm.Of:
			notes = append(notes, fmt.Sprintf("%s root %s: no subsampling baseline: the length-matched subset holds every question", p.slug, "AB"[r:r+1]))
		default:
			if count == 0 {
				count = DefaultBaselineSubsets
			}
			if lm.Baseline, err = baseline(p, r, lm, m.Layers, count, opt.Seed, opt); err != nil {
				return nil, nil, err
			}
		}
		m.LengthMatched[r] = *lm
	}
	return m, notes, nil
}

// lengthMatch selects root r's length-matched subset and computes its
// cross-lingual curve.
func lengthMatch(p pair, r int, t [2][]string, whole []float64, q float64, length func(string) (int, error), opt Options) (*LengthMatch, error) {
	root := "AB"[r : r+1]
	var lens [2][]int
	for l := range 2 {
		for i, s := range t[l] {
			n, err := length(s)
			if err != nil {
				return nil, fmt.Errorf("robust: %s/%s row %d in root %s: length: %w", p.slug, p.sets[r][l].Lang, i, root, err)
			}
			lens[l] = append(lens[l], n)
		}
	}
	sel, err := LengthMatched(lens[0], lens[1], q)
	if err != nil {
		return nil, fmt.Errorf("robust: %s in root %s: %w", p.slug, root, err)
	}
	lm := &LengthMatch{Root: strings.ToLower(root), Selection: *sel, Whole: whole}
	for l := range 2 {
		lm.MeanLength[l] = meanInts(lens[l], nil)
		lm.SubsetMeanLength[l] = meanInts(lens[l], sel.Rows)
	}
	res, err := allPairs(&layers{p: p, root: r, rows: sel.Rows}, opt)
	if err != nil {
		return nil, err
	}
	L := len(whole)
	for k := range L {
		v := res.CKA.At(k, L+k)
		lm.Matched = append(lm.Matched, v)
		lm.Diff = append(lm.Diff, v-whole[k])
	}
	return lm, nil
}

func allPairs(src cka.Source, opt Options) (*cka.Result, error) {
	o := opt.AllPairs
	o.Measure = opt.Measure
	res, err := cka.AllPairs(src, o)
	if err != nil {
		return nil, fmt.Errorf("robust: %w", err)
	}
	return res, nil
}

// layers is the cka.Source of a model's layers: without rows, all four
// sets in the order root A language 0, language 1, root B language 0,
// language 1; with rows, root root's two languages, restricted to those
// rows.
type layers struct {
	p    pair
	root int
	rows []int
}

func (s *layers) L() int { return len(s.p.sets[0][0].Layers) }

func (s *layers) Len() int {
	if s.rows != nil {
		return 2 * s.L()
	}
	return 4 * s.L()
}

// at returns the set, its root and the layer number of source layer i.
func (s *layers) at(i int) (*artifacts.Set, int, int) {
	L := s.L()
	b, k := i/L, s.p.sets[0][0].Layers[i%L]
	if s.rows != nil {
		return s.p.sets[s.root][b], s.root, k
	}
	return s.p.sets[b/2][b%2], b / 2, k
}

func (s *layers) Name(i int) string {
	set, r, k := s.at(i)
	return fmt.Sprintf("%s/%s/layer_%d (root %s)", set.Slug, set.Lang, k, "AB"[r:r+1])
}

func (s *layers) Layer(i int) (cka.Matrix, error) {
	set, _, k := s.at(i)
	m, err := set.Layer(k)
	if err != nil {
		return cka.Matrix{}, err
	}
	if s.rows == nil {
		return cka.Matrix(m), nil
	}
	out := cka.Matrix{Rows: len(s.rows), Cols: m.Cols, Data: make([]float32, 0, len(s.rows)*m.Cols)}
	for _, r := range s.rows {
		out.Data = append(out.Data, m.Row(r)...)
	}
	return out, nil
}

// meanInts is the mean of v over rows (all of v when rows is nil).
func meanInts(v []int, rows []int) float64 {
	if rows == nil {
		s := 0
		for _, x := range v {
			s += x
		}
		return float64(s) / float64(len(v))
	}
	s := 0
	for _, i := range rows {
		s += v[i]
	}
	return float64(s) / float64(len(rows))
}
