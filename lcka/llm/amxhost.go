package llm

import (
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/layersim/layersim/internal/amx"
	"github.com/layersim/layersim/lcka/internal/parallel"
)

// amxCall is the state of one pass on the AMX path (amxpass.go): the
// batch's layout and rotary tables, made by the first block, and the
// activation buffers, allocated by the first block and overwritten by the
// next ones.
//
// With realOnly (the pooled states, which read real tokens only) and
// every row's real tokens one contiguous run (right or left padding), the
// activations hold the real tokens only, sequence after sequence: the
// padding's states are left zero instead of computed, which saves the
// padding's share of every product (a third of the study's first batches).
// The real tokens' states are the same either way: a real query attends to
// real keys only.
type amxCall struct {
	m        *Model
	realOnly bool
	prepared bool

	batch, seq int
	compact    bool      // the activations hold the real tokens only
	first      []int     // per batch row: its first token in the activations' rows
	seqStart   []int     // per batch row: its first row in the activations
	seqLen     []int     // per batch row: its rows in the activations
	keyOK      []float32 // per batch row, seq values: 1 where a key may be attended
	cos, sin   []float32 // [rows, D/2]: bfloat16 values

	x, y, h, q, k, v []uint16 // [rows, ·] bfloat16 activations (x, y: compact only)
	attn, o, x1      []uint16
	gate, up         []uint16
	scratch          []float32 // float32 products before their rounding
	attnScratch      sync.Pool // *attnScratch
	scale            float32   // the attention's 1/sqrt(D)
	workers          int
}

// attnScratch is one attention task's buffers.
type attnScratch struct {
	q, k, vt, p []uint16
	scores, out []float32
}

// u16 views bfloat16 values as their bit patterns.
func u16(x []bfloat16.BFloat16) []uint16 {
	return unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}

// prepare reads the batch's mask and positions: the layout of the
// activations, and the rotary tables: angle = float32(position)·inv_freq
// in float32, cos and sin in float64 rounded to float32, times the
// attention scaling (yarn) in float32, rounded to bfloat16 (Model.rotary).
func (c *amxCall) prepare(mask, positions *tensors.Tensor) error {
	m := c.m
	d := mask.Shape().Dimensions
	B, S := d[0], d[1]
	c.batch, c.seq = B, S
	mk, err := tensors.CopyFlatData[int32](mask)
	if err != nil {
		return fmt.Errorf("llm: %w", err)
	}
	pos, err := tensors.CopyFlatData[int32](positions)
	if err != nil {
		return fmt.Errorf("llm: %w", err)
	}
	c.first, c.seqStart, c.seqLen = make([]int, B), make([]int, B), make([]int, B)
	c.keyOK = make([]float32, B*S)
	c.compact = c.realOnly
	padded := false
	for b := range B {
		lo, hi, count := S, -1, 0
		for s, v := range mk[b*S : (b+1)*S] {
			if v != 0 {
				lo, hi, count = min(lo, s), s, count+1
				c.keyOK[b*S+s] = 1
			}
		}
		padded = padded || count < S
		if count > 0 && hi-lo+1 != count {
			c.compact = false // holes in the mask: compute every token
		}
		c.first[b], c.seqLen[b] = max(0, min(lo, S)), count
	}
	c.compact = c.compact && padded
	rows := 0
	for b := range B {
		if !c.compact {
			c.first[b], c.seqLen[b] = 0, S
		} else {
			for j := range c.seqLen[b] {
				c.keyOK[b*S+j] = 1 // the sequence's own rows, all real
			}
		}
		c.seqStart[b] = rows
		rows += c.seqLen[b]
	}
	half := len(m.invFreq)
	c.cos, c.sin = make([]float32, rows*half), make([]float32, rows*half)
	for b := range B {
		for i := range c.seqLen[b] {
			r, p := c.seqStart[b]+i, pos[b*S+c.first[b]+i]
			for j, f := range m.invFreq {
				angle := float64(float32(p) * f)
				cs, sn := float32(math.Cos(angle)), float32(math.Sin(angle))
				if m.attnScale != 1 {
					cs, sn = cs*m.attnScale, sn*m.attnScale
				}
				c.cos[r*half+j], c.sin[r*half+j] = roundF32(cs), roundF32(sn)
			}
		}
	}
	c.scale = float32(1 / math.Sqrt(float64(m.cfg.headDim())))
	c.workers = m.amx.workers
	cfg := &m.cfg
	dh := cfg.headDim()
	grow := func(b *[]uint16, size int) {
		if cap(*b) < size {
			*b = make([]uint16, size)
		}
		*b = (*b)[:size]
	}
	if c.compact {
		grow(&c.x, rows*cfg.HiddenSize)
		grow(&c.y, rows*cfg.HiddenSize)
	}
	grow(&c.h, rows*cfg.HiddenSize)
	grow(&c.q, rows*cfg.NumHeads*dh)
	grow(&c.k, rows*cfg.numKVHeads()*dh)
	grow(&c.v, rows*cfg.numKVHeads()*dh)
	grow(&c.attn, rows*cfg.NumHeads*dh)
	grow(&c.o, rows*cfg.HiddenSize)
	grow(&c.x1, rows*cfg.HiddenSize)
	grow(&c.gate, rows*cfg.IntermediateSize)
	grow(&c.up, rows*cfg.IntermediateSize)
	return nil
}

// split runs f over [0, rows) in c.workers contiguous parts.
func (c *amxCall) split(rows int, f func(r0, r1 int)) {
	parts := min(c.workers, rows)
	parallel.For(parts, parts, func(i int) { f(rows*i/parts, rows*(i+1)/parts) })
}

// linear sets dst [rows, N] to round(in·Wᵀ + bias) for in [rows, K]:
// the product in float32 on the AMX kernel, in chunks of rows so that the
// float32 scratch stays small, then the bias added and the sum rounded.
func (c *amxCall) linear(dst, in []uint16, w *amx.Weight, bias []float32) error {
	n, k := w.N(), w.K()
	rows := len(in) / k
	chunk := max(32, (1<<21)/n/32*32) // rows of about 8 MB of float32
	if need := min(rows, chunk) * n; cap(c.scratch) < need {
		c.scratch = make([]float32, need)
	}
	for r0 := 0; r0 < rows; r0 += chunk {
		r1 := min(r0+chunk, rows)
		y := c.scratch[:(r1-r0)*n]
		if err := w.MatMul(y, in[r0*k:r1*k], r1-r0, c.workers); err != nil {
			return fmt.Errorf("llm: %w", err)
		}
		out := dst[r0*n : r1*n]
		c.split(r1-r0, func(a, b int) { biasRound(out[a*n:b*n], y[a*n:b*n], bias) })
	}
	return nil
}

// block is one block of a model on the AMX path (a blockState).
func (c *amxCall) block(l int, x, mask, positions *tensors.Tensor) (*tensors.Tensor, error) {
	m := c.m
	if !c.prepared {
		if err := c.prepare(mask, positions); err != nil {
			return nil, err
		}
		c.prepared = true
	}
	out, err := tensors.FromShapeForBackend(m.backend, 0, shapes.Make(dtypes.BFloat16, x.Shape().Dimensions...))
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	var blockErr error
	err = tensors.ConstFlatData(x, func(xs []bfloat16.BFloat16) {
		blockErr = tensors.MutableFlatData(out, func(ys []bfloat16.BFloat16) {
			if !c.compact {
				blockErr = c.hostBlock(l, u16(xs), u16(ys))
				return
			}
			// The real tokens in, their states out; the padding's stay zero.
			H := m.cfg.HiddenSize
			rows := func(b int) (a, z int) { return (b*c.seq + c.first[b]) * H, (b*c.seq + c.first[b] + c.seqLen[b]) * H }
			for b := range c.batch {
				a, z := rows(b)
				copy(c.x[c.seqStart[b]*H:], u16(xs)[a:z])
			}
			if blockErr = c.hostBlock(l, c.x, c.y); blockErr == nil {
				for b := range c.batch {
					a, z := rows(b)
					copy(u16(ys)[a:z], c.y[c.seqStart[b]*H:])
				}
			}
		})
	})
	if err == nil {
		err = blockErr
	}
	if err != nil {
		free(out)
		return nil, fmt.Errorf("llm: block %d: %w", l, err)
	}
	return out, nil
}

// hostBlock computes block l from the residual stream x into y ([B·S, H]
// each, bfloat16).
func (c *amxCall) hostBlock(l int, x, y []uint16) error {
	m := c.m
	cfg := &m.cfg
	w, hw := m.amx.layers[l], &m.amx.host[l]
	hidden, eps := cfg.HiddenSize, float32(cfg.RMSNormEps)
	n := len(x) / hidden
	dh := cfg.headDim()

	c.split(n, func(a, b int) { rmsNormRows(c.h[a*hidden:b*hidden], x[a*hidden:b*hidden], hw.inputNorm, eps) })
	for _, p := range []struct {
		dst []uint16
		i   int
	}{{c.q, projQ}, {c.k, projK}, {c.v, projV}} {
		if err := c.linear(p.dst, c.h, w[p.i], hw.bias[p.i]); err != nil {
			return err
		}
	}
	half := dh / 2
	qRow, kRow := cfg.NumHeads*dh, cfg.numKVHeads()*dh
	c.split(n, func(a, b int) {
		if cfg.QKNorm {
			rmsNormRows(c.q[a*qRow:b*qRow], c.q[a*qRow:b*qRow], hw.qNorm, eps)
			rmsNormRows(c.k[a*kRow:b*kRow], c.k[a*kRow:b*kRow], hw.kNorm, eps)
		}
		for t := a; t < b; t++ {
			cos, sin := c.cos[t*half:(t+1)*half], c.sin[t*half:(t+1)*half]
			ropeRows(c.q[t*qRow:(t+1)*qRow], cos, sin)
			ropeRows(c.k[t*kRow:(t+1)*kRow], cos, sin)
		}
	})
	if err := c.attention(cfg.slidingLayer(l)); err != nil {
		return err
	}
	if err := c.linear(c.o, c.attn, w[projO], hw.bias[projO]); err != nil {
		return err
	}
	c.split(n, func(a, b int) {
		r := c.x1[a*hidden : b*hidden]
		addRows(r, x[a*hidden:b*hidden], c.o[a*hidden:b*hidden])
		rmsNormRows(c.h[a*hidden:b*hidden], r, hw.postNorm, eps)
	})
	if err := c.linear(c.gate, c.h, w[projGate], hw.bias[projGate]); err != nil {
		return err
	}
	if err := c.linear(c.up, c.h, w[projUp], hw.bias[projUp]); err != nil {
		return err
	}
	inter := cfg.IntermediateSize
	c.split(n, func(a, b int) {
		siluMul(c.gate[a*inter:b*inter], c.gate[a*inter:b*inter], c.up[a*inter:b*inter])
	})
	if err := c.linear(c.o, c.gate, w[projDown], hw.bias[projDown]); err != nil {
		return err
	}
	c.split(n, func(a, b int) { addRows(y[a*hidden:b*hidden], c.x1[a*hidden:b*hidden], c.o[a*hidden:b*hidden]) })
	return nil
}

// attention sets c.attn [rows, heads·D] from c.q, c.k and c.v, one task
// per (sequence, key/value head): the task's G query heads of every
// position as the rows of one product with the head's keys (q·kᵀ, AMX),
// the masked softmax of each row (softmaxRows), and the product with the
// values (AMX). Query head h uses key/value head h / G, as transformers'
// repeat_kv.
func (c *amxCall) attention(sliding bool) error {
	cfg := &c.m.cfg
	D, nH := cfg.headDim(), cfg.NumHeads
	nKV := cfg.numKVHeads()
	G := nH / nKV
	window := 0
	if sliding {
		window = cfg.SlidingWindow
	}
	errs := make([]error, c.batch*nKV)
	parallel.For(c.batch*nKV, c.workers, func(task int) {
		b, kvh := task/nKV, task%nKV
		S, r0 := c.seqLen[b], c.seqStart[b]
		if S == 0 {
			return
		}
		sc, _ := c.attnScratch.Get().(*attnScratch)
		if sc == nil {
			sc = new(attnScratch)
		}
		defer c.attnScratch.Put(sc)
		sc.grow(S, G, D)
		// Gather: q rows (s, g) of heads kvh·G…, keys [S, D], values
		// transposed [D, S].
		for s := range S {
			t := r0 + s
			copy(sc.q[s*G*D:(s+1)*G*D], c.q[(t*nH+kvh*G)*D:][:G*D])
			copy(sc.k[s*D:(s+1)*D], c.k[(t*nKV+kvh)*D:][:D])
			for d, val := range c.v[(t*nKV+kvh)*D:][:D] {
				sc.vt[d*S+s] = val
			}
		}
		keys, err := amx.PackWeight(sc.k, S, D)
		if err == nil {
			err = keys.MatMul(sc.scores, sc.q, S*G, 1)
		}
		if err != nil {
			errs[task] = err
			return
		}
		softmaxRows(sc.p, sc.scores, S, c.scale, func(row int) (lo, hi int) {
			s := row / G
			if window > 0 {
				lo = max(0, s-window+1)
			}
			return lo, s
		}, c.keyOK[b*c.seq:b*c.seq+S])
		values, err := amx.PackWeight(sc.vt, D, S)
		if err == nil {
			err = values.MatMul(sc.out, sc.p, S*G, 1)
		}
		if err != nil {
			errs[task] = err
			return
		}
		for s := range S {
			t := r0 + s
			roundToBFloat16(c.attn[(t*nH+kvh*G)*D:][:G*D], sc.out[s*G*D:(s+1)*G*D])
		}
	})
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("llm: attention: %w", err)
		}
	}
	return nil
}

func (sc *attnScratch) grow(S, G, D int) {
	grow16 := func(b *[]uint16, n int) {
		if cap(*b) < n {
			*b = make([]uint16, n)
		}
		*b = (*b)[:n]
	}
	grow32 := func(b *[]float32, n int) {
		if cap(*b) < n {
			*b = make([]float32, n)
		}
		*b = (*b)[:n]
	}
	grow16(&sc.q, S*G*D)
	grow16(&sc.k, S*D)
	grow16(&sc.vt, D*S)
	grow16(&sc.p, S*G*S)
	grow32(&sc.scores, S*G*S)
	grow32(&sc.out, S*G*D)
}
