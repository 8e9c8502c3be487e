package tokenizer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// jreader is a minimal JSON reader used for the large parts of tokenizer.json
// (the model's vocab and merges), where encoding/json is several times slower.
// It follows RFC 8259; strings must be valid UTF-8 without lone surrogates, as
// for serde_json reading into Rust strings.
type jreader struct {
	b []byte
	i int
}

func (r *jreader) errorf(format string, args ...any) error {
	return fmt.Errorf("json offset %d: %s", r.i, fmt.Sprintf(format, args...))
}

func (r *jreader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (r *jreader) peek() byte {
	r.ws()
	if r.i >= len(r.b) {
		return 0
	}
	return r.b[r.i]
}

func (r *jreader) expect(c byte) error {
	if r.peek() != c {
		return r.errorf("want %q", c)
	}
	r.i++
	return nil
}

// str reads a string.
func (r *jreader) str() (string, error) {
	if err := r.expect('"'); err != nil {
		return "", err
	}
	start := r.i
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			s := r.b[start:r.i]
			r.i++
			if !utf8.Valid(s) {
				return "", r.errorf("invalid UTF-8 in string")
			}
			return string(s), nil
		case c == '\\':
			return r.strSlow(start)
		case c < 0x20:
			return "", r.errorf("control character in string")
		}
		r.i++
	}
	return "", r.errorf("unterminated string")
}

func (r *jreader) hex4() (rune, error) {
	if r.i+4 > len(r.b) {
		return 0, r.errorf("short \\u escape")
	}
	v, err := strconv.ParseUint(string(r.b[r.i:r.i+4]), 16, 32)
	if err != nil {
		return 0, r.errorf("bad \\u escape")
	}
	r.i += 4
	return rune(v), nil
}

func (r *jreader) strSlow(start int) (string, error) {
	var sb strings.Builder
	sb.Write(r.b[start:r.i])
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			s := sb.String()
			if !utf8.ValidString(s) {
				return "", r.errorf("invalid UTF-8 in string")
			}
			return s, nil
		case c < 0x20:
			return "", r.errorf("control character in string")
		case c != '\\':
			sb.WriteByte(c)
			r.i++
			continue
		}
		r.i++
		if r.i >= len(r.b) {
			break
		}
		e := r.b[r.i]
		r.i++
		switch e {
		case '"', '\\', '/':
			sb.WriteByte(e)
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			v, err := r.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(v) {
				if v >= 0xDC00 || r.i+2 > len(r.b) || r.b[r.i] != '\\' || r.b[r.i+1] != 'u' {
					return "", r.errorf("lone surrogate in \\u escape")
				}
				r.i += 2
				lo, err := r.hex4()
				if err != nil {
					return "", err
				}
				v = utf16.DecodeRune(v, lo)
				if v == utf8.RuneError {
					return "", r.errorf("invalid surrogate pair in \\u escape")
				}
			}
			sb.WriteRune(v)
		default:
			return "", r.errorf("invalid escape \\%c", e)
		}
	}
	return "", r.errorf("unterminated string")
}

// integer reads a JSON number that must be an integer in [lo, hi].
func (r *jreader) integer(lo, hi int64) (int64, error) {
	r.ws()
	start := r.i
	if r.i < len(r.b) && r.b[r.i] == '-' {
		r.i++
	}
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		r.i++
	}
	if r.i < len(r.b) && (r.b[r.i] == '.' || r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		return 0, r.errorf("want an integer")
	}
	v, err := strconv.ParseInt(string(r.b[start:r.i]), 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, r.errorf("want an integer in [%d, %d]", lo, hi)
	}
	return v, nil
}

// skip reads over one value of any kind, checking its syntax.
func (r *jreader) skip(depth int) error {
	if depth > 1000 {
		return r.errorf("nesting too deep")
	}
	switch c := r.peek(); {
	case c == '"':
		_, err := r.str()
		return err
	case c == '{' || c == '[':
		r.i++
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		if r.peek() == end {
			r.i++
			return nil
		}
		for {
			if c == '{' {
				if _, err := r.str(); err != nil {
					return err
				}
				if err := r.expect(':'); err != nil {
					return err
				}
			}
			if err := r.skip(depth + 1); err != nil {
				return err
			}
			switch r.peek() {
			case ',':
				r.i++
			case end:
				r.i++
				return nil
			default:
				return r.errorf("want ',' or %q", end)
			}
		}
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if strings.HasPrefix(string(r.b[r.i:min(r.i+5, len(r.b))]), lit) {
				r.i += len(lit)
				return nil
			}
		}
		return r.errorf("invalid literal")
	case c == '-' || (c >= '0' && c <= '9'):
		start := r.i
		for r.i < len(r.b) && strings.IndexByte("+-.eE0123456789", r.b[r.i]) >= 0 {
			r.i++
		}
		if _, err := strconv.ParseFloat(string(r.b[start:r.i]), 64); err != nil {
			return r.errorf("invalid number")
		}
		return nil
	case c == 0:
		return r.errorf("unexpected end of input")
	default:
		return r.errorf("unexpected %q", c)
	}
}

// object reads an object, calling field for each key with the reader placed
// at the value; field must consume the value.
func (r *jreader) object(field func(key string) error) error {
	if err := r.expect('{'); err != nil {
		return err
	}
	if r.peek() == '}' {
		r.i++
		return nil
	}
	for {
		key, err := r.str()
		if err != nil {
			return err
		}
		if err := r.expect(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			return nil
		default:
			return r.errorf("want ',' or '}'")
		}
	}
}

// array reads an array, calling elem for each element.
func (r *jreader) array(elem func() error) error {
	if err := r.expect('['); err != nil {
		return err
	}
	if r.peek() == ']' {
		r.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			return nil
		default:
			return r.errorf("want ',' or ']'")
		}
	}
}

// rawFields reads an object into the raw bytes of its values (the last one of
// duplicate keys wins, as with encoding/json).
func (r *jreader) rawFields() (map[string][]byte, error) {
	fields := map[string][]byte{}
	err := r.object(func(key string) error {
		r.ws()
		start := r.i
		if err := r.skip(0); err != nil {
			return err
		}
		fields[key] = r.b[start:r.i]
		return nil
	})
	return fields, err
}

var errTrailing = errors.New("json: data after the top-level value")
