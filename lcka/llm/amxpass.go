package llm

import (
	"fmt"
	"runtime"
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
//	host:      qkv = h·[W_q; W_k; W_v]ᵀ                 (float32)
//	attend:    q, k, v = round(qkv + b); attention       (the heads' outputs)
//	host:      o = attn·W_oᵀ
//	residNorm: x = x + round(o + b); h = post_attention_layernorm(x)
//	host:      gu = h·[W_gate; W_up]ᵀ
//	act:       act = silu(round(gate + b))·round(up + b)
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
	attend                      [2]*graph.Exec // full, sliding attention
	layers                      []amxLayer
	attendNames                 []string // the attention's weights besides the projections
	workers                     int
}

// amxLayer is one block's packed linear weights.
type amxLayer struct{ qkv, o, gateUp, down *amx.Weight }

// useAMX reports whether New should run m on the AMX kernel: bfloat16, a
// backend whose buffers are host memory, a CPU and OS that allow AMX, and
// no WithoutAMX.
func useAMX(m *Model, o options) bool {
	return o.dtype == dtypes.BFloat16 && !o.noAMX && m.backend.HasSharedBuffers() && amx.Available()
}

// amxProjections are the linear layers of a block in the packed groups:
// each group's weights are stacked row-wise into one product.
var amxProjections = [4][]string{
	{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"},
	{"self_attn.o_proj"},
	{"mlp.gate_proj", "mlp.up_proj"},
	{"mlp.down_proj"},
}

func newAMXLinears(m *Model) (*amxLinears, error) {
	c := &m.cfg
	a := &amxLinears{workers: runtime.GOMAXPROCS(0)}
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
		for g, dst := range []**amx.Weight{&layer.qkv, &layer.o, &layer.gateUp, &layer.down} {
			w, err := m.packLinears(blockPrefix(l), amxProjections[g])
			if err != nil {
				a.finalize()
				return nil, err
			}
			*dst = w
		}
		a.layers = append(a.layers, layer)
	}
	var err error
	// in: x [B,S,H], weight → input_layernorm(x) [B·S,H].
	if a.norm, err = newExec(m, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{m.rmsNorm(flatten(in[0]), in[1])}
	}); err != nil {
		return nil, err
	}
	// in: qkv [B·S,Q+K+V] float32, mask, positions, attendNames → the
	// heads' outputs [B·S, heads·D].
	q, kv := c.NumHeads*c.headDim(), c.numKVHeads()*c.headDim()
	for i, sliding := range []bool{false, true} {
		if a.attend[i], err = newExec(m, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
			p := blockParams(a.attendNames, in, 3)
			qkv, mask, positions := in[0], in[1], in[2]
			part := func(name string, from, to int) *graph.Node {
				return m.linearFrom(p, graph.SliceAxis(qkv, 1, graph.AxisRange(from, to)), name, c.AttentionBias)
			}
			qn, kn, vn := part("self_attn.q_proj", 0, q), part("self_attn.k_proj", q, q+kv), part("self_attn.v_proj", q+kv, q+2*kv)
			return []*graph.Node{m.attention(p, "", qn, kn, vn, sliding, m.newAttnContext(mask, positions))}
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
	// in: gate_up [B·S,2I] float32, (biases) → silu(gate)·up [B·S,I].
	inter := c.IntermediateSize
	if a.act, err = newExec(m, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		p := blockParams(mlpBiases, in, 1)
		gate := m.linearFrom(p, graph.SliceAxis(in[0], 1, graph.AxisRange(0, inter)), "mlp.gate_proj", c.MLPBias)
		up := m.linearFrom(p, graph.SliceAxis(in[0], 1, graph.AxisRange(inter, 2*inter)), "mlp.up_proj", c.MLPBias)
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

// packLinears stacks the bfloat16 weights of the named linear layers of
// one block row-wise, packs them for the AMX kernel and frees them.
func (m *Model) packLinears(prefix string, names []string) (*amx.Weight, error) {
	var rows, cols int
	var stacked []uint16
	for _, name := range names {
		t := m.param(prefix + name + ".weight")
		d := t.Shape().Dimensions
		if cols != 0 && d[1] != cols {
			return nil, fmt.Errorf("llm: %s%s.weight has %d columns, %s %d", prefix, name, d[1], names[0], cols)
		}
		rows, cols = rows+d[0], d[1]
		if err := tensors.ConstFlatData(t, func(flat []bfloat16.BFloat16) {
			stacked = append(stacked, unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(flat))), len(flat))...)
		}); err != nil {
			return nil, fmt.Errorf("llm: %s%s.weight: %w", prefix, name, err)
		}
	}
	w, err := amx.PackWeight(stacked, rows, cols)
	if err != nil {
		return nil, fmt.Errorf("llm: %s%s: %w", prefix, names[0], err)
	}
	for _, name := range names {
		i := m.index[prefix+name+".weight"]
		free(m.params[i])
		m.params[i] = nil
	}
	return w, nil
}

func (a *amxLinears) finalize() {
	finalizeExecs(a.norm, a.residNorm, a.act, a.resid, a.attend[0], a.attend[1])
	a.layers = nil
}

// matmul returns in·Wᵀ [rows, N] float32 for in [rows, K] in bfloat16.
func (a *amxLinears) matmul(m *Model, w *amx.Weight, in *tensors.Tensor) (*tensors.Tensor, error) {
	rows := in.Shape().Size() / w.K()
	out, err := tensors.FromShapeForBackend(m.backend, 0, shapes.Make(dtypes.Float32, rows, w.N()))
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	var mmErr error
	err = tensors.ConstFlatData(in, func(x []bfloat16.BFloat16) {
		mmErr = tensors.MutableFlatData(out, func(c []float32) {
			mmErr = w.MatMul(c, unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(x))), len(x)), rows, a.workers)
		})
	})
	if err == nil {
		err = mmErr
	}
	if err != nil {
		free(out)
		return nil, fmt.Errorf("llm: %w", err)
	}
	return out, nil
}

// amxBlock is one block of a model on the AMX kernel (a blockState).
func (m *Model) amxBlock(l int, x, mask, positions *tensors.Tensor) (*tensors.Tensor, error) {
	a, c := m.amx, &m.cfg
	prefix, layer := blockPrefix(l), a.layers[l]
	weights := func(names []string) []any {
		out := make([]any, len(names))
		for i, name := range names {
			out[i] = m.param(prefix + name)
		}
		return out
	}
	// step runs an executable on in and frees the given inputs.
	step := func(e *graph.Exec, in []any, done ...*tensors.Tensor) ([]*tensors.Tensor, error) {
		outs, err := call(e, in...)
		free(done...)
		return outs, err
	}
	product := func(w *amx.Weight, in *tensors.Tensor) (*tensors.Tensor, error) {
		out, err := a.matmul(m, w, in)
		free(in)
		return out, err
	}

	outs, err := step(a.norm, []any{x, m.param(prefix + "input_layernorm.weight")})
	if err != nil {
		return nil, err
	}
	qkv, err := product(layer.qkv, outs[0])
	if err != nil {
		return nil, err
	}
	attend := a.attend[0]
	if c.slidingLayer(l) {
		attend = a.attend[1]
	}
	if outs, err = step(attend, append([]any{qkv, mask, positions}, weights(a.attendNames)...), qkv); err != nil {
		return nil, err
	}
	o, err := product(layer.o, outs[0])
	if err != nil {
		return nil, err
	}
	in := []any{x, o, m.param(prefix + "post_attention_layernorm.weight")}
	if c.AttentionOutputBias {
		in = append(in, m.param(prefix+"self_attn.o_proj.bias"))
	}
	if outs, err = step(a.residNorm, in, o); err != nil {
		return nil, err
	}
	x1 := outs[0]
	gu, err := product(layer.gateUp, outs[1])
	if err != nil {
		free(x1)
		return nil, err
	}
	var biases []any
	if c.MLPBias {
		biases = weights([]string{"mlp.gate_proj.bias", "mlp.up_proj.bias", "mlp.down_proj.bias"})
	}
	if outs, err = step(a.act, append([]any{gu}, biases...), gu); err != nil {
		free(x1)
		return nil, err
	}
	d, err := product(layer.down, outs[0])
	if err != nil {
		free(x1)
		return nil, err
	}
	if outs, err = step(a.resid, append([]any{x1, d}, biases...), x1, d); err != nil {
		return nil, err
	}
	return outs[0], nil
}
