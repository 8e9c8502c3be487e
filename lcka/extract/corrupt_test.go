package extract

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/layersim/layersim/internal/testenv"
)

// TestCorruptModelFolder damages each file of a model folder in turn —
// truncated (to nothing among other lengths), bytes flipped at spread
// positions, duplicated, grown, its halves swapped —
// and loads and runs the damaged folder: every case must end in an error
// or in finished extraction, never a panic or unbounded memory (the suite's
// total allocation is bounded per case).
func TestCorruptModelFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: about a hundred loads")
	}
	src := tinyModel(t)
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	set := promptSet(t, 2)
	for _, e := range entries {
		orig, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range testenv.Corruptions(orig) {
			t.Run(e.Name()+"/"+c.Name, func(t *testing.T) {
				dir := t.TempDir()
				for _, o := range entries {
					if o.Name() != e.Name() {
						if err := os.Symlink(filepath.Join(src, o.Name()), filepath.Join(dir, o.Name())); err != nil {
							t.Fatal(err)
						}
					}
				}
				if err := os.WriteFile(filepath.Join(dir, e.Name()), c.Data, 0o644); err != nil {
					t.Fatal(err)
				}
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				m, err := Load(context.Background(), dir, LoadOptions{Backend: testBackend(t)})
				if err == nil {
					_, err = m.Extract(context.Background(), set, Options{Out: t.TempDir(), BatchSize: 2})
					m.Close()
				}
				runtime.ReadMemStats(&after)
				t.Logf("outcome: %v", err)
				if err != nil && err.Error() == "" {
					t.Error("an error without a message")
				}
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 512<<20 {
					t.Errorf("%d MB allocated", alloc>>20)
				}
			})
		}
	}
}
