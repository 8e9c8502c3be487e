package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Generated runs `go run gen` (a generator in the test's folder that takes
// the output folder as its argument) into a temporary folder and fails
// unless each of files comes out byte for byte as committed: the generated
// files must not be edited by hand.
func Generated(t *testing.T, gen string, files ...string) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		Missing(t, "no go tool on PATH to run %s", gen)
		return
	}
	out := t.TempDir()
	cmd := exec.Command(goTool, "run", gen, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run %s: %v\n%s", gen, err, b)
	}
	for _, f := range files {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what %s writes: run go generate", f, gen)
		}
	}
}
