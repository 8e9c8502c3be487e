// Package meminfo reads how much memory the machine can still give: the
// kernel's MemAvailable estimate (Linux), the figure that memory budgets and
// plans are made against.
package meminfo

import (
	"fmt"
	"os"
	"strings"
)

// Available returns MemAvailable from /proc/meminfo in bytes, and false
// where the platform does not report it.
func Available() (int64, bool) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	return parse(string(data))
}

func parse(meminfo string) (int64, bool) {
	for line := range strings.Lines(meminfo) {
		var kb int64
		if _, err := fmt.Sscanf(line, "MemAvailable: %d kB", &kb); err == nil && kb >= 0 {
			return kb * 1024, true
		}
	}
	return 0, false
}
