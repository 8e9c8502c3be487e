package llm

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes/bfloat16"
)

// TestRoundToBFloat16 checks the host rounding against GoMLX's
// bfloat16.FromFloat32 bit for bit on values around every rounding case:
// ties to even and odd, the largest finite values (which round to
// infinity), infinities, NaNs with payloads, subnormals and zeros.
func TestRoundToBFloat16(t *testing.T) {
	var src []float32
	for _, bits := range []uint32{0, 0x80000000, 1, 0x8000, 0x7FFF, 0x18000, 0x10000, 0x17FFF, 0x3F808000, 0x3F818000,
		0x7F7FFFFF, 0xFF7FFFFF, 0x7F7F8000, 0x7F800000, 0xFF800000, 0x7FC00001, 0x7F800001, 0xFFFFFFFF, 0x007FFFFF} {
		src = append(src, math.Float32frombits(bits))
	}
	for i := range 1000 {
		src = append(src, math.Float32frombits(uint32(i)*2654435761))
	}
	dst := make([]uint16, len(src))
	roundToBFloat16(dst, src)
	for i, v := range src {
		if want := uint16(bfloat16.FromFloat32(v)); dst[i] != want {
			t.Errorf("%#08x: got %#04x, bfloat16.FromFloat32 %#04x", math.Float32bits(v), dst[i], want)
		}
	}
}
