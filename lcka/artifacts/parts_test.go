package artifacts

import (
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
)

// writePart writes part i of n holding rows first..first+rows-1 of a set of
// total rows, row r of layer k being [r, k].
func writePart(t *testing.T, root string, i, n, first, rows, total int) {
	t.Helper()
	shard, _ := json.Marshal(Part{Index: i, Count: n, First: first, Rows: rows, Texts: total})
	meta := Meta{ModelID: "m", NumLayers: 2, Dtype: "float32", TextsCount: rows, Subset: "s",
		Extra: map[string]json.RawMessage{PartsKey: shard, "pooling": json.RawMessage(`"last"`)}}
	w, err := CreatePart(root, meta, "m", "en", "test", i, n, NPZ)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	var texts []string
	for k := 1; k <= 2; k++ {
		m := Matrix{Rows: rows, Cols: 2}
		for r := first; r < first+rows; r++ {
			m.Data = append(m.Data, float32(r), float32(k))
		}
		if err := w.WriteLayer(m); err != nil {
			t.Fatal(err)
		}
	}
	for r := first; r < first+rows; r++ {
		texts = append(texts, "text "+string(rune('a'+r)))
	}
	if err := w.Commit(texts); err != nil {
		t.Fatal(err)
	}
}

func TestPartsReadAsOneSet(t *testing.T) {
	root := t.TempDir()
	writePart(t, root, 0, 3, 0, 2, 6)
	writePart(t, root, 2, 3, 5, 1, 6)
	if _, err := Open(root, "m", "en", "test"); err == nil || !strings.Contains(err.Error(), "missing part(s) 1 of 3") {
		t.Errorf("Open with a part missing: %v", err)
	}
	writePart(t, root, 1, 3, 2, 3, 6)
	sets, err := Discover(root)
	if err != nil || len(sets) != 1 {
		t.Fatalf("Discover: %d sets, %v", len(sets), err)
	}
	s := sets[0]
	if s.Format != Parts || s.Rows != 6 || s.Meta.TextsCount != 6 || s.Meta.Extra[PartsKey] != nil || string(s.Meta.Extra["pooling"]) != `"last"` {
		t.Errorf("set %+v", s)
	}
	m, err := s.Layer(2)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 2, 1, 2, 2, 2, 3, 2, 4, 2, 5, 2}
	if !slices.Equal(m.Data, want) {
		t.Errorf("layer_2 = %v, want %v", m.Data, want)
	}
	texts, err := s.Texts()
	if err != nil || len(texts) != 6 || texts[5] != "text f" {
		t.Errorf("texts %q, %v", texts, err)
	}
	if _, err := s.Layer(3); err == nil {
		t.Error("layer 3 of 2 read")
	}
}

func TestCreatePartChecksMeta(t *testing.T) {
	root := t.TempDir()
	meta := Meta{ModelID: "m", NumLayers: 1}
	if _, err := CreatePart(root, meta, "m", "en", "test", 0, 2, NPZ); err == nil || !strings.Contains(err.Error(), `no "shard" field`) {
		t.Errorf("no shard field: %v", err)
	}
	shard, _ := json.Marshal(Part{Index: 1, Count: 2, First: 0, Rows: 1, Texts: 2})
	meta.Extra = map[string]json.RawMessage{PartsKey: shard}
	if _, err := CreatePart(root, meta, "m", "en", "test", 0, 2, NPZ); err == nil || !strings.Contains(err.Error(), "says part 1 of 2") {
		t.Errorf("other index: %v", err)
	}
	if _, err := CreatePart(root, meta, "m", "en", "test", 2, 2, NPZ); err == nil {
		t.Error("part 2 of 2 accepted")
	}
	if _, err := OpenParts(root, "m", "fr", "test"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no parts folder: %v", err)
	}
}
