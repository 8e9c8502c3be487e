package artifacts

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
)

// npyBytes builds an .npy stream with an arbitrary header dictionary.
func npyBytes(dict string, data []byte) []byte {
	hlen := len(dict) + 1
	pad := (64 - (10+hlen)%64) % 64
	b := []byte(npyMagic + "\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(hlen+pad))
	b = append(b, dict...)
	b = append(b, strings.Repeat(" ", pad)+"\n"...)
	return append(b, data...)
}

func f32Bytes(order binary.AppendByteOrder, vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = order.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func TestReadNPYHeader(t *testing.T) {
	data6 := f32Bytes(binary.LittleEndian, 1, 2, 3, 4, 5, 6)
	tests := []struct {
		name    string
		dict    string
		fortran bool
		shape   []int
		err     string // substring of the error; "" for success
	}{
		{"numpy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", false, []int{2, 3}, ""},
		{"other key order", `{"shape": (2,3), "descr": "<f4", "fortran_order": True}`, true, []int{2, 3}, ""},
		{"python2 long", "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }", false, []int{2, 3}, ""},
		{"missing shape", "{'descr': '<f4', 'fortran_order': False, }", false, nil, `missing key "shape"`},
		{"extra key", "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", false, nil, `unexpected key "x"`},
		{"duplicate key", "{'descr': '<f4', 'descr': '<f4', }", false, nil, `duplicate key "descr"`},
		{"int dtype", "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }", false, nil, `unsupported dtype "<i8"`},
		{"structured", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", false, nil, "structured dtypes"},
		{"bad bool", "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", false, nil, "fortran_order"},
		{"bad shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", false, nil, "shape"},
		{"paren int", "{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", false, nil, "trailing comma"},
		{"not a dict", "['descr']", false, nil, "not a dictionary"},
		{"unterminated", "{'descr", false, nil, "unterminated"},
		{"trailing", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} x", false, nil, "trailing characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := npyBytes(tt.dict, data6)
			h, err := readNPYHeader(bytes.NewReader(b), int64(len(b)))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.fortran != tt.fortran || !equalInts(h.shape, tt.shape) || h.dtype.size != 4 {
				t.Errorf("got fortran=%v shape=%v size=%d, want %v %v 4", h.fortran, h.shape, h.dtype.size, tt.fortran, tt.shape)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReadMatrixErrors(t *testing.T) {
	hdr := func(descr, shape string) string {
		return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }"
	}
	d6 := f32Bytes(binary.LittleEndian, 1, 2, 3, 4, 5, 6)
	tests := []struct {
		name string
		b    []byte
		err  string
	}{
		{"empty", nil, "preamble"},
		{"bad magic", []byte("\x93NUMPZ\x01\x00\x00\x00"), "bad magic"},
		{"version 4", []byte(npyMagic + "\x04\x00\x00\x00"), "version 4.0"},
		{"header beyond stream", []byte(npyMagic + "\x01\x00\xff\x00{"), "does not fit"},
		{"1-D", npyBytes(hdr("<f4", "(6,)"), d6), "want a 2-D array"},
		{"3-D", npyBytes(hdr("<f4", "(1, 2, 3)"), d6), "want a 2-D array"},
		{"empty rows", npyBytes(hdr("<f4", "(0, 3)"), nil), "empty array"},
		{"truncated data", npyBytes(hdr("<f4", "(2, 3)"), d6[:20]), "truncated"},
		{"trailing data", npyBytes(hdr("<f4", "(2, 2)"), d6), "unexpected bytes"},
		{"huge shape", npyBytes(hdr("<f8", "(4000000000, 4000000000)"), d6), "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readMatrix(bytes.NewReader(tt.b), int64(len(tt.b)), int64(len(tt.b)))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("got error %v, want one containing %q", err, tt.err)
			}
		})
	}
}

// TestReadMatrixOrders checks the conversions of readMatrix on
// hand-built streams of the matrix [[1, 2, 3], [4, 5, 6]]: in C and Fortran
// order, little- and big-endian, float16/32/64. The expected values are the
// matrix itself (all exactly representable in float16).
func TestReadMatrixOrders(t *testing.T) {
	want := []float32{1, 2, 3, 4, 5, 6}
	cOrder := []float64{1, 2, 3, 4, 5, 6}
	fOrder := []float64{1, 4, 2, 5, 3, 6}
	enc := func(descr string, vs []float64) []byte {
		var bo binary.AppendByteOrder = binary.LittleEndian
		if descr[0] == '>' {
			bo = binary.BigEndian
		}
		var b []byte
		for _, v := range vs {
			switch descr[2] {
			case '2':
				b = bo.AppendUint16(b, f16bits[v])
			case '4':
				b = bo.AppendUint32(b, math.Float32bits(float32(v)))
			case '8':
				b = bo.AppendUint64(b, math.Float64bits(v))
			}
		}
		return b
	}
	for _, descr := range []string{"<f2", ">f2", "<f4", ">f4", "<f8", ">f8"} {
		for _, fortran := range []bool{false, true} {
			vs, order := cOrder, "False"
			if fortran {
				vs, order = fOrder, "True"
			}
			b := npyBytes("{'descr': '"+descr+"', 'fortran_order': "+order+", 'shape': (2, 3), }", enc(descr, vs))
			m, err := readMatrix(bytes.NewReader(b), int64(len(b)), int64(len(b)))
			if err != nil {
				t.Fatalf("%s fortran=%v: %v", descr, fortran, err)
			}
			if m.Rows != 2 || m.Cols != 3 || !equalFloats(m.Data, want) {
				t.Errorf("%s fortran=%v: got %d×%d %v, want 2×3 %v", descr, fortran, m.Rows, m.Cols, m.Data, want)
			}
		}
	}
}

// f16bits are IEEE binary16 encodings of small integers:
// sign 0, exponent 15+e, fraction; e.g. 1 = 0x3c00, 6 = 1.5·2^2 = 0x4600.
var f16bits = map[float64]uint16{1: 0x3c00, 2: 0x4000, 3: 0x4200, 4: 0x4400, 5: 0x4500, 6: 0x4600}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestFloat16Exhaustive checks float16to32 on all 65536 bit patterns
// against the IEEE 754 definition evaluated in float64:
// (-1)^s · 2^(e-15) · (1 + f/1024) for 1 <= e <= 30, (-1)^s · 2^-14 · f/1024
// for e = 0, ±Inf for e = 31, f = 0, and NaN for e = 31, f != 0. Every
// binary16 value is exact in float32, so the comparison is exact.
func TestFloat16Exhaustive(t *testing.T) {
	for bits := 0; bits < 1<<16; bits++ {
		s, e, f := bits>>15, (bits>>10)&0x1f, bits&0x3ff
		var want float64
		switch {
		case e == 31 && f == 0:
			want = math.Inf(1)
		case e == 31:
			want = math.NaN()
		case e == 0:
			want = math.Ldexp(float64(f)/1024, -14)
		default:
			want = math.Ldexp(1+float64(f)/1024, e-15)
		}
		if s == 1 {
			want = -want
		}
		got := float16to32(uint16(bits))
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) {
				t.Fatalf("bits %#04x: got %v, want NaN", bits, got)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != (s == 1) {
			t.Fatalf("bits %#04x: got %v, want %v", bits, got, want)
		}
	}
}

// TestFloat16NumPy compares with numpy's float16 -> float32 conversion on
// edge values (testdata/f16_special.*, from gen_fixtures.py, numpy 1.24.2),
// bit for bit, NaN payload included.
func TestFloat16NumPy(t *testing.T) {
	var ref struct {
		F16 []uint16 `json:"f16_bits"`
		F32 []uint32 `json:"f32_bits"`
	}
	readJSONFile(t, "testdata/f16_special.json", &ref)
	b, err := os.ReadFile("testdata/f16_special.npy")
	if err != nil {
		t.Fatal(err)
	}
	m, err := readMatrix(bytes.NewReader(b), int64(len(b)), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != 2 || m.Cols != 8 || len(ref.F32) != 16 {
		t.Fatalf("got %d×%d, want 2×8 (ref has %d values)", m.Rows, m.Cols, len(ref.F32))
	}
	for i, v := range m.Data {
		if got := math.Float32bits(v); got != ref.F32[i] {
			t.Errorf("element %d (f16 %#04x): got bits %#08x, numpy %#08x", i, ref.F16[i], got, ref.F32[i])
		}
		if got := math.Float32bits(float16to32(ref.F16[i])); got != ref.F32[i] {
			t.Errorf("float16to32(%#04x) = %#08x, numpy %#08x", ref.F16[i], got, ref.F32[i])
		}
	}
}

// TestWriteMatrixNumPyBytes checks that writeMatrix writes the file
// np.save writes (numpy 1.24.2, testdata/c_order_f32.npy), byte for byte.
// The array is arange(12).reshape(3, 4)/8 - 0.75, exact in float32.
func TestWriteMatrixNumPyBytes(t *testing.T) {
	want, err := os.ReadFile("testdata/c_order_f32.npy")
	if err != nil {
		t.Fatal(err)
	}
	m := Matrix{Rows: 3, Cols: 4, Data: make([]float32, 12)}
	for i := range m.Data {
		m.Data[i] = float32(i)/8 - 0.75
	}
	var b bytes.Buffer
	if err := writeMatrix(&b, m); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("got\n%q\nwant (np.save)\n%q", b.Bytes(), want)
	}
	if int64(b.Len()) != npyLen(m) {
		t.Errorf("npyLen = %d, wrote %d", npyLen(m), b.Len())
	}
	got, err := readMatrix(bytes.NewReader(want), int64(len(want)), int64(len(want)))
	if err != nil {
		t.Fatal(err)
	}
	if !equalFloats(got.Data, m.Data) {
		t.Errorf("read %v, want %v", got.Data, m.Data)
	}
}

// TestNPYHeaderAlignment checks the header rules of NumPy's format 1.0 for
// many shapes: total preamble a multiple of 64, newline last, header
// parses back to the shape.
func TestNPYHeaderAlignment(t *testing.T) {
	for _, shape := range [][2]int{{1, 1}, {7, 3}, {20000, 2048}, {123456789, 1}, {1, 123456789012}} {
		h := npyHeaderBytes(shape[0], shape[1])
		if len(h)%64 != 0 || h[len(h)-1] != '\n' {
			t.Errorf("shape %v: header of %d bytes, last %q", shape, len(h), h[len(h)-1])
		}
		got, err := readNPYHeader(bytes.NewReader(h), -1)
		if err != nil || got.shape[0] != shape[0] || got.shape[1] != shape[1] || got.headerLen != int64(len(h)) {
			t.Errorf("shape %v: parsed %v (%d bytes), %v", shape, got.shape, got.headerLen, err)
		}
	}
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestNPYVersion3 reads a format 3.0 stream (4-byte header length, UTF-8
// header), built by hand after NumPy's format documentation.
func TestNPYVersion3(t *testing.T) {
	dict := "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }\n"
	b := binary.LittleEndian.AppendUint32([]byte(npyMagic+"\x03\x00"), uint32(len(dict)))
	b = append(append(b, dict...), f32Bytes(binary.LittleEndian, 1.5, -2)...)
	m, err := readMatrix(bytes.NewReader(b), int64(len(b)), int64(len(b)))
	if err != nil || m.Rows != 1 || m.Cols != 2 || !equalFloats(m.Data, []float32{1.5, -2}) {
		t.Fatalf("got %+v, %v", m, err)
	}
}
