// Package testenv holds what the project's tests share about their
// environment.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true, as .ci/run's
// machine sets it).
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing is called when a test needs a tool or file that a set-up script
// installs and it is absent: it skips the test on a developer's machine
// and fails it under CI, where a skip would hide a missing install step.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("%s (CI=true: the set-up must install it)", msg)
	}
	t.Skip("skipped: " + msg)
}
