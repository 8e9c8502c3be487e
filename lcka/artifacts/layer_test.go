package artifacts

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestLayerReadsOneLayer checks that Layer allocates about one layer, not
// the set: 8 layers of 512×256 float32 (512 KiB each, 4 MiB in all); the
// bound allows the layer, the 256 KiB read buffer and 256 KiB of slack
// (zip directory, inflater state).
func TestLayerReadsOneLayer(t *testing.T) {
	const rows, cols, L = 512, 256, 8
	layerBytes := uint64(4 * rows * cols)
	for _, format := range []Format{NPZ, NPZCompressed, NPYDir} {
		root := t.TempDir()
		meta := testMeta
		meta.NumLayers = L
		w, err := Create(root, meta, "m", "en", "test", format)
		must(t, err)
		for _, m := range randomLayers(rand.New(rand.NewPCG(7, 8)), L, rows, cols) {
			must(t, w.WriteLayer(m))
		}
		must(t, w.Commit(nil))
		s, err := Open(root, "m", "en", "test")
		must(t, err)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m, err := s.Layer(5)
		runtime.ReadMemStats(&after)
		must(t, err)
		if m.Rows != rows || m.Cols != cols {
			t.Fatalf("%v: got %d×%d", format, m.Rows, m.Cols)
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		if limit := layerBytes + 512<<10; alloc > limit {
			t.Errorf("%v: Layer allocated %d bytes, want <= %d (one layer is %d, the set %d)", format, alloc, limit, layerBytes, L*layerBytes)
		}
	}
}

// BenchmarkLayer reads one 2048×1024 float32 layer (8 MiB) of a stored npz.
func BenchmarkLayer(b *testing.B) {
	const rows, cols = 2048, 1024
	root := b.TempDir()
	meta := testMeta
	meta.NumLayers = 2
	if err := Write(root, meta, "m", "en", "test", randomLayers(rand.New(rand.NewPCG(9, 9)), 2, rows, cols), nil); err != nil {
		b.Fatal(err)
	}
	s, err := Open(root, "m", "en", "test")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(4 * rows * cols)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Layer(2); err != nil {
			b.Fatal(err)
		}
	}
}
