package artifacts

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// entry is a named npz entry or npy file.
type entry struct {
	name string
	data []byte
}

// f32npy is a valid .npy stream of a rows×cols float32 array of ones.
func f32npy(rows, cols int) []byte {
	vs := make([]float32, rows*cols)
	for i := range vs {
		vs[i] = 1
	}
	return npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': ("+strconv.Itoa(rows)+", "+strconv.Itoa(cols)+"), }", f32Bytes(binary.LittleEndian, vs...))
}

func zipBytes(t *testing.T, method uint16, entries ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const goodMeta = `{"model_id": "m/x", "num_layers": 2, "dtype": "float32", "max_length": 16, "texts_count": 2, "subset": "s"}`

// mkSet writes the files of set m/en/test under a new root. A nil npz
// means no .npz file; a nil dir means no .npy folder.
func mkSet(t *testing.T, meta string, npzData []byte, dir []entry, texts string) string {
	t.Helper()
	root := t.TempDir()
	act := filepath.Join(root, "models/m/en/activations")
	must(t, os.MkdirAll(act, 0o755))
	if meta != "" {
		must(t, os.WriteFile(filepath.Join(act, "m_en_test.meta.json"), []byte(meta), 0o644))
	}
	if npzData != nil {
		must(t, os.WriteFile(filepath.Join(act, "m_en_test.npz"), npzData, 0o644))
	}
	if dir != nil {
		must(t, os.MkdirAll(filepath.Join(act, "m_en_test"), 0o755))
		for _, e := range dir {
			must(t, os.WriteFile(filepath.Join(act, "m_en_test", e.name), e.data, 0o644))
		}
	}
	if texts != "" {
		must(t, os.WriteFile(filepath.Join(act, "m_en_test.texts.json"), []byte(texts), 0o644))
	}
	return root
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}

func TestOpenBadSets(t *testing.T) {
	l1, l2 := entry{"layer_1.npy", f32npy(2, 3)}, entry{"layer_2.npy", f32npy(2, 4)}
	badMagic := f32npy(2, 3)
	badMagic[3] = 'X'
	badHeader := npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", f32Bytes(binary.LittleEndian, 1, 2, 3, 4, 5, 6))
	meta5 := strings.Replace(goodMeta, `"num_layers": 2`, `"num_layers": 5`, 1)
	tests := []struct {
		name  string
		meta  string
		npz   []entry
		dir   []entry
		parts []string
	}{
		{"missing layers", meta5, []entry{l1, {"layer_3.npy", f32npy(2, 3)}, {"layer_5.npy", f32npy(2, 3)}}, nil,
			[]string{"m_en_test.npz", "missing layer_2, layer_4", "num_layers = 5"}},
		{"beyond num_layers", goodMeta, []entry{l1, l2, {"layer_3.npy", f32npy(2, 3)}}, nil,
			[]string{"has layer_3 beyond meta.json num_layers = 2"}},
		{"layer_0", goodMeta, []entry{{"layer_0.npy", f32npy(2, 3)}, l1, l2}, nil, []string{`unexpected key "layer_0"`}},
		{"leading zero", goodMeta, []entry{l1, {"layer_02.npy", f32npy(2, 3)}}, nil, []string{`unexpected key "layer_02"`}},
		{"duplicate", goodMeta, []entry{l1, l2, {"layer_1", f32npy(2, 3)}}, nil, []string{"layer_1 appears twice"}},
		{"rows differ", goodMeta, []entry{l1, {"layer_2.npy", f32npy(3, 3)}}, nil,
			[]string{`key "layer_2.npy"`, "has 3 rows, layer_1 has 2"}},
		{"1-D", goodMeta, []entry{l1, {"layer_2.npy", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", make([]byte, 8))}}, nil,
			[]string{`key "layer_2.npy"`, "want a 2-D array", "(2,)"}},
		{"int dtype", goodMeta, []entry{l1, {"layer_2.npy", npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 1), }", make([]byte, 8))}}, nil,
			[]string{`key "layer_2.npy"`, `unsupported dtype "<i4"`}},
		{"bad magic", goodMeta, []entry{l1, {"layer_2.npy", badMagic}}, nil, []string{`key "layer_2.npy"`, "bad magic"}},
		{"bad header", goodMeta, []entry{l1, {"layer_2.npy", badHeader}}, nil, []string{`key "layer_2.npy"`, "missing ',' or '}'"}},
		{"truncated entry", goodMeta, []entry{l1, {"layer_2.npy", f32npy(2, 4)[:80]}}, nil, []string{`key "layer_2.npy"`, "truncated"}},
		{"dir missing layer", goodMeta, nil, []entry{l1, {"notes.txt", nil}}, []string{"m_en_test: missing layer_2"}},
		{"dir truncated file", goodMeta, nil, []entry{l1, {"layer_2.npy", f32npy(2, 4)[:130]}}, []string{"layer_2.npy: truncated"}},
		{"dir bad header", goodMeta, nil, []entry{{"layer_1.npy", badHeader}, l2}, []string{"layer_1.npy: npy header"}},
		{"both formats", goodMeta, []entry{l1, l2}, []entry{l1, l2}, []string{"both", "keep one"}},
		{"no meta", "", []entry{l1, l2}, nil, []string{"meta.json", "no such file"}},
		{"bad meta", `{"model_id": 3}`, []entry{l1, l2}, nil, []string{"m_en_test.meta.json", `"model_id": want a string, got number 3`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var npzData []byte
			if tt.npz != nil {
				npzData = zipBytes(t, zip.Store, tt.npz...)
			}
			root := mkSet(t, tt.meta, npzData, tt.dir, "")
			_, err := Open(root, "m", "en", "test")
			wantErr(t, err, tt.parts...)
			// Discover reports the same problem and returns no set.
			sets, derr := Discover(root)
			if len(sets) != 0 {
				t.Errorf("Discover returned %d sets", len(sets))
			}
			wantErr(t, derr, tt.parts...)
		})
	}
}

// TestTruncatedNPZ cuts numpy-written archives (stored and deflated) at
// many lengths: Open or Layer must fail, never panic, never succeed.
func TestTruncatedNPZ(t *testing.T) {
	for _, lang := range []string{"en", "hi"} {
		src := "testdata/root/models/org__tiny_f32/" + lang + "/activations/org__tiny_f32_" + lang + "_test"
		full, err := os.ReadFile(src + ".npz")
		must(t, err)
		meta, err := os.ReadFile(src + ".meta.json")
		must(t, err)
		for _, n := range []int{0, 1, 4, 22, 100, len(full) / 2, len(full) - 22, len(full) - 1} {
			root := mkSet(t, strings.Replace(string(meta), `"org/tiny_f32"`, `"m/x"`, 1), full[:n], nil, "")
			s, err := Open(root, "m", "en", "test")
			if err == nil {
				_, err = s.Layer(1)
			}
			wantErr(t, err, "m_en_test.npz")
		}
	}
}

// TestCorruptNPZData flips one data byte of each layer entry of a stored
// archive: the headers still parse, so Open succeeds, and Layer must
// report the CRC-32 mismatch.
func TestCorruptNPZData(t *testing.T) {
	for _, method := range []uint16{zip.Store, zip.Deflate} {
		l1, l2 := f32npy(2, 3), f32npy(2, 4)
		archive := zipBytes(t, method, entry{"layer_1.npy", l1}, entry{"layer_2.npy", l2})
		// Find the stored data of layer_2 in the archive and change it.
		if method == zip.Store {
			i := bytes.LastIndex(archive, l2)
			if i < 0 {
				t.Fatal("layer_2 data not found in stored archive")
			}
			archive[i+len(l2)-1] ^= 0x40
		} else {
			// Change a byte of the compressed stream of the last entry:
			// the deflate stream then fails or decodes to other bytes.
			zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
			must(t, err)
			off, err := zr.File[1].DataOffset()
			must(t, err)
			archive[off+int64(zr.File[1].CompressedSize64)/2] ^= 0x10
		}
		root := mkSet(t, goodMeta, archive, nil, "")
		s, err := Open(root, "m", "en", "test")
		if err != nil {
			// A corrupt deflate stream may already break the header.
			wantErr(t, err, `key "layer_2.npy"`)
			continue
		}
		if _, err := s.Layer(1); err != nil {
			t.Errorf("intact layer_1: %v", err)
		}
		_, err = s.Layer(2)
		if method == zip.Store {
			wantErr(t, err, `key "layer_2.npy"`, "checksum error")
		} else {
			wantErr(t, err, `key "layer_2.npy"`)
		}
	}
}

func TestBadMeta(t *testing.T) {
	tests := []struct {
		name, meta string
		parts      []string
	}{
		{"not json", `{"model_id": "x"`, []string{"not a JSON object"}},
		{"array", `["model_id"]`, []string{"not a JSON object"}},
		{"null", `null`, []string{"not a JSON object"}},
		{"missing model_id", `{"num_layers": 2}`, []string{`"model_id" is missing or empty`}},
		{"empty model_id", `{"model_id": "", "num_layers": 2}`, []string{`"model_id" is missing or empty`}},
		{"model_id number", `{"model_id": 1, "num_layers": 2}`, []string{`"model_id": want a string, got number 1`}},
		{"num_layers string", `{"model_id": "x", "num_layers": "2"}`, []string{`"num_layers": want an integer, got string "2"`}},
		{"num_layers float", `{"model_id": "x", "num_layers": 2.5}`, []string{`"num_layers": want an integer, got 2.5`}},
		{"num_layers zero", `{"model_id": "x", "num_layers": 0}`, []string{`"num_layers" is missing or less than 1`}},
		{"num_layers huge", `{"model_id": "x", "num_layers": 1e99}`, []string{`want an integer, got 1e99`}},
		{"max_length negative", `{"model_id": "x", "num_layers": 2, "max_length": -1}`, []string{`"max_length" is negative`}},
		{"texts_count bool", `{"model_id": "x", "num_layers": 2, "texts_count": true}`, []string{`"texts_count": want an integer, got boolean true`}},
		{"subset list", `{"model_id": "x", "num_layers": 2, "subset": ["a"]}`, []string{`"subset": want a string, got array`}},
		{"dtype object", `{"model_id": "x", "num_layers": 2, "dtype": {}}`, []string{`"dtype": want a string, got object`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Meta
			wantErr(t, m.UnmarshalJSON([]byte(tt.meta)), tt.parts...)
		})
	}
	// null fields count as absent; unknown fields are kept.
	var m Meta
	must(t, m.UnmarshalJSON([]byte(`{"model_id": "x", "num_layers": 2, "subset": null, "max_length": null, "pooling": {"kind": "mean"}}`)))
	if m.Subset != "" || m.MaxLength != 0 || string(m.Extra["pooling"]) != `{"kind":"mean"}` {
		t.Errorf("got %+v", m)
	}
}

func TestBadTexts(t *testing.T) {
	npzData := zipBytes(t, zip.Store, entry{"layer_1.npy", f32npy(2, 3)}, entry{"layer_2.npy", f32npy(2, 3)})
	tests := []struct {
		name, texts string
		parts       []string
	}{
		{"object", `{"a": 1}`, []string{"m_en_test.texts.json", "not a JSON array"}},
		{"truncated", `["a", "b"`, []string{"not a JSON array"}},
		{"null", `null`, []string{"not a JSON array"}},
		{"number element", `["a", 2]`, []string{"element 1 is a number, want a string"}},
		{"count", `["a", "b", "c"]`, []string{"3 texts, meta.json texts_count = 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(mkSet(t, goodMeta, npzData, nil, tt.texts), "m", "en", "test")
			must(t, err)
			_, err = s.Texts()
			wantErr(t, err, tt.parts...)
		})
	}
}

// TestDiscoverPartial checks that Discover returns the good sets and
// reports the bad ones, and skips what is not part of the layout.
func TestDiscoverPartial(t *testing.T) {
	root := mkSet(t, goodMeta, zipBytes(t, zip.Store, entry{"layer_1.npy", f32npy(2, 3)}, entry{"layer_2.npy", f32npy(2, 3)}), nil, "")
	act := filepath.Join(root, "models/m/en/activations")
	// A broken second split, and things Discover must ignore.
	must(t, os.WriteFile(filepath.Join(act, "m_en_train.npz"), []byte("not a zip"), 0o644))
	must(t, os.WriteFile(filepath.Join(act, "m_en_train.meta.json"), []byte(goodMeta), 0o644))
	must(t, os.WriteFile(filepath.Join(act, ".m_en_test.npz.tmp-123"), []byte("partial"), 0o644))
	must(t, os.WriteFile(filepath.Join(act, "m_en_test.npz.bak"), []byte("old"), 0o644))
	must(t, os.WriteFile(filepath.Join(act, "other_en_test.npz"), []byte("old"), 0o644))
	must(t, os.MkdirAll(filepath.Join(root, "models/m/fr"), 0o755)) // no activations folder
	must(t, os.MkdirAll(filepath.Join(root, "models/.cache/en/activations"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "models/README"), nil, 0o644))
	sets, err := Discover(root)
	if len(sets) != 1 || sets[0].Split != "test" {
		t.Fatalf("got %d sets", len(sets))
	}
	wantErr(t, err, "m_en_train.npz", "not a valid npz")
	if strings.Contains(err.Error(), ".tmp-123") || strings.Contains(err.Error(), ".bak") || strings.Contains(err.Error(), "other_en") {
		t.Errorf("Discover looked at files outside the layout: %v", err)
	}
}
