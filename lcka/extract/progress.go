package extract

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// TerminalProgress returns a Progress callback that keeps one updating line
// on w (usually os.Stderr): model, language, texts done, tokens per second
// and the estimated time left. Notes (resumed, skipped, halved batches) are
// printed on lines of their own, and the line is ended when a language is
// finished.
func TerminalProgress(w io.Writer) func(Progress) {
	var mu sync.Mutex
	width := 0 // of the line on screen, to blank it out
	return func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		clear := func() {
			if width > 0 {
				fmt.Fprintf(w, "\r%s\r", strings.Repeat(" ", width))
				width = 0
			}
		}
		if p.Note != "" {
			clear()
			fmt.Fprintf(w, "%s %s: %s\n", p.Model, p.Lang, p.Note)
		}
		if p.Done >= p.Total && p.Note != "" {
			return
		}
		line := FormatProgress(p)
		clear()
		fmt.Fprint(w, line)
		width = len([]rune(line))
		if p.Done >= p.Total {
			fmt.Fprintln(w)
			width = 0
		}
	}
}

// FormatProgress renders p on one line, for example
//
//	tiny-a hi  64/132 texts (48%)  812 tok/s  ETA 3s  batch 16
func FormatProgress(p Progress) string {
	pct := 0.0
	if p.Total > 0 {
		pct = 100 * float64(p.Done) / float64(p.Total)
	}
	s := fmt.Sprintf("%s %s  %d/%d texts (%.0f%%)", p.Model, p.Lang, p.Done, p.Total, pct)
	if p.TokensPerSec > 0 {
		s += fmt.Sprintf("  %.0f tok/s", p.TokensPerSec)
		if p.Done < p.Total {
			s += "  ETA " + roundDuration(p.ETA).String()
		}
	}
	if p.BatchSize > 0 {
		s += fmt.Sprintf("  batch %d", p.BatchSize)
	}
	return s
}

// roundDuration rounds to a second, or to 100 ms under ten seconds.
func roundDuration(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
