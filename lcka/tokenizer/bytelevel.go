package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// byteToRune is GPT-2's reversible byte-to-unicode table: printable bytes map
// to themselves, the others to U+0100 onwards in byte order.
var byteToRune [256]rune

// runeToByte inverts byteToRune; runes outside the table are absent.
var runeToByte = map[rune]byte{}

// byteLevelStr caches the UTF-8 encoding of byteToRune.
var byteLevelStr [256]string

func init() {
	printable := func(b int) bool {
		return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
	}
	n := 0
	for b := 0; b < 256; b++ {
		if printable(b) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
		byteLevelStr[b] = string(byteToRune[b])
	}
}

// byteLevelEncode maps every byte of s to its byte-level rune.
func byteLevelEncode(s string) string {
	var b strings.Builder
	b.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		b.WriteString(byteLevelStr[s[i]])
	}
	return b.String()
}

// byteLevelDecode appends the bytes a token stands for: the table bytes of its
// runes when all of them are byte-level runes, else the token's own UTF-8
// bytes (as Hugging Face's ByteLevel decoder does, e.g. for added tokens).
func byteLevelDecode(dst []byte, tok string) []byte {
	start := len(dst)
	for _, r := range tok {
		b, ok := runeToByte[r]
		if !ok {
			return append(dst[:start], tok...)
		}
		dst = append(dst, b)
	}
	return dst
}

// toValidUTF8 replaces invalid UTF-8 in b the way Rust's
// String::from_utf8_lossy does: each maximal prefix of a valid sequence (and
// each other invalid byte) becomes one U+FFFD.
func toValidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var out strings.Builder
	out.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			out.WriteByte(c)
			i++
			continue
		}
		if r, size := utf8.DecodeRune(b[i:]); r != utf8.RuneError || size > 1 {
			out.Write(b[i : i+size])
			i += size
			continue
		}
		// Invalid: skip the longest prefix of a well-formed sequence.
		width, lo, hi := 0, byte(0x80), byte(0xBF)
		switch {
		case c >= 0xC2 && c <= 0xDF:
			width = 2
		case c == 0xE0:
			width, lo = 3, 0xA0
		case c == 0xED:
			width, hi = 3, 0x9F
		case c >= 0xE1 && c <= 0xEF:
			width = 3
		case c == 0xF0:
			width, lo = 4, 0x90
		case c == 0xF4:
			width, hi = 4, 0x8F
		case c >= 0xF1 && c <= 0xF3:
			width = 4
		}
		n := 1
		if width > 0 && i+1 < len(b) && b[i+1] >= lo && b[i+1] <= hi {
			n = 2
			for n < width && i+n < len(b) && b[i+n] >= 0x80 && b[i+n] <= 0xBF {
				n++
			}
		}
		out.WriteRune(utf8.RuneError)
		i += n
	}
	return out.String()
}
