package hf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// encodeValues returns the little-endian bytes of values stored as d, as
// EncodeSafetensors writes them.
func encodeValues(d DType, values []float32) []byte {
	var out []byte
	for _, v := range values {
		switch d {
		case F32:
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		case BF16:
			out = binary.LittleEndian.AppendUint16(out, Float32ToBF16(v))
		case F16:
			out = binary.LittleEndian.AppendUint16(out, Float32ToF16(v))
		}
	}
	return out
}

func specsOf(tensors []TensorData) []TensorSpec {
	specs := make([]TensorSpec, len(tensors))
	for i, t := range tensors {
		specs[i] = TensorSpec{Name: t.Name, DType: t.DType, Shape: t.Shape}
	}
	return specs
}

// assertOnly checks that dir holds exactly the given file names (no
// temporary file left behind).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if len(got) != len(names) || (len(names) > 0 && !reflect.DeepEqual(got, names)) {
		t.Errorf("folder holds %v, want %v", got, names)
	}
}

// TestStreamMatchesEncode: the same tensors streamed by Write, by WriteFrom
// in pieces, and encoded whole give the same bytes.
func TestStreamMatchesEncode(t *testing.T) {
	vals := func(n int, scale float32) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = scale * float32(math.Sin(float64(i)*0.37+1))
		}
		return out
	}
	in := []TensorData{
		{Name: "model.embed_tokens.weight", DType: BF16, Shape: []int{5, 3}, Values: vals(15, 0.02)},
		{Name: "w32", DType: F32, Shape: []int{7}, Values: vals(7, 3)},
		{Name: "w16", DType: F16, Shape: []int{2, 3}, Values: vals(6, 100)},
		{Name: "scalar", DType: F32, Shape: nil, Values: []float32{9}},
		{Name: "empty", DType: BF16, Shape: []int{0, 4}, Values: nil},
		{Name: "big", DType: BF16, Shape: []int{StreamChunkSize/2 + 3}, Values: vals(StreamChunkSize/2+3, 1)},
		{Name: `odd "name" <&>`, DType: F32, Shape: []int{1, 1, 1}, Values: []float32{-0.5}},
	}
	for _, meta := range []map[string]string{nil, {"format": "pt", "a<b": "c&d"}} {
		want, err := EncodeSafetensors(in, meta)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []string{"Write", "WriteFrom"} {
			dir := t.TempDir()
			path := filepath.Join(dir, "model.safetensors")
			w, err := CreateSafetensors(path, specsOf(in), meta)
			if err != nil {
				t.Fatal(err)
			}
			pieces := 0
			for _, td := range in {
				if s, ok := w.Next(); !ok || s.Name != td.Name {
					t.Fatalf("Next = %v, %v, want %q", s, ok, td.Name)
				}
				data := encodeValues(td.DType, td.Values)
				if mode == "Write" {
					err = w.Write(td.Name, data)
				} else {
					var next int64
					err = w.WriteFrom(td.Name, func(off int64, buf []byte) error {
						if off != next || len(buf)%td.DType.Size() != 0 || len(buf) > StreamChunkSize {
							t.Errorf("%s: piece at %d of %d bytes, want offset %d", td.Name, off, len(buf), next)
						}
						next += int64(len(buf))
						pieces++
						copy(buf, data[off:])
						return nil
					})
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if _, ok := w.Next(); ok {
				t.Error("Next after the last tensor: ok")
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if mode == "WriteFrom" && pieces != 7 { // "empty" has none, "big" two
				t.Errorf("%d pieces, want 7", pieces)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s, metadata %v: %d bytes differ from EncodeSafetensors' %d", mode, meta, len(got), len(want))
			}
			assertOnly(t, dir, "model.safetensors")
			if err := w.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		}
	}
}

// TestStreamIntegerDTypes writes dtypes EncodeSafetensors cannot (U8, I32,
// I64) next to BF16 and F32: the layout is the hand-written one and
// OpenSafetensors reads every value back.
func TestStreamIntegerDTypes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mx.safetensors")
	specs := []TensorSpec{
		{Name: "blocks", DType: U8, Shape: []int{1, 3}},
		{Name: "w", DType: BF16, Shape: []int{2}},
		{Name: "ids", DType: I32, Shape: []int{2}},
		{Name: "n", DType: I64, Shape: []int{}},
		{Name: "f", DType: F32, Shape: []int{1}},
	}
	data := [][]byte{
		{7, 0, 255},
		encodeValues(BF16, []float32{1, -2}),
		binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 5), math.MaxUint32),
		binary.LittleEndian.AppendUint64(nil, 1<<40),
		encodeValues(F32, []float32{0.25}),
	}
	w, err := CreateSafetensors(path, specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range specs {
		if err := w.Write(s.Name, data[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	header := `{"blocks":{"dtype":"U8","shape":[1,3],"data_offsets":[0,3]},` +
		`"w":{"dtype":"BF16","shape":[2],"data_offsets":[3,7]},` +
		`"ids":{"dtype":"I32","shape":[2],"data_offsets":[7,15]},` +
		`"n":{"dtype":"I64","shape":[],"data_offsets":[15,23]},` +
		`"f":{"dtype":"F32","shape":[1],"data_offsets":[23,27]}}`
	for (8+len(header))%8 != 0 {
		header += " "
	}
	want := build(header, bytes.Join(data, nil))
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, want) {
		t.Errorf("file =\n%q\nwant\n%q", got, want)
	}
	f, err := OpenSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if names := f.Names(); !reflect.DeepEqual(names, []string{"blocks", "w", "ids", "n", "f"}) {
		t.Errorf("names = %v", names)
	}
	check := func(name string, got, want any, err error) {
		t.Helper()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v (%v), want %v", name, got, err, want)
		}
	}
	tn, _ := f.Tensor("blocks")
	u8, err := tn.Uint8()
	check("blocks", u8, []uint8{7, 0, 255}, err)
	tn, _ = f.Tensor("w")
	bf, err := tn.Float32()
	check("w", bf, []float32{1, -2}, err)
	tn, _ = f.Tensor("ids")
	i32, err := tn.Int32()
	check("ids", i32, []int32{5, -1}, err)
	tn, _ = f.Tensor("n")
	i64, err := tn.Int64()
	check("n", i64, []int64{1 << 40}, err)
}

// TestStreamErrors: every misuse is reported, later calls keep failing, and
// no file (final or temporary) is left behind.
func TestStreamErrors(t *testing.T) {
	specs := []TensorSpec{{Name: "a", DType: F32, Shape: []int{2}}, {Name: "b", DType: U8, Shape: []int{3}}}
	a, b := make([]byte, 8), make([]byte, 3)
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		run  func(w *StreamWriter) error
		want string
	}{
		{"short", func(w *StreamWriter) error { return w.Write("a", a[:7]) }, `tensor "a": got 7 bytes, want 8`},
		{"long", func(w *StreamWriter) error { return w.Write("a", append(a, 0)) }, "got 9 bytes, want 8"},
		{"order", func(w *StreamWriter) error { return w.Write("b", b) }, `got tensor "b", want "a"`},
		{"unknown", func(w *StreamWriter) error { return w.Write("c", b) }, `got tensor "c", want "a"`},
		{"repeat", func(w *StreamWriter) error {
			if err := w.Write("a", a); err != nil {
				return err
			}
			return w.Write("a", a)
		}, `got tensor "a", want "b"`},
		{"extra", func(w *StreamWriter) error {
			w.Write("a", a)
			w.Write("b", b)
			return w.Write("b", b)
		}, "already written"},
		{"missing", func(w *StreamWriter) error {
			w.Write("a", a)
			return w.Close()
		}, `1 of 2 tensors not written, the first "b"`},
		{"none", func(w *StreamWriter) error { return w.Close() }, `2 of 2 tensors not written`},
		{"fill error", func(w *StreamWriter) error {
			return w.WriteFrom("a", func(int64, []byte) error { return boom })
		}, "boom"},
		{"abort", func(w *StreamWriter) error {
			w.Write("a", a)
			w.Write("b", b)
			w.Abort()
			return w.Close()
		}, "aborted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.safetensors")
			w, err := CreateSafetensors(path, specs, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.run(w)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if tc.name == "fill error" && !errors.Is(err, boom) {
				t.Errorf("err = %v does not wrap the fill error", err)
			}
			if err2 := w.Close(); err2 == nil {
				t.Error("Close after an error: no error")
			}
			if err3 := w.Write("a", a); err3 == nil {
				t.Error("Write after an error: no error")
			}
			assertOnly(t, dir)
		})
	}
	// An existing destination survives a failed write.
	dir := t.TempDir()
	path := filepath.Join(dir, "x.safetensors")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := CreateSafetensors(path, specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write("a", a)
	w.Abort()
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("destination = %q after Abort, want the old content", got)
	}
	assertOnly(t, dir, "x.safetensors")
}

func TestStreamCreateErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		specs []TensorSpec
		want  string
	}{
		{"dtype", []TensorSpec{{Name: "a", DType: "F4", Shape: []int{1}}}, `unknown safetensors dtype "F4"`},
		{"dup", []TensorSpec{{Name: "a", DType: F32}, {Name: "a", DType: U8}}, "given twice"},
		{"name", []TensorSpec{{Name: "__metadata__", DType: F32}}, "invalid name"},
		{"neg", []TensorSpec{{Name: "a", DType: F32, Shape: []int{2, -1}}}, "negative dimension"},
		{"huge", []TensorSpec{{Name: "a", DType: F64, Shape: []int{1 << 31, 1 << 31, 1 << 31}}}, "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := CreateSafetensors(filepath.Join(dir, "x.safetensors"), tc.specs, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			assertOnly(t, dir)
		})
	}
	if _, err := CreateSafetensors(filepath.Join(t.TempDir(), "missing", "x.safetensors"), nil, nil); err == nil {
		t.Error("a missing folder: no error")
	}
}

func TestTensorSpecNumBytes(t *testing.T) {
	for _, tc := range []struct {
		s    TensorSpec
		want int64
	}{
		{TensorSpec{DType: BF16, Shape: []int{3, 4}}, 24},
		{TensorSpec{DType: U8, Shape: []int{32, 2880, 90, 16}}, 32 * 2880 * 90 * 16},
		{TensorSpec{DType: F32}, 4},
		{TensorSpec{DType: F32, Shape: []int{5, 0}}, 0},
	} {
		if got := tc.s.NumBytes(); got != tc.want {
			t.Errorf("%v: NumBytes = %d, want %d", tc.s, got, tc.want)
		}
	}
}
