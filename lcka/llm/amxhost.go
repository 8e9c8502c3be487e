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
// activations (hostPass), allocated by the first block and overwritten by
// the next ones.
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
	cos, sin   []float32 // [rows, D/2], in the compute dtype's values
	workers    int

	bf16 *hostPass[uint16]  // bfloat16 models
	f32  *hostPass[float32] // float32 models
}

// matMuler is a packed weight of the AMX path: bfloat16 (*amx.Weight) or
// float32 (*splitLinear: six bfloat16 products).
type matMuler[T uint16 | float32] interface {
	MatMul(c []float32, a []T, m, workers int) error
	N() int
	K() int
}

// hostOps are the steps of a block in the compute dtype whose values T
// holds: bfloat16 bit patterns or float32.
type hostOps[T uint16 | float32] struct {
	rmsNorm func(dst, x []T, w []float32, eps float64)
	add     func(dst, a, b []T)
	siluMul func(dst, g, u []T)
	rope    func(x []T, cos, sin []float32)
	softmax func(p []T, raw []float32, s int, window func(row int) (lo, hi int), keyOK []float32)
	// finish sets dst to src + bias (bias may be nil) in the compute
	// dtype; inPlace tells that float32 products may be written into the
	// destination itself (the compute dtype is float32).
	finish  func(dst []T, src, bias []float32)
	inPlace bool
	pack    func(w []T, n, k int) (matMuler[T], error)
}

// bf16Ops computes as the one-graph pass does in bfloat16 (hostmath.go).
func bf16Ops(scale float32) *hostOps[uint16] {
	return &hostOps[uint16]{
		rmsNorm: func(dst, x []uint16, w []float32, eps float64) { rmsNormRows(dst, x, w, float32(eps)) },
		add:     addRows,
		siluMul: siluMul,
		rope:    ropeRows,
		softmax: func(p []uint16, raw []float32, s int, window func(int) (int, int), keyOK []float32) {
			softmaxRows(p, raw, s, scale, window, keyOK)
		},
		finish: biasRound,
		pack: func(w []uint16, n, k int) (matMuler[uint16], error) {
			return amx.PackWeight(w, n, k)
		},
	}
}

// f32Ops computes as the one-graph pass does in float32 (hostmath32.go).
func f32Ops(div float32) *hostOps[float32] {
	return &hostOps[float32]{
		rmsNorm: rmsNorm32Rows,
		add:     add32,
		siluMul: siluMul32,
		rope:    rope32Rows,
		softmax: func(p, raw []float32, s int, window func(int) (int, int), keyOK []float32) {
			softmax32Rows(p, raw, s, div, window, keyOK)
		},
		finish: func(dst, src, bias []float32) {
			if &dst[0] != &src[0] {
				copy(dst, src)
			}
			if bias != nil {
				addBias32(dst, bias)
			}
		},
		inPlace: true,
		pack: func(w []float32, n, k int) (matMuler[float32], error) {
			sw, err := packSplit(w, n, k)
			if err != nil {
				return nil, err
			}
			return sw, nil
		},
	}
}

// hostPass holds a pass's activations, [rows, ·] each (x and y only in the
// compact layout), and its scratch.
type hostPass[T uint16 | float32] struct {
	c                *amxCall
	ops              *hostOps[T]
	x, y, h, q, k, v []T
	attn, o, x1      []T
	gate, up         []T
	scratch          []float32 // float32 products before their rounding
	attnScratch      sync.Pool // *attnScratch[T]
}

// attnScratch is one attention task's buffers.
type attnScratch[T uint16 | float32] struct {
	q, k, vt, p []T
	scores, out []float32
}

// u16 views bfloat16 values as their bit patterns.
func u16(x []bfloat16.BFloat16) []uint16 {
	return unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}

func grow[T any](b *[]T, size int) {
	if cap(*b) < size {
		*b = make([]T, size)
	}
	*b = (*b)[:size]
}

// prepare reads the batch's mask and positions: the layout of the
// activations, and the rotary tables: angle = float32(position)·inv_freq
// in float32, cos and sin in float64 rounded to float32, times the
// attention scaling (yarn) in float32, rounded to the compute dtype
// (Model.rotary).
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
				if m.dt == dtypes.BFloat16 {
					cs, sn = roundF32(cs), roundF32(sn)
				}
				c.cos[r*half+j], c.sin[r*half+j] = cs, sn
			}
		}
	}
	c.workers = m.amx.workers
	sqrtD := math.Sqrt(float64(m.cfg.headDim()))
	switch m.dt {
	case dtypes.BFloat16:
		c.bf16 = &hostPass[uint16]{c: c, ops: bf16Ops(float32(1 / sqrtD))}
		c.bf16.grow(rows)
	case dtypes.Float32:
		c.f32 = &hostPass[float32]{c: c, ops: f32Ops(float32(sqrtD))}
		c.f32.grow(rows)
	default:
		return fmt.Errorf("llm: internal error: no AMX path in %s", m.dt)
	}
	return nil
}

func (p *hostPass[T]) grow(rows int) {
	cfg := &p.c.m.cfg
	dh := cfg.headDim()
	if p.c.compact {
		grow(&p.x, rows*cfg.HiddenSize)
		grow(&p.y, rows*cfg.HiddenSize)
	}
	grow(&p.h, rows*cfg.HiddenSize)
	grow(&p.q, rows*cfg.NumHeads*dh)
	grow(&p.k, rows*cfg.numKVHeads()*dh)
	grow(&p.v, rows*cfg.numKVHeads()*dh)
	grow(&p.attn, rows*cfg.NumHeads*dh)
	grow(&p.o, rows*cfg.HiddenSize)
	grow(&p.x1, rows*cfg.HiddenSize)
	grow(&p.gate, rows*cfg.IntermediateSize)
	grow(&p.up, rows*cfg.IntermediateSize)
}

// split runs f over [0, rows) in c.workers contiguous parts.
func (c *amxCall) split(rows int, f func(r0, r1 int)) {
	parts := min(c.workers, rows)
	parallel.For(parts, parts, func(i int) { f(rows*i/parts, rows*(i+1)/parts) })
}

// linear sets dst [rows, N] to in·Wᵀ + bias in the compute dtype for in
// [rows, K]: the product in float32 on the AMX kernel, then the bias added
// and the sum rounded once; in bfloat16 in chunks of rows so that the
// float32 scratch stays small.
func (p *hostPass[T]) linear(dst, in []T, w matMuler[T], bias []float32) error {
	c := p.c
	n, k := w.N(), w.K()
	rows := len(in) / k
	if p.ops.inPlace {
		out := any(dst).([]float32)
		if err := w.MatMul(out, in, rows, c.workers); err != nil {
			return fmt.Errorf("llm: %w", err)
		}
		if bias != nil {
			c.split(rows, func(a, b int) { p.ops.finish(dst[a*n:b*n], out[a*n:b*n], bias) })
		}
		return nil
	}
	chunk := max(32, (1<<21)/n/32*32) // rows of about 8 MB of float32
	grow(&p.scratch, min(rows, chunk)*n)
	for r0 := 0; r0 < rows; r0 += chunk {
		r1 := min(r0+chunk, rows)
		y := p.scratch[:(r1-r0)*n]
		if err := w.MatMul(y, in[r0*k:r1*k], r1-r0, c.workers); err != nil {
			return fmt.Errorf("llm: %w", err)
		}
		out := dst[r0*n : r1*n]
		c.split(r1-r0, func(a, b int) { p.ops.finish(out[a*n:b*n], y[a*n:b*n], bias) })
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
	out, err := tensors.FromShapeForBackend(m.backend, 0, shapes.Make(m.dt, x.Shape().Dimensions...))
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	var blockErr error
	if c.bf16 != nil {
		err = tensors.ConstFlatData(x, func(xs []bfloat16.BFloat16) {
			blockErr = tensors.MutableFlatData(out, func(ys []bfloat16.BFloat16) {
				blockErr = c.bf16.run(l, u16(xs), u16(ys))
			})
		})
	} else {
		err = tensors.ConstFlatData(x, func(xs []float32) {
			blockErr = tensors.MutableFlatData(out, func(ys []float32) {
				blockErr = c.f32.run(l, xs, ys)
			})
		})
	}
	if err == nil {
		err = blockErr
	}
	if err != nil {
		free(out)
		return nil, fmt.Errorf("llm: block %d: %w", l, err)
	}
	return out, nil
}

// run computes block l from the residual stream xs into ys ([B, S, H]
// each): directly, or through the compact layout, whose padding's states
// stay zero.
func (p *hostPass[T]) run(l int, xs, ys []T) error {
	c := p.c
	if !c.compact {
		return p.block(l, xs, ys)
	}
	H := c.m.cfg.HiddenSize
	rows := func(b int) (a, z int) { return (b*c.seq + c.first[b]) * H, (b*c.seq + c.first[b] + c.seqLen[b]) * H }
	for b := range c.batch {
		a, z := rows(b)
		copy(p.x[c.seqStart[b]*H:], xs[a:z])
	}
	if err := p.block(l, p.x, p.y); err != nil {
		return err
	}
	for b := range c.batch {
		a, z := rows(b)
		copy(ys[a:z], p.y[c.seqStart[b]*H:])
	}
	return nil
}

// block computes block l from the residual stream x into y ([rows, H]
// each).
func (p *hostPass[T]) block(l int, x, y []T) error {
	c, ops := p.c, p.ops
	m := c.m
	cfg := &m.cfg
	layer, hw := m.amx.layers[l], &m.amx.host[l]
	w := func(i int) matMuler[T] { return layer[i].(matMuler[T]) }
	hidden, eps := cfg.HiddenSize, cfg.RMSNormEps
	n := len(x) / hidden
	dh := cfg.headDim()

	c.split(n, func(a, b int) { ops.rmsNorm(p.h[a*hidden:b*hidden], x[a*hidden:b*hidden], hw.inputNorm, eps) })
	for _, proj := range []struct {
		dst []T
		i   int
	}{{p.q, projQ}, {p.k, projK}, {p.v, projV}} {
		if err := p.linear(proj.dst, p.h, w(proj.i), hw.bias[proj.i]); err != nil {
			return err
		}
	}
	half := dh / 2
	qRow, kRow := cfg.NumHeads*dh, cfg.numKVHeads()*dh
	c.split(n, func(a, b int) {
		if cfg.QKNorm {
			ops.rmsNorm(p.q[a*qRow:b*qRow], p.q[a*qRow:b*qRow], hw.qNorm, eps)
			ops.rmsNorm(p.k[a*kRow:b*kRow], p.k[a*kRow:b*kRow], hw.kNorm, eps)
		}
		for t := a; t < b; t++ {
			cos, sin := c.cos[t*half:(t+1)*half], c.sin[t*half:(t+1)*half]
			ops.rope(p.q[t*qRow:(t+1)*qRow], cos, sin)
			ops.rope(p.k[t*kRow:(t+1)*kRow], cos, sin)
		}
	})
	if err := p.attention(cfg.slidingLayer(l)); err != nil {
		return err
	}
	if err := p.linear(p.o, p.attn, w(projO), hw.bias[projO]); err != nil {
		return err
	}
	c.split(n, func(a, b int) {
		r := p.x1[a*hidden : b*hidden]
		ops.add(r, x[a*hidden:b*hidden], p.o[a*hidden:b*hidden])
		ops.rmsNorm(p.h[a*hidden:b*hidden], r, hw.postNorm, eps)
	})
	if err := p.linear(p.gate, p.h, w(projGate), hw.bias[projGate]); err != nil {
		return err
	}
	if err := p.linear(p.up, p.h, w(projUp), hw.bias[projUp]); err != nil {
		return err
	}
	inter := cfg.IntermediateSize
	c.split(n, func(a, b int) {
		ops.siluMul(p.gate[a*inter:b*inter], p.gate[a*inter:b*inter], p.up[a*inter:b*inter])
	})
	if err := p.linear(p.o, p.gate, w(projDown), hw.bias[projDown]); err != nil {
		return err
	}
	c.split(n, func(a, b int) { ops.add(y[a*hidden:b*hidden], p.x1[a*hidden:b*hidden], p.o[a*hidden:b*hidden]) })
	return nil
}

// attention sets p.attn [rows, heads·D] from p.q, p.k and p.v, one task
// per (sequence, key/value head): the task's G query heads of every
// position as the rows of one product with the head's keys (q·kᵀ, AMX),
// the masked softmax of each row, and the product with the values (AMX).
// Query head h uses key/value head h / G, as transformers' repeat_kv.
func (p *hostPass[T]) attention(sliding bool) error {
	c := p.c
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
		sc, _ := p.attnScratch.Get().(*attnScratch[T])
		if sc == nil {
			sc = new(attnScratch[T])
		}
		defer p.attnScratch.Put(sc)
		grow(&sc.q, S*G*D)
		grow(&sc.k, S*D)
		grow(&sc.vt, D*S)
		grow(&sc.p, S*G*S)
		grow(&sc.scores, S*G*S)
		grow(&sc.out, S*G*D)
		// Gather: q rows (s, g) of heads kvh·G…, keys [S, D], values
		// transposed [D, S].
		for s := range S {
			t := r0 + s
			copy(sc.q[s*G*D:(s+1)*G*D], p.q[(t*nH+kvh*G)*D:][:G*D])
			copy(sc.k[s*D:(s+1)*D], p.k[(t*nKV+kvh)*D:][:D])
			for d, val := range p.v[(t*nKV+kvh)*D:][:D] {
				sc.vt[d*S+s] = val
			}
		}
		keys, err := p.ops.pack(sc.k, S, D)
		if err == nil {
			err = keys.MatMul(sc.scores, sc.q, S*G, 1)
		}
		if err != nil {
			errs[task] = err
			return
		}
		p.ops.softmax(sc.p, sc.scores, S, func(row int) (lo, hi int) {
			s := row / G
			if window > 0 {
				lo = max(0, s-window+1)
			}
			return lo, s
		}, c.keyOK[b*c.seq:b*c.seq+S])
		values, err := p.ops.pack(sc.vt, D, S)
		if err == nil {
			err = values.MatMul(sc.out, sc.p, S*G, 1)
		}
		if err != nil {
			errs[task] = err
			return
		}
		for s := range S {
			t := r0 + s
			p.ops.finish(p.attn[(t*nH+kvh*G)*D:][:G*D], sc.out[s*G*D:(s+1)*G*D], nil)
		}
	})
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("llm: attention: %w", err)
		}
	}
	return nil
}
