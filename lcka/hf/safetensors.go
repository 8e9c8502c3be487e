package hf

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"sync/atomic"
)

// MaxHeaderSize is the largest safetensors JSON header accepted (100 MB, the
// limit of the reference implementation).
const MaxHeaderSize = 100_000_000

// ErrClosed is returned when reading a tensor whose file has been closed.
var ErrClosed = errors.New("hf: safetensors file is closed")

// Tensor is one named array of a safetensors file. Its bytes alias the file's
// memory map: they stay valid until the file (or checkpoint) is closed.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	raw   []byte
	file  *File
}

// NumElements returns the product of the shape (1 for a scalar).
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Bytes returns the raw little-endian data of the tensor, without copying.
func (t *Tensor) Bytes() ([]byte, error) {
	if t.file != nil && t.file.closed.Load() {
		return nil, fmt.Errorf("%w: tensor %q of %s", ErrClosed, t.Name, t.file.path)
	}
	return t.raw, nil
}

// DropPages releases the resident memory of the tensor's bytes when they
// are memory-mapped (a no-op otherwise): a loader that has copied a tensor
// calls it so that the checkpoint and its copy are not resident together.
// The bytes stay readable (the kernel reads them again from the file).
func (t *Tensor) DropPages() {
	if t.file == nil || t.file.unmap == nil || t.file.closed.Load() {
		return
	}
	dropPages(t.raw)
}

func (t *Tensor) bytesOf(want ...DType) ([]byte, error) {
	raw, err := t.Bytes()
	if err != nil {
		return nil, err
	}
	for _, d := range want {
		if t.DType == d {
			return raw, nil
		}
	}
	return nil, fmt.Errorf("hf: tensor %q has dtype %s, want %v", t.Name, t.DType, want)
}

// Float32 returns a new slice with the tensor converted to float32. F32,
// BF16 and F16 convert exactly; F64 is rounded to the nearest float32.
func (t *Tensor) Float32() ([]float32, error) {
	raw, err := t.bytesOf(F32, BF16, F16, F64)
	if err != nil {
		return nil, err
	}
	n := len(raw) / t.DType.Size()
	out := make([]float32, n)
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = BF16ToFloat32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case F16:
		for i := range out {
			out[i] = F16ToFloat32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	}
	return out, nil
}

// Float64 returns a new slice with the tensor converted to float64; exact for
// every floating-point dtype.
func (t *Tensor) Float64() ([]float64, error) {
	if t.DType == F64 {
		raw, err := t.Bytes()
		if err != nil {
			return nil, err
		}
		out := make([]float64, len(raw)/8)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		return out, nil
	}
	f, err := t.Float32()
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(f))
	for i, v := range f {
		out[i] = float64(v)
	}
	return out, nil
}

// Uint8 returns the data of a U8 tensor (such as MXFP4 blocks and scales),
// aliasing the file's memory.
func (t *Tensor) Uint8() ([]uint8, error) {
	return t.bytesOf(U8)
}

// Int32 returns a copy of the data of an I32 tensor.
func (t *Tensor) Int32() ([]int32, error) {
	raw, err := t.bytesOf(I32)
	if err != nil {
		return nil, err
	}
	out := make([]int32, len(raw)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out, nil
}

// Int64 returns a copy of the data of an I64 tensor.
func (t *Tensor) Int64() ([]int64, error) {
	raw, err := t.bytesOf(I64)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(raw)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return out, nil
}

// File is an open safetensors file.
type File struct {
	path     string
	data     []byte // Whole file.
	unmap    func() error
	closed   atomic.Bool
	names    []string // In file order of data offsets.
	tensors  map[string]*Tensor
	metadata map[string]string
}

// OpenSafetensors opens and validates a safetensors file. The file is memory
// mapped where the platform allows it and read into memory otherwise.
func OpenSafetensors(path string) (*File, error) {
	data, unmap, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("hf: %w", err)
	}
	f, err := ParseSafetensors(path, data)
	if err != nil {
		if unmap != nil {
			unmap()
		}
		return nil, err
	}
	f.unmap = unmap
	return f, nil
}

// ParseSafetensors validates the safetensors bytes data; name is used in
// error messages only. The tensors alias data.
func ParseSafetensors(name string, data []byte) (*File, error) {
	fail := func(format string, args ...any) (*File, error) {
		return nil, fmt.Errorf("hf: safetensors %s: %s", name, fmt.Sprintf(format, args...))
	}
	if len(data) < 8 {
		return fail("file has %d bytes, shorter than the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderSize {
		return fail("header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return fail("header length %d runs past the end of the file (%d bytes)", n, len(data))
	}
	header := data[8 : 8+n]
	body := data[8+n:]
	f := &File{path: name, data: data, tensors: map[string]*Tensor{}}
	if err := f.parseHeader(header, body); err != nil {
		return fail("%v", err)
	}
	return f, nil
}

type headerEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

type span struct {
	name       string
	begin, end int64
}

func (f *File) parseHeader(header, body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(header))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("header is not JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("header is not a JSON object")
	}
	var spans []span
	seenMeta := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("header: %v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return fmt.Errorf("header: key is not a string")
		}
		if name == "__metadata__" {
			if seenMeta {
				return fmt.Errorf("header has two __metadata__ entries")
			}
			seenMeta = true
			if err := dec.Decode(&f.metadata); err != nil {
				return fmt.Errorf("__metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		if _, dup := f.tensors[name]; dup {
			return fmt.Errorf("tensor %q appears twice in the header", name)
		}
		var e headerEntry
		if err := dec.Decode(&e); err != nil {
			return fmt.Errorf("tensor %q: invalid entry: %v", name, err)
		}
		t, s, err := checkEntry(name, e)
		if err != nil {
			return err
		}
		t.file = f
		f.tensors[name] = t
		spans = append(spans, s)
	}
	if _, err := dec.Token(); err != nil { // Closing brace.
		return fmt.Errorf("header: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("header has trailing data after the JSON object")
	}
	// Data must be laid out without overlap or holes and cover the body.
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].end < spans[j].end
	})
	var pos int64
	for _, s := range spans {
		switch {
		case s.begin < pos:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap the previous tensor (ending at %d)", s.name, s.begin, s.end, pos)
		case s.begin > pos:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] leave a hole after byte %d", s.name, s.begin, s.end, pos)
		case s.end > int64(len(body)):
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] run past the data section (%d bytes)", s.name, s.begin, s.end, len(body))
		}
		pos = s.end
		f.tensors[s.name].raw = body[s.begin:s.end:s.end]
		f.names = append(f.names, s.name)
	}
	if pos != int64(len(body)) {
		return fmt.Errorf("data section has %d bytes but the tensors cover %d", len(body), pos)
	}
	return nil
}

func checkEntry(name string, e headerEntry) (*Tensor, span, error) {
	fail := func(format string, args ...any) (*Tensor, span, error) {
		return nil, span{}, fmt.Errorf("tensor %q: %s", name, fmt.Sprintf(format, args...))
	}
	switch {
	case e.DType == nil:
		return fail("missing dtype")
	case e.Shape == nil:
		return fail("missing shape")
	case e.DataOffsets == nil:
		return fail("missing data_offsets")
	}
	dt := DType(*e.DType)
	size := dt.Size()
	if size == 0 {
		return fail("%v", errDType(dt))
	}
	shape := make([]int, len(*e.Shape))
	numel := int64(1)
	for i, d := range *e.Shape {
		if d < 0 {
			return fail("negative dimension %d in shape %v", d, *e.Shape)
		}
		if d > 0 && numel > math.MaxInt64/int64(size)/d {
			return fail("shape %v is too large", *e.Shape)
		}
		numel *= d
		shape[i] = int(d)
	}
	offs := *e.DataOffsets
	if len(offs) != 2 {
		return fail("data_offsets has %d values, want [begin, end]", len(offs))
	}
	begin, end := offs[0], offs[1]
	if begin < 0 || end < begin {
		return fail("invalid data_offsets [%d, %d]", begin, end)
	}
	if want := numel * int64(size); end-begin != want {
		return fail("data_offsets [%d, %d] hold %d bytes but dtype %s × shape %v needs %d", begin, end, end-begin, dt, shape, want)
	}
	return &Tensor{Name: name, DType: dt, Shape: shape}, span{name, begin, end}, nil
}

// Path returns the path the file was opened from.
func (f *File) Path() string { return f.path }

// Names returns the tensor names, in the order of their data in the file.
func (f *File) Names() []string { return append([]string(nil), f.names...) }

// Metadata returns the free-form __metadata__ map of the header (may be nil).
func (f *File) Metadata() map[string]string { return f.metadata }

// Tensor returns the tensor with the given name.
func (f *File) Tensor(name string) (*Tensor, error) {
	if f.closed.Load() {
		return nil, fmt.Errorf("%w: %s", ErrClosed, f.path)
	}
	t, ok := f.tensors[name]
	if !ok {
		return nil, fmt.Errorf("hf: no tensor %q in %s", name, f.path)
	}
	return t, nil
}

// Close releases the file's memory map. Tensors of the file become unusable.
func (f *File) Close() error {
	if f.closed.Swap(true) {
		return nil
	}
	if f.unmap != nil {
		return f.unmap()
	}
	return nil
}

// readWhole reads a file into memory, for platforms without mmap.
func readWhole(path string) ([]byte, error) {
	return os.ReadFile(path)
}
