package cka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"

	"github.com/layersim/layersim/internal/atomicfile"
)

// A checkpoint holds the state of a tiles-route sweep: which tiles are done
// and the float64 sums they have added up. Its layout, all little-endian:
//
//	magic "LSCKACP1" | fingerprint [32]byte | L, n, nb uint32 |
//	done [nb·nb]byte | acc [L·L]float64 | rowSums [L·n]float64 (debiased
//	only) | CRC-32 (IEEE) of everything before it
//
// The current job gives every size, so a file of any other length, magic,
// fingerprint or checksum belongs to another job (or is damaged) and is not
// used.
type checkpoint struct {
	path        string
	fingerprint [32]byte
	L, n, nb    int
	rowSums     bool
}

const checkpointMagic = "LSCKACP1"

func (c *checkpoint) size() int {
	s := len(checkpointMagic) + 32 + 12 + c.nb*c.nb + 8*c.L*c.L + 4
	if c.rowSums {
		s += 8 * c.L * c.n
	}
	return s
}

// load fills done, acc and rowSums from the file and returns the number of
// tiles done, or leaves them untouched and returns 0 with the reason the
// file is not used (nil if there is no file).
func (c *checkpoint) load(done []bool, acc []float64, rowSums [][]float64) (int, error) {
	data, err := os.ReadFile(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(data) != c.size() {
		return 0, fmt.Errorf("checkpoint %s has %d bytes, this job's has %d: another job's or damaged", c.path, len(data), c.size())
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return 0, fmt.Errorf("checkpoint %s is damaged (checksum)", c.path)
	}
	if string(body[:8]) != checkpointMagic {
		return 0, fmt.Errorf("checkpoint %s: not a layersim CKA checkpoint", c.path)
	}
	body = body[8:]
	if !bytes.Equal(body[:32], c.fingerprint[:]) {
		return 0, fmt.Errorf("checkpoint %s belongs to another job (other layers or options)", c.path)
	}
	body = body[32:]
	for _, want := range []int{c.L, c.n, c.nb} {
		if int(binary.LittleEndian.Uint32(body)) != want {
			return 0, fmt.Errorf("checkpoint %s belongs to another job (sizes)", c.path)
		}
		body = body[4:]
	}
	count := 0
	for _, b := range body[:len(done)] {
		if b > 1 {
			return 0, fmt.Errorf("checkpoint %s is damaged (tile flags)", c.path)
		}
		count += int(b)
	}
	for k := range done {
		done[k] = body[k] == 1
	}
	body = body[len(done):]
	readFloats := func(dst []float64) {
		for k := range dst {
			dst[k] = math.Float64frombits(binary.LittleEndian.Uint64(body[8*k:]))
		}
		body = body[8*len(dst):]
	}
	readFloats(acc)
	for _, rs := range rowSums {
		readFloats(rs)
	}
	return count, nil
}

// save writes the state atomically.
func (c *checkpoint) save(done []bool, acc []float64, rowSums [][]float64) error {
	buf := make([]byte, 0, c.size())
	buf = append(buf, checkpointMagic...)
	buf = append(buf, c.fingerprint[:]...)
	for _, v := range []int{c.L, c.n, c.nb} {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(v))
	}
	for _, d := range done {
		if d {
			buf = append(buf, 1)
		} else {
			buf = append(buf, 0)
		}
	}
	for _, v := range acc {
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
	}
	for _, rs := range rowSums {
		for _, v := range rs {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
		}
	}
	buf = binary.LittleEndian.AppendUint32(buf, crc32.ChecksumIEEE(buf))
	if err := atomicfile.Write(c.path, buf); err != nil {
		return fmt.Errorf("cka: writing the checkpoint: %w", err)
	}
	return nil
}
