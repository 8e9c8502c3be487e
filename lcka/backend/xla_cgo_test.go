//go:build cgo

package backend

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/go-xla/compute/xla"
)

// TestNoAutoInstall: loading this package turns go-xla's auto-install off,
// so that asking go-xla for its plugins downloads nothing. With it on,
// go-xla's installer would first create ~/.local/lib/go-xla (and a lock
// file there) and then fetch a plugin; the test points HOME at an empty
// folder and the proxies at a closed port, and checks that nothing was
// created.
func TestNoAutoInstall(t *testing.T) {
	if v := os.Getenv(xla.NoAutoInstallEnv); v != "1" {
		t.Errorf("$%s = %q after init, want 1 (inherited by child processes)", xla.NoAutoInstallEnv, v)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, v := range []string{"HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"} {
		t.Setenv(v, "http://127.0.0.1:1")
	}
	t.Setenv("NO_PROXY", "")
	_ = xla.GetAvailablePlugins()
	if _, err := os.Stat(filepath.Join(home, ".local", "lib", "go-xla")); err == nil {
		t.Error("go-xla's auto-install ran: it created ~/.local/lib/go-xla")
	}
}

// TestLoadFailure: a file that is not a plugin fails with a message naming
// the file and where it was found, from each way of giving it.
func TestLoadFailure(t *testing.T) {
	dir := t.TempDir()
	bad := touch(t, dir, "p/pjrt_c_api_cpu_plugin.so")
	for _, tt := range []struct {
		spec, pjrtPath string
		want           []string
	}{
		{"xla:" + bad, "", []string{"backend xla:" + bad, "loading the PJRT plugin " + bad, "found in explicit path"}},
		{"xla:cpu", filepath.Dir(bad), []string{"backend xla:cpu", "loading the PJRT plugin " + bad, "found in PJRT_PLUGIN_LIBRARY_PATH"}},
	} {
		t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", tt.pjrtPath)
		s, err := Parse(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		b, err := New(s, "")
		if err == nil {
			b.Finalize()
			t.Fatalf("%s: started a backend on a file that is not a plugin", tt.spec)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tt.spec, err, w)
			}
		}
	}
}

// TestXLAAvailable: a cgo build has the XLA backend.
func TestXLAAvailable(t *testing.T) {
	if !XLAAvailable {
		t.Error("XLAAvailable is false in a cgo build")
	}
}
