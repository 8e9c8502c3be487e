package hf

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/layersim/layersim/internal/atomicfile"
)

// TensorSpec declares one tensor of a file written by a StreamWriter: its
// name, element type and shape. Any dtype with a known size may be written.
type TensorSpec struct {
	Name  string
	DType DType
	Shape []int
}

// NumBytes returns the size of the tensor's data in bytes.
func (s TensorSpec) NumBytes() int64 {
	n := int64(s.DType.Size())
	for _, d := range s.Shape {
		n *= int64(d)
	}
	return n
}

// StreamChunkSize is the largest piece that StreamWriter.WriteFrom asks
// for, in bytes (a multiple of 8, so that a piece always holds whole
// elements).
const StreamChunkSize = 16 << 20

// ErrStreamAborted is returned by the methods of a StreamWriter that was
// aborted.
var ErrStreamAborted = errors.New("hf: safetensors stream writer was aborted")

// StreamWriter writes a safetensors file tensor by tensor, so that the data
// never has to sit in memory at once. The tensors are declared up front by
// CreateSafetensors, which writes the header (laid out as EncodeSafetensors
// does: in the given order, metadata first, data 8-byte aligned); their
// bytes are then supplied in the same order with Write or WriteFrom. The
// data goes to a temporary file in the destination folder, renamed over
// the destination by Close once every tensor is complete. After any error,
// or Abort, the temporary file is removed and the destination is untouched.
//
// A StreamWriter is not safe for concurrent use.
type StreamWriter struct {
	path    string
	f       *os.File
	specs   []TensorSpec
	sizes   []int64
	next    int   // index of the tensor being written
	written int64 // bytes of specs[next] written so far
	buf     []byte
	err     error // sticky: set on the first failure, or ErrStreamAborted
	done    bool  // closed successfully
}

// CreateSafetensors starts a safetensors file at path holding the given
// tensors, in that order, and the optional metadata, and writes its header.
// The data must then be supplied with Write or WriteFrom, tensor by tensor,
// and the file finished with Close (or dropped with Abort).
func CreateSafetensors(path string, tensors []TensorSpec, metadata map[string]string) (*StreamWriter, error) {
	hdr, sizes, err := encodeStreamHeader(tensors, metadata)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("hf: %w", err)
	}
	w := &StreamWriter{path: path, f: f, sizes: sizes}
	w.specs = make([]TensorSpec, len(tensors))
	for i, t := range tensors {
		w.specs[i] = TensorSpec{Name: t.Name, DType: t.DType, Shape: append([]int(nil), t.Shape...)}
	}
	if _, err := f.Write(hdr); err != nil {
		return nil, w.fail(fmt.Errorf("hf: writing %s: %w", path, err))
	}
	return w, nil
}

// encodeStreamHeader returns the 8-byte length and padded JSON header of a
// safetensors file holding tensors, with the same layout as
// EncodeSafetensors, and the data size of every tensor.
func encodeStreamHeader(tensors []TensorSpec, metadata map[string]string) ([]byte, []int64, error) {
	type entry struct {
		DType       DType   `json:"dtype"`
		Shape       []int   `json:"shape"`
		DataOffsets []int64 `json:"data_offsets"`
	}
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	if len(metadata) > 0 {
		m, err := json.Marshal(metadata)
		if err != nil {
			return nil, nil, fmt.Errorf("hf: safetensors metadata: %v", err)
		}
		hdr.WriteString(`"__metadata__":`)
		hdr.Write(m)
	}
	seen := map[string]bool{}
	sizes := make([]int64, len(tensors))
	var off int64
	for i, t := range tensors {
		if t.Name == "" || t.Name == "__metadata__" {
			return nil, nil, fmt.Errorf("hf: safetensors tensor %d: invalid name %q", i, t.Name)
		}
		if seen[t.Name] {
			return nil, nil, fmt.Errorf("hf: safetensors tensor %q given twice", t.Name)
		}
		seen[t.Name] = true
		size := int64(t.DType.Size())
		if size == 0 {
			return nil, nil, fmt.Errorf("hf: safetensors tensor %q: %v", t.Name, errDType(t.DType))
		}
		for _, d := range t.Shape {
			if d < 0 {
				return nil, nil, fmt.Errorf("hf: safetensors tensor %q: negative dimension in shape %v", t.Name, t.Shape)
			}
			if d > 0 && size > (math.MaxInt64-off)/int64(d) {
				return nil, nil, fmt.Errorf("hf: safetensors tensor %q: shape %v is too large", t.Name, t.Shape)
			}
			size *= int64(d)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		e, _ := json.Marshal(entry{t.DType, shape, []int64{off, off + size}})
		name, _ := json.Marshal(t.Name)
		if hdr.Len() > 1 {
			hdr.WriteByte(',')
		}
		hdr.Write(name)
		hdr.WriteByte(':')
		hdr.Write(e)
		sizes[i] = size
		off += size
	}
	hdr.WriteByte('}')
	// Pad the header with spaces so that the data starts 8-byte aligned.
	for (8+hdr.Len())%8 != 0 {
		hdr.WriteByte(' ')
	}
	if hdr.Len() > MaxHeaderSize {
		return nil, nil, fmt.Errorf("hf: safetensors header of %d bytes exceeds the limit of %d", hdr.Len(), MaxHeaderSize)
	}
	out := make([]byte, 8, 8+hdr.Len())
	binary.LittleEndian.PutUint64(out, uint64(hdr.Len()))
	return append(out, hdr.Bytes()...), sizes, nil
}

// Path returns the destination path of the file.
func (w *StreamWriter) Path() string { return w.path }

// Next returns the tensor whose data is expected next, and false once every
// tensor is written.
func (w *StreamWriter) Next() (TensorSpec, bool) {
	if w.next >= len(w.specs) {
		return TensorSpec{}, false
	}
	return w.specs[w.next], true
}

// Write writes the whole data of the next tensor, which must be called
// name: its little-endian bytes, exactly as many as its dtype and shape
// need (none, for a tensor with a zero dimension, which must still be
// written).
func (w *StreamWriter) Write(name string, data []byte) error {
	if err := w.begin(name); err != nil {
		return err
	}
	if want := w.sizes[w.next]; int64(len(data)) != want {
		s := w.specs[w.next]
		return w.fail(fmt.Errorf("hf: safetensors %s: tensor %q: got %d bytes, want %d (dtype %s × shape %v)",
			w.path, name, len(data), want, s.DType, s.Shape))
	}
	return w.put(data)
}

// WriteFrom writes the data of the next tensor, which must be called name,
// piece by piece: fill is called with the byte offset of each piece within
// the tensor and a reused buffer to fill completely (at most
// StreamChunkSize bytes, always whole elements), in increasing offset
// order. An error from fill aborts the file.
func (w *StreamWriter) WriteFrom(name string, fill func(off int64, buf []byte) error) error {
	if err := w.begin(name); err != nil {
		return err
	}
	size := w.sizes[w.next]
	if size == 0 {
		return w.put(nil)
	}
	for off := int64(0); off < size; {
		n := min(size-off, StreamChunkSize)
		if int64(len(w.buf)) < n {
			w.buf = make([]byte, n)
		}
		piece := w.buf[:n]
		if err := fill(off, piece); err != nil {
			return w.fail(fmt.Errorf("hf: safetensors %s: tensor %q at byte %d: %w", w.path, name, off, err))
		}
		if err := w.put(piece); err != nil {
			return err
		}
		off += n
	}
	return nil
}

// begin checks that the writer is usable and that name is the next tensor.
func (w *StreamWriter) begin(name string) error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return fmt.Errorf("hf: safetensors %s: writer is closed", w.path)
	}
	if w.next >= len(w.specs) {
		return w.fail(fmt.Errorf("hf: safetensors %s: tensor %q: every declared tensor is already written", w.path, name))
	}
	if want := w.specs[w.next].Name; name != want {
		return w.fail(fmt.Errorf("hf: safetensors %s: got tensor %q, want %q (tensor %d of %d, in declared order)",
			w.path, name, want, w.next+1, len(w.specs)))
	}
	return nil
}

// put writes bytes of the current tensor and moves on when it is complete.
func (w *StreamWriter) put(data []byte) error {
	if _, err := w.f.Write(data); err != nil {
		return w.fail(fmt.Errorf("hf: writing %s: %w", w.path, err))
	}
	w.written += int64(len(data))
	if w.written == w.sizes[w.next] {
		w.next++
		w.written = 0
	}
	return nil
}

// fail records err, removes the temporary file and returns err.
func (w *StreamWriter) fail(err error) error {
	if w.err == nil {
		w.err = err
		w.f.Close()
		os.Remove(w.f.Name())
	}
	return err
}

// Abort drops the file: the temporary file is removed and the destination
// is left as it was. It does nothing after Close succeeded.
func (w *StreamWriter) Abort() {
	if w.done || w.err != nil {
		return
	}
	w.fail(ErrStreamAborted)
}

// Close finishes the file once every tensor is written: the temporary file
// is synced, closed and renamed over the destination, and the folder
// synced. If a tensor is missing, or anything fails, the file is dropped
// and the destination is left as it was.
func (w *StreamWriter) Close() error {
	if w.done {
		return nil
	}
	if w.err != nil {
		return w.err
	}
	if w.next < len(w.specs) {
		s := w.specs[w.next]
		if w.written > 0 {
			return w.fail(fmt.Errorf("hf: safetensors %s: tensor %q is incomplete (%d of %d bytes written)", w.path, s.Name, w.written, w.sizes[w.next]))
		}
		return w.fail(fmt.Errorf("hf: safetensors %s: %d of %d tensors not written, the first %q", w.path, len(w.specs)-w.next, len(w.specs), s.Name))
	}
	if err := w.f.Chmod(0o644); err != nil {
		return w.fail(fmt.Errorf("hf: %w", err))
	}
	if err := w.f.Sync(); err != nil {
		return w.fail(fmt.Errorf("hf: syncing %s: %w", w.path, err))
	}
	if err := w.f.Close(); err != nil {
		return w.fail(fmt.Errorf("hf: closing %s: %w", w.path, err))
	}
	if err := os.Rename(w.f.Name(), w.path); err != nil {
		return w.fail(fmt.Errorf("hf: %w", err))
	}
	w.done = true
	if err := atomicfile.SyncDir(filepath.Dir(w.path)); err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	return nil
}
