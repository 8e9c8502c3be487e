// Command testlog reads the event stream of `go test -json` on standard
// input and writes what `go test` prints without -v (each package's ok or
// FAIL line, the output of failing tests, build errors), then, at the end,
// every skipped test with the reason it gave. .ci/run pipes the module's
// tests through it, so that a test skipped under CI is seen.
//
//	go test -json ./... | go run ./internal/testenv/testlog
//
// Lines that are not events pass through. The exit status is go test's
// business (.ci/run sets pipefail); testlog fails only when it cannot read
// or write.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "testlog:", err)
		os.Exit(1)
	}
}

func run(r io.Reader, w io.Writer) error {
	bw := bufio.NewWriter(w)
	s := newSummary(bw)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		s.line(sc.Bytes())
		// Flush per package result so that progress shows as it comes.
		if s.flush {
			if err := bw.Flush(); err != nil {
				return err
			}
			s.flush = false
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	s.finish()
	return bw.Flush()
}
