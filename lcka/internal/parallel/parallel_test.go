package parallel

import (
	"context"
	"errors"
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

// TestTracker: reports start at 0, rise, end at the total, about a hundred
// of them for many units, one at a time; Err follows the context.
func TestTracker(t *testing.T) {
	for _, total := range []int{0, 1, 7, 1000, 12345} {
		var reports []int
		busy := atomic.Bool{}
		tr := NewTracker(nil, total, func(done, all int) {
			if busy.Swap(true) {
				t.Error("two reports at once")
			}
			if all != total {
				t.Errorf("total %d, want %d", all, total)
			}
			reports = append(reports, done)
			busy.Store(false)
		})
		For(total, 4, func(int) { tr.Done(1) })
		if reports[0] != 0 || reports[len(reports)-1] != total {
			t.Errorf("total %d: reports from %d to %d", total, reports[0], reports[len(reports)-1])
		}
		for i := 1; i < len(reports); i++ {
			if reports[i] <= reports[i-1] && total > 0 {
				t.Errorf("total %d: report %d after %d", total, reports[i], reports[i-1])
			}
		}
		if len(reports) > 102 {
			t.Errorf("total %d: %d reports", total, len(reports))
		}
		if tr.Err() != nil {
			t.Errorf("no context, error %v", tr.Err())
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	tr := NewTracker(ctx, 10, nil)
	tr.Done(3) // no report function: nothing to call
	if tr.Err() != nil {
		t.Fatal("error before the cancel")
	}
	cancel()
	if !errors.Is(tr.Err(), context.Canceled) {
		t.Errorf("after the cancel: %v", tr.Err())
	}
}
