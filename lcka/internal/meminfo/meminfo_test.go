package meminfo

import (
	"runtime"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"MemTotal:       24576000 kB\nMemFree:         1000 kB\nMemAvailable:   22900000 kB\n", 22900000 * 1024, true},
		{"MemTotal:       24576000 kB\n", 0, false},
		{"MemAvailable: lots\n", 0, false},
		{"", 0, false},
	} {
		got, ok := parse(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("parse(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	if runtime.GOOS == "linux" {
		if n, ok := Available(); !ok || n <= 0 {
			t.Errorf("Available() = %d, %v on Linux", n, ok)
		}
	}
}
