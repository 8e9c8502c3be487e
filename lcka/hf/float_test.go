package hf

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"testing"
)

type floatRef struct {
	F16TableSHA256 string      `json:"f16_table_sha256"`
	F16ToF32Bits   [][2]uint32 `json:"f16_to_f32_bits"`
	RoundBits      [][3]uint32 `json:"f32_to_f16_bf16_bits"`
}

func loadFloatRef(t *testing.T) floatRef {
	t.Helper()
	data, err := os.ReadFile("testdata/floatref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref floatRef
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestF16ToFloat32Table compares all 65536 binary16 patterns with numpy
// (testdata/gen_ref.py), bit for bit, NaN payloads included.
func TestF16ToFloat32Table(t *testing.T) {
	ref := loadFloatRef(t)
	buf := make([]byte, 0, 4*65536)
	for h := range 65536 {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(F16ToFloat32(uint16(h))))
	}
	sum := sha256.Sum256(buf)
	if got := hex.EncodeToString(sum[:]); got != ref.F16TableSHA256 {
		t.Errorf("sha256 of the binary16→float32 table = %s, numpy gives %s", got, ref.F16TableSHA256)
	}
	for _, p := range ref.F16ToF32Bits {
		if got := math.Float32bits(F16ToFloat32(uint16(p[0]))); got != p[1] {
			t.Errorf("F16ToFloat32(%#04x) = %#08x, numpy gives %#08x", p[0], got, p[1])
		}
	}
}

// TestF16ToFloat32Formula checks every finite pattern against the defining
// formula (-1)^s · 2^(e-15) · (1 + m/1024), or 2^-14 · m/1024 for e = 0.
func TestF16ToFloat32Formula(t *testing.T) {
	for h := range 65536 {
		s, e, m := h>>15, (h>>10)&0x1f, h&0x3ff
		if e == 0x1f {
			continue
		}
		var want float64
		if e == 0 {
			want = math.Ldexp(float64(m)/1024, -14)
		} else {
			want = math.Ldexp(1+float64(m)/1024, e-15)
		}
		if s == 1 {
			want = -want
		}
		got := F16ToFloat32(uint16(h))
		if float64(got) != want || math.Signbit(float64(got)) != (s == 1) {
			t.Fatalf("F16ToFloat32(%#04x) = %v, want %v", h, got, want)
		}
	}
}

func TestBF16ToFloat32(t *testing.T) {
	for _, tc := range []struct {
		bits uint16
		want float32
	}{
		{0x3f80, 1}, {0xbf80, -1}, {0x4049, 3.140625}, {0x0000, 0}, {0x7f80, float32(math.Inf(1))},
		{0xff80, float32(math.Inf(-1))}, {0x0001, float32(math.Ldexp(1, -133))},
	} {
		if got := BF16ToFloat32(tc.bits); got != tc.want {
			t.Errorf("BF16ToFloat32(%#04x) = %v, want %v", tc.bits, got, tc.want)
		}
	}
	if v := BF16ToFloat32(0x7fc1); !math.IsNaN(float64(v)) {
		t.Errorf("BF16ToFloat32(0x7fc1) = %v, want NaN", v)
	}
}

// TestFloat32Rounding compares the float32→binary16 and →bfloat16 rounding
// with numpy and torch on edge cases and 2000 random inputs (exact bits).
func TestFloat32Rounding(t *testing.T) {
	ref := loadFloatRef(t)
	if len(ref.RoundBits) < 1000 {
		t.Fatalf("only %d reference values", len(ref.RoundBits))
	}
	for _, r := range ref.RoundBits {
		x := math.Float32frombits(r[0])
		if got := Float32ToF16(x); uint32(got) != r[1] {
			t.Errorf("Float32ToF16(%g [%#08x]) = %#04x, numpy gives %#04x", x, r[0], got, r[1])
		}
		if got := Float32ToBF16(x); uint32(got) != r[2] {
			t.Errorf("Float32ToBF16(%g [%#08x]) = %#04x, torch gives %#04x", x, r[0], got, r[2])
		}
	}
}

// TestRoundTrip: every representable value survives float32 and back.
func TestRoundTrip(t *testing.T) {
	for h := range 65536 {
		f := F16ToFloat32(uint16(h))
		if math.IsNaN(float64(f)) {
			if g := F16ToFloat32(Float32ToF16(f)); !math.IsNaN(float64(g)) {
				t.Fatalf("NaN %#04x did not stay NaN", h)
			}
			continue
		}
		if got := Float32ToF16(f); got != uint16(h) {
			t.Fatalf("binary16 %#04x → %v → %#04x", h, f, got)
		}
		b := BF16ToFloat32(uint16(h))
		if math.IsNaN(float64(b)) {
			continue
		}
		if got := Float32ToBF16(b); got != uint16(h) {
			t.Fatalf("bfloat16 %#04x → %v → %#04x", h, b, got)
		}
	}
	nan := math.Float32frombits(0x7f800001) // Signalling NaN with a low payload.
	if !math.IsNaN(float64(BF16ToFloat32(Float32ToBF16(nan)))) {
		t.Error("Float32ToBF16 turned a NaN with a low payload into a non-NaN")
	}
	if !math.IsNaN(float64(F16ToFloat32(Float32ToF16(nan)))) {
		t.Error("Float32ToF16 turned a NaN with a low payload into a non-NaN")
	}
}
