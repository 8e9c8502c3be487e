package llm

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"unsafe"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/layersim/layersim/internal/amx"
)

// A bfloat16 dense model on a CPU with AMX (internal/amx) runs block by
// block with its linear layers on the AMX kernel, which multiplies
// bfloat16 matrices about ten times faster than the Go backend's float32
// kernel does the widened ones. Each block is five small executables
// around four products on the host:
//
//	norm:      h = input_layernorm(x)
//	host:      h·W_qᵀ, h·W_kᵀ, h·W_vᵀ                    (float32)
//	attend:    q, k, v = round(h·Wᵀ + b); attention      (the heads' outputs)
//	host:      o = attn·W_oᵀ
//	residNorm: x = x + round(o + b); h = post_attention_layernorm(x)
//	host:      h·W_gateᵀ, h·W_upᵀ
//	act:       act = silu(round(h·W_gateᵀ + b))·round(h·W_upᵀ + b)
//	host:      d = act·W_downᵀ
//	resid:     x = x + round(d + b)
//
// Every step but the products is the graph code of the one-graph pass
// (Model.attention, swiglu, linearFrom), and the products have the same
// inputs (bfloat16) and accumulate in float32 as the widened float32
// products do, in another order; TDPBF16PS also flushes subnormal inputs
// and results to zero. The weights are packed once at load, and the
// original linear weights are freed, so the model holds one copy.

// amxLinears holds the packed weights and the block executables.
type amxLinears struct {
	norm, residNorm, act, resid *graph.Exec
	bias                        [len(amxProjections)]bool // the projection has a bias
	attend                      [2]*graph.Exec            // full, sliding attention
	layers                      []amxLayer
	attendNames                 []string // the attention's weights besides the projections
	workers                     int
}

// amxLayer is one block's packed linear weights, in amxProjections' order.
type amxLayer [len(amxProjections)]*amx.Weight

// UsesAMX reports whether m's linear layers run on the AMX kernel
// (internal/amx) rather than on the backend's matrix kernel.
func (m *Model) UsesAMX() bool { return m.amx != nil }

// useAMX reports whether New should run m on the AMX kernel: bfloat16, a
// backend whose buffers are host memory, a CPU and OS that allow AMX, and
// no WithoutAMX.
func useAMX(m *Model, o options) bool {
	return !o.noAMX && WouldUseAMX(m.cfg, o.dtype, m.backend.HasSharedBuffers())
}

// WouldUseAMX reports whether New runs a model of cfg in the compute dtype
// dt, on a backend with (or without) shared buffers, with its linear layers
// on the AMX kernel, unless WithoutAMX is given: a dense model in
// bfloat16, on host memory, on a CPU and OS that allow AMX. Callers that
// record how states were computed (a resumable extraction's fingerprint)
// can ask before loading the model.
func WouldUseAMX(cfg Config, dt dtypes.DType, sharedBuffers bool) bool {
	return cfg.MoE == nil && dt == dtypes.BFloat16 && sharedBuffers && amx.Available()
}

// amxProjections are the linear layers of a block. Each is its own
// product (stacking q, k and v, or gate and up, into one product saves
// packing the input again, a few percent of a product, but the graph then
// slices the stacked output, a copy that cost more).
var amxProjections = [...]string{
	"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
	"mlp.gate_proj", "mlp.up_proj", "mlp.down_proj",
}

// Indices into amxLayer.
const (
	projQ = iota
	projK
	projV
	projO
	projGate
	projUp
	projDown
)

func newAMXLinears(m *Model) (*amxLinears, error) {
	c := &m.cfg
	a := &amxLinears{workers: runtime.GOMAXPROCS(0)}
	a.bias = [...]bool{c.AttentionBias, c.AttentionBias, c.AttentionBias, c.AttentionOutputBias, c.MLPBias, c.MLPBias, c.MLPBias}
	a.attendNames = blockWeightNames(m.cfg, func(suffix string) bool {
		switch suffix {
		case "self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias",
			"self_attn.q_norm.weight", "self_attn.k_norm.weight", "self_attn.sinks":
			return true
		}
		return false
	})
	for l := range c.NumLayers {
		var layer amxLayer
		for i, name := range amxProjections {
			w, err := m.packLinear(blockPrefix(l) + name)
			if err != nil {
				a.finalize()
				return nil, err
			}
			layer[i] = w
		}
		a.layers = append(a.layers, layer)
		// The freed weights are garbage of the Go heap until a collection:
		// without one, packing all blocks held both copies (a 1B model
		// peaked at 4.9 GB instead of 3.5).
		runtime.GC()
	}
	debug.FreeOSMemory()
	var err error
	// in: x [B,S,H], weight → input_layernorm(x) [B·S,H].
	if a.norm, err = newExec(m, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{m.rmsNorm(flatten(in[0]), in[1])}
	}); err != nil {
		return nil, err
	}
	// in: the products of q, k, v [B·S,·] float32, mask, positions,
	// attendNames → the heads' outputs [B·S, heads·D].
	for i, sliding := range []bool{false, true} {
		if a.attend[i], err = newExec(m, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
			p := blockParams(a.attendNames, in, 5)
			mask, positions := in[3], in[4]
			q := m.linearFrom(p, in[0], "self_attn.q_proj", c.AttentionBias)
			k := m.linearFrom(p, in[1], "self_attn.k_proj", c.AttentionBias)
			v := m.linearFrom(p, in[2], "self_attn.v_proj", c.AttentionBias)
			return []*graph.Node{m.attention(p, "", q, k, v, sliding, m.newAttnContext(mask, positions))}
		}); err != nil {
			return nil, err
		}
	}
	// in: x [B,S,H], o [B·S,H] float32, (o_proj.bias), post_attention_layernorm
	// → x + round(o + b) [B,S,H], its norm [B·S,H].
	residNormNames := []string{"post_attention_layernorm.weight"}
	if c.AttentionOutputBias {
		residNormNames = append(residNormNames, "self_attn.o_proj.bias")
	}
	if a.residNorm, err = newExec(m, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		p := blockParams(residNormNames, in, 2)
		x := graph.Add(flatten(in[0]), m.linearFrom(p, in[1], "self_attn.o_proj", c.AttentionOutputBias))
		return []*graph.Node{graph.Reshape(x, in[0].Shape().Dimensions...), m.rmsNorm(x, p("post_attention_layernorm.weight"))}
	}); err != nil {
		return nil, err
	}
	var mlpBiases []string
	if c.MLPBias {
		mlpBiases = []string{"mlp.gate_proj.bias", "mlp.up_proj.bias", "mlp.down_proj.bias"}
	}
	// in: the products of gate and up [B·S,I] float32, (biases) →
	// silu(gate)·up [B·S,I].
	if a.act, err = newExec(m, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		p := blockParams(mlpBiases, in, 2)
		gate := m.linearFrom(p, in[0], "mlp.gate_proj", c.MLPBias)
		up := m.linearFrom(p, in[1], "mlp.up_proj", c.MLPBias)
		return []*graph.Node{m.swiglu(gate, up)}
	}); err != nil {
		return nil, err
	}
	// in: x [B,S,H], d [B·S,H] float32, (biases) → x + round(d + b).
	if a.resid, err = newExec(m, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		p := blockParams(mlpBiases, in, 2)
		y := m.linearFrom(p, in[1], "mlp.down_proj", c.MLPBias)
		return []*graph.Node{graph.Add(in[0], graph.Reshape(y, in[0].Shape().Dimensions...))}
	}); err != nil {
		return nil, err
	}
	return a, nil
}

// flatten reshapes x [B,S,H] to [B·S,H].
func flatten(x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	return graph.Reshape(x, d[0]*d[1], d[2])
}

// packLinear packs the bfloat16 weight of the named linear layer for the
// AMX kernel and frees it.
func (m *Model) packLinear(name string) (*amx.Weight, error) {
	i := m.index[name+".weight"]
	t := m.params[i]
	d := t.Shape().Dimensions
	var w *amx.Weight
	var packErr error
	if err := tensors.ConstFlatData(t, func(flat []bfloat16.BFloat16) {
		w, packErr = amx.PackWeight(unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(flat))), len(flat)), d[0], d[1])
	}); err != nil {
		return nil, fmt.Errorf("llm: %s.weight: %w", name, err)
	}
	if packErr != nil {
		return nil, fmt.Errorf("llm: %s.weight: %w", name, packErr)
	}
	free(t)
	m.params[i] = nil
	return w, nil
}

func (a *amxLinears) finalize() {
	finalizeExecs(a.norm, a.residNorm, a.act, a.resid, a.attend[0], a.attend[1])
	a.layers = nil
}

// amxCall is the state of one pass: the product buffers, one per
// projection, allocated by the first block and overwritten by the next
// ones (fresh buffers cost their zeroing, 9% of a pass), and the float32
// scratch of the products rounded on the host.
type amxCall struct {
	m        *Model
	products [len(amxProjections)]*tensors.Tensor
	scratch  []float32
}

func (c *amxCall) free() { free(c.products[:]...) }

// product returns in·Wᵀ [rows, N] for in [rows, K] in bfloat16, in the
// buffer of projection i: in float32, or, for a projection without bias,
// rounded to bfloat16 on the host (roundToBFloat16 rounds as the graph's
// ConvertDType does, and costs a tenth of it).
func (c *amxCall) product(i int, w *amx.Weight, in *tensors.Tensor) (*tensors.Tensor, error) {
	m := c.m
	rows := in.Shape().Size() / w.K()
	rounded := !m.amx.bias[i]
	out := c.products[i]
	if out == nil {
		dt := dtypes.Float32
		if rounded {
			dt = dtypes.BFloat16
		}
		var err error
		if out, err = tensors.FromShapeForBackend(m.backend, 0, shapes.Make(dt, rows, w.N())); err != nil {
			return nil, fmt.Errorf("llm: %w", err)
		}
		c.products[i] = out
	}
	var mmErr error
	err := tensors.ConstFlatData(in, func(x []bfloat16.BFloat16) {
		a := unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
		if !rounded {
			mmErr = tensors.MutableFlatData(out, func(y []float32) { mmErr = w.MatMul(y, a, rows, m.amx.workers) })
			return
		}
		// In chunks of rows, so that the float32 scratch stays small.
		n, k := w.N(), w.K()
		chunk := max(32, (1<<21)/n/32*32) // rows of about 8 MB of float32
		if need := min(rows, chunk) * n; cap(c.scratch) < need {
			c.scratch = make([]float32, need)
		}
		mmErr = tensors.MutableFlatData(out, func(y []bfloat16.BFloat16) {
			y16 := unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(y))), len(y))
			for r0 := 0; r0 < rows && mmErr == nil; r0 += chunk {
				r1 := min(r0+chunk, rows)
				y32 := c.scratch[:(r1-r0)*n]
				if mmErr = w.MatMul(y32, a[r0*k:r1*k], r1-r0, m.amx.workers); mmErr == nil {
					roundToBFloat16(y16[r0*n:r1*n], y32)
				}
			}
		})
	})
	if err == nil {
		err = mmErr
	}
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	return out, nil
}

// block is one block of a model on the AMX kernel (a blockState).
func (c *amxCall) block(l int, x, mask, positions *tensors.Tensor) (*tensors.Tensor, error) {
	m := c.m
	a, cfg := m.amx, &m.cfg
	prefix, layer := blockPrefix(l), a.layers[l]
	weights := func(names []string) []any {
		out := make([]any, len(names))
		for i, name := range names {
			out[i] = m.param(prefix + name)
		}
		return out
	}
	// products returns in·Wᵀ for the projections given, and frees in.
	products := func(in *tensors.Tensor, proj ...int) ([]any, error) {
		defer free(in)
		out := make([]any, len(proj))
		for j, i := range proj {
			t, err := c.product(i, layer[i], in)
			if err != nil {
				return nil, err
			}
			out[j] = t
		}
		return out, nil
	}

	outs, err := call(a.norm, x, m.param(prefix+"input_layernorm.weight"))
	if err != nil {
		return nil, err
	}
	qkv, err := products(outs[0], projQ, projK, projV)
	if err != nil {
		return nil, err
	}
	attend := a.attend[0]
	if cfg.slidingLayer(l) {
		attend = a.attend[1]
	}
	if outs, err = call(attend, append(append(qkv, mask, positions), weights(a.attendNames)...)...); err != nil {
		return nil, err
	}
	o, err := products(outs[0], projO)
	if err != nil {
		return nil, err
	}
	in := append(o, m.param(prefix+"post_attention_layernorm.weight"))
	if cfg.AttentionOutputBias {
		in = append(in, m.param(prefix+"self_attn.o_proj.bias"))
	}
	if outs, err = call(a.residNorm, append([]any{x}, in...)...); err != nil {
		return nil, err
	}
	x1 := outs[0]
	gateUp, err := products(outs[1], projGate, projUp)
	if err != nil {
		free(x1)
		return nil, err
	}
	var biases []any
	if cfg.MLPBias {
		biases = weights([]string{"mlp.gate_proj.bias", "mlp.up_proj.bias", "mlp.down_proj.bias"})
	}
	if outs, err = call(a.act, append(gateUp, biases...)...); err != nil {
		free(x1)
		return nil, err
	}
	d, err := products(outs[0], projDown)
	if err != nil {
		free(x1)
		return nil, err
	}
	outs, err = call(a.resid, append(append([]any{x1}, d...), biases...)...)
	free(x1)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}
