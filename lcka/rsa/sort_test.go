package rsa

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortOrder: the radix sort orders like a comparison sort, ties (−0 and
// +0 included) in index order, for negative, positive, tied and extreme
// values.
func TestSortOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cases := [][]float64{
		{3, -1, 2, 2, math.Copysign(0, -1), 0, -1e300, 1e-310, -5e-324, math.Inf(1), math.Inf(-1)},
		{1, 1, 1, 1},
	}
	v := make([]float64, 5000)
	for i := range v {
		v[i] = math.Round(rng.NormFloat64()*100) / 10 // many ties
	}
	cases = append(cases, v)
	for ci, v := range cases {
		got := make([]int32, len(v))
		sortOrder(got, v)
		want := make([]int32, len(v))
		for i := range want {
			want[i] = int32(i)
		}
		slices.SortStableFunc(want, func(a, b int32) int {
			switch x, y := v[a], v[b]; {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		})
		if !slices.Equal(got, want) {
			t.Errorf("case %d: order %v, want %v", ci, got[:min(12, len(got))], want[:min(12, len(want))])
		}
	}
}

// BenchmarkSortOrder ranks one RDM of 400 samples (79,800 values).
func BenchmarkSortOrder(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	v := make([]float64, 79800)
	for i := range v {
		v[i] = 1 - 0.1*rng.Float64()
	}
	order := make([]int32, len(v))
	for b.Loop() {
		sortOrder(order, v)
	}
}
