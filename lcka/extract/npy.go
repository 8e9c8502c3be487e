package extract

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// npyHeader returns the .npy version 1.0 preamble of a C-ordered
// little-endian float32 array of the given shape, padded with spaces to a
// multiple of 64 bytes and ended by a newline, as NumPy writes it.
func npyHeader(shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	dict := "{'descr': '<f4', 'fortran_order': False, 'shape': (" + tuple + "), }"
	const preamble = 10 // magic (6), version (2), header length (2)
	total := (preamble + len(dict) + 1 + 63) / 64 * 64
	b := make([]byte, 0, total)
	b = append(b, "\x93NUMPY\x01\x00"...)
	b = binary.LittleEndian.AppendUint16(b, uint16(total-preamble))
	b = append(b, dict...)
	b = append(b, bytes.Repeat([]byte{' '}, total-len(b)-1)...)
	return append(b, '\n')
}

// encodeNPY returns the .npy bytes of a float32 array of the given shape.
func encodeNPY(shape []int, data []float32) []byte {
	b := npyHeader(shape)
	for _, v := range data {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// readNPY reads a file written by encodeNPY with exactly this shape; any
// other header or length is an error.
func readNPY(path string, shape []int) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	want := npyHeader(shape)
	n := 1
	for _, d := range shape {
		n *= d
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() != int64(len(want))+4*int64(n) {
		return nil, fmt.Errorf("%s: %d bytes, want %d for a float32 array of shape %v", path, st.Size(), int64(len(want))+4*int64(n), shape)
	}
	hdr := make([]byte, len(want))
	if _, err := io.ReadFull(f, hdr); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !bytes.Equal(hdr, want) {
		return nil, fmt.Errorf("%s: unexpected .npy header %q, want shape %v float32", path, hdr, shape)
	}
	raw := make([]byte, 4*n)
	if _, err := io.ReadFull(f, raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out, nil
}
