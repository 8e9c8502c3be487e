package extract

import (
	"bytes"
	"os"
	"path/filepath"
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

// TestLogProgress feeds updates at given times (a fake clock) and checks
// which lines a log gets: a language's first update, then at most one line
// every 5 s, the finished line always and once, notes on lines of their own,
// and never a carriage return.
func TestLogProgress(t *testing.T) {
	type step struct {
		at time.Duration // on the fake clock
		p  Progress
	}
	upd := func(lang string, done int) Progress {
		return Progress{Model: "m", Lang: lang, Done: done, Total: 8, BatchSize: 2, TokensPerSec: 10, ETA: time.Duration(8-done) * time.Second}
	}
	line := func(lang string, done int) string { return FormatProgress(upd(lang, done)) + "\n" }
	resumed, wrote := upd("en", 0), upd("en", 8)
	resumed.Note, wrote.Note = "resumed 0 of 8", "wrote x.npz"
	skipped := Progress{Model: "m", Lang: "hi", Done: 8, Total: 8, Note: "skipped: x is up to date"}
	for _, tc := range []struct {
		name  string
		steps []step
		want  string
	}{
		{"throttled to one line every 5 s",
			[]step{{0, upd("en", 0)}, {1 * time.Second, upd("en", 2)}, {4999 * time.Millisecond, upd("en", 4)}, {5 * time.Second, upd("en", 6)}, {6 * time.Second, upd("en", 7)}},
			line("en", 0) + line("en", 6)},
		{"the end of a set is printed at once, and once",
			[]step{{0, upd("en", 0)}, {time.Second, upd("en", 8)}, {2 * time.Second, upd("en", 8)}, {3 * time.Second, wrote}},
			line("en", 0) + line("en", 8) + "m en: wrote x.npz\n"},
		{"notes on their own lines; a new language starts a new first line",
			[]step{{0, resumed}, {time.Second, upd("en", 4)}, {2 * time.Second, upd("en", 8)}, {2 * time.Second, wrote}, {2500 * time.Millisecond, upd("hi", 0)}, {3 * time.Second, upd("hi", 2)}},
			"m en: resumed 0 of 8\n" + line("en", 0) + line("en", 8) + "m en: wrote x.npz\n" + line("hi", 0)},
		{"a skipped language is its note alone",
			[]step{{0, skipped}},
			"m hi: skipped: x is up to date\n"},
		{"slow batches: every update is a line",
			[]step{{0, upd("en", 0)}, {6 * time.Second, upd("en", 2)}, {12 * time.Second, upd("en", 4)}, {13 * time.Second, upd("en", 8)}},
			line("en", 0) + line("en", 2) + line("en", 4) + line("en", 8)},
	} {
		var buf bytes.Buffer
		var clock time.Time
		show := LogProgress(&buf, 5*time.Second, func() time.Time { return clock })
		for _, s := range tc.steps {
			clock = time.Unix(1_000_000, 0).Add(s.at)
			show(s.p)
		}
		if got := buf.String(); got != tc.want {
			t.Errorf("%s: output\n%q\nwant\n%q", tc.name, got, tc.want)
		}
		if strings.Contains(buf.String(), "\r") {
			t.Errorf("%s: a carriage return in a log", tc.name)
		}
	}
}

// TestShowProgress: a file or a buffer is a log, a character device is not.
func TestShowProgress(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	show := ShowProgress(f)
	show(Progress{Model: "m", Lang: "en", Done: 0, Total: 4})
	show(Progress{Model: "m", Lang: "en", Done: 1, Total: 4}) // within 5 s: dropped
	show(Progress{Model: "m", Lang: "en", Done: 4, Total: 4})
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if want := "m en  0/4 texts (0%)\nm en  4/4 texts (100%)\n"; string(b) != want {
		t.Errorf("log file got %q, want %q", b, want)
	}
	if IsTerminal(&bytes.Buffer{}) || IsTerminal(f) {
		t.Error("a buffer or a regular file taken for a terminal")
	}
	if tty, err := os.OpenFile("/dev/null", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		if !IsTerminal(tty) {
			t.Error("/dev/null (a character device) not taken for one")
		}
	}
}
