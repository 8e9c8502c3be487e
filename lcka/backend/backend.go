package backend

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
)

// EnvVar names the environment variable that chooses the backend when
// neither SetDefault nor a command's --backend flag did: a Spec string.
const EnvVar = "LAYERSIM_BACKEND"

// Kind is the engine a Spec names.
type Kind string

const (
	// Go is GoMLX's pure-Go backend, the default: it needs no cgo and no
	// plugin.
	Go Kind = "go"
	// XLA is GoMLX's XLA backend, running a PJRT plugin (CUDA or CPU)
	// loaded at run time; it needs a cgo build.
	XLA Kind = "xla"
)

// Spec is a parsed backend choice: "go", "xla:cuda", "xla:cpu" or
// "xla:/abs/path/plugin.so", the xla forms optionally followed by
// go-xla's options (",tf32=true,memory_fraction=0.9").
type Spec struct {
	Kind Kind
	// Plugin is "cuda", "cpu" or an absolute path to a PJRT plugin file;
	// empty for Go.
	Plugin string
	// Options are go-xla's plugin options as given ("tf32=true", ...), in
	// order; empty for Go.
	Options []string
}

// Parse reads a backend choice. The empty string is Go.
func Parse(s string) (Spec, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "", "go":
		return Spec{Kind: Go}, nil
	case "xla":
		return Spec{}, fmt.Errorf("backend %q: say which plugin: xla:cuda, xla:cpu or xla:/abs/path/plugin.so", s)
	}
	rest, ok := strings.CutPrefix(t, "xla:")
	if !ok {
		return Spec{}, fmt.Errorf("backend %q: unknown; want go, xla:cuda, xla:cpu or xla:/abs/path/plugin.so", s)
	}
	parts := strings.Split(rest, ",")
	sp := Spec{Kind: XLA, Plugin: parts[0]}
	switch {
	case sp.Plugin == "cuda" || sp.Plugin == "cpu":
	case sp.Plugin == "":
		return Spec{}, fmt.Errorf("backend %q: no plugin after xla:; want xla:cuda, xla:cpu or xla:/abs/path/plugin.so", s)
	case filepath.IsAbs(sp.Plugin):
		sp.Plugin = filepath.Clean(sp.Plugin)
	case strings.ContainsAny(sp.Plugin, `/\.`):
		return Spec{}, fmt.Errorf("backend %q: a plugin file must be given by its absolute path", s)
	default:
		return Spec{}, fmt.Errorf("backend %q: unknown plugin %q; want cuda, cpu or an absolute path to a .so file", s, sp.Plugin)
	}
	for _, o := range parts[1:] {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		k, _, _ := strings.Cut(o, "=")
		if k == "" || strings.ContainsAny(k, " \t") {
			return Spec{}, fmt.Errorf("backend %q: malformed option %q", s, o)
		}
		sp.Options = append(sp.Options, o)
	}
	return sp, nil
}

// String returns the spec in the form Parse reads.
func (s Spec) String() string {
	if s.Kind != XLA {
		return string(Go)
	}
	return strings.Join(append([]string{"xla:" + s.Plugin}, s.Options...), ",")
}

// HostMemory reports whether the backend's buffers live in host memory
// (Go, and XLA's CPU plugin), before any backend is started: package
// extract asks it to decide the bfloat16 kernel ahead of loading.
func (s Spec) HostMemory() bool {
	if s.Kind != XLA {
		return true
	}
	if s.Plugin == "cpu" {
		return true
	}
	return filepath.IsAbs(s.Plugin) && strings.Contains(strings.ToLower(filepath.Base(s.Plugin)), "cpu")
}

var (
	defMu  sync.Mutex
	defSet bool
	def    Spec
)

// SetDefault makes s the backend Default returns, over $LAYERSIM_BACKEND:
// the commands call it for their --backend flag.
func SetDefault(s Spec) {
	defMu.Lock()
	defer defMu.Unlock()
	def, defSet = s, true
}

// Default returns the process's backend choice: the one given to
// SetDefault, else $LAYERSIM_BACKEND, else Go.
func Default() (Spec, error) {
	defMu.Lock()
	s, ok := def, defSet
	defMu.Unlock()
	if ok {
		return s, nil
	}
	s, err := Parse(os.Getenv(EnvVar))
	if err != nil {
		return Spec{}, fmt.Errorf("$%s: %w", EnvVar, err)
	}
	return s, nil
}

// ErrNoCgo is wrapped by the error of New for an XLA spec in a binary built
// without cgo (CGO_ENABLED=0), which cannot load PJRT plugins.
var ErrNoCgo = errors.New("this layersim was built without cgo (CGO_ENABLED=0) and has only the go backend; build it with cgo for xla")

// New starts the backend s names. goConfig configures GoMLX's Go backend
// (for example "ops_sequential"); it is ignored for XLA. An XLA backend's
// plugin is found by Find (never downloaded), TF32 is off unless the
// options turn it on, and a plugin of another PJRT C API major version
// than this build's is refused.
func New(s Spec, goConfig string) (compute.Backend, error) {
	if s.Kind != XLA {
		b, err := gobackend.New(goConfig)
		if err != nil {
			return nil, fmt.Errorf("backend go: %w", err)
		}
		return b, nil
	}
	if !XLAAvailable {
		return nil, fmt.Errorf("backend %s: %w", s, ErrNoCgo)
	}
	p, err := Find(s.Plugin, SystemEnv())
	if err != nil {
		return nil, err
	}
	return newXLA(s, p)
}

var (
	sharedMu sync.Mutex
	shared   = map[string]compute.Backend{}
)

// Shared is New for callers that start a backend per job: an XLA backend
// (a PJRT client holding the device) is started once per spec and reused
// for the life of the process; a Go backend is new on each call, as it is
// cheap.
func Shared(s Spec, goConfig string) (compute.Backend, error) {
	if s.Kind != XLA {
		return New(s, goConfig)
	}
	key := s.String()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if b, ok := shared[key]; ok {
		return b, nil
	}
	b, err := New(s, goConfig)
	if err != nil {
		return nil, err
	}
	shared[key] = b
	return b, nil
}

// withDefaults returns the go-xla configuration string for s and p: the
// plugin's path, then s's options, with tf32=false added unless TF32 is
// set: float32 products stay float32 (CKA's Gram tiles and float32
// extraction compare with references computed without TF32).
func withDefaults(s Spec, p Plugin) string {
	opts := []string{p.Path}
	tf32 := false
	for _, o := range s.Options {
		k, _, _ := strings.Cut(o, "=")
		if k == "tf32" || k == "notf32" {
			tf32 = true
		}
		opts = append(opts, o)
	}
	if !tf32 {
		opts = append(opts, "tf32=false")
	}
	return strings.Join(opts, ",")
}
