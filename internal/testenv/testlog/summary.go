package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json's TestEvent).
type event struct {
	Action     string
	Package    string
	ImportPath string // of build-output events
	Test       string
	Output     string
}

type testKey struct{ pkg, test string }

// skip is one skipped test and what it printed.
type skip struct {
	pkg, test string
	reason    []string
}

// summary turns events into go test's plain output and collects the skips.
type summary struct {
	w       io.Writer
	pending map[testKey][]string // output of the tests that have not ended
	skips   []skip
	failed  bool // a package failed
	flush   bool // a package ended: the caller flushes
}

func newSummary(w io.Writer) *summary {
	return &summary{w: w, pending: map[testKey][]string{}}
}

func (s *summary) line(b []byte) {
	var e event
	if len(bytes.TrimSpace(b)) == 0 || b[0] != '{' || json.Unmarshal(b, &e) != nil || e.Action == "" {
		fmt.Fprintf(s.w, "%s\n", b)
		return
	}
	k := testKey{e.Package, e.Test}
	switch {
	case e.Action == "build-output":
		io.WriteString(s.w, e.Output)
	case e.Action == "output" && e.Test == "":
		if e.Output != "PASS\n" { // go test shows a passed package's ok line alone
			io.WriteString(s.w, e.Output)
		}
	case e.Action == "output":
		s.pending[k] = append(s.pending[k], e.Output)
	case e.Test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip"):
		// The package ended: what its unfinished tests printed (a panic, a
		// timeout) is shown when it failed.
		for pk, out := range s.pending {
			if pk.pkg == e.Package {
				if e.Action == "fail" {
					s.print(out)
				}
				delete(s.pending, pk)
			}
		}
		s.failed = s.failed || e.Action == "fail"
		s.flush = true
	case e.Action == "fail":
		block := failBlock(s.pending[k])
		delete(s.pending, k)
		if i := strings.LastIndex(e.Test, "/"); i >= 0 {
			// A subtest: shown, indented, under its parent's FAIL line.
			p := testKey{e.Package, e.Test[:i]}
			for _, o := range block {
				s.pending[p] = append(s.pending[p], "    "+o)
			}
			break
		}
		for _, o := range block {
			io.WriteString(s.w, o)
		}
	case e.Action == "skip":
		s.skips = append(s.skips, skip{pkg: e.Package, test: e.Test, reason: reason(s.pending[k])})
		delete(s.pending, k)
	case e.Action == "pass":
		delete(s.pending, k)
	}
}

// print writes the output of a test that never ended.
func (s *summary) print(out []string) {
	for _, o := range failBlock(out) {
		io.WriteString(s.w, o)
	}
}

// failBlock orders a failed test's output as go test prints it without -v:
// its FAIL line first, then what it printed (failed subtests' blocks
// included), without -v's other framing lines.
func failBlock(out []string) []string {
	var head, rest []string
	for _, o := range out {
		switch {
		case strings.HasPrefix(o, "--- FAIL"):
			head = append(head, o)
		case strings.HasPrefix(strings.TrimSpace(o), "--- FAIL"):
			rest = append(rest, o) // a subtest's
		case !isFrame(o):
			rest = append(rest, o)
		}
	}
	return append(head, rest...)
}

// isFrame reports whether a line is -v's framing (=== RUN, --- PASS, ...).
func isFrame(o string) bool {
	t := strings.TrimSpace(o)
	return strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ")
}

// reason is what a skipped test printed, framing left out, on one line each.
func reason(out []string) []string {
	var r []string
	for _, o := range out {
		if t := strings.TrimSpace(o); t != "" && !isFrame(o) {
			r = append(r, t)
		}
	}
	return r
}

// finish writes the skipped tests.
func (s *summary) finish() {
	if s.failed {
		fmt.Fprintln(s.w, "FAIL") // as go test ends
	}
	if len(s.skips) == 0 {
		fmt.Fprintln(s.w, "skipped tests: none")
		return
	}
	fmt.Fprintf(s.w, "skipped tests (%d):\n", len(s.skips))
	for _, k := range s.skips {
		why := strings.Join(k.reason, " / ")
		if why == "" {
			why = "(no reason given)"
		}
		fmt.Fprintf(s.w, "  %s %s: %s\n", k.pkg, k.test, why)
	}
}
