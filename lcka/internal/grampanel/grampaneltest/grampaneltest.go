// Package grampaneltest runs tests on both Gram kernels of grampanel.
package grampaneltest

import (
	"testing"

	"github.com/layersim/layersim/internal/testenv"
	"github.com/layersim/layersim/lcka/internal/grampanel"
)

// Both runs f as the subtest "other" with the host kernel turned off (the
// GoMLX panels, or gonum for float64 products) and, where the CPU has the
// host kernel, as the subtest "host" with it on; it leaves it on. Where
// /proc/cpuinfo lists AVX-512F, or AVX2 and FMA, but the kernel is off, it
// fails under CI (testenv.Missing).
func Both(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	kernels := []bool{false}
	if grampanel.SetHost(true); grampanel.Host() {
		kernels = append(kernels, true)
	} else if listsHostFlags() {
		testenv.Missing(t, "/proc/cpuinfo lists AVX-512F or AVX2 and FMA but the host Gram kernel is off: its subtest cannot run")
	}
	defer grampanel.SetHost(true)
	for _, host := range kernels {
		name := "other"
		if host {
			name = "host"
		}
		grampanel.SetHost(host)
		t.Run(name, f)
	}
}

// RequireHost skips t where the CPU has no host kernel, and fails it under
// CI where /proc/cpuinfo lists AVX-512F, or AVX2 and FMA, but the kernel is
// off (testenv.Missing): for tests of code that runs on the host kernel
// only.
func RequireHost(t testing.TB) {
	t.Helper()
	if grampanel.Host() {
		return
	}
	if listsHostFlags() {
		testenv.Missing(t, "/proc/cpuinfo lists AVX-512F or AVX2 and FMA but the host kernel is off")
		return
	}
	t.Skip("neither AVX-512 nor AVX2 on this CPU: the host kernel's code does not run")
}

// listsHostFlags reports whether /proc/cpuinfo lists the instructions of
// one of the host kernel's sets of routines.
func listsHostFlags() bool {
	return testenv.CPUListsFlags("avx512f") || testenv.CPUListsFlags("avx2", "fma")
}
