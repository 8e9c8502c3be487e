package backend

import "github.com/gomlx/compute"

// Info describes a started backend, for the provenance of what it
// computed: package extract writes it to meta.json as "backend".
type Info struct {
	// Kind is "go", "xla", or another backend's String.
	Kind string `json:"kind"`
	// Platform ("cuda", "cpu"), Plugin (the PJRT plugin's file) and
	// PJRTVersion (the PJRT C API version the plugin reports, "0.114")
	// describe an XLA backend; empty for Go, or where unknown.
	Platform    string `json:"platform,omitempty"`
	Plugin      string `json:"plugin,omitempty"`
	PJRTVersion string `json:"pjrt_version,omitempty"`
}

// Describe returns the Info of b; the zero Info for nil.
func Describe(b compute.Backend) Info {
	if b == nil {
		return Info{}
	}
	if info, ok := describeXLA(b); ok {
		return info
	}
	// String, not Name: GoMLX's Go backend names itself "Go Backend", its
	// String is its registered name, "go" (go-xla's are both "xla").
	return Info{Kind: b.String()}
}
