// Package shard cuts an extraction into jobs that a cluster runs: a
// Kubernetes Indexed Job or a Slurm job array (deploy/), one job per
// model, language and shard of the prompts. It writes no scheduler.
//
// # Blocks and shards
//
// The n prompts of a set, in their order after pairing, are cut into
// blocks of Block consecutive prompts (DefaultBlock, 256; the last block
// may be shorter). Extraction batches prompts by length within a block,
// never across blocks, and a shard is a contiguous range of whole blocks:
// shard i of N holds blocks ⌊i·B/N⌋ … ⌊(i+1)·B/N⌋−1 of the B = ⌈n/Block⌉
// blocks (Range). So a shard runs exactly the batches that an unsharded
// run of the same options runs on its prompts, and the merged set equals
// the unsharded one byte for byte: the values of a prompt depend on the
// shape of its batch in some engines, never on the shard. Since every
// language is paired first, shard i of every language holds the same
// prompts.
//
// For n = 1000 and the default block, B = 4: shards 0/4 … 3/4 hold
// prompts 0–255, 256–511, 512–767 and 768–999; 5 shards are refused.
//
// # Plans
//
// Plan lists the jobs, model by model, then language, then shard; job i
// is the i-th of the array (JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID
// i). Each runs
//
//	layersim extract --model M --langs L1,L2,… --only L --n N --shard i/S [--block B] [flags]
//
// (--langs pairs the prompts on all languages, --only extracts one).
// Lines and JSON print a plan for deploy/run-job.sh and for any other
// engine. The parts are joined by layersim merge (extract.Merge); the
// analysis reads complete parts directly (artifacts.OpenParts).
package shard
