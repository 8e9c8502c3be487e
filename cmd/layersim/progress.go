package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/layersim/layersim/lcka/extract"
)

// Outside a terminal, analyze's progress is whole lines, as extract's.
var isTerminal = extract.IsTerminal

const logInterval = extract.LogInterval

// stageLog is analyze's progress outside a terminal: whole lines, a stage's
// first update, then at most one line every interval (as now tells the
// time), and the stage's last. Safe for concurrent use (the CKA engine's
// workers report from several goroutines).
func stageLog(w io.Writer, interval time.Duration, now func() time.Time) func(stage string, done, total int) {
	var (
		mu    sync.Mutex
		cur   string
		last  time.Time
		ended bool // cur's last line is printed
		clock stageClock
	)
	return func(stage string, done, total int) {
		mu.Lock()
		defer mu.Unlock()
		t := now()
		eta := clock.eta(stage, done, total, t)
		if stage == cur {
			if ended && done >= total || done < total && !ended && t.Sub(last) < interval {
				return
			}
		}
		cur, last, ended = stage, t, done >= total
		fmt.Fprintf(w, "%s %d/%d%s\n", stage, done, total, eta)
	}
}

// stageClock times a stage from its first report (or from a report that
// starts it again, its count falling) for the time left on its lines.
type stageClock struct {
	stage string
	done  int
	start time.Time
}

// eta records the report and returns "  ETA 1m35s", the stage's time left
// at its rate so far, once it has run 2 s and while it is not done; ""
// otherwise. The rate is the stage's average: stages whose first units are
// slower (a measure's layers before its pairs) overstate it at first.
func (c *stageClock) eta(stage string, done, total int, t time.Time) string {
	if stage != c.stage || done < c.done || c.start.IsZero() {
		c.stage, c.start = stage, t
	}
	c.done = done
	took := t.Sub(c.start)
	if done <= 0 || done >= total || took < 2*time.Second {
		return ""
	}
	left := time.Duration(float64(took) * float64(total-done) / float64(done))
	return "  ETA " + extract.RoundDuration(left).String()
}

// clearProgress blanks stageProgress's line on a terminal.
func clearProgress(w io.Writer) {
	if isTerminal(w) {
		fmt.Fprint(w, "\r\033[K")
	}
}
