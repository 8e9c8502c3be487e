package artifacts

import (
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/layersim/layersim/internal/testenv"
)

// refSet is one set of testdata/ref.json: every layer as numpy reads it,
// after .astype(np.float32) (gen_fixtures.py, numpy 1.24.2).
type refSet struct {
	Slug, Lang, Split string
	Layers            [][][]float64
}

func readRef(t *testing.T) []refSet {
	var ref struct{ Sets []refSet }
	readJSONFile(t, "testdata/ref.json", &ref)
	return ref.Sets
}

// TestDiscoverNumPyFixtures reads the sets numpy wrote (np.savez,
// np.savez_compressed, np.save, format 2.0, zip64; float16/32/64; C and
// Fortran order; big-endian) and compares every value with numpy's own reading,
// bit for bit: the conversions to float32 are exact or correctly rounded
// in both.
func TestDiscoverNumPyFixtures(t *testing.T) {
	sets, err := Discover("testdata/root")
	if err != nil {
		t.Fatal(err)
	}
	ref := readRef(t)
	if len(sets) != len(ref) {
		t.Fatalf("Discover found %d sets, ref.json has %d", len(sets), len(ref))
	}
	// ref.json lists the sets in generation order; Discover sorts them.
	order := []struct {
		slug, lang, split string
		format            Format
		model             string
	}{
		{"org__tiny_f32", "en", "test", NPZ, "org/tiny_f32"},
		{"org__tiny_f32", "hi", "test", NPZCompressed, "org/tiny_f32"},
		{"tiny-f16", "en", "test", NPZ, "tiny/f16"},
		{"tiny-f64", "en", "dev", NPZCompressed, "tiny/f64"},
		{"tiny-npy", "en", "test", NPYDir, "tiny/npy"},
		{"tiny-zip64", "en", "test", NPZ, "tiny/zip64"},
	}
	for i, s := range sets {
		w := order[i]
		if s.Slug != w.slug || s.Lang != w.lang || s.Split != w.split || s.Format != w.format || s.Model != w.model {
			t.Errorf("set %d: got %s/%s/%s %v %q, want %s/%s/%s %v %q", i, s.Slug, s.Lang, s.Split, s.Format, s.Model, w.slug, w.lang, w.split, w.format, w.model)
		}
		var r *refSet
		for j := range ref {
			if ref[j].Slug == s.Slug && ref[j].Lang == s.Lang && ref[j].Split == s.Split {
				r = &ref[j]
			}
		}
		if r == nil {
			t.Fatalf("set %s/%s/%s not in ref.json", s.Slug, s.Lang, s.Split)
		}
		if len(s.Layers) != len(r.Layers) || s.Meta.NumLayers != len(r.Layers) {
			t.Fatalf("%s: %d layers (meta %d), ref %d", s.Path, len(s.Layers), s.Meta.NumLayers, len(r.Layers))
		}
		for li, k := range s.Layers {
			m, err := s.Layer(k)
			if err != nil {
				t.Fatal(err)
			}
			want := r.Layers[li]
			if m.Rows != len(want) || m.Cols != len(want[0]) || s.Rows != m.Rows || s.Cols[li] != m.Cols {
				t.Fatalf("%s layer %d: %d×%d (set says %d×%d), want %d×%d", s.Path, k, m.Rows, m.Cols, s.Rows, s.Cols[li], len(want), len(want[0]))
			}
			for i := range want {
				for j, v := range want[i] {
					if got := m.Row(i)[j]; math.Float32bits(got) != math.Float32bits(float32(v)) {
						t.Errorf("%s layer %d [%d,%d] = %v, numpy %v", s.Path, k, i, j, got, v)
					}
				}
			}
		}
	}
}

func TestFixtureMetaAndTexts(t *testing.T) {
	s, err := Open("testdata/root", "org__tiny_f32", "en", "test")
	if err != nil {
		t.Fatal(err)
	}
	// Values written by gen_fixtures.py.
	want := Meta{
		ModelID: "org/tiny_f32", NumLayers: 3, Dtype: "bfloat16", MaxLength: 512, TextsCount: 4,
		Subset: "global-mmlu-lite",
		Extra: map[string]json.RawMessage{
			"revision":        json.RawMessage(`"abc123"`),
			"pooling":         json.RawMessage(`"last"`),
			"tokens_per_text": json.RawMessage(`[7,3,12,5]`),
		},
	}
	if !reflect.DeepEqual(s.Meta, want) {
		t.Errorf("meta:\ngot  %+v\nwant %+v", s.Meta, want)
	}
	texts, err := s.Texts()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"first text", "second\nline", "third \"quoted\"", "fourth"}; !reflect.DeepEqual(texts, want) {
		t.Errorf("texts = %q, want %q", texts, want)
	}

	hi, err := Open("testdata/root", "org__tiny_f32", "hi", "test")
	if err != nil {
		t.Fatal(err)
	}
	texts, err = hi.Texts()
	if want := []string{"पहला", "दूसरा", "तीसरा", "चौथा"}; err != nil || !reflect.DeepEqual(texts, want) {
		t.Errorf("hi texts = %q, %v; want %q", texts, err, want)
	}

	f16, err := Open("testdata/root", "tiny-f16", "en", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f16.Texts(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Texts of a set without texts.json: got %v, want fs.ErrNotExist", err)
	}
}

func TestOpenMissing(t *testing.T) {
	_, err := Open("testdata/root", "tiny-f16", "en", "train")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want fs.ErrNotExist", err)
	}
	for _, names := range [][3]string{{"", "en", "test"}, {"a/b", "en", "test"}, {"..", "en", "test"}, {"m", ".x", "test"}, {"m", "en", "te.st"}} {
		if _, err := Open("testdata/root", names[0], names[1], names[2]); err == nil {
			t.Errorf("Open(%q) succeeded", names)
		}
	}
	if _, err := Discover(filepath.Join(t.TempDir(), "nothing")); err == nil {
		t.Error("Discover of a missing root succeeded")
	}
	if _, err := (&Set{}).Layer(1); err == nil {
		t.Error("Layer(1) of an empty set succeeded")
	}
}

func TestDiscoverFollowsSymlinks(t *testing.T) {
	target, err := filepath.Abs("testdata/root/models/tiny-f16")
	must(t, err)
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "models"), 0o755))
	if err := os.Symlink(target, filepath.Join(root, "models", "tiny-f16")); err != nil {
		testenv.Missing(t, "no symbolic links on this file system: %v", err)
	}
	sets, err := Discover(root)
	if err != nil || len(sets) != 1 || sets[0].Model != "tiny/f16" {
		t.Fatalf("got %d sets, %v", len(sets), err)
	}
	if _, err := sets[0].Layer(2); err != nil {
		t.Error(err)
	}
}
