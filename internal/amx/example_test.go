package amx_test

import (
	"fmt"
	"log"
	"math"

	"github.com/layersim/layersim/internal/amx"
)

// A linear layer y = x·Wᵀ with W [3, 4] ([out, in], as torch stores it) on
// a batch of two rows. Where AMX is not available the same product runs in
// plain Go, so the output is the same on every machine.
func ExampleWeight_MatMul() {
	const n, k, m = 3, 4, 2
	// bfloat16 is the top half of a float32; these small integers are exact.
	bf16 := func(v ...float32) []uint16 {
		out := make([]uint16, len(v))
		for i, f := range v {
			out[i] = uint16(math.Float32bits(f) >> 16)
		}
		return out
	}
	w := bf16(
		1, 0, 0, 0,
		0, 1, 1, 0,
		1, 2, 3, 4,
	)
	x := bf16(
		1, 2, 3, 4,
		-1, 0, 1, 0.5,
	)
	y := make([]float32, m*n)

	if amx.Available() {
		pw, err := amx.PackWeight(w, n, k)
		if err != nil {
			log.Fatal(err)
		}
		if err := pw.MatMul(y, x, m, 1); err != nil {
			log.Fatal(err)
		}
	} else {
		for i := range m {
			for j := range n {
				var s float32
				for l := range k {
					s += math.Float32frombits(uint32(x[i*k+l])<<16) * math.Float32frombits(uint32(w[j*k+l])<<16)
				}
				y[i*n+j] = s
			}
		}
	}
	fmt.Println(y[:n])
	fmt.Println(y[n:])
	// Output:
	// [1 5 30]
	// [-1 1 4]
}
