//go:build !unix

package simdrt

// ReExec does nothing where the program cannot replace itself; set
// GODEBUG=asyncpreemptoff=1 in the environment instead.
func ReExec() error { return nil }
