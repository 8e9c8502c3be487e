// Package simdrt holds what a program built with GOEXPERIMENT=simd must
// set in the Go runtime for the Go backend's scalar code to run at speed.
//
// With the SIMD experiment on an AVX-512 (or AVX2) CPU, the runtime's
// asynchronous preemption saves and restores the full ZMM (YMM) registers
// of the goroutine it interrupts (runtime/preempt_amd64.s) and does not
// clear their upper halves afterwards. Every later legacy-SSE instruction
// of that thread, which is what Go compiles scalar float code to, then pays
// the CPU's AVX-to-SSE transition penalty until something executes
// VZEROUPPER. In GoMLX's Go backend that is every op but the matrix
// products: the Logistic op of a Llama MLP ran at about 1 µs per element
// instead of 7 ns, and extraction of a Llama-3.2-1B-shaped model spent 62%
// of its time in math.Exp. Turning asynchronous preemption off
// (GODEBUG=asyncpreemptoff=1) removes the penalty; goroutines are still
// preempted at function calls, which the backend's loops make often.
//
// The runtime reads the setting once at start, so a program sets it in its
// environment and starts itself again (ReExec); tests, benchmarks and
// notebooks get it from their environment (.ci/run, the GoNB kernel spec,
// the Docker images).
package simdrt

import (
	"os"
	"runtime"
	"strings"
)

// Setting is the GODEBUG setting that avoids the penalty.
const Setting = "asyncpreemptoff=1"

// Affected reports whether this build is one whose asynchronous preemption
// dirties the vector registers' upper halves: amd64 with GOEXPERIMENT=simd.
func Affected() bool { return runtime.GOARCH == "amd64" && simdExperiment }

// Configured reports whether godebug (a GODEBUG value) chooses
// asyncpreemptoff itself, either way: an explicit asyncpreemptoff=0 is the
// user's choice and is kept.
func Configured(godebug string) bool {
	for _, kv := range strings.Split(godebug, ",") {
		if k, _, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == "asyncpreemptoff" {
			return true
		}
	}
	return false
}

// Environ returns environ (as os.Environ gives it) with Setting added to
// GODEBUG, and whether it changed anything: nothing changes when GODEBUG
// already chooses asyncpreemptoff.
func Environ(environ []string) ([]string, bool) {
	out := make([]string, 0, len(environ)+1)
	found := false
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			found = true
			if Configured(v) {
				return environ, false
			}
			if v != "" {
				v += ","
			}
			kv = "GODEBUG=" + v + Setting
		}
		out = append(out, kv)
	}
	if !found {
		out = append(out, "GODEBUG="+Setting)
	}
	return out, true
}

// NeedsReExec reports whether the running program is Affected and its
// GODEBUG does not choose asyncpreemptoff.
func NeedsReExec() bool { return Affected() && !Configured(os.Getenv("GODEBUG")) }
