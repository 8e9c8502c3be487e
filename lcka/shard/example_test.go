package shard_test

import (
	"fmt"

	"github.com/layersim/layersim/lcka/shard"
)

func ExampleRange() {
	for i := range 3 {
		lo, hi, _ := shard.Range(1000, 256, shard.Spec{Index: i, Count: 3})
		fmt.Printf("shard %d/3: prompts %d..%d\n", i, lo, hi-1)
	}
	// Output:
	// shard 0/3: prompts 0..255
	// shard 1/3: prompts 256..511
	// shard 2/3: prompts 512..999
}

func ExamplePlan() {
	jobs, _ := shard.Plan(shard.PlanOptions{
		Models: []string{"meta-llama/Llama-3.2-1B"}, Langs: []string{"en", "hi"},
		N: 400, Shards: 2, Extra: []string{"--out", "/data/artifacts"},
	})
	fmt.Print(shard.Lines(jobs))
	// Output:
	// 0	meta-llama/Llama-3.2-1B	en	0/2	layersim extract --model meta-llama/Llama-3.2-1B --langs en,hi --only en --n 400 --shard 0/2 --out /data/artifacts
	// 1	meta-llama/Llama-3.2-1B	en	1/2	layersim extract --model meta-llama/Llama-3.2-1B --langs en,hi --only en --n 400 --shard 1/2 --out /data/artifacts
	// 2	meta-llama/Llama-3.2-1B	hi	0/2	layersim extract --model meta-llama/Llama-3.2-1B --langs en,hi --only hi --n 400 --shard 0/2 --out /data/artifacts
	// 3	meta-llama/Llama-3.2-1B	hi	1/2	layersim extract --model meta-llama/Llama-3.2-1B --langs en,hi --only hi --n 400 --shard 1/2 --out /data/artifacts
}
