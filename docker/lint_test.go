package docker

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/layersim/layersim/internal/testenv"
)

// dockerfilelint is where scripts/setup installs dockerfilelint 1.8.0
// (pinned by lint/package-lock.json).
var dockerfilelint = filepath.Join("lint", "node_modules", ".bin", "dockerfilelint")

// TestDockerfilelint runs dockerfilelint on both files and fails on any
// issue. Without it or node it is skipped, and fails under CI=true.
func TestDockerfilelint(t *testing.T) {
	if _, err := os.Stat(dockerfilelint); err != nil {
		testenv.Missing(t, "dockerfilelint not installed (scripts/setup installs it): %v", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		testenv.Missing(t, "node not found (scripts/setup installs it)")
	}
	for _, name := range dockerfiles {
		// Its exit status is the number of issues; the JSON says which.
		out, err := exec.Command(dockerfilelint, "-j", name).Output()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		r, jerr := unmarshalLint(out)
		if jerr != nil || len(r.Files) != 1 {
			t.Fatalf("%s: dockerfilelint output %q (%v, %v)", name, out, err, jerr)
		}
		for _, is := range r.Files[0].Issues {
			t.Errorf("%s:%s: %s: %s", name, is.Line, is.Category, is.Title)
		}
		if err != nil && len(r.Files[0].Issues) == 0 {
			t.Errorf("%s: dockerfilelint failed with no issue reported: %v", name, err)
		}
	}
}
