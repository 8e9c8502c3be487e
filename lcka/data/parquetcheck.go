package data

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/parquet-go/parquet-go"
)

// The parquet library trusts the sizes written in a file: a corrupt footer
// or page header can make it allocate gigabytes (and crash the process).
// These checks walk the thrift compact encoding of the footer and of every
// page header first, rejecting lengths and counts that cannot fit in the
// bytes that remain, nesting deeper than maxThriftDepth, and page sizes or
// value counts beyond what the file can hold.

const (
	maxThriftDepth = 64
	maxPageBytes   = 1 << 28 // Largest uncompressed page accepted (256 MiB).
)

var errThrift = errors.New("corrupt parquet metadata")

// thriftScanner walks one thrift compact-protocol value without building it.
type thriftScanner struct {
	b   []byte
	pos int
	// onInt, when set, receives the integer fields of structs reached only
	// through struct fields (not lists), with their field-id path.
	onInt func(path []int16, v int64)
}

func (s *thriftScanner) remaining() int { return len(s.b) - s.pos }

func (s *thriftScanner) byte1() (byte, error) {
	if s.pos >= len(s.b) {
		return 0, fmt.Errorf("%w: truncated", errThrift)
	}
	c := s.b[s.pos]
	s.pos++
	return c, nil
}

func (s *thriftScanner) uvarint() (uint64, error) {
	v, n := binary.Uvarint(s.b[s.pos:])
	switch {
	case n == 0:
		return 0, fmt.Errorf("%w: truncated varint", errThrift)
	case n < 0:
		return 0, fmt.Errorf("%w: varint overflows 64 bits", errThrift)
	}
	s.pos += n
	return v, nil
}

func (s *thriftScanner) zigzag() (int64, error) {
	u, err := s.uvarint()
	return int64(u>>1) ^ -int64(u&1), err
}

// count reads a length or element count and checks that n items of at
// least one byte each fit in what remains.
func (s *thriftScanner) count(v uint64) (int, error) {
	if v > uint64(s.remaining()) {
		return 0, fmt.Errorf("%w: length %d exceeds the %d bytes left", errThrift, v, s.remaining())
	}
	return int(v), nil
}

// Compact protocol types.
const (
	tStop, tTrue, tFalse, tByte, tI16, tI32, tI64, tDouble, tBinary, tList, tSet, tMap, tStruct, tUUID = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13
)

// value skips one value of type t; path is the field path of a struct field
// (nil inside lists and maps).
func (s *thriftScanner) value(t byte, path []int16, depth int) error {
	if depth > maxThriftDepth {
		return fmt.Errorf("%w: nested deeper than %d", errThrift, maxThriftDepth)
	}
	switch t {
	case tTrue, tFalse:
		return nil // In a struct field the value is in the type.
	case tByte:
		_, err := s.byte1()
		return err
	case tI16, tI32, tI64:
		v, err := s.zigzag()
		if err == nil && path != nil && s.onInt != nil {
			s.onInt(path, v)
		}
		return err
	case tDouble:
		if s.remaining() < 8 {
			return fmt.Errorf("%w: truncated double", errThrift)
		}
		s.pos += 8
		return nil
	case tUUID:
		if s.remaining() < 16 {
			return fmt.Errorf("%w: truncated uuid", errThrift)
		}
		s.pos += 16
		return nil
	case tBinary:
		v, err := s.uvarint()
		if err != nil {
			return err
		}
		n, err := s.count(v)
		s.pos += n
		return err
	case tList, tSet:
		h, err := s.byte1()
		if err != nil {
			return err
		}
		size, et := uint64(h>>4), h&0x0f
		if size == 15 {
			if size, err = s.uvarint(); err != nil {
				return err
			}
		}
		n, err := s.count(size)
		if err != nil {
			return err
		}
		for range n {
			if et == tTrue || et == tFalse { // Booleans take one byte in lists.
				if _, err := s.byte1(); err != nil {
					return err
				}
				continue
			}
			if err := s.value(et, nil, depth+1); err != nil {
				return err
			}
		}
		return nil
	case tMap:
		v, err := s.uvarint()
		if err != nil {
			return err
		}
		n, err := s.count(v)
		if err != nil || n == 0 {
			return err
		}
		kv, err := s.byte1()
		if err != nil {
			return err
		}
		for range n {
			for _, et := range []byte{kv >> 4, kv & 0x0f} {
				if et == tTrue || et == tFalse {
					if _, err := s.byte1(); err != nil {
						return err
					}
				} else if err := s.value(et, nil, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	case tStruct:
		return s.structValue(path, depth+1)
	}
	return fmt.Errorf("%w: unknown thrift type %d", errThrift, t)
}

func (s *thriftScanner) structValue(path []int16, depth int) error {
	if depth > maxThriftDepth {
		return fmt.Errorf("%w: nested deeper than %d", errThrift, maxThriftDepth)
	}
	var id int16
	for {
		h, err := s.byte1()
		if err != nil {
			return err
		}
		t := h & 0x0f
		if t == tStop {
			return nil
		}
		if delta := int16(h >> 4); delta != 0 {
			id += delta
		} else {
			v, err := s.zigzag()
			if err != nil {
				return err
			}
			id = int16(v)
		}
		var sub []int16
		if path != nil {
			sub = append(append(make([]int16, 0, len(path)+1), path...), id)
		}
		if err := s.value(t, sub, depth); err != nil {
			return err
		}
	}
}

// checkParquetFrame checks the magic bytes, the footer length and the
// thrift encoding of the footer.
func checkParquetFrame(data []byte) error {
	if len(data) < 12 || string(data[:4]) != "PAR1" || string(data[len(data)-4:]) != "PAR1" {
		return errors.New("not a readable parquet file: missing PAR1 magic bytes")
	}
	footer := int64(binary.LittleEndian.Uint32(data[len(data)-8:]))
	if footer > int64(len(data)-12) {
		return fmt.Errorf("corrupt parquet file: footer of %d bytes in a %d-byte file", footer, len(data))
	}
	s := &thriftScanner{b: data[int64(len(data)-8)-footer : len(data)-8]}
	if err := s.structValue(nil, 0); err != nil {
		return fmt.Errorf("corrupt parquet footer: %w", err)
	}
	return nil
}

// checkParquetPages walks the page headers of every column chunk: they must
// parse, tile the chunk exactly, and declare sizes and value counts the
// file can hold.
func checkParquetPages(data []byte, f *parquet.File) error {
	footer := int64(binary.LittleEndian.Uint32(data[len(data)-8:]))
	limit := int64(len(data)) - 8 - footer // Where the footer starts.
	maxValues := 8*int64(len(data)) + 1024
	for g, rg := range f.Metadata().RowGroups {
		if rg.NumRows < 0 || rg.NumRows > maxValues {
			return fmt.Errorf("corrupt parquet file: row group %d claims %d rows", g, rg.NumRows)
		}
		for c, cc := range rg.Columns {
			md := cc.MetaData
			start := md.DataPageOffset
			if d := md.DictionaryPageOffset; d > 0 && d < start {
				start = d
			}
			end := start + md.TotalCompressedSize
			if start < 4 || md.TotalCompressedSize < 0 || end > limit || end < start {
				return fmt.Errorf("corrupt parquet file: column chunk %d of row group %d spans [%d, %d) outside the data", c, g, start, end)
			}
			if md.NumValues < 0 || md.NumValues > maxValues {
				return fmt.Errorf("corrupt parquet file: column chunk %d of row group %d claims %d values", c, g, md.NumValues)
			}
			for pos := start; pos < end; {
				ints := map[string]int64{}
				s := &thriftScanner{b: data[pos:end], onInt: func(p []int16, v int64) { ints[fmt.Sprint(p)] = v }}
				if err := s.structValue([]int16{}, 0); err != nil {
					return fmt.Errorf("corrupt parquet page header at byte %d: %w", pos, err)
				}
				comp, unc := ints["[3]"], ints["[2]"]
				if comp < 0 || comp > end-pos-int64(s.pos) {
					return fmt.Errorf("corrupt parquet page at byte %d: compressed size %d does not fit its column chunk", pos, comp)
				}
				if unc < 0 || unc > maxPageBytes {
					return fmt.Errorf("corrupt parquet page at byte %d: uncompressed size %d", pos, unc)
				}
				for _, k := range []string{"[5 1]", "[7 1]", "[8 1]", "[8 2]", "[8 3]"} {
					if v := ints[k]; v < 0 || v > maxValues {
						return fmt.Errorf("corrupt parquet page at byte %d: value count %d", pos, v)
					}
				}
				pos += int64(s.pos) + comp
			}
		}
	}
	return nil
}
