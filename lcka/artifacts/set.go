package artifacts

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Format is the on-disk form of a set's layers.
type Format int

const (
	// NPZ is an uncompressed .npz archive, as np.savez writes.
	NPZ Format = iota
	// NPZCompressed is a deflated .npz archive, as np.savez_compressed
	// writes. Open reports it when any layer entry is deflated.
	NPZCompressed
	// NPYDir is a folder holding one .npy file per layer.
	NPYDir
	// Parts is a sharded set read from its parts (OpenParts).
	Parts
)

func (f Format) String() string {
	switch f {
	case NPZ:
		return "npz"
	case NPZCompressed:
		return "npz (compressed)"
	case NPYDir:
		return "npy folder"
	case Parts:
		return "parts"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// Set is one activation set: the layers of one model on the texts of one
// language and split. Open and Discover check its files; Layer reads one
// layer at a time.
type Set struct {
	Model string // Meta.ModelID
	Slug  string // the folder name of the model under ROOT/models
	Lang  string // the folder name of the language
	Split string // e.g. "test"
	Meta  Meta

	Layers []int  // the layer numbers 1..L, L = Meta.NumLayers
	Rows   int    // N, the number of rows of every layer
	Cols   []int  // Cols[i] is D, the number of columns of layer Layers[i]
	Format Format // how the layers are stored
	Path   string // the .npz file or the .npy folder

	entries []string // per layer: the npz entry name or the .npy file name
	texts   string   // the path of the .texts.json file
	parts   []*Set   // the parts of a Parts set, in order
}

// setPaths are the file names of one set, all in its activations folder.
type setPaths struct {
	dir, base   string // ROOT/models/<slug>/<lang>/activations, <slug>_<lang>_<split>
	npz, npyDir string
	meta, texts string
}

func pathsOf(root, slug, lang, split string) (setPaths, error) {
	for _, n := range []struct{ what, v string }{{"slug", slug}, {"lang", lang}} {
		if err := checkName(n.v); err != nil {
			return setPaths{}, fmt.Errorf("artifacts: %s %q: %w", n.what, n.v, err)
		}
	}
	if err := checkSplit(split); err != nil {
		return setPaths{}, fmt.Errorf("artifacts: split %q: %w", split, err)
	}
	dir := filepath.Join(root, "models", slug, lang, "activations")
	base := slug + "_" + lang + "_" + split
	p := filepath.Join(dir, base)
	return setPaths{
		dir: dir, base: base,
		npz: p + ".npz", npyDir: p,
		meta: p + ".meta.json", texts: p + ".texts.json",
	}, nil
}

// checkName accepts a slug or language: a single path element that is not
// hidden.
func checkName(s string) error {
	switch {
	case s == "":
		return errors.New("empty name")
	case strings.HasPrefix(s, "."):
		return errors.New("name starts with '.'")
	case strings.ContainsAny(s, `/\`) || s != filepath.Base(s):
		return errors.New("name contains a path separator")
	}
	return nil
}

// checkSplit accepts a split name: like checkName, and without '.', so that
// "<slug>_<lang>_<split>.npz" parses back unambiguously.
func checkSplit(s string) error {
	if strings.Contains(s, ".") {
		return errors.New("split contains '.'")
	}
	return checkName(s)
}

// Open opens the set of model slug on language lang and split split under
// root, reading its meta.json and the header of every layer. It checks that
// the layers are layer_1 .. layer_L with L = meta num_layers, that each is a
// non-empty 2-D float16/32/64 array, and that all have the same number of
// rows. A set whose data file or folder does not exist is read from its
// parts when it has a parts folder (OpenParts); else the error matches
// fs.ErrNotExist.
func Open(root, slug, lang, split string) (*Set, error) {
	p, err := pathsOf(root, slug, lang, split)
	if err != nil {
		return nil, err
	}
	if !exists(p.npz) && !exists(p.npyDir) && exists(filepath.Join(p.dir, p.base+partsSuffix)) {
		return OpenParts(root, slug, lang, split)
	}
	return openPaths(p, slug, lang, split)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// openPaths opens the set (or part) whose files are p.
func openPaths(p setPaths, slug, lang, split string) (*Set, error) {
	var err error
	s := &Set{Slug: slug, Lang: lang, Split: split, texts: p.texts}
	zipInfo, zerr := os.Stat(p.npz)
	dirInfo, derr := os.Stat(p.npyDir)
	hasZip := zerr == nil && zipInfo.Mode().IsRegular()
	hasDir := derr == nil && dirInfo.IsDir()
	switch {
	case hasZip && hasDir:
		return nil, fmt.Errorf("artifacts: both %s and the folder %s exist; keep one", p.npz, p.npyDir)
	case hasZip:
		s.Path, s.Format = p.npz, NPZ
	case hasDir:
		s.Path, s.Format = p.npyDir, NPYDir
	default:
		return nil, fmt.Errorf("artifacts: no activations for %s: neither %s nor the folder %s: %w", p.base, p.npz, p.npyDir, fs.ErrNotExist)
	}
	if s.Meta, err = readMeta(p.meta); err != nil {
		return nil, err
	}
	s.Model = s.Meta.ModelID
	if s.Format == NPYDir {
		err = s.scanDir()
	} else {
		err = s.scanZip()
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func readMeta(path string) (Meta, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Meta{}, fmt.Errorf("artifacts: reading meta.json: %w", err)
	}
	var m Meta
	if err := json.Unmarshal(data, &m); err != nil {
		return Meta{}, fmt.Errorf("artifacts: %s: %w", path, err)
	}
	return m, nil
}

// layerKey parses an array name of the layout, "layer_<k>" with k >= 1 and
// no leading zeros. ok is false for names that are not layer keys at all;
// err is set for names that look like layer keys but break the layout.
func layerKey(name string) (k int, ok bool, err error) {
	digits, found := strings.CutPrefix(name, "layer_")
	if !found {
		return 0, false, nil
	}
	k, perr := strconv.Atoi(digits)
	if perr != nil || k < 1 || strconv.Itoa(k) != digits {
		return 0, true, fmt.Errorf("unexpected key %q: layer keys are layer_1, layer_2, …", name)
	}
	return k, true, nil
}

// setLayers checks that found holds exactly the keys 1..L and fills
// s.Layers and s.entries.
func (s *Set) setLayers(found map[int]string) error {
	L := s.Meta.NumLayers
	var missing, extra []string
	for k := 1; k <= L; k++ {
		if _, ok := found[k]; !ok {
			missing = append(missing, "layer_"+strconv.Itoa(k))
		}
	}
	for k := range found {
		if k > L {
			extra = append(extra, "layer_"+strconv.Itoa(k))
		}
	}
	slices.Sort(extra)
	switch {
	case len(missing) > 0:
		return fmt.Errorf("artifacts: %s: missing %s (meta.json num_layers = %d, found %d layers)", s.Path, listKeys(missing), L, len(found))
	case len(extra) > 0:
		return fmt.Errorf("artifacts: %s: has %s beyond meta.json num_layers = %d", s.Path, listKeys(extra), L)
	}
	s.Layers = make([]int, L)
	s.entries = make([]string, L)
	for k := 1; k <= L; k++ {
		s.Layers[k-1] = k
		s.entries[k-1] = found[k]
	}
	return nil
}

func listKeys(keys []string) string {
	const max = 10
	if len(keys) > max {
		return strings.Join(keys[:max], ", ") + fmt.Sprintf(" and %d more", len(keys)-max)
	}
	return strings.Join(keys, ", ")
}

// setShape records the shape of layer k, checking the row count.
func (s *Set) setShape(k int, h npyHeader) error {
	if k == 1 {
		s.Rows = h.shape[0]
		s.Cols = make([]int, len(s.Layers))
	} else if h.shape[0] != s.Rows {
		return fmt.Errorf("shape %s has %d rows, layer_1 has %d", shapeString(h.shape), h.shape[0], s.Rows)
	}
	s.Cols[k-1] = h.shape[1]
	return nil
}

// zipBound returns the number of bytes a zip entry can decompress to, given
// the size of the whole archive: deflate expands at most 1032 times.
func zipBound(f *zip.File, archive int64) int64 {
	if f.Method == zip.Store {
		return archive
	}
	if archive > math.MaxInt64/1032 {
		return math.MaxInt64
	}
	return archive*1032 + 1<<10
}

// openZip opens the .npz file at path.
func openZip(path string) (*os.File, *zip.Reader, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("artifacts: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, 0, fmt.Errorf("artifacts: %w", err)
	}
	zr, err := newZipReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, 0, fmt.Errorf("artifacts: %s: %w", path, err)
	}
	return f, zr, st.Size(), nil
}

func newZipReader(r io.ReaderAt, size int64) (*zip.Reader, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("not a valid npz (zip) archive: %w", err)
	}
	return zr, nil
}

// npzLayers maps the layer keys of an archive to their entry names. Entries
// are named "layer_<k>.npy" by np.savez; "layer_<k>" is accepted too.
// Entries that are not layer keys are ignored.
func npzLayers(zr *zip.Reader) (map[int]string, error) {
	found := map[int]string{}
	for _, f := range zr.File {
		k, ok, err := layerKey(strings.TrimSuffix(f.Name, ".npy"))
		if !ok {
			continue
		}
		if err != nil {
			return nil, err
		}
		if prev, dup := found[k]; dup {
			return nil, fmt.Errorf("layer_%d appears twice (entries %q and %q)", k, prev, f.Name)
		}
		found[k] = f.Name
	}
	return found, nil
}

func zipEntry(zr *zip.Reader, name string) *zip.File {
	for _, f := range zr.File {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// entrySize returns the uncompressed size of f, refusing sizes beyond int64.
func entrySize(f *zip.File) (int64, error) {
	if f.UncompressedSize64 > math.MaxInt64 {
		return 0, fmt.Errorf("entry size %d is out of range", f.UncompressedSize64)
	}
	return int64(f.UncompressedSize64), nil
}

// entryHeader reads and checks the .npy header of one archive entry.
func entryHeader(f *zip.File, archive int64) (npyHeader, error) {
	size, err := entrySize(f)
	if err != nil {
		return npyHeader{}, err
	}
	rc, err := f.Open()
	if err != nil {
		return npyHeader{}, err
	}
	defer rc.Close()
	h, err := readNPYHeader(rc, size)
	if err != nil {
		return h, err
	}
	_, err = checkMatrixHeader(h, size, zipBound(f, archive))
	return h, err
}

// readEntry reads one archive entry as a Matrix, verifying its checksum.
func readEntry(f *zip.File, archive int64) (Matrix, error) {
	size, err := entrySize(f)
	if err != nil {
		return Matrix{}, err
	}
	rc, err := f.Open()
	if err != nil {
		return Matrix{}, err
	}
	defer rc.Close()
	m, err := readMatrix(rc, size, zipBound(f, archive))
	if err != nil {
		return Matrix{}, err
	}
	// The zip reader checks the CRC-32 only when it reaches the end.
	if err := expectEOF(rc); err != nil {
		return Matrix{}, err
	}
	return m, nil
}

func expectEOF(r io.Reader) error {
	var one [1]byte
	for {
		n, err := r.Read(one[:])
		if n > 0 {
			return errors.New("unexpected bytes after the array data")
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (s *Set) scanZip() error {
	f, zr, size, err := openZip(s.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	found, err := npzLayers(zr)
	if err != nil {
		return fmt.Errorf("artifacts: %s: %w", s.Path, err)
	}
	if err := s.setLayers(found); err != nil {
		return err
	}
	for i, name := range s.entries {
		zf := zipEntry(zr, name)
		if zf.Method != zip.Store {
			s.Format = NPZCompressed
		}
		h, err := entryHeader(zf, size)
		if err == nil {
			err = s.setShape(i+1, h)
		}
		if err != nil {
			return fmt.Errorf("artifacts: %s: key %q: %w", s.Path, name, err)
		}
	}
	return nil
}

func (s *Set) scanDir() error {
	des, err := os.ReadDir(s.Path)
	if err != nil {
		return fmt.Errorf("artifacts: %w", err)
	}
	found := map[int]string{}
	for _, de := range des {
		name, isNPY := strings.CutSuffix(de.Name(), ".npy")
		if !isNPY || de.IsDir() {
			continue
		}
		k, ok, err := layerKey(name)
		if !ok {
			continue
		}
		if err != nil {
			return fmt.Errorf("artifacts: %s: %w", filepath.Join(s.Path, de.Name()), err)
		}
		found[k] = de.Name()
	}
	if err := s.setLayers(found); err != nil {
		return err
	}
	for i, name := range s.entries {
		path := filepath.Join(s.Path, name)
		h, err := fileHeader(path)
		if err == nil {
			err = s.setShape(i+1, h)
		}
		if err != nil {
			return fmt.Errorf("artifacts: %s: %w", path, err)
		}
	}
	return nil
}

func fileHeader(path string) (npyHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return npyHeader{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return npyHeader{}, err
	}
	h, err := readNPYHeader(f, st.Size())
	if err != nil {
		return h, err
	}
	_, err = checkMatrixHeader(h, st.Size(), st.Size())
	return h, err
}

func readFile(path string) (Matrix, error) {
	f, err := os.Open(path)
	if err != nil {
		return Matrix{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Matrix{}, err
	}
	return readMatrix(f, st.Size(), st.Size())
}

// Layer reads layer k (1-based, like the keys layer_1 .. layer_L) as a
// float32 matrix of Rows × Cols[k-1], converting float16 and float64 data
// and Fortran order. Only that layer is read. Values are not checked:
// NaN and Inf pass through.
func (s *Set) Layer(k int) (Matrix, error) {
	if s.Format == Parts {
		if k < 1 || k > len(s.Layers) {
			return Matrix{}, fmt.Errorf("artifacts: %s: layer %d out of range 1..%d", s.Path, k, len(s.Layers))
		}
		return s.partsLayer(k)
	}
	if k < 1 || k > len(s.entries) {
		return Matrix{}, fmt.Errorf("artifacts: %s: layer %d out of range 1..%d", s.Path, k, len(s.entries))
	}
	name := s.entries[k-1]
	var m Matrix
	var err error
	where := s.Path
	if s.Format == NPYDir {
		where = filepath.Join(s.Path, name)
		m, err = readFile(where)
	} else {
		where = fmt.Sprintf("%s: key %q", s.Path, name)
		m, err = s.readZipLayer(name)
	}
	if err != nil {
		return Matrix{}, fmt.Errorf("artifacts: %s: %w", where, err)
	}
	if m.Rows != s.Rows || m.Cols != s.Cols[k-1] {
		return Matrix{}, fmt.Errorf("artifacts: %s: shape (%d, %d) changed since Open (%d, %d)", where, m.Rows, m.Cols, s.Rows, s.Cols[k-1])
	}
	return m, nil
}

func (s *Set) readZipLayer(name string) (Matrix, error) {
	f, err := os.Open(s.Path)
	if err != nil {
		return Matrix{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Matrix{}, err
	}
	zr, err := newZipReader(f, st.Size())
	if err != nil {
		return Matrix{}, err
	}
	zf := zipEntry(zr, name)
	if zf == nil {
		return Matrix{}, errors.New("entry disappeared since Open")
	}
	return readEntry(zf, st.Size())
}

// Texts reads the set's .texts.json, a JSON array of strings. If meta.json
// has a positive texts_count, the array must have that many strings. A set
// without a texts file gives an error that matches fs.ErrNotExist.
func (s *Set) Texts() ([]string, error) {
	if s.Format == Parts {
		return s.partsTexts()
	}
	data, err := os.ReadFile(s.texts)
	if err != nil {
		return nil, fmt.Errorf("artifacts: reading texts: %w", err)
	}
	texts, err := parseTexts(data)
	if err != nil {
		return nil, fmt.Errorf("artifacts: %s: %w", s.texts, err)
	}
	if n := s.Meta.TextsCount; n > 0 && len(texts) != n {
		return nil, fmt.Errorf("artifacts: %s: %d texts, meta.json texts_count = %d", s.texts, len(texts), n)
	}
	return texts, nil
}

func parseTexts(data []byte) ([]string, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON array: %w", err)
	}
	if raw == nil {
		return nil, errors.New("not a JSON array: null")
	}
	texts := make([]string, len(raw))
	for i, r := range raw {
		if kind := jsonKind(r); kind != "string" {
			return nil, fmt.Errorf("element %d is a %s, want a string", i, kind)
		}
		if err := json.Unmarshal(r, &texts[i]); err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
	}
	return texts, nil
}

// Discover opens every set under root/models, in the layout described in
// the package documentation, sorted by slug, then language, then split.
// Hidden entries (names starting with '.') and names that do not fit the
// layout are skipped; symbolic links are followed. Sets that fail to open are left out, and their
// errors are joined into the returned error: a nil error means every set
// found is valid.
func Discover(root string) ([]*Set, error) {
	models := filepath.Join(root, "models")
	slugs, err := os.ReadDir(models)
	if err != nil {
		return nil, fmt.Errorf("artifacts: %w", err)
	}
	var sets []*Set
	var errs []error
	for _, slug := range slugs {
		if checkName(slug.Name()) != nil || !isDir(models, slug) {
			continue
		}
		langs, err := os.ReadDir(filepath.Join(models, slug.Name()))
		if err != nil {
			errs = append(errs, fmt.Errorf("artifacts: %w", err))
			continue
		}
		for _, lang := range langs {
			if checkName(lang.Name()) != nil || !isDir(filepath.Join(models, slug.Name()), lang) {
				continue
			}
			dir := filepath.Join(models, slug.Name(), lang.Name(), "activations")
			splits, err := findSplits(dir, slug.Name()+"_"+lang.Name()+"_")
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, split := range splits {
				s, err := Open(root, slug.Name(), lang.Name(), split)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				sets = append(sets, s)
			}
		}
	}
	return sets, errors.Join(errs...)
}

// findSplits lists the splits of the sets in an activations folder: files
// <prefix><split>.npz, folders <prefix><split> and parts folders
// <prefix><split>.parts. A missing folder has none.
func findSplits(dir, prefix string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("artifacts: %w", err)
	}
	var splits []string
	for _, de := range des {
		rest, ok := strings.CutPrefix(de.Name(), prefix)
		if !ok {
			continue
		}
		if !isDir(dir, de) {
			if rest, ok = strings.CutSuffix(rest, ".npz"); !ok {
				continue
			}
		} else {
			rest = strings.TrimSuffix(rest, partsSuffix)
		}
		if checkSplit(rest) == nil && !slices.Contains(splits, rest) {
			splits = append(splits, rest)
		}
	}
	slices.Sort(splits)
	return splits, nil
}

// isDir reports whether the entry de of folder dir is a folder, following
// symbolic links.
func isDir(dir string, de fs.DirEntry) bool {
	if de.Type()&fs.ModeSymlink == 0 {
		return de.IsDir()
	}
	st, err := os.Stat(filepath.Join(dir, de.Name()))
	return err == nil && st.IsDir()
}
