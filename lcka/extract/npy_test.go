package extract

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"
)

// TestNPY writes arrays of 1 to 3 dimensions and reads them back with
// npyio (an independent reader) and with readNPY, which refuses any other
// shape or a truncated file.
func TestNPY(t *testing.T) {
	dir := t.TempDir()
	for _, shape := range [][]int{{5}, {3, 4}, {2, 3, 4}, {1, 1, 70000}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(i)*0.25 - 3
		}
		b := encodeNPY(shape, data)
		if h := npyHeader(shape); len(h)%64 != 0 || h[len(h)-1] != '\n' {
			t.Errorf("%v: header of %d bytes", shape, len(h))
		}
		r, err := npyio.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		// npyio keeps the quotes of the header text.
		if strings.Trim(r.Header.Descr.Type, "'") != "<f4" || r.Header.Descr.Fortran || !slices.Equal(r.Header.Descr.Shape, shape) {
			t.Errorf("npyio header %+v, want %v", r.Header, shape)
		}
		var got []float32
		if err := r.Read(&got); err != nil || !slices.Equal(got, data) {
			t.Errorf("%v: npyio read %v", shape, err)
		}
		path := filepath.Join(dir, "a.npy")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := readNPY(path, shape); err != nil || !slices.Equal(got, data) {
			t.Errorf("%v: readNPY: %v", shape, err)
		}
		other := append([]int{1}, shape...)
		if _, err := readNPY(path, other); err == nil {
			t.Errorf("%v read as %v", shape, other)
		}
		os.WriteFile(path, b[:len(b)-1], 0o644)
		if _, err := readNPY(path, shape); err == nil {
			t.Errorf("%v: truncated file accepted", shape)
		}
	}
}
