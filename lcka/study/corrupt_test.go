package study

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/layersim/layersim/internal/testenv"
)

// TestCorruptArtifactsTree damages each file of an artifacts tree in turn
// (truncated, bytes flipped at spread positions, duplicated, grown, its
// halves swapped) and
// analyzes the tree: every case must end in an error or a finished study,
// never a panic or unbounded memory.
func TestCorruptArtifactsTree(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: about a hundred analyses")
	}
	src := t.TempDir()
	writeModel(t, src, "model-a", 3, 8, 24, 24, true, 1)
	writeModel(t, src, "model-b", 2, 6, 24, 24, true, 2)
	var files []string
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(src, p)
			files = append(files, rel)
		}
		return err
	})
	slices.Sort(files)
	if len(files) < 4 {
		t.Fatalf("the tree holds %v", files)
	}
	opt := Options{Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1, RSA: "none"}
	for _, f := range files {
		orig, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range testenv.Corruptions(orig) {
			name, data := c.Name, c.Data
			t.Run(filepath.ToSlash(f)+"/"+name, func(t *testing.T) {
				root := t.TempDir()
				for _, g := range files {
					b := data
					if g != f {
						if b, err = os.ReadFile(filepath.Join(src, g)); err != nil {
							t.Fatal(err)
						}
					}
					if err := os.MkdirAll(filepath.Dir(filepath.Join(root, g)), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(root, g), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				o := opt
				o.Artifacts = root
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				_, err := Analyze(o)
				runtime.ReadMemStats(&after)
				t.Logf("outcome: %v", err)
				if err != nil && err.Error() == "" {
					t.Error("an error without a message")
				}
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
					t.Errorf("%d MB allocated", alloc>>20)
				}
			})
		}
	}
}
