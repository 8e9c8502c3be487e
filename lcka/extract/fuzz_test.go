package extract

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpenPartial feeds arbitrary manifests and batch files to
// openPartial: it must never panic, load only valid, distinct rows of
// complete files, and leave a usable folder.
func FuzzOpenPartial(f *testing.F) {
	const texts, layers, hidden = 5, 2, 3
	valid := `{"version":1,"fingerprint":"fp","model_id":"m","lang":"en","texts":5,"layers":2,"hidden":3,` +
		`"chunks":[{"file":"chunk-000000.npy","rows":[4,1]}]}`
	chunk := encodeNPY([]int{layers, 2, hidden}, make([]float32, layers*2*hidden))
	f.Add([]byte(valid), chunk)
	f.Add([]byte(valid), chunk[:len(chunk)-4])
	f.Add([]byte(valid), encodeNPY([]int{layers, 1, hidden}, make([]float32, layers*hidden)))
	f.Add([]byte(`{"version":1,"fingerprint":"fp","texts":5,"layers":2,"hidden":3,"chunks":[{"file":"chunk-000000.npy","rows":[4,4]}]}`), chunk)
	f.Add([]byte(`{"version":1,"fingerprint":"fp","texts":5,"layers":2,"hidden":3,"chunks":[{"file":"../x.npy","rows":[0,1]}]}`), chunk)
	f.Add([]byte(`{"version":1,"fingerprint":"fp","texts":5,"layers":2,"hidden":3,"chunks":[{"file":"chunk-000000.npy","rows":[-1,9]}]}`), chunk)
	f.Add([]byte(`{"version":1,"fingerprint":"other"}`), chunk)
	f.Add([]byte(`not json`), []byte("\x93NUMPY"))
	f.Add([]byte(`{"chunks":null}`), []byte{})
	want := manifest{Version: manifestVersion, Fingerprint: "fp", Model: "m", Lang: "en", Texts: texts, Layers: layers, Hidden: hidden}
	f.Fuzz(func(t *testing.T, m, chunkFile []byte) {
		dir := filepath.Join(t.TempDir(), "x.partial")
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, manifestFile), m, 0o644)
		os.WriteFile(filepath.Join(dir, "chunk-000000.npy"), chunkFile, 0o644)
		seen := make([]bool, texts)
		loaded := 0
		p, resumed, _, err := openPartial(dir, want, func(rows []int, data []float32) {
			if len(data) != layers*len(rows)*hidden {
				t.Fatalf("%d values for %d rows", len(data), len(rows))
			}
			for _, r := range rows {
				if r < 0 || r >= texts || seen[r] {
					t.Fatalf("row %d loaded twice or out of range", r)
				}
				seen[r] = true
				loaded++
			}
		})
		if err != nil {
			return
		}
		if resumed != loaded {
			t.Fatalf("resumed %d, loaded %d", resumed, loaded)
		}
		if err := p.add([]int{0}, make([]float32, layers*hidden)); err != nil {
			t.Fatal(err)
		}
	})
}
