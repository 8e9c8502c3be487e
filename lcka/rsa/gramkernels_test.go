package rsa

import (
	"testing"

	"github.com/layersim/layersim/lcka/internal/grampanel"
)

// bothGramKernels runs f with the rank products on gonum and, where the
// CPU has it, on the host Gram kernel (grampanel.Host), as subtests.
func bothGramKernels(t *testing.T, f func(t *testing.T)) {
	kernels := []bool{false}
	if grampanel.Host() {
		kernels = append(kernels, true)
		defer grampanel.SetHost(true)
	}
	for _, host := range kernels {
		name := "gonum"
		if host {
			name = "host"
		}
		grampanel.SetHost(host)
		t.Run(name, f)
	}
}
