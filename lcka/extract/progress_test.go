package extract

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestFormatProgress(t *testing.T) {
	for _, tt := range []struct {
		p    Progress
		want string
	}{
		{Progress{Model: "tiny-a", Lang: "hi", Done: 64, Total: 128, TokensPerSec: 812.4, ETA: 3210 * time.Millisecond, BatchSize: 16},
			"tiny-a hi  64/128 texts (50%)  812 tok/s  ETA 3.2s  batch 16"},
		{Progress{Model: "m", Lang: "en", Done: 0, Total: 10, BatchSize: 8}, "m en  0/10 texts (0%)  batch 8"},
		{Progress{Model: "m", Lang: "en", Done: 10, Total: 10, TokensPerSec: 99.6, ETA: 0}, "m en  10/10 texts (100%)  100 tok/s"},
		{Progress{Model: "m", Lang: "en", Done: 1, Total: 3, TokensPerSec: 1, ETA: 95 * time.Second}, "m en  1/3 texts (33%)  1 tok/s  ETA 1m35s"},
	} {
		if got := FormatProgress(tt.p); got != tt.want {
			t.Errorf("FormatProgress = %q, want %q", got, tt.want)
		}
	}
}

// TestTerminalProgress checks the line protocol: each update returns to the
// start of the line and blanks the previous one, notes get lines of their
// own, and a finished language ends its line.
func TestTerminalProgress(t *testing.T) {
	var buf bytes.Buffer
	show := TerminalProgress(&buf)
	show(Progress{Model: "m", Lang: "en", Done: 0, Total: 4, BatchSize: 2, Note: "resumed 0 of 4"})
	show(Progress{Model: "m", Lang: "en", Done: 2, Total: 4, BatchSize: 2, TokensPerSec: 10, ETA: time.Second})
	show(Progress{Model: "m", Lang: "en", Done: 4, Total: 4, BatchSize: 2, TokensPerSec: 10})
	show(Progress{Model: "m", Lang: "en", Done: 4, Total: 4, Note: "wrote x.npz"})
	got := buf.String()
	l0 := "m en  0/4 texts (0%)  batch 2"
	l1 := "m en  2/4 texts (50%)  10 tok/s  ETA 1s  batch 2"
	want := "m en: resumed 0 of 4\n" + l0 +
		"\r" + strings.Repeat(" ", len(l0)) + "\r" + l1 +
		"\r" + strings.Repeat(" ", len(l1)) + "\r" + "m en  4/4 texts (100%)  10 tok/s  batch 2\n" +
		"m en: wrote x.npz\n"
	if got != want {
		t.Errorf("output\n%q\nwant\n%q", got, want)
	}
}
