//go:build cgo

package backend

import (
	"fmt"
	"os"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/go-xla/compute/xla"
	"github.com/gomlx/go-xla/pjrt"
)

// PJRTMajor and PJRTMinor are the PJRT C API version go-xla v0.4.1 is
// compiled against (its pjrt/pjrt_c_api.h). A plugin of the same major
// version and a newer minor one accepts this build's (smaller) argument
// structs; docs/gpu.md has the details.
const (
	PJRTMajor = 0
	PJRTMinor = 104
)

// XLAAvailable reports whether this build can run the XLA backend (it was
// built with cgo).
const XLAAvailable = true

func init() {
	// Never download plugins: go-xla installs them from the network when
	// asked for one by name (auto-install); Find names them by path, and
	// this keeps go-xla's own lookups (and child processes) offline too.
	xla.EnableAutoInstall(false)
	_ = os.Setenv(xla.NoAutoInstallEnv, "1")
}

// newXLA loads p and starts go-xla's backend on it.
func newXLA(s Spec, p Plugin) (compute.Backend, error) {
	name := "xla:" + s.Plugin
	if p.CUDADataDir != "" {
		setCUDADataDir(p.CUDADataDir)
		// go-xla looks for the NVIDIA libraries beside the plugin in its
		// own install layout and warns when they are elsewhere; the pip
		// layout's folder was set just above.
		if os.Getenv("GOPJRT_CUDA_CHECKS") == "" {
			_ = os.Setenv("GOPJRT_CUDA_CHECKS", "0")
		}
	}
	plugin, err := pjrt.GetPlugin(p.Path)
	if err != nil {
		return nil, fmt.Errorf("backend %s: loading the PJRT plugin %s (found in %s): %w", name, p.Path, p.Source, err)
	}
	if major, minor := plugin.Version(); major != PJRTMajor {
		return nil, fmt.Errorf("backend %s: the PJRT plugin %s speaks PJRT C API %d.%d, this build %d.%d: a different major version cannot work; see docs/gpu.md",
			name, p.Path, major, minor, PJRTMajor, PJRTMinor)
	}
	b, err := xla.NewWithOptions(withDefaults(s, p), nil)
	if err != nil {
		return nil, fmt.Errorf("backend %s: starting the PJRT client of %s (found in %s): %w", name, p.Path, p.Source, err)
	}
	return b, nil
}

// PluginVersion returns the PJRT C API version a started XLA backend's
// plugin reports; ok is false for other backends.
func PluginVersion(b compute.Backend) (major, minor int, ok bool) {
	xb, isXLA := b.(*xla.Backend)
	if !isXLA || xb.IsFinalized() {
		return 0, 0, false
	}
	plugin, err := pjrt.GetPlugin(xb.PluginName())
	if err != nil {
		return 0, 0, false
	}
	major, minor = plugin.Version()
	return major, minor, true
}

// describeXLA describes a go-xla backend: its plugin's file, platform and
// reported PJRT C API version (the last two while it is not finalized).
func describeXLA(b compute.Backend) (Info, bool) {
	xb, isXLA := b.(*xla.Backend)
	if !isXLA {
		return Info{}, false
	}
	info := Info{Kind: xla.BackendName, Plugin: xb.PluginName()}
	if xb.IsFinalized() {
		return info, true
	}
	plugin, err := pjrt.GetPlugin(xb.PluginName())
	if err != nil {
		return info, true
	}
	major, minor := plugin.Version()
	info.PJRTVersion = fmt.Sprintf("%d.%d", major, minor)
	switch {
	case plugin.IsCUDA():
		info.Platform = "cuda"
	case plugin.IsCPU():
		info.Platform = "cpu"
	default:
		info.Platform = plugin.Name()
	}
	return info, true
}

// setCUDADataDir adds --xla_gpu_cuda_data_dir=dir to XLA_FLAGS unless it
// sets one already.
func setCUDADataDir(dir string) {
	flags := os.Getenv("XLA_FLAGS")
	if strings.Contains(flags, "--xla_gpu_cuda_data_dir") {
		return
	}
	_ = os.Setenv("XLA_FLAGS", strings.TrimSpace(flags+" --xla_gpu_cuda_data_dir="+dir))
}
