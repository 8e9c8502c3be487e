package hf

import (
	"fmt"
	"math"
)

// DType is a safetensors element type, spelled as in the file header.
type DType string

// The safetensors element types this package understands.
const (
	Bool   DType = "BOOL"
	U8     DType = "U8"
	I8     DType = "I8"
	F8E5M2 DType = "F8_E5M2"
	F8E4M3 DType = "F8_E4M3"
	F8E8M0 DType = "F8_E8M0"
	I16    DType = "I16"
	U16    DType = "U16"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I32    DType = "I32"
	U32    DType = "U32"
	F32    DType = "F32"
	F64    DType = "F64"
	I64    DType = "I64"
	U64    DType = "U64"
)

// Size returns the number of bytes of one element, or 0 for an unknown type.
func (d DType) Size() int {
	switch d {
	case Bool, U8, I8, F8E5M2, F8E4M3, F8E8M0:
		return 1
	case I16, U16, F16, BF16:
		return 2
	case I32, U32, F32:
		return 4
	case I64, U64, F64:
		return 8
	}
	return 0
}

// IsFloat reports whether the type is one that Tensor.Float32 converts.
func (d DType) IsFloat() bool {
	switch d {
	case F16, BF16, F32, F64:
		return true
	}
	return false
}

// BF16ToFloat32 converts the bits of a bfloat16 number to float32. The
// conversion is exact: bfloat16 is the upper half of a float32.
func BF16ToFloat32(b uint16) float32 {
	return math.Float32frombits(uint32(b) << 16)
}

// F16ToFloat32 converts the bits of an IEEE 754 binary16 number to float32.
// The conversion is exact, subnormals included; infinities keep their sign and
// NaNs keep their sign and payload.
func F16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN.
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // Normal: rebias the exponent from 15 to 127.
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0: // Signed zero.
		return math.Float32frombits(sign)
	}
	// Subnormal binary16 (mant·2⁻²⁴) is a normal float32: shift the mantissa
	// until its leading one reaches the implicit bit.
	e := uint32(127 - 15 + 1)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}

// Float32ToBF16 rounds a float32 to the nearest bfloat16, ties to even.
// NaNs stay NaN (quiet), infinities and overflow give infinities.
func Float32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN: keep sign and top of payload, force quiet.
		return uint16(b>>16) | 0x40
	}
	// Round to nearest even on the 16 dropped bits.
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// Float32ToF16 rounds a float32 to the nearest IEEE 754 binary16, ties to
// even, producing subnormals for tiny values, infinity on overflow, and a
// quiet NaN for NaN.
func Float32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00 | uint16(mant>>13) // Quiet NaN, keep top payload bits.
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15 // Biased binary16 exponent.
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal or zero in binary16: value = m·2⁻²⁴ with m = full
		// mantissa (implicit bit included) shifted right by 14-e.
		if e < -10 {
			return sign // Below half the smallest subnormal: rounds to zero.
		}
		m := mant | 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		rest := m & (1<<shift - 1)
		r := m >> shift
		if rest > half || (rest == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r) // r may carry into the smallest normal: still correct.
	}
	r := uint32(e)<<10 | mant>>13
	rest := mant & 0x1fff
	if rest > 0x1000 || (rest == 0x1000 && r&1 == 1) {
		r++ // May carry into the exponent, up to infinity: correct rounding.
	}
	return sign | uint16(r)
}

func errDType(d DType) error {
	return fmt.Errorf("unknown safetensors dtype %q", string(d))
}
