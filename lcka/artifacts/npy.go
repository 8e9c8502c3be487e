package artifacts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unsafe"
)

// npyMagic opens every .npy stream.
const npyMagic = "\x93NUMPY"

// maxHeaderLen bounds the dictionary of an .npy header. NumPy itself refuses
// headers over 10000 bytes by default; a 2-D float header is under 128.
const maxHeaderLen = 1 << 16

// npyHeader is the decoded preamble of an .npy stream.
type npyHeader struct {
	major, minor int
	dtype        dtype
	fortran      bool
	shape        []int
	headerLen    int64 // bytes before the data: magic, version, length field, dictionary
}

// dataLen returns the number of data bytes the header announces, or an
// error if that number overflows.
func (h npyHeader) dataLen() (int64, error) {
	n := int64(h.dtype.size)
	for _, d := range h.shape {
		if d != 0 && n > math.MaxInt64/int64(d) {
			return 0, fmt.Errorf("shape %s is too large", shapeString(h.shape))
		}
		n *= int64(d)
	}
	return n, nil
}

// dtype is a supported element type: an IEEE float of 2, 4 or 8 bytes.
type dtype struct {
	size  int
	order binary.ByteOrder
	descr string
}

func parseDescr(s string) (dtype, error) {
	bad := fmt.Errorf("unsupported dtype %q (want float16, float32 or float64: '<f2', '<f4', '<f8' or big-endian '>f…')", s)
	if len(s) != 3 || s[1] != 'f' {
		return dtype{}, bad
	}
	var order binary.ByteOrder
	switch s[0] {
	case '<':
		order = binary.LittleEndian
	case '>':
		order = binary.BigEndian
	default:
		return dtype{}, bad
	}
	switch s[2] {
	case '2', '4', '8':
		return dtype{size: int(s[2] - '0'), order: order, descr: s}, nil
	}
	return dtype{}, bad
}

// readNPYHeader reads the preamble of an .npy stream. size is the total
// length of the stream (header and data) when known, or -1.
func readNPYHeader(r io.Reader, size int64) (npyHeader, error) {
	var h npyHeader
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return h, fmt.Errorf("reading npy preamble: %w", noEOF(err))
	}
	if string(pre[:6]) != npyMagic {
		return h, errors.New("not an npy stream (bad magic)")
	}
	h.major, h.minor = int(pre[6]), int(pre[7])
	var hlen int64
	switch h.major {
	case 1:
		hlen = int64(binary.LittleEndian.Uint16(pre[8:10]))
		h.headerLen = 10 + hlen
	case 2, 3:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return h, fmt.Errorf("reading npy header length: %w", noEOF(err))
		}
		hlen = int64(binary.LittleEndian.Uint32(append(pre[8:10:10], ext[:]...)))
		h.headerLen = 12 + hlen
	default:
		return h, fmt.Errorf("unsupported npy format version %d.%d", h.major, h.minor)
	}
	if hlen > maxHeaderLen {
		return h, fmt.Errorf("npy header of %d bytes exceeds the limit of %d", hlen, maxHeaderLen)
	}
	if size >= 0 && h.headerLen > size {
		return h, fmt.Errorf("npy header of %d bytes does not fit in a stream of %d bytes", hlen, size)
	}
	buf := make([]byte, hlen)
	if _, err := io.ReadFull(r, buf); err != nil {
		return h, fmt.Errorf("reading npy header: %w", noEOF(err))
	}
	if err := h.parseDict(buf); err != nil {
		return h, fmt.Errorf("npy header %q: %w", bytes.TrimRight(buf, " \n"), err)
	}
	return h, nil
}

// parseDict decodes the header dictionary, a Python literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }.
func (h *npyHeader) parseDict(buf []byte) error {
	p := pyParser{s: buf}
	seen := map[string]bool{}
	p.space()
	if !p.eat('{') {
		return errors.New("not a dictionary")
	}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return fmt.Errorf("dictionary key: %w", err)
		}
		if seen[key] {
			return fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		p.space()
		if !p.eat(':') {
			return fmt.Errorf("missing ':' after key %q", key)
		}
		p.space()
		switch key {
		case "descr":
			if p.peek() == '[' {
				return errors.New("structured dtypes are not supported")
			}
			s, err := p.str()
			if err != nil {
				return fmt.Errorf("descr: %w", err)
			}
			if h.dtype, err = parseDescr(s); err != nil {
				return err
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
				h.fortran = false
			default:
				return errors.New("fortran_order is not True or False")
			}
		case "shape":
			shape, err := p.tuple()
			if err != nil {
				return fmt.Errorf("shape: %w", err)
			}
			h.shape = shape
		default:
			return fmt.Errorf("unexpected key %q", key)
		}
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat('}') {
			return errors.New("missing ',' or '}'")
		}
		break
	}
	p.space()
	if p.i != len(p.s) {
		return errors.New("trailing characters after the dictionary")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return fmt.Errorf("missing key %q", k)
		}
	}
	return nil
}

// pyParser reads the few Python literals an .npy header uses.
type pyParser struct {
	s []byte
	i int
}

func (p *pyParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *pyParser) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.s) {
		p.i++
		return true
	}
	return false
}

func (p *pyParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *pyParser) word(w string) bool {
	if bytes.HasPrefix(p.s[p.i:], []byte(w)) {
		p.i += len(w)
		return true
	}
	return false
}

// str reads a quoted string without escapes, the only kind NumPy writes
// for keys and float type strings.
func (p *pyParser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", errors.New("want a quoted string")
	}
	end := bytes.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", errors.New("unterminated string")
	}
	s := p.s[p.i+1 : p.i+1+end]
	if bytes.IndexByte(s, '\\') >= 0 {
		return "", errors.New("escapes in strings are not supported")
	}
	p.i += end + 2
	return string(s), nil
}

// tuple reads a tuple of non-negative integers: (), (3,), (3, 4).
// A trailing L (Python 2 long) is accepted, as NumPy does.
func (p *pyParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, errors.New("want a tuple")
	}
	shape := []int{}
	for {
		p.space()
		if p.eat(')') {
			return shape, nil
		}
		start := p.i
		for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
			p.i++
		}
		if start == p.i {
			return nil, errors.New("want a non-negative integer")
		}
		d, err := strconv.ParseInt(string(p.s[start:p.i]), 10, 64)
		if err != nil || d > math.MaxInt32*int64(1<<16) {
			return nil, fmt.Errorf("dimension %s is out of range", p.s[start:p.i])
		}
		shape = append(shape, int(d))
		p.eat('L')
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat(')') {
			return nil, errors.New("missing ',' or ')'")
		}
		if len(shape) == 1 {
			return nil, errors.New("a one-element tuple needs a trailing comma")
		}
		return shape, nil
	}
}

func shapeString(shape []int) string {
	var b bytes.Buffer
	b.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

// readMatrix reads a 2-D .npy stream into a row-major float32 Matrix.
// size is the total length of the stream when known, or -1; limit bounds
// the number of data bytes that may be allocated for (a guard against
// headers that announce more data than the container can hold).
func readMatrix(r io.Reader, size, limit int64) (Matrix, error) {
	h, err := readNPYHeader(r, size)
	if err != nil {
		return Matrix{}, err
	}
	return readMatrixData(r, h, size, limit)
}

// checkMatrixHeader checks that h describes a non-empty 2-D array whose data
// fill the rest of a stream of the given size (when size >= 0) and do not
// exceed limit bytes, and returns the data length.
func checkMatrixHeader(h npyHeader, size, limit int64) (int64, error) {
	if len(h.shape) != 2 {
		return 0, fmt.Errorf("want a 2-D array [N, D], got shape %s", shapeString(h.shape))
	}
	if h.shape[0] == 0 || h.shape[1] == 0 {
		return 0, fmt.Errorf("empty array of shape %s", shapeString(h.shape))
	}
	n, err := h.dataLen()
	if err != nil {
		return 0, err
	}
	if size >= 0 {
		switch have := size - h.headerLen; {
		case have < n:
			return 0, fmt.Errorf("truncated: shape %s %s needs %d data bytes, have %d", shapeString(h.shape), h.dtype.descr, n, have)
		case have > n:
			return 0, fmt.Errorf("%d unexpected bytes after the data of shape %s %s", have-n, shapeString(h.shape), h.dtype.descr)
		}
	}
	if n > limit || n/int64(h.dtype.size) > math.MaxInt {
		return 0, fmt.Errorf("shape %s %s needs %d data bytes, more than the container can hold (%d)", shapeString(h.shape), h.dtype.descr, n, limit)
	}
	return n, nil
}

// readMatrixData reads the data that follow header h.
func readMatrixData(r io.Reader, h npyHeader, size, limit int64) (Matrix, error) {
	if _, err := checkMatrixHeader(h, size, limit); err != nil {
		return Matrix{}, err
	}
	rows, cols := h.shape[0], h.shape[1]
	m := Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
	if err := decodeFloats(r, h, m.Data); err != nil {
		return Matrix{}, err
	}
	return m, nil
}

// decodeFloats reads len(dst) elements of h.dtype from r into dst, in
// row-major order, transposing Fortran-ordered data.
func decodeFloats(r io.Reader, h npyHeader, dst []float32) error {
	const chunk = 1 << 16 // elements per read
	es := h.dtype.size
	buf := make([]byte, min(chunk, len(dst))*es)
	var tmp []float32 // decoded chunk of Fortran-ordered data
	if h.fortran {
		tmp = make([]float32, min(chunk, len(dst)))
	}
	rows, cols := h.shape[0], h.shape[1]
	// Element e of the stream goes to dst[pos]. In C order pos = e; in
	// Fortran order e walks down the columns: pos = row*cols + col.
	pos, row := 0, 0
	for done := 0; done < len(dst); {
		n := min(len(buf)/es, len(dst)-done)
		b := buf[:n*es]
		if _, err := io.ReadFull(r, b); err != nil {
			return fmt.Errorf("reading npy data (element %d of %d): %w", done, len(dst), noEOF(err))
		}
		if !h.fortran {
			convertFloats(dst[done:done+n], b, h.dtype)
			done += n
			continue
		}
		convertFloats(tmp[:n], b, h.dtype)
		for _, v := range tmp[:n] {
			dst[pos] = v
			pos += cols
			if row++; row == rows {
				row = 0
				pos -= rows*cols - 1
			}
		}
		done += n
	}
	return nil
}

// nativeLittle reports whether this machine stores values little-endian.
var nativeLittle = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// convertFloats decodes len(dst) elements of type dt from b.
func convertFloats(dst []float32, b []byte, dt dtype) {
	bo := dt.order
	switch {
	case dt.size == 4 && bo == binary.LittleEndian && nativeLittle && len(dst) > 0:
		// The bytes are the values already: one copy.
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst)), b[:4*len(dst)])
	case dt.size == 4 && bo == binary.LittleEndian:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case dt.size == 4:
		for i := range dst {
			dst[i] = math.Float32frombits(bo.Uint32(b[4*i:]))
		}
	case dt.size == 2:
		for i := range dst {
			dst[i] = float16to32(bo.Uint16(b[2*i:]))
		}
	case dt.size == 8:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(bo.Uint64(b[8*i:])))
		}
	}
}

// float16to32 converts IEEE 754 binary16 bits to float32 exactly. NaN
// payloads are kept (shifted into the float32 fraction), as NumPy does.
func float16to32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // normal: rebias 15 -> 127
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0: // signed zero
		return math.Float32frombits(sign)
	}
	// Subnormal: frac * 2^-24, normal in float32. Shift the leading one
	// into the hidden bit position.
	e := uint32(127 - 15 + 1)
	for frac&0x400 == 0 {
		frac <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (frac&0x3ff)<<13)
}

// npyHeaderBytes returns the .npy format 1.0 preamble NumPy writes for a
// C-ordered little-endian float32 array of the given 2-D shape, byte for
// byte: the dictionary with sorted keys, spare room for the first axis to
// grow to 21 digits, padding to a multiple of 64 bytes, a final newline.
func npyHeaderBytes(rows, cols int) []byte {
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", rows, cols)
	const growthDigits = 21
	if pad := growthDigits - len(strconv.Itoa(rows)); pad > 0 {
		dict += string(bytes.Repeat([]byte{' '}, pad))
	}
	hlen := len(dict) + 1 // with the newline
	padding := 64 - (10+hlen)%64
	if padding == 64 {
		padding = 0
	}
	b := make([]byte, 0, 10+hlen+padding)
	b = append(b, npyMagic...)
	b = append(b, 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(hlen+padding))
	b = append(b, dict...)
	b = append(b, bytes.Repeat([]byte{' '}, padding)...)
	return append(b, '\n')
}

// writeMatrix writes m as a C-ordered little-endian float32 .npy stream.
func writeMatrix(w io.Writer, m Matrix) error {
	if _, err := w.Write(npyHeaderBytes(m.Rows, m.Cols)); err != nil {
		return err
	}
	const chunk = 1 << 16 // elements
	buf := make([]byte, 4*min(chunk, len(m.Data)))
	for i := 0; i < len(m.Data); i += chunk {
		part := m.Data[i:min(i+chunk, len(m.Data))]
		b := buf[:4*len(part)]
		for j, v := range part {
			binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(v))
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// npyLen is the length of the .npy stream writeMatrix writes for m.
func npyLen(m Matrix) int64 {
	return int64(len(npyHeaderBytes(m.Rows, m.Cols))) + 4*int64(len(m.Data))
}

// noEOF turns io.EOF, which io.ReadFull returns when nothing could be
// read, into io.ErrUnexpectedEOF: inside a stream both mean "truncated".
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
