package subspace

import (
	"fmt"
	"testing"

	"github.com/layersim/layersim/lcka/cka"
)

// BenchmarkMeasure is one layer of the subspace command at the study's
// n = 400 prompts: the SVD of the differences and standardized CKA before
// and after r = 1, 2, 4, plain and cross-fitted.
func BenchmarkMeasure(b *testing.B) {
	for _, d := range []int{512, 2048} {
		a, _, y := offsetPair(1, 400, d, 20, 0.2)
		rs := []int{1, 2, 4}
		b.Run(fmt.Sprintf("d=%d", d), func(b *testing.B) {
			for b.Loop() {
				if _, err := Measure(a, y, rs, cka.Standardized); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("d=%d/cross-fit", d), func(b *testing.B) {
			h := Halves(400, 1)
			for b.Loop() {
				if _, err := MeasureCrossFit(a, y, rs, h, cka.Standardized); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
