package artifacts

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/layersim/layersim/internal/atomicfile"
)

// zipTime is the timestamp NumPy gives npz entries.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Writer writes one activation set layer by layer, so that a set larger
// than memory can be written. Nothing appears under the set's final names
// until Commit: the layers go to a hidden temporary file (or folder) in the
// activations folder, which Commit fsyncs and renames into place.
//
// A Writer must end with Commit or Abort; Abort after Commit does nothing,
// so
//
//	w, err := artifacts.Create(root, meta, slug, lang, "test", artifacts.NPZ)
//	if err != nil { ... }
//	defer w.Abort()
//	for each layer { if err := w.WriteLayer(m); err != nil { ... } }
//	return w.Commit(texts)
type Writer struct {
	p      setPaths
	meta   Meta
	format Format

	tmp  string        // temporary .npz file or folder
	f    *os.File      // the temporary .npz file
	bw   *bufio.Writer // buffers f
	zw   *zip.Writer
	n    int // layers written
	rows int
	done bool
}

// Create starts writing the set of model slug on language lang and split
// split under root, in the given format. meta.NumLayers must be the number
// of layers that will be written and meta.ModelID must not be empty.
func Create(root string, meta Meta, slug, lang, split string, format Format) (*Writer, error) {
	p, err := pathsOf(root, slug, lang, split)
	if err != nil {
		return nil, err
	}
	return create(p, meta, format)
}

// create starts writing the set (or part) whose files are p.
func create(p setPaths, meta Meta, format Format) (*Writer, error) {
	if err := checkMeta(meta); err != nil {
		return nil, err
	}
	if format != NPZ && format != NPZCompressed && format != NPYDir {
		return nil, fmt.Errorf("artifacts: unknown format %v", format)
	}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return nil, fmt.Errorf("artifacts: %w", err)
	}
	w := &Writer{p: p, meta: meta, format: format}
	var err error
	if format == NPYDir {
		if w.tmp, err = os.MkdirTemp(p.dir, "."+p.base+".tmp-"); err != nil {
			return nil, fmt.Errorf("artifacts: %w", err)
		}
		return w, nil
	}
	if w.f, err = os.CreateTemp(p.dir, "."+p.base+".npz.tmp-"); err != nil {
		return nil, fmt.Errorf("artifacts: %w", err)
	}
	w.tmp = w.f.Name()
	w.bw = bufio.NewWriterSize(w.f, 1<<20)
	w.zw = zip.NewWriter(w.bw)
	return w, nil
}

func checkMeta(m Meta) error {
	switch {
	case m.ModelID == "":
		return errors.New("artifacts: meta: ModelID is empty")
	case m.NumLayers < 1:
		return fmt.Errorf("artifacts: meta: NumLayers = %d, want >= 1", m.NumLayers)
	case m.MaxLength < 0 || m.TextsCount < 0:
		return fmt.Errorf("artifacts: meta: negative MaxLength (%d) or TextsCount (%d)", m.MaxLength, m.TextsCount)
	}
	if _, err := m.MarshalJSON(); err != nil {
		return fmt.Errorf("artifacts: %w", err)
	}
	return nil
}

// WriteLayer writes the next layer, layer_1 first. All layers must have the
// same number of rows.
func (w *Writer) WriteLayer(m Matrix) error {
	if w.done {
		return errors.New("artifacts: WriteLayer after Commit or Abort")
	}
	k := w.n + 1
	key := "layer_" + strconv.Itoa(k)
	if k > w.meta.NumLayers {
		return fmt.Errorf("artifacts: %s: %s is beyond meta NumLayers = %d", w.p.base, key, w.meta.NumLayers)
	}
	if err := m.check(); err != nil {
		return fmt.Errorf("artifacts: %s: %s: %w", w.p.base, key, err)
	}
	if k > 1 && m.Rows != w.rows {
		return fmt.Errorf("artifacts: %s: %s has %d rows, layer_1 has %d", w.p.base, key, m.Rows, w.rows)
	}
	var err error
	switch w.format {
	case NPYDir:
		err = writeNPYFile(filepath.Join(w.tmp, key+".npy"), m)
	case NPZ:
		err = w.writeStored(key+".npy", m)
	case NPZCompressed:
		var ew io.Writer
		ew, err = w.zw.CreateHeader(&zip.FileHeader{Name: key + ".npy", Method: zip.Deflate, Modified: zipTime})
		if err == nil {
			err = writeMatrix(ew, m)
		}
	}
	if err != nil {
		return fmt.Errorf("artifacts: %s: writing %s: %w", w.p.base, key, err)
	}
	w.n, w.rows = k, m.Rows
	return nil
}

// writeStored writes an uncompressed entry with its sizes and checksum in
// the local header (no data descriptor), as np.savez does.
func (w *Writer) writeStored(name string, m Matrix) error {
	crc := crc32.NewIEEE()
	if err := writeMatrix(crc, m); err != nil {
		return err
	}
	size := uint64(npyLen(m))
	ew, err := w.zw.CreateRaw(&zip.FileHeader{
		Name: name, Method: zip.Store, Modified: zipTime,
		CRC32: crc.Sum32(), CompressedSize64: size, UncompressedSize64: size,
	})
	if err != nil {
		return err
	}
	return writeMatrix(ew, m)
}

func writeNPYFile(path string, m Matrix) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = writeMatrix(bw, m)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Commit finishes the set: it writes texts (if not nil) to .texts.json,
// or removes a stale .texts.json if texts is nil, then .meta.json, and
// last renames the layers into place, so that a set is visible to Open
// and Discover only once all of its files are complete. A set of the
// same name in the other format (npz or npy folder) is removed. Replacing
// an npz is a single rename; replacing an npy folder takes two (the old
// folder is moved aside first), between which the set is briefly absent.
//
// If meta.TextsCount is 0 it is set to len(texts); otherwise it must equal
// len(texts).
func (w *Writer) Commit(texts []string) (err error) {
	if w.done {
		return errors.New("artifacts: Commit after Commit or Abort")
	}
	if w.n != w.meta.NumLayers {
		return fmt.Errorf("artifacts: %s: wrote %d of %d layers", w.p.base, w.n, w.meta.NumLayers)
	}
	if texts != nil {
		switch {
		case w.meta.TextsCount == 0:
			w.meta.TextsCount = len(texts)
		case w.meta.TextsCount != len(texts):
			return fmt.Errorf("artifacts: %s: %d texts, meta TextsCount = %d", w.p.base, len(texts), w.meta.TextsCount)
		}
	}
	// From here on the Writer is finished, committed or not.
	w.done = true
	defer func() {
		if err != nil {
			if w.f != nil {
				w.f.Close()
			}
			if w.tmp != "" {
				os.RemoveAll(w.tmp)
			}
		}
	}()
	if err := w.finishData(); err != nil {
		return fmt.Errorf("artifacts: %s: %w", w.tmp, err)
	}
	if texts != nil {
		if err := WriteJSON(w.p.texts, texts); err != nil {
			return err
		}
	} else if err := os.Remove(w.p.texts); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("artifacts: removing stale texts: %w", err)
	}
	if err := WriteJSON(w.p.meta, w.meta); err != nil {
		return err
	}
	if err := w.install(); err != nil {
		return fmt.Errorf("artifacts: %w", err)
	}
	return nil
}

// finishData closes and fsyncs the temporary data.
func (w *Writer) finishData() error {
	if w.format == NPYDir {
		if err := os.Chmod(w.tmp, 0o755); err != nil {
			return err
		}
		return atomicfile.SyncDir(w.tmp)
	}
	err := w.zw.Close()
	if err == nil {
		err = w.bw.Flush()
	}
	if err == nil {
		err = w.f.Chmod(0o644)
	}
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	return err
}

// install renames the temporary data to its final name and removes the
// set's data in the other format, if any.
func (w *Writer) install() error {
	final, other := w.p.npz, w.p.npyDir
	if w.format == NPYDir {
		final, other = w.p.npyDir, w.p.npz
		// A folder cannot be renamed over a non-empty one: move the old
		// one aside first.
		if _, err := os.Stat(final); err == nil {
			old, err := os.MkdirTemp(w.p.dir, "."+w.p.base+".old-")
			if err != nil {
				return err
			}
			aside := filepath.Join(old, "set")
			if err := os.Rename(final, aside); err != nil {
				os.Remove(old)
				return err
			}
			if err := os.Rename(w.tmp, final); err != nil {
				os.Rename(aside, final) // put the old set back
				os.Remove(old)
				return err
			}
			w.tmp = ""
			os.RemoveAll(old)
		}
	}
	if w.tmp != "" {
		if err := os.Rename(w.tmp, final); err != nil {
			return err
		}
	}
	w.tmp = ""
	if err := os.RemoveAll(other); err != nil {
		return err
	}
	return atomicfile.SyncDir(w.p.dir)
}

// Abort discards a set that was not committed. It does nothing after
// Commit.
func (w *Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	if w.f != nil {
		w.f.Close()
	}
	if w.tmp == "" {
		return nil
	}
	return os.RemoveAll(w.tmp)
}

// Write writes a whole set at once as an uncompressed .npz (np.savez
// layout), with texts if not nil. If meta.NumLayers is 0 it is set to
// len(layers). See Writer for the order of the files and atomicity.
func Write(root string, meta Meta, slug, lang, split string, layers []Matrix, texts []string) error {
	if meta.NumLayers == 0 {
		meta.NumLayers = len(layers)
	}
	if meta.NumLayers != len(layers) {
		return fmt.Errorf("artifacts: %d layers, meta NumLayers = %d", len(layers), meta.NumLayers)
	}
	w, err := Create(root, meta, slug, lang, split, NPZ)
	if err != nil {
		return err
	}
	defer w.Abort()
	for _, m := range layers {
		if err := w.WriteLayer(m); err != nil {
			return err
		}
	}
	return w.Commit(texts)
}

// WriteJSON writes v as indented JSON (HTML characters unescaped, final
// newline) to path, atomically: it writes a hidden temporary file in the
// same folder, fsyncs it, renames it to path and fsyncs the folder. Readers
// see either the old file or the complete new one.
func WriteJSON(path string, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("artifacts: encoding %s: %w", path, err)
	}
	if err := atomicfile.Write(path, b.Bytes()); err != nil {
		return fmt.Errorf("artifacts: %w", err)
	}
	return nil
}
