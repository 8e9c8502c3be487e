package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestStageLog: analyze's lines in a log, on a fake clock: each stage's
// first update, at most one line every 5 s, its last line once.
func TestStageLog(t *testing.T) {
	type step struct {
		at          time.Duration
		stage       string
		done, total int
	}
	for _, tc := range []struct {
		name  string
		steps []step
		want  string
	}{
		{"throttled", []step{{0, "cka", 0, 10}, {time.Second, "cka", 3, 10}, {4 * time.Second, "cka", 5, 10}, {5 * time.Second, "cka", 6, 10}, {7 * time.Second, "cka", 7, 10}},
			"cka 0/10\ncka 6/10  ETA 3.3s\n"},
		// The time left at the stage's rate from its first report, once it
		// has run 2 s, never on its last line; a stage run again is timed
		// again.
		{"time left", []step{{0, "shape:1", 1, 100}, {time.Second, "shape:1", 2, 100}, {10 * time.Second, "shape:1", 20, 100}, {80 * time.Second, "shape:1", 90, 100}, {90 * time.Second, "shape:1", 100, 100},
			{91 * time.Second, "shape:1", 0, 10}, {92 * time.Second, "shape:1", 1, 10}, {98 * time.Second, "shape:1", 4, 10}},
			"shape:1 1/100\nshape:1 20/100  ETA 40s\nshape:1 90/100  ETA 8.9s\nshape:1 100/100\nshape:1 0/10\nshape:1 4/10  ETA 11s\n"},
		{"the end of each stage, once", []step{{0, "cka", 0, 4}, {time.Second, "cka", 4, 4}, {time.Second, "cka", 4, 4}, {2 * time.Second, "rsa", 1, 2}, {2 * time.Second, "rsa", 2, 2}},
			"cka 0/4\ncka 4/4\nrsa 1/2\nrsa 2/2\n"},
		{"a stage run again starts again", []step{{0, "boot", 2, 2}, {time.Second, "boot", 0, 2}, {2 * time.Second, "boot", 1, 2}, {8 * time.Second, "boot", 2, 2}},
			"boot 2/2\nboot 0/2\nboot 2/2\n"},
	} {
		var buf bytes.Buffer
		var clock time.Time
		show := stageLog(&buf, 5*time.Second, func() time.Time { return clock })
		for _, s := range tc.steps {
			clock = time.Unix(1_000_000, 0).Add(s.at)
			show(s.stage, s.done, s.total)
		}
		if got := buf.String(); got != tc.want || strings.ContainsAny(got, "\r\033") {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	// Outside a terminal, stageProgress is stageLog and clearProgress
	// writes nothing.
	var buf bytes.Buffer
	stageProgress(&buf)("cka", 1, 1)
	clearProgress(&buf)
	if buf.String() != "cka 1/1\n" {
		t.Errorf("stageProgress on a buffer wrote %q", buf.String())
	}
}

// TestStageLogConcurrent calls stageLog from several goroutines, as the
// CKA engine's workers do (run with -race): every line it writes is whole.
func TestStageLogConcurrent(t *testing.T) {
	var buf syncBuffer
	f := stageLog(&buf, 0, time.Now)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				f("cka", g*100+i, 400)
			}
		})
	}
	wg.Wait()
	for line := range strings.Lines(buf.String()) {
		if !strings.HasPrefix(line, "cka ") || !strings.HasSuffix(line, "/400\n") {
			t.Fatalf("broken line %q", line)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
