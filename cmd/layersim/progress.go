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
	)
	return func(stage string, done, total int) {
		mu.Lock()
		defer mu.Unlock()
		t := now()
		if stage == cur {
			if ended && done >= total || done < total && !ended && t.Sub(last) < interval {
				return
			}
		}
		cur, last, ended = stage, t, done >= total
		fmt.Fprintf(w, "%s %d/%d\n", stage, done, total)
	}
}

// clearProgress blanks stageProgress's line on a terminal.
func clearProgress(w io.Writer) {
	if isTerminal(w) {
		fmt.Fprint(w, "\r\033[K")
	}
}
