package artifacts

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func addFiles(f *testing.F, pattern string) {
	paths, err := filepath.Glob(pattern)
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seed files for %s: %v", pattern, err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzReadNPY feeds arbitrary bytes to the .npy reader. It must not panic;
// whatever it accepts must be a consistent matrix that survives a write
// and read back bit for bit.
func FuzzReadNPY(f *testing.F) {
	addFiles(f, "testdata/*.npy")
	addFiles(f, "testdata/root/models/tiny-npy/en/activations/tiny-npy_en_test/*.npy")
	f.Add(npyBytes("{'descr': '>f8', 'fortran_order': True, 'shape': (2, 1), }", make([]byte, 16)))
	f.Add(npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (1L, 2L), }", []byte{0, 0x3c, 1, 0}))
	f.Add([]byte(npyMagic + "\x02\x00\x10\x00\x00\x00{'descr': '<f4'}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Unknown stream size (as inside a stream) must not panic either.
		readMatrix(bytes.NewReader(data), -1, int64(len(data)))

		m, err := readMatrix(bytes.NewReader(data), int64(len(data)), int64(len(data)))
		if err != nil {
			return
		}
		if err := m.check(); err != nil {
			t.Fatalf("accepted an inconsistent matrix: %v", err)
		}
		var b bytes.Buffer
		if err := writeMatrix(&b, m); err != nil {
			t.Fatal(err)
		}
		m2, err := readMatrix(bytes.NewReader(b.Bytes()), int64(b.Len()), int64(b.Len()))
		if err != nil {
			t.Fatalf("cannot read back what was written: %v", err)
		}
		if m2.Rows != m.Rows || m2.Cols != m.Cols || !equalFloats(m.Data, m2.Data) {
			t.Fatal("write and read back changed the matrix")
		}
	})
}

// FuzzReadNPZ feeds arbitrary bytes to the .npz reader: listing the layer
// keys, reading every header and every entry. It must not panic, and what
// it reads must be consistent.
func FuzzReadNPZ(f *testing.F) {
	// Small seeds: the fuzzer minimizes every new input, in time quadratic
	// in its length, so the numpy fixtures (0.5-1.3 kB) would stall it.
	// TestDiscoverNumPyFixtures covers those files.
	small := func(descr string, data []byte) []byte { // an unpadded header
		dict := "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (1, 1)}\n"
		b := binary.LittleEndian.AppendUint16([]byte(npyMagic+"\x01\x00"), uint16(len(dict)))
		return append(append(b, dict...), data...)
	}
	for _, method := range []uint16{zip.Store, zip.Deflate} {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for _, e := range []entry{
			{"layer_1.npy", small("<f4", f32Bytes(binary.LittleEndian, 1))},
			{"layer_2.npy", small("<f2", []byte{0, 0x3c})},
		} {
			w, _ := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: method})
			w.Write(e.data)
		}
		zw.Close()
		zr, err := newZipReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
		if err != nil {
			f.Fatal(err)
		}
		for _, zf := range zr.File {
			if _, err := readEntry(zf, int64(b.Len())); err != nil {
				f.Fatalf("seed entry %s: %v", zf.Name, err)
			}
		}
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		zr, err := newZipReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		npzLayers(zr)
		for i, zf := range zr.File {
			if i == 8 {
				break
			}
			h, herr := entryHeader(zf, int64(len(data)))
			m, err := readEntry(zf, int64(len(data)))
			if err != nil {
				continue
			}
			if herr != nil {
				t.Fatalf("entry %q: header rejected (%v) but data read", zf.Name, herr)
			}
			if err := m.check(); err != nil || m.Rows != h.shape[0] || m.Cols != h.shape[1] {
				t.Fatalf("entry %q: inconsistent matrix %d×%d, header %v: %v", zf.Name, m.Rows, m.Cols, h.shape, err)
			}
		}
	})
}

// FuzzMeta feeds arbitrary bytes to the meta.json reader. It must not
// panic; what it accepts must satisfy the documented invariants and
// survive a write and read back unchanged.
func FuzzMeta(f *testing.F) {
	addFiles(f, "testdata/root/models/*/*/activations/*.meta.json")
	for _, s := range []string{
		goodMeta,
		`{"model_id": "x", "num_layers": 1, "extra": {"a": [1, 2.5e3, null, true]}, "Model_ID": 3}`,
		`{"model_id": "x", "num_layers": 2, "num_layers": 3}`,
		`{"model_id": "\u00e9\ud800", "num_layers": 9223372036854775807}`,
		`{"model_id": 1}`, `[]`, `null`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Meta
		if err := json.Unmarshal(data, &m); err != nil {
			return
		}
		if m.ModelID == "" || m.NumLayers < 1 || m.MaxLength < 0 || m.TextsCount < 0 {
			t.Fatalf("accepted invalid meta %+v", m)
		}
		// Encoded as WriteJSON encodes it: json.Marshal would escape '&',
		// '<' and '>' in the extra fields' raw values, which WriteJSON keeps.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m); err != nil {
			t.Fatalf("cannot write accepted meta: %v", err)
		}
		out := buf.Bytes()
		var m2 Meta
		if err := json.Unmarshal(out, &m2); err != nil {
			t.Fatalf("cannot read back %s: %v", out, err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed meta:\n%+v\n%+v", m, m2)
		}
	})
}

// FuzzTexts feeds arbitrary bytes to the texts.json reader.
func FuzzTexts(f *testing.F) {
	addFiles(f, "testdata/root/models/*/*/activations/*.texts.json")
	f.Add([]byte(`["a", 1]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		texts, err := parseTexts(data)
		if err != nil {
			return
		}
		out, err := json.Marshal(texts)
		if err != nil {
			t.Fatal(err)
		}
		back, err := parseTexts(out)
		if err != nil || !reflect.DeepEqual(back, texts) {
			t.Fatalf("round trip changed texts: %q -> %q (%v)", texts, back, err)
		}
	})
}
