package shard

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultBlock is the number of consecutive prompts in a block: the unit
// of sharding, and the group within which extraction batches prompts by
// length.
const DefaultBlock = 256

// Spec is shard Index of Count, 0-based (as JOB_COMPLETION_INDEX and
// SLURM_ARRAY_TASK_ID count). The zero value means no sharding.
type Spec struct {
	Index, Count int
}

// Parse reads "i/N" with 0 ≤ i < N.
func Parse(s string) (Spec, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return Spec{}, fmt.Errorf("shard: %q is not i/N (for example 0/4)", s)
	}
	sp := Spec{Index: i, Count: n}
	if err := sp.Check(); err != nil {
		return Spec{}, err
	}
	return sp, nil
}

// Check reports whether s is a valid shard: N ≥ 1 and 0 ≤ i < N.
func (s Spec) Check() error {
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("shard: %d/%d is out of range: want i/N with N ≥ 1 and 0 ≤ i < N", s.Index, s.Count)
	}
	return nil
}

// Sharded reports whether s names a shard (its Count is not zero).
func (s Spec) Sharded() bool { return s.Count != 0 }

// String returns "i/N".
func (s Spec) String() string { return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count) }

// Blocks returns the number of blocks of n prompts: ⌈n/block⌉.
func Blocks(n, block int) int { return (n + block - 1) / block }

// Range returns the prompts [lo, hi) of shard s of n prompts cut into
// blocks of block consecutive prompts: shard i holds blocks
// ⌊i·B/N⌋ … ⌊(i+1)·B/N⌋−1 of the B blocks, so the shards are contiguous,
// cover every prompt once, differ by at most one block in size, and hold
// whole blocks. N may not exceed B: every shard holds a block at least.
func Range(n, block int, s Spec) (lo, hi int, err error) {
	if err := s.Check(); err != nil {
		return 0, 0, err
	}
	if n < 1 || block < 1 {
		return 0, 0, fmt.Errorf("shard: %d prompts in blocks of %d: both must be positive", n, block)
	}
	B := Blocks(n, block)
	if s.Count > B {
		return 0, 0, fmt.Errorf("shard: %d prompts make %d block(s) of %d: at most %d shard(s), not %d (or a smaller block)", n, B, block, B, s.Count)
	}
	lo = s.Index * B / s.Count * block
	hi = min((s.Index+1)*B/s.Count*block, n)
	return lo, hi, nil
}
