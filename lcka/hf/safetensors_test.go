package hf

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

type refTensor struct {
	Shape   []int     `json:"shape"`
	F32Bits []uint32  `json:"f32_bits"`
	F64     []float64 `json:"f64"`
	Ints    []any     `json:"ints"`
}

// TestReadReference reads a file laid out by hand in Python
// (testdata/gen_ref.py) and compares every value bit for bit.
func TestReadReference(t *testing.T) {
	var ref struct {
		Metadata map[string]string    `json:"metadata"`
		Tensors  map[string]refTensor `json:"tensors"`
	}
	data, err := os.ReadFile("testdata/ref.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	f, err := OpenSafetensors("testdata/ref.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !reflect.DeepEqual(f.Metadata(), ref.Metadata) {
		t.Errorf("metadata = %v, want %v", f.Metadata(), ref.Metadata)
	}
	if len(f.Names()) != len(ref.Tensors) {
		t.Errorf("names = %v, want %d tensors", f.Names(), len(ref.Tensors))
	}
	for name, want := range ref.Tensors {
		tn, err := f.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(tn.Shape, want.Shape) {
			t.Errorf("%s: shape %v, want %v", name, tn.Shape, want.Shape)
		}
		switch {
		case want.F32Bits != nil:
			got, err := tn.Float32()
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want.F32Bits) {
				t.Fatalf("%s: %d values, want %d", name, len(got), len(want.F32Bits))
			}
			for i, b := range want.F32Bits {
				if math.Float32bits(got[i]) != b {
					t.Errorf("%s[%d] = %v, want %v", name, i, got[i], math.Float32frombits(b))
				}
			}
		case want.F64 != nil:
			got, err := tn.Float64()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want.F64) {
				t.Errorf("%s = %v, want %v", name, got, want.F64)
			}
			g32, _ := tn.Float32()
			for i := range g32 {
				if g32[i] != float32(want.F64[i]) {
					t.Errorf("%s Float32[%d] = %v, want %v", name, i, g32[i], float32(want.F64[i]))
				}
			}
		default:
			var got []int64
			switch tn.DType {
			case I32:
				v, err := tn.Int32()
				if err != nil {
					t.Fatal(err)
				}
				for _, x := range v {
					got = append(got, int64(x))
				}
			case I64:
				v, err := tn.Int64()
				if err != nil {
					t.Fatal(err)
				}
				got = v
			case U8:
				v, err := tn.Uint8()
				if err != nil {
					t.Fatal(err)
				}
				for _, x := range v {
					got = append(got, int64(x))
				}
			}
			for i, w := range want.Ints {
				var wi int64
				switch w := w.(type) {
				case float64:
					wi = int64(w)
				case string:
					wi, _ = strconv.ParseInt(w, 10, 64)
				}
				if i >= len(got) || got[i] != wi {
					t.Errorf("%s[%d] = %v, want %d", name, i, got, wi)
					break
				}
			}
		}
	}
	// Type mismatches are errors, not conversions.
	a, _ := f.Tensor("a.weight")
	if _, err := a.Int64(); err == nil {
		t.Error("Int64 of an F32 tensor: want an error")
	}
	g, _ := f.Tensor("g.blocks")
	if _, err := g.Float32(); err == nil {
		t.Error("Float32 of a U8 tensor: want an error")
	}
	if _, err := f.Tensor("nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing tensor error = %v", err)
	}
	f.Close()
	if _, err := a.Float32(); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: err = %v, want ErrClosed", err)
	}
}

// build makes safetensors bytes from a raw header and a body.
func build(header string, body []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(out, header...), body...)
}

func TestParseErrors(t *testing.T) {
	body8 := make([]byte, 8)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "shorter than the 8-byte header length"},
		{"header past end", binary.LittleEndian.AppendUint64(nil, 100), "runs past the end"},
		{"huge header", binary.LittleEndian.AppendUint64(nil, 1<<40), "exceeds the limit"},
		{"not json", build("nope", nil), "not JSON"},
		{"not object", build("[1]", nil), "not a JSON object"},
		{"unknown dtype", build(`{"x":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}`, body8), `tensor "x": unknown safetensors dtype "Q7"`},
		{"missing dtype", build(`{"x":{"shape":[2],"data_offsets":[0,8]}}`, body8), `"x": missing dtype`},
		{"missing shape", build(`{"x":{"dtype":"F32","data_offsets":[0,8]}}`, body8), "missing shape"},
		{"missing offsets", build(`{"x":{"dtype":"F32","shape":[2]}}`, body8), "missing data_offsets"},
		{"negative dim", build(`{"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, body8), "negative dimension"},
		{"float dim", build(`{"x":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}`, body8), `"x": invalid entry`},
		{"size mismatch", build(`{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, body8), "needs 12"},
		{"reversed", build(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}`, body8), "invalid data_offsets"},
		{"three offsets", build(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}}`, body8), "has 3 values"},
		{"out of range", build(`{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, body8), "run past the data section"},
		{"overlap", build(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, body8), "overlap"},
		{"hole", build(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, body8), "leave a hole"},
		{"trailing bytes", build(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, body8), "data section has 8 bytes but the tensors cover 4"},
		{"duplicate", build(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, body8), `tensor "x" appears twice`},
		{"bad metadata", build(`{"__metadata__":{"a":1}}`, nil), "__metadata__ must map strings to strings"},
		{"trailing json", build(`{} {}`, nil), "trailing data"},
		{"overflow", build(`{"x":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, body8), "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSafetensors("f.safetensors", tc.data)
			if err == nil {
				t.Fatalf("want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "f.safetensors") {
				t.Errorf("error %q does not name the file and contain %q", err, tc.want)
			}
		})
	}
}

func TestParseEdgeCases(t *testing.T) {
	// Empty file body, zero-sized tensor, scalar, padding spaces.
	data := build(`{"e":{"dtype":"BF16","shape":[0,3],"data_offsets":[0,0]},"s":{"dtype":"F16","shape":[],"data_offsets":[0,2]}}   `, []byte{0x00, 0x3c})
	f, err := ParseSafetensors("edge", data)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := f.Tensor("e")
	if v, err := e.Float32(); err != nil || len(v) != 0 || e.NumElements() != 0 {
		t.Errorf("empty tensor: %v, %v", v, err)
	}
	s, _ := f.Tensor("s")
	if v, err := s.Float32(); err != nil || len(v) != 1 || v[0] != 1 {
		t.Errorf("scalar: %v, %v", v, err)
	}
	if _, err := ParseSafetensors("empty", build(`{}`, nil)); err != nil {
		t.Errorf("empty header: %v", err)
	}
}

func TestWriteReadBack(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	vals := []float32{1, -2.5, 0.1, 3e-6, 65504, -0, 1e-8}
	in := []TensorData{
		{Name: "w32", DType: F32, Shape: []int{7}, Values: vals},
		{Name: "w16", DType: F16, Shape: []int{7, 1}, Values: vals},
		{Name: "wbf", DType: BF16, Shape: []int{1, 7}, Values: vals},
		{Name: "scalar", DType: F32, Shape: nil, Values: []float32{9}},
	}
	if err := WriteSafetensors(path, in, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	f, err := OpenSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.Names(); !reflect.DeepEqual(got, []string{"w32", "w16", "wbf", "scalar"}) {
		t.Errorf("names = %v", got)
	}
	if f.Metadata()["format"] != "pt" {
		t.Errorf("metadata = %v", f.Metadata())
	}
	for _, td := range in {
		tn, err := f.Tensor(td.Name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tn.Float32()
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range td.Values {
			var want float32
			switch td.DType {
			case F32:
				want = v
			case F16:
				want = F16ToFloat32(Float32ToF16(v))
			case BF16:
				want = BF16ToFloat32(Float32ToBF16(v))
			}
			if math.Float32bits(got[i]) != math.Float32bits(want) {
				t.Errorf("%s[%d] = %v, want %v", td.Name, i, got[i], want)
			}
		}
	}
	// Data starts 8-byte aligned and no temporary file is left behind.
	raw, _ := os.ReadFile(path)
	if n := binary.LittleEndian.Uint64(raw); (8+n)%8 != 0 {
		t.Errorf("header length %d leaves data unaligned", n)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only the file", len(entries))
	}
}

func TestWriteErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []TensorData
		want string
	}{
		{"count", []TensorData{{Name: "a", DType: F32, Shape: []int{2}, Values: []float32{1}}}, "2 elements but 1 values"},
		{"dtype", []TensorData{{Name: "a", DType: I32, Shape: []int{1}, Values: []float32{1}}}, "cannot write dtype"},
		{"dup", []TensorData{{Name: "a", DType: F32, Values: []float32{1}}, {Name: "a", DType: F32, Values: []float32{1}}}, "given twice"},
		{"name", []TensorData{{Name: "", DType: F32, Values: []float32{1}}}, "invalid name"},
		{"neg", []TensorData{{Name: "a", DType: F32, Shape: []int{-1}}}, "negative dimension"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.safetensors")
			err := WriteSafetensors(path, tc.in, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if _, serr := os.Stat(path); serr == nil {
				t.Error("a file was written despite the error")
			}
		})
	}
}

// FuzzParseSafetensors: arbitrary bytes give a File or an error, never a
// panic; accepted files have consistent tensors.
func FuzzParseSafetensors(f *testing.F) {
	ref, err := os.ReadFile("testdata/ref.safetensors")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ref)
	f.Add(build(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(build(`{"__metadata__":{"a":"b"}}`, nil))
	f.Add(build(`{"x":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}`, []byte{7}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := ParseSafetensors("fuzz", data)
		if err != nil {
			return
		}
		for _, name := range sf.Names() {
			tn, err := sf.Tensor(name)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := tn.Bytes()
			if len(raw) != tn.NumElements()*tn.DType.Size() {
				t.Fatalf("%s: %d bytes for %d elements of %s", name, len(raw), tn.NumElements(), tn.DType)
			}
			if tn.DType.IsFloat() {
				if v, err := tn.Float32(); err != nil || len(v) != tn.NumElements() {
					t.Fatalf("%s: Float32 gave %d values, err %v", name, len(v), err)
				}
			}
		}
	})
}
