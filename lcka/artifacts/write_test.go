package artifacts

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npz"
)

func randomLayers(rng *rand.Rand, layers, rows int, cols ...int) []Matrix {
	ms := make([]Matrix, layers)
	for k := range ms {
		c := cols[k%len(cols)]
		ms[k] = Matrix{Rows: rows, Cols: c, Data: make([]float32, rows*c)}
		for i := range ms[k].Data {
			ms[k].Data[i] = float32(rng.NormFloat64())
		}
	}
	return ms
}

var testMeta = Meta{
	ModelID: "org/model", Dtype: "bfloat16", MaxLength: 128, Subset: "test-subset",
	Extra: map[string]json.RawMessage{"revision": json.RawMessage(`"main"`), "tokens_per_text": json.RawMessage(`[1,2,3]`)},
}

// hiddenOrTemp lists the entries of dir that a writer must not leave
// behind: names starting with '.'.
func hiddenOrTemp(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		if strings.HasPrefix(de.Name(), ".") {
			out = append(out, de.Name())
		}
	}
	return out
}

// TestRoundTrip writes sets in every format and reads them back bit for
// bit, special values (NaN, ±Inf, -0, subnormals) included.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, format := range []Format{NPZ, NPZCompressed, NPYDir} {
		t.Run(format.String(), func(t *testing.T) {
			root := t.TempDir()
			layers := randomLayers(rng, 4, 6, 5, 3) // D differs between layers
			special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, math.MaxFloat32}
			copy(layers[0].Data, special)
			texts := []string{"a", "<b> & ü", "c\nd", "", "e", "f"}
			meta := testMeta
			meta.NumLayers = len(layers)
			w, err := Create(root, meta, "org__model", "en", "test", format)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			for _, m := range layers {
				if err := w.WriteLayer(m); err != nil {
					t.Fatal(err)
				}
			}
			// Nothing is visible before Commit.
			if _, err := Open(root, "org__model", "en", "test"); err == nil {
				t.Fatal("set visible before Commit")
			}
			if err := w.Commit(texts); err != nil {
				t.Fatal(err)
			}
			if err := w.Abort(); err != nil {
				t.Errorf("Abort after Commit: %v", err)
			}
			sets, err := Discover(root)
			if err != nil || len(sets) != 1 {
				t.Fatalf("Discover: %d sets, %v", len(sets), err)
			}
			s := sets[0]
			if s.Format != format || s.Rows != 6 || !reflect.DeepEqual(s.Cols, []int{5, 3, 5, 3}) || !reflect.DeepEqual(s.Layers, []int{1, 2, 3, 4}) {
				t.Errorf("set: format %v rows %d cols %v layers %v", s.Format, s.Rows, s.Cols, s.Layers)
			}
			meta.TextsCount = len(texts) // filled in by Commit
			if !reflect.DeepEqual(s.Meta, meta) {
				t.Errorf("meta:\ngot  %+v\nwant %+v", s.Meta, meta)
			}
			for k, want := range layers {
				got, err := s.Layer(k + 1)
				if err != nil {
					t.Fatal(err)
				}
				if got.Rows != want.Rows || got.Cols != want.Cols || !equalFloats(got.Data, want.Data) {
					t.Errorf("layer %d differs", k+1)
				}
			}
			if got, err := s.Texts(); err != nil || !reflect.DeepEqual(got, texts) {
				t.Errorf("texts = %q, %v", got, err)
			}
			if left := hiddenOrTemp(t, filepath.Dir(s.Path)); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// TestNpyioReadsWrittenNPZ reads an npz written here with npyio, an
// independent implementation, as an interoperability check.
func TestNpyioReadsWrittenNPZ(t *testing.T) {
	root := t.TempDir()
	layers := randomLayers(rand.New(rand.NewPCG(3, 4)), 3, 7, 4)
	if err := Write(root, testMeta, "m", "en", "test", layers, nil); err != nil {
		t.Fatal(err)
	}
	r, err := npz.Open(filepath.Join(root, "models/m/en/activations/m_en_test.npz"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if keys := r.Keys(); !reflect.DeepEqual(keys, []string{"layer_1.npy", "layer_2.npy", "layer_3.npy"}) {
		t.Errorf("npyio keys = %v", keys)
	}
	for k, want := range layers {
		key := "layer_" + string(rune('1'+k)) + ".npy"
		h := r.Header(key)
		if h == nil || h.Descr.Type != "'<f4'" || h.Descr.Fortran || !reflect.DeepEqual(h.Descr.Shape, []int{7, 4}) {
			t.Fatalf("npyio header of %s: %+v", key, h)
		}
		var got []float32
		if err := r.Read(key, &got); err != nil {
			t.Fatal(err)
		}
		if !equalFloats(got, want.Data) {
			t.Errorf("npyio reads %s differently", key)
		}
	}
}

func TestOverwriteAcrossFormats(t *testing.T) {
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	meta := testMeta
	meta.NumLayers = 2
	write := func(format Format, texts []string) []Matrix {
		layers := randomLayers(rng, 2, 3, 2)
		w, err := Create(root, meta, "m", "en", "test", format)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		for _, m := range layers {
			if err := w.WriteLayer(m); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Commit(texts); err != nil {
			t.Fatal(err)
		}
		return layers
	}
	check := func(format Format, layers []Matrix, hasTexts bool) {
		t.Helper()
		s, err := Open(root, "m", "en", "test")
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.Layer(2)
		if err != nil || s.Format != format || !equalFloats(m.Data, layers[1].Data) {
			t.Errorf("after writing %v: format %v, layer 2 equal %v, %v", format, s.Format, equalFloats(m.Data, layers[1].Data), err)
		}
		if _, err := s.Texts(); (err == nil) != hasTexts {
			t.Errorf("after writing %v: texts error %v, want texts %v", format, err, hasTexts)
		}
	}
	l := write(NPZ, []string{"x", "y", "z"})
	check(NPZ, l, true)
	l = write(NPYDir, nil) // replaces the npz, removes the stale texts
	check(NPYDir, l, false)
	l = write(NPYDir, []string{"x", "y", "z"}) // replaces a folder by a folder
	check(NPYDir, l, true)
	l = write(NPZCompressed, nil)
	check(NPZCompressed, l, false)
	if left := hiddenOrTemp(t, filepath.Join(root, "models/m/en/activations")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestWriterErrors(t *testing.T) {
	root := t.TempDir()
	m := Matrix{Rows: 2, Cols: 2, Data: []float32{1, 2, 3, 4}}
	meta := Meta{ModelID: "x", NumLayers: 2}
	tests := []struct {
		name string
		run  func() error
		err  string
	}{
		{"empty model id", func() error { return Write(root, Meta{}, "m", "en", "test", []Matrix{m}, nil) }, "ModelID is empty"},
		{"layer count", func() error { return Write(root, meta, "m", "en", "test", []Matrix{m}, nil) }, "1 layers, meta NumLayers = 2"},
		{"bad matrix", func() error {
			return Write(root, meta, "m", "en", "test", []Matrix{m, {Rows: 2, Cols: 3, Data: make([]float32, 5)}}, nil)
		}, "layer_2: matrix of 2×3 has 5 elements"},
		{"rows differ", func() error {
			return Write(root, meta, "m", "en", "test", []Matrix{m, {Rows: 1, Cols: 2, Data: make([]float32, 2)}}, nil)
		}, "layer_2 has 1 rows, layer_1 has 2"},
		{"texts count", func() error {
			meta := meta
			meta.TextsCount = 3
			return Write(root, meta, "m", "en", "test", []Matrix{m, m}, []string{"a", "b"})
		}, "2 texts, meta TextsCount = 3"},
		{"shadowing extra", func() error {
			meta := meta
			meta.Extra = map[string]json.RawMessage{"model_id": json.RawMessage(`"y"`)}
			return Write(root, meta, "m", "en", "test", []Matrix{m, m}, nil)
		}, `extra field "model_id" shadows`},
		{"bad split", func() error { return Write(root, meta, "m", "en", "a.b", []Matrix{m, m}, nil) }, "split contains '.'"},
		{"too many layers", func() error {
			w, err := Create(root, meta, "m", "en", "test", NPZ)
			if err != nil {
				return err
			}
			defer w.Abort()
			w.WriteLayer(m)
			w.WriteLayer(m)
			return w.WriteLayer(m)
		}, "layer_3 is beyond meta NumLayers = 2"},
		{"commit early", func() error {
			w, err := Create(root, meta, "m", "en", "test", NPYDir)
			if err != nil {
				return err
			}
			defer w.Abort()
			w.WriteLayer(m)
			return w.Commit(nil)
		}, "wrote 1 of 2 layers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("got %v, want an error containing %q", err, tt.err)
			}
		})
	}
	// None of the failed writes left a set or a temporary file behind.
	sets, err := Discover(root)
	if err != nil || len(sets) != 0 {
		t.Errorf("Discover after failed writes: %d sets, %v", len(sets), err)
	}
	dir := filepath.Join(root, "models/m/en/activations")
	if des, err := os.ReadDir(dir); err != nil || len(des) != 0 {
		t.Errorf("left in %s: %v (%v)", dir, des, err)
	}
}

func TestWriteJSON(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.json")
	v := map[string]any{"cka": []float64{1, 0.5}, "note": "<a & b>"}
	if err := WriteJSON(path, v); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"cka\": [\n    1,\n    0.5\n  ],\n  \"note\": \"<a & b>\"\n}\n"
	if string(b) != want {
		t.Errorf("got %q, want %q", b, want)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v", st.Mode(), err)
	}
	// A value that cannot be encoded leaves the old file alone.
	if err := WriteJSON(path, math.NaN()); err == nil {
		t.Error("WriteJSON(NaN) succeeded")
	}
	if b2, _ := os.ReadFile(path); string(b2) != want {
		t.Error("failed WriteJSON changed the file")
	}
	if left := hiddenOrTemp(t, dir); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	if err := WriteJSON(filepath.Join(dir, "no/such/dir.json"), 1); err == nil {
		t.Error("WriteJSON into a missing folder succeeded")
	}
}

// TestMetaRoundTrip rewrites a meta.json numpy's study wrote and reads it
// back: known fields and extras survive.
func TestMetaRoundTrip(t *testing.T) {
	b, err := os.ReadFile("testdata/root/models/org__tiny_f32/en/activations/org__tiny_f32_en_test.meta.json")
	if err != nil {
		t.Fatal(err)
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var m2 Meta
	if err := json.Unmarshal(out, &m2); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, m2) {
		t.Errorf("round trip:\n%+v\n%+v", m, m2)
	}
	// Known fields come first, in the layout's order.
	wantPrefix := "{\n  \"model_id\": \"org/tiny_f32\",\n  \"num_layers\": 3,\n  \"dtype\": \"bfloat16\",\n  \"max_length\": 512,\n  \"texts_count\": 4,\n  \"subset\": \"global-mmlu-lite\",\n  \"pooling\""
	if pretty, _ := m.MarshalJSON(); !strings.HasPrefix(string(pretty), wantPrefix) {
		t.Errorf("MarshalJSON:\n%s", pretty)
	}
}

// TestExportForNumPy writes sets in every format and reads every value
// back. With ARTIFACTS_EXPORT naming an empty folder it writes them there,
// for testdata/check_numpy.py, which reads them with numpy and checks every
// value:
//
//	ARTIFACTS_EXPORT=/tmp/x go test -run TestExportForNumPy ./lcka/artifacts/
//	/usr/bin/python3 lcka/artifacts/testdata/check_numpy.py /tmp/x
//
// Element [i, j] of layer k is (1000k + 10i + j)/8, exact in float32.
func TestExportForNumPy(t *testing.T) {
	root := os.Getenv("ARTIFACTS_EXPORT")
	if root == "" {
		root = t.TempDir()
	}
	for f, format := range []Format{NPZ, NPZCompressed, NPYDir} {
		rows, cols, L := 5+f, 3+f, 3
		meta := testMeta
		meta.NumLayers = L
		w, err := Create(root, meta, "org__export", "lang"+strconv.Itoa(f), "test", format)
		if err != nil {
			t.Fatal(err)
		}
		for k := 1; k <= L; k++ {
			m := Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
			for i := range rows {
				for j := range cols {
					m.Data[i*cols+j] = float32(1000*k+10*i+j) / 8
				}
			}
			if err := w.WriteLayer(m); err != nil {
				t.Fatal(err)
			}
		}
		texts := make([]string, rows)
		for i := range texts {
			texts[i] = "text " + strconv.Itoa(i) + " ü <&>"
		}
		if err := w.Commit(texts); err != nil {
			t.Fatal(err)
		}
		s, err := Open(root, "org__export", "lang"+strconv.Itoa(f), "test")
		if err != nil {
			t.Fatal(err)
		}
		for k := 1; k <= L; k++ {
			m, err := s.Layer(k)
			if err != nil {
				t.Fatal(err)
			}
			for i := range rows {
				for j := range cols {
					if got, want := m.Data[i*cols+j], float32(1000*k+10*i+j)/8; m.Rows != rows || m.Cols != cols || got != want {
						t.Fatalf("%v layer %d [%d, %d] = %v (%d×%d), want %v (%d×%d)", format, k, i, j, got, m.Rows, m.Cols, want, rows, cols)
					}
				}
			}
		}
		if got, err := s.Texts(); err != nil || !slices.Equal(got, texts) {
			t.Errorf("%v texts %q, %v; want %q", format, got, err, texts)
		}
	}
}
