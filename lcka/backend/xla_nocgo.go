//go:build !cgo

package backend

import (
	"fmt"

	"github.com/gomlx/compute"
)

// PJRTMajor and PJRTMinor are the PJRT C API version a cgo build speaks.
const (
	PJRTMajor = 0
	PJRTMinor = 104
)

// XLAAvailable reports whether this build can run the XLA backend: not
// without cgo.
const XLAAvailable = false

// newXLA fails: loading a PJRT plugin needs cgo.
func newXLA(s Spec, p Plugin) (compute.Backend, error) {
	return nil, fmt.Errorf("backend xla:%s (plugin %s): %w", s.Plugin, p.Path, ErrNoCgo)
}

// PluginVersion reports ok=false: there is no XLA backend without cgo.
func PluginVersion(compute.Backend) (major, minor int, ok bool) { return 0, 0, false }

// describeXLA reports ok=false: there is no XLA backend without cgo.
func describeXLA(compute.Backend) (Info, bool) { return Info{}, false }
