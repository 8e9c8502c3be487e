//go:build !cgo

package backend

import (
	"errors"
	"strings"
	"testing"
)

// TestNoCgo: without cgo, asking for xla fails clearly, before any plugin
// search, and go still works.
func TestNoCgo(t *testing.T) {
	if XLAAvailable {
		t.Error("XLAAvailable is true without cgo")
	}
	for _, s := range []string{"xla:cuda", "xla:cpu", "xla:/nowhere/plugin.so"} {
		spec, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		_, err = New(spec, "")
		if !errors.Is(err, ErrNoCgo) || !strings.Contains(err.Error(), "CGO_ENABLED=0") || !strings.Contains(err.Error(), s) {
			t.Errorf("New(%s) error %v, want ErrNoCgo naming the spec", s, err)
		}
	}
	if b, err := New(Spec{Kind: Go}, ""); err != nil {
		t.Errorf("New(go) without cgo: %v", err)
	} else {
		b.Finalize()
	}
}
