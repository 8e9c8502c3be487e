package tokenizer

import (
	"fmt"
	"hash/maphash"
	"sync"
	"unicode/utf8"
)

// bpeModel is Hugging Face's BPE model without dropout and byte fallback.
type bpeModel struct {
	vocab        map[string]int32
	vocabR       map[int32]string
	merges       map[uint64]uint64 // pair (a<<32|b) -> rank<<32 | new id
	unkToken     string
	hasUnk       bool
	fuseUnk      bool
	prefix       string // continuing_subword_prefix
	hasPrefix    bool
	suffix       string // end_of_word_suffix
	hasSuffix    bool
	ignoreMerges bool
	cache        *wordCache
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// tokenize appends the ids of one pre-tokenized word.
func (m *bpeModel) tokenize(word string, dst []int32) ([]int32, error) {
	if word == "" {
		return dst, nil
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[word]; ok {
			return append(dst, id), nil
		}
	}
	if ids, ok := m.cache.get(word); ok {
		return append(dst, ids...), nil
	}
	start := len(dst)
	dst, err := m.mergeWord(word, dst)
	if err != nil {
		return dst[:start], err
	}
	m.cache.put(word, dst[start:])
	return dst, nil
}

type symbol struct {
	id         int32
	prev, next int32
	removed    bool
}

type mergeCand struct {
	rank  uint32
	pos   int32
	newID int32
}

// candHeap is a binary min-heap ordered by (rank, pos).
type candHeap []mergeCand

func (h candHeap) less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].pos < h[j].pos
}

func (h *candHeap) push(c mergeCand) {
	*h = append(*h, c)
	q := *h
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
}

func (h *candHeap) pop() mergeCand {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	for i := 0; ; {
		l, r, small := 2*i+1, 2*i+2, i
		if l < len(q) && q.less(l, small) {
			small = l
		}
		if r < len(q) && q.less(r, small) {
			small = r
		}
		if small == i {
			break
		}
		q[i], q[small] = q[small], q[i]
		i = small
	}
	*h = q
	return top
}

// mergeWord splits word into characters (with the continuing-subword prefix
// and end-of-word suffix), maps them to ids (unknown characters become the unk
// token, fused if fuse_unk, or are dropped when there is none), then applies
// the merges lowest rank first, leftmost first among equal ranks.
func (m *bpeModel) mergeWord(word string, dst []int32) ([]int32, error) {
	syms := make([]symbol, 0, utf8.RuneCountInString(word))
	unk, haveUnk := int32(0), false
	add := func(id int32) {
		n := int32(len(syms))
		syms = append(syms, symbol{id: id, prev: n - 1, next: n + 1})
	}
	for i := 0; i < len(word); {
		_, size := utf8.DecodeRuneInString(word[i:])
		s := word[i : i+size]
		if i > 0 && m.hasPrefix {
			s = m.prefix + s
		}
		if i+size == len(word) && m.hasSuffix {
			s += m.suffix
		}
		i += size
		if id, ok := m.vocab[s]; ok {
			if haveUnk {
				add(unk)
				haveUnk = false
			}
			add(id)
			continue
		}
		if !m.hasUnk {
			continue
		}
		uid, ok := m.vocab[m.unkToken]
		if !ok {
			return dst, fmt.Errorf("tokenizer: unk token %q is not in the vocabulary", m.unkToken)
		}
		if haveUnk && !m.fuseUnk {
			add(unk)
		}
		unk, haveUnk = uid, true
	}
	if haveUnk {
		add(unk)
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}

	var h candHeap
	for i := 0; i+1 < len(syms); i++ {
		if v, ok := m.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			h.push(mergeCand{rank: uint32(v >> 32), pos: int32(i), newID: int32(uint32(v))})
		}
	}
	for len(h) > 0 {
		top := h.pop()
		cur := &syms[top.pos]
		if cur.removed || cur.next < 0 {
			continue
		}
		rpos := cur.next
		right := syms[rpos]
		if v, ok := m.merges[pairKey(cur.id, right.id)]; !ok || int32(uint32(v)) != top.newID {
			continue // stale candidate
		}
		cur.id = top.newID
		cur.next = right.next
		syms[rpos].removed = true
		if cur.next >= 0 {
			syms[cur.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if v, ok := m.merges[pairKey(syms[cur.prev].id, cur.id)]; ok {
				h.push(mergeCand{rank: uint32(v >> 32), pos: cur.prev, newID: int32(uint32(v))})
			}
		}
		if cur.next >= 0 {
			if v, ok := m.merges[pairKey(cur.id, syms[cur.next].id)]; ok {
				h.push(mergeCand{rank: uint32(v >> 32), pos: top.pos, newID: int32(uint32(v))})
			}
		}
	}
	for _, s := range syms {
		if !s.removed {
			dst = append(dst, s.id)
		}
	}
	return dst, nil
}

// wordCache memoizes mergeWord per word; it is safe for concurrent use and
// stops growing at a fixed capacity (results do not depend on it).
type wordCache struct {
	seed   maphash.Seed
	shards [16]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[string][]int32
}

const (
	cacheShardCap = 4096
	cacheMaxWord  = 256 // Hugging Face's MAX_LENGTH for cached words
)

func newWordCache() *wordCache {
	c := &wordCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string][]int32)
	}
	return c
}

func (c *wordCache) shard(w string) *cacheShard {
	return &c.shards[maphash.String(c.seed, w)&15]
}

func (c *wordCache) get(w string) ([]int32, bool) {
	if len(w) >= cacheMaxWord {
		return nil, false
	}
	s := c.shard(w)
	s.mu.RLock()
	ids, ok := s.m[w]
	s.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(w string, ids []int32) {
	if len(w) >= cacheMaxWord {
		return
	}
	s := c.shard(w)
	s.mu.Lock()
	if len(s.m) < cacheShardCap {
		s.m[w] = append([]int32(nil), ids...)
	}
	s.mu.Unlock()
}
