// Package parallel runs independent tasks on a few goroutines.
package parallel

import (
	"runtime"
	"sync"
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
