// Command fmapeak measures this CPU's float64 arithmetic peak: AVX-512 fused
// multiply-adds on twelve independent accumulators held in registers, with
// nothing read from memory, on one goroutine and then on every core at
// once. docs/benchmarks.md measures the SVD-based measures' kernels against
// it:
//
//	GOEXPERIMENT=simd GODEBUG=asyncpreemptoff=1 go run ./scripts/bench/fmapeak
//
// Twelve accumulators, because a fused multiply-add's result is ready four
// cycles after it starts and a core starts two each cycle: fewer would
// leave the units idle. They are twelve named variables, not an array, so
// that the compiler keeps them in registers; each starts from a different
// value, so that it cannot merge them into one.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
	"time"
)

func main() {
	iters := flag.Int("iters", 200_000_000, "loop iterations per goroutine (12 multiply-adds of 8 lanes each)")
	flag.Parse()
	if !available() {
		fmt.Println("fmapeak: needs an amd64 CPU with AVX-512, built with GOEXPERIMENT=simd")
		return
	}
	for _, g := range []int{1, runtime.NumCPU()} {
		start := time.Now()
		var wg sync.WaitGroup
		for range g {
			wg.Go(func() { fmaLoop(*iters) })
		}
		wg.Wait()
		s := time.Since(start).Seconds()
		// Each iteration: 12 multiply-adds × 8 lanes × 2 operations.
		fmt.Printf("%d goroutine(s): %.1f GFLOP/s float64\n", g, float64(g)*float64(*iters)*12*8*2/s/1e9)
	}
}
