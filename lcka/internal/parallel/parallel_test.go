package parallel

import (
	"sync/atomic"
	"testing"
)

func TestFor(t *testing.T) {
	for _, c := range []struct{ n, workers int }{{0, 0}, {1, 4}, {7, 1}, {100, 3}, {5, 0}} {
		counts := make([]atomic.Int32, c.n)
		For(c.n, c.workers, func(i int) { counts[i].Add(1) })
		for i := range counts {
			if got := counts[i].Load(); got != 1 {
				t.Errorf("n=%d workers=%d: f(%d) called %d times", c.n, c.workers, i, got)
			}
		}
	}
}
