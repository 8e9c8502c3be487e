// Package testenv holds what the project's tests share about their
// environment.
package testenv

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true, as .ci/run's
// machine sets it).
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing is called when a test needs a tool or file that a set-up script
// installs and it is absent: it skips the test on a developer's machine
// and fails it under CI, where a skip would hide a missing install step.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("%s (CI=true: the set-up must install it)", msg)
	}
	t.Skip("skipped: " + msg)
}

// Corruption is one damaged copy of a file's bytes.
type Corruption struct {
	Name string
	Data []byte
}

// Corruptions returns damaged copies of data for corruption suites:
// truncated at six lengths (to nothing among them), one byte flipped at ten
// spread positions, duplicated, grown by 4 KiB of zeros, and its halves
// swapped. Names are unique and the order is fixed.
func Corruptions(data []byte) []Corruption {
	n := len(data)
	var out []Corruption
	for _, cut := range []int{0, 1, 8, n / 3, n / 2, n - 1} {
		if cut >= 0 && cut < n && !containsName(out, fmt.Sprintf("truncated-%d", cut)) {
			out = append(out, Corruption{fmt.Sprintf("truncated-%d", cut), data[:cut:cut]})
		}
	}
	for _, at := range []int{0, 4, 8, 9, 16, 64, n / 4, n / 2, 3 * n / 4, n - 1} {
		if at >= 0 && at < n && !containsName(out, fmt.Sprintf("flipped-%d", at)) {
			d := append([]byte(nil), data...)
			d[at] ^= 0xff
			out = append(out, Corruption{fmt.Sprintf("flipped-%d", at), d})
		}
	}
	return append(out,
		Corruption{"duplicated", append(append([]byte(nil), data...), data...)},
		Corruption{"grown", append(append([]byte(nil), data...), make([]byte, 4096)...)},
		Corruption{"reordered", append(append([]byte(nil), data[n/2:]...), data[:n/2]...)},
	)
}

func containsName(cs []Corruption, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

// CPUListsAMX reports whether /proc/cpuinfo lists amx_tile and amx_bf16:
// tests of the AMX kernels fail under CI on such a CPU when the kernels
// say they cannot run, rather than skip (a kernel, seccomp or container
// setting took AMX away), and skip only on CPUs without AMX.
func CPUListsAMX() bool { return CPUListsFlags("amx_tile", "amx_bf16") }

// CPUListsFlags reports whether /proc/cpuinfo lists every one of flags
// (false where the file cannot be read): tests of CPU-specific code fail
// under CI when the CPU has the feature but the code says it cannot use it.
func CPUListsFlags(flags ...string) bool {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "flags") {
			f := strings.Fields(line)
			for _, want := range flags {
				if !slices.Contains(f, want) {
					return false
				}
			}
			return true
		}
	}
	return false
}
