//go:build unix

package simdrt

import (
	"os"
	"syscall"
)

// ReExec starts the running program again in place (same process id,
// arguments and standard streams) with Setting added to GODEBUG, when
// NeedsReExec. It returns only when nothing had to be done or the program
// could not be started again (then the caller goes on, slower).
func ReExec() error {
	if !NeedsReExec() {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	env, _ := Environ(os.Environ())
	return syscall.Exec(exe, os.Args, env)
}
