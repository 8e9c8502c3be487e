// Package parallel runs independent tasks on a few goroutines and tracks
// how far a job of many has got.
package parallel

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// For calls f(0), …, f(n−1), each once, on up to workers goroutines
// (GOMAXPROCS if workers ≤ 0), handing out indices in order as goroutines
// become free, and returns when all calls have returned. With one worker it
// calls f in order on the calling goroutine.
func For(n, workers int, f func(i int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// Tracker counts the units of a job finished on several goroutines. It
// tells report (if not nil) the count, one call at a time, about every
// hundredth of the total, at least every second while units finish, and at
// the end, and says whether ctx (if not nil) is done, so that the job can
// stop between units.
type Tracker struct {
	ctx    context.Context
	report func(done, total int)
	mu     sync.Mutex
	done   int
	total  int
	next   int
	last   time.Time
}

// NewTracker returns a Tracker of total units.
func NewTracker(ctx context.Context, total int, report func(done, total int)) *Tracker {
	t := &Tracker{ctx: ctx, report: report, total: total, next: max(1, total/100), last: time.Now()}
	if report != nil {
		report(0, total)
	}
	return t
}

// Done counts k more units finished.
func (t *Tracker) Done(k int) {
	if t.report == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done += k
	if now := time.Now(); t.done >= t.next || t.done >= t.total || now.Sub(t.last) >= time.Second {
		t.report(t.done, t.total)
		t.next = t.done + max(1, t.total/100)
		t.last = now
	}
}

// Err returns the context's error once it is done, nil before (and
// without a context).
func (t *Tracker) Err() error {
	if t.ctx == nil {
		return nil
	}
	return t.ctx.Err()
}
