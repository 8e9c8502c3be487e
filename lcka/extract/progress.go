package extract

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// LogInterval is how often LogProgress prints a line while a language runs.
const LogInterval = 5 * time.Second

// ShowProgress returns the Progress callback for w: TerminalProgress when w
// is a terminal, otherwise (a log file, a pipe, CI) LogProgress with
// LogInterval and the wall clock.
func ShowProgress(w io.Writer) func(Progress) {
	if IsTerminal(w) {
		return TerminalProgress(w)
	}
	return LogProgress(w, LogInterval, time.Now)
}

// IsTerminal reports whether w is a terminal (a character device such as a
// tty; /dev/null counts too, harmlessly).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// LogProgress returns a Progress callback for a log: whole lines, no
// carriage returns. It prints a language's first update, then at most one
// line every interval (as now tells the time), and the line of the finished
// language; notes get lines of their own, as with TerminalProgress. The
// lines read as FormatProgress writes them.
func LogProgress(w io.Writer, interval time.Duration, now func() time.Time) func(Progress) {
	var (
		mu       sync.Mutex
		set      string // model and language of the last line
		last     time.Time
		finished bool // set's final line is printed
	)
	return func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Note != "" {
			fmt.Fprintf(w, "%s %s: %s\n", p.Model, p.Lang, p.Note)
		}
		key := p.Model + "\x00" + p.Lang
		t := now()
		first := key != set
		if first {
			set, finished = key, false
		}
		switch {
		case p.Done >= p.Total && (p.Note != "" || finished):
			// The end is shown once, and a note after it is enough.
			if p.Note != "" {
				finished = true
			}
			return
		case p.Done >= p.Total:
			finished = true
		case !first && t.Sub(last) < interval:
			return
		}
		last = t
		fmt.Fprintln(w, FormatProgress(p))
	}
}

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
			s += "  ETA " + RoundDuration(p.ETA).String()
		}
	}
	if p.BatchSize > 0 {
		s += fmt.Sprintf("  batch %d", p.BatchSize)
	}
	return s
}

// RoundDuration rounds to a second, or to 100 ms under ten seconds: how
// progress lines show a time left.
func RoundDuration(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
