package artifacts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// PartsKey is the meta.json field that makes a set a part of a sharded
// set: an object with at least "index" and "count" (this is part index of
// count, 0-based), "first" (the row of the whole set that is this part's
// row 0), "rows" (this part's rows) and "texts" (the whole set's rows).
// Its other fields describe how the set was cut and must agree between
// the parts.
const PartsKey = "shard"

// partsSuffix ends the name of the folder that holds the parts of a set.
const partsSuffix = ".parts"

// Part is the "shard" field of a part's meta.json.
type Part struct {
	Index int `json:"index"` // 0-based
	Count int `json:"count"` // parts of the whole set
	First int `json:"first"` // row of the whole set of this part's row 0
	Rows  int `json:"rows"`  // rows of this part
	Texts int `json:"texts"` // rows of the whole set
}

// PartBase is the base name of part index of count in a parts folder:
// "part-<index>-of-<count>".
func PartBase(index, count int) string {
	return "part-" + strconv.Itoa(index) + "-of-" + strconv.Itoa(count)
}

// parsePartBase parses a PartBase name (without extension).
func parsePartBase(name string) (index, count int, ok bool) {
	rest, found := strings.CutPrefix(name, "part-")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(rest, "-of-")
	if !found {
		return 0, 0, false
	}
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || strconv.Itoa(i) != a || strconv.Itoa(n) != b || i < 0 || n < 1 || i >= n {
		return 0, 0, false
	}
	return i, n, true
}

// PartsDir returns the folder that holds the parts of the set of model
// slug on language lang and split split:
// ROOT/models/<slug>/<lang>/activations/<slug>_<lang>_<split>.parts.
func PartsDir(root, slug, lang, split string) (string, error) {
	p, err := pathsOf(root, slug, lang, split)
	if err != nil {
		return "", err
	}
	return filepath.Join(p.dir, p.base+partsSuffix), nil
}

// partPaths are the file names of part index of count.
func partPaths(root, slug, lang, split string, index, count int) (setPaths, error) {
	dir, err := PartsDir(root, slug, lang, split)
	if err != nil {
		return setPaths{}, err
	}
	if count < 1 || index < 0 || index >= count {
		return setPaths{}, fmt.Errorf("artifacts: part %d of %d is out of range", index, count)
	}
	base := PartBase(index, count)
	p := filepath.Join(dir, base)
	return setPaths{dir: dir, base: base, npz: p + ".npz", npyDir: p, meta: p + ".meta.json", texts: p + ".texts.json"}, nil
}

// CreatePart starts writing part index of count of a set, in its parts
// folder, as Create does a whole set. meta must hold the "shard" field
// (PartsKey) describing the part.
func CreatePart(root string, meta Meta, slug, lang, split string, index, count int, format Format) (*Writer, error) {
	p, err := partPaths(root, slug, lang, split, index, count)
	if err != nil {
		return nil, err
	}
	part, err := partOf(meta)
	if err != nil {
		return nil, fmt.Errorf("artifacts: %s: %w", p.base, err)
	}
	if part.Index != index || part.Count != count {
		return nil, fmt.Errorf("artifacts: %s: meta.json says part %d of %d", p.base, part.Index, part.Count)
	}
	return create(p, meta, format)
}

// OpenPart opens part index of count of a set, as Open opens a whole set.
// A part whose data file or folder does not exist gives an error that
// matches fs.ErrNotExist.
func OpenPart(root, slug, lang, split string, index, count int) (*Set, error) {
	p, err := partPaths(root, slug, lang, split, index, count)
	if err != nil {
		return nil, err
	}
	return openPaths(p, slug, lang, split)
}

// PartOf returns the "shard" field of a part's meta.json.
func (s *Set) PartOf() (Part, error) { return partOf(s.Meta) }

func partOf(m Meta) (Part, error) {
	raw, ok := m.Extra[PartsKey]
	if !ok {
		return Part{}, fmt.Errorf("meta.json has no %q field", PartsKey)
	}
	var p Part
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&p); err != nil {
		return Part{}, fmt.Errorf("meta.json %q: %w", PartsKey, err)
	}
	if p.Count < 1 || p.Index < 0 || p.Index >= p.Count || p.First < 0 || p.Rows < 1 || p.First+p.Rows > p.Texts {
		return Part{}, fmt.Errorf("meta.json %q is inconsistent: part %d of %d, rows %d..%d of %d",
			PartsKey, p.Index, p.Count, p.First, p.First+p.Rows-1, p.Texts)
	}
	return p, nil
}

// OpenParts opens the parts of a sharded set as one set: its layers and
// texts are those of the parts, concatenated in order, and its Meta is the
// parts' meta.json without the "shard" field and with texts_count the
// whole set's, which is what a set written in one piece holds when the
// parts carry the whole set's fields (as package extract writes them).
//
// It checks that the parts are complete and agree: every part of 0…count−1
// present and readable, one count, every meta.json field equal but
// texts_count and the part's own "index", "first" and "rows", rows that
// follow each other with no gap or overlap from 0 to the whole set's
// "texts", and the same layers and widths. The error names every part that
// is missing or differs.
func OpenParts(root, slug, lang, split string) (*Set, error) {
	dir, err := PartsDir(root, slug, lang, split)
	if err != nil {
		return nil, err
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("artifacts: %w", err)
	}
	// Parts by their names: the data (an .npz or a folder) is renamed into
	// place last, so a part without it is not finished.
	counts := map[int][]string{}
	found := map[int]bool{}
	for _, de := range des {
		name := de.Name()
		if !isDir(dir, de) {
			var ok bool
			if name, ok = strings.CutSuffix(name, ".npz"); !ok {
				continue
			}
		}
		i, n, ok := parsePartBase(name)
		if !ok {
			continue
		}
		counts[n] = append(counts[n], name)
		found[i] = true
	}
	switch len(counts) {
	case 0:
		return nil, fmt.Errorf("artifacts: %s holds no finished part: %w", dir, fs.ErrNotExist)
	case 1:
	default:
		var all []string
		for _, names := range counts {
			all = append(all, names...)
		}
		slices.Sort(all)
		return nil, fmt.Errorf("artifacts: %s holds parts of different shardings (%s): keep the parts of one", dir, strings.Join(all, ", "))
	}
	var count int
	for n := range counts {
		count = n
	}
	var missing []string
	for i := range count {
		if !found[i] {
			missing = append(missing, strconv.Itoa(i))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("artifacts: %s: missing part(s) %s of %d (%s not written or not finished)",
			dir, listKeys(missing), count, PartBase(mustAtoi(missing[0]), count)+".npz")
	}
	parts := make([]*Set, count)
	infos := make([]Part, count)
	var errs []error
	for i := range count {
		s, err := OpenPart(root, slug, lang, split, i, count)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		info, err := s.PartOf()
		if err == nil && (info.Index != i || info.Count != count) {
			err = fmt.Errorf("meta.json says part %d of %d", info.Index, info.Count)
		}
		if err == nil && (info.Rows != s.Rows || s.Meta.TextsCount != s.Rows) {
			err = fmt.Errorf("%d rows, but meta.json says %q rows %d and texts_count %d", s.Rows, PartsKey, info.Rows, s.Meta.TextsCount)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("artifacts: %s: %w", s.Path, err))
			continue
		}
		parts[i], infos[i] = s, info
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := checkPartsAgree(parts); err != nil {
		return nil, err
	}
	if err := checkPartsCover(dir, infos); err != nil {
		return nil, err
	}
	first := parts[0]
	meta := first.Meta
	meta.TextsCount = infos[0].Texts
	meta.Extra = map[string]json.RawMessage{}
	for k, v := range first.Meta.Extra {
		if k != PartsKey {
			meta.Extra[k] = v
		}
	}
	return &Set{
		Model: meta.ModelID, Slug: slug, Lang: lang, Split: split, Meta: meta,
		Layers: first.Layers, Rows: infos[0].Texts, Cols: first.Cols, Format: Parts, Path: dir,
		parts: parts,
	}, nil
}

func mustAtoi(s string) int {
	v, _ := strconv.Atoi(s)
	return v
}

// partOwn are the "shard" fields that differ from part to part.
var partOwn = []string{"index", "first", "rows"}

// checkPartsAgree compares every part's meta.json and shape with part 0's.
func checkPartsAgree(parts []*Set) error {
	var errs []error
	ref := parts[0]
	refFields, err := comparableMeta(ref.Meta)
	if err != nil {
		return fmt.Errorf("artifacts: %s: %w", ref.Path, err)
	}
	for _, s := range parts[1:] {
		fields, err := comparableMeta(s.Meta)
		if err != nil {
			errs = append(errs, fmt.Errorf("artifacts: %s: %w", s.Path, err))
			continue
		}
		var diffs []string
		for _, k := range unionKeys(refFields, fields) {
			a, b := refFields[k], fields[k]
			if !bytes.Equal(a, b) {
				diffs = append(diffs, fmt.Sprintf("%s %s here, %s in %s", k, orAbsent(b), orAbsent(a), filepath.Base(ref.Path)))
			}
		}
		if len(diffs) == 0 && !slices.Equal(s.Cols, ref.Cols) {
			diffs = append(diffs, fmt.Sprintf("layer widths %v here, %v in %s", s.Cols, ref.Cols, filepath.Base(ref.Path)))
		}
		if len(diffs) > 0 {
			errs = append(errs, fmt.Errorf("artifacts: %s does not match the other parts: %s", s.Path, strings.Join(diffs, "; ")))
		}
	}
	return errors.Join(errs...)
}

func orAbsent(v json.RawMessage) string {
	if v == nil {
		return "(absent)"
	}
	return string(v)
}

// comparableMeta flattens a meta.json into the fields every part must
// share: all but texts_count, with the "shard" object's own fields left
// out and its other fields as "shard.<key>".
func comparableMeta(m Meta) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	for k, v := range map[string]any{"model_id": m.ModelID, "num_layers": m.NumLayers, "dtype": m.Dtype, "max_length": m.MaxLength, "subset": m.Subset} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out[k] = b
	}
	for k, v := range m.Extra {
		if k != PartsKey {
			out[k] = v
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(v, &obj); err != nil {
			return nil, fmt.Errorf("meta.json %q is not an object: %w", PartsKey, err)
		}
		for sk, sv := range obj {
			if !slices.Contains(partOwn, sk) {
				out[PartsKey+"."+sk] = sv
			}
		}
	}
	return out, nil
}

func unionKeys(a, b map[string]json.RawMessage) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// checkPartsCover checks that the parts' rows follow each other from 0 to
// the whole set's, with no gap or overlap.
func checkPartsCover(dir string, infos []Part) error {
	var errs []error
	next := 0
	for _, p := range infos {
		switch {
		case p.First > next:
			errs = append(errs, fmt.Errorf("rows %d..%d are in no part (%s starts at row %d)", next, p.First-1, PartBase(p.Index, p.Count), p.First))
		case p.First < next:
			errs = append(errs, fmt.Errorf("rows %d..%d are in two parts (%s starts at row %d)", p.First, next-1, PartBase(p.Index, p.Count), p.First))
		}
		next = p.First + p.Rows
	}
	if total := infos[0].Texts; next != total {
		errs = append(errs, fmt.Errorf("the last part ends at row %d, the set has %d rows", next-1, total))
	}
	if len(errs) > 0 {
		return fmt.Errorf("artifacts: %s: %w", dir, errors.Join(errs...))
	}
	return nil
}

// partsLayer reads layer k of every part and concatenates the rows.
func (s *Set) partsLayer(k int) (Matrix, error) {
	out := Matrix{Rows: s.Rows, Cols: s.Cols[k-1], Data: make([]float32, 0, s.Rows*s.Cols[k-1])}
	for _, p := range s.parts {
		m, err := p.Layer(k)
		if err != nil {
			return Matrix{}, err
		}
		out.Data = append(out.Data, m.Data...)
	}
	if len(out.Data) != out.Rows*out.Cols {
		return Matrix{}, fmt.Errorf("artifacts: %s: layer_%d has %d values, want %d×%d", s.Path, k, len(out.Data), out.Rows, out.Cols)
	}
	return out, nil
}

// partsTexts reads the texts of every part and concatenates them.
func (s *Set) partsTexts() ([]string, error) {
	var out []string
	for _, p := range s.parts {
		t, err := p.Texts()
		if err != nil {
			return nil, err
		}
		out = append(out, t...)
	}
	return out, nil
}

// Parts returns the parts of a set opened by OpenParts (nil for a set
// written in one piece), in order.
func (s *Set) Parts() []*Set { return slices.Clone(s.parts) }
