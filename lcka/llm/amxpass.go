package llm

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/layersim/layersim/internal/amx"
)

// A bfloat16 dense model on a CPU with AMX (internal/amx) runs block by
// block on the host: its linear layers on the AMX kernel, which multiplies
// bfloat16 matrices about ten times faster than the Go backend's float32
// kernel does the widened ones, and everything else in AVX-512 code
// (hostmath.go) on the block's bfloat16 activations, computing what the
// one-graph pass computes (Model.attentionBlock, Model.mlp):
//
//	h = input_layernorm(x)
//	q, k, v = round(h·Wᵀ + b)                  (AMX, float32 accumulation)
//	q, k = q_norm(q), k_norm(k) (Qwen3); RoPE
//	attention per (sequence, key/value head):
//	    s = round(round(q·kᵀ)·scale), masked; p = round(softmax(s))   (AMX for q·kᵀ)
//	    a = round(p·v)                                                 (AMX)
//	x = round(x + round(a·W_oᵀ + b))
//	h = post_attention_layernorm(x)
//	act = round(round(silu(round(h·W_gateᵀ + b)))·round(h·W_upᵀ + b))
//	x = round(x + round(act·W_downᵀ + b))
//
// The products have the same bfloat16 inputs as the one graph's and
// accumulate in float32 in another order; TDPBF16PS also flushes subnormal
// inputs and results to zero; the element-wise steps agree with the
// graph's to float32 rounding (hostmath.go). The weights are packed once
// at load and the original linear weights freed, so the model holds one
// copy; the norm weights and biases are kept widened to float32 on the
// host as well (a few MB).
//
// A float32 dense model runs the same block in float32 (hostmath32.go):
// no roundings, scores divided by sqrt(D) as the graph does, and every
// product as six bfloat16 products of the operands' three parts
// (splitLinear, amx.SplitWeight), about float32's own accuracy.

// amxLinears holds the packed weights and the host copies of the small
// weights.
type amxLinears struct {
	bias    [len(amxProjections)]bool // the projection has a bias
	layers  []amxLayer
	host    []hostWeights
	workers int
}

// amxLayer is one block's packed linear weights, in amxProjections' order:
// *amx.Weight in bfloat16, *splitLinear in float32.
type amxLayer [len(amxProjections)]any

// hostWeights is one block's norm weights and biases in float32 (widened
// from bfloat16 in a bfloat16 model); nil where the model has none.
type hostWeights struct {
	inputNorm, postNorm, qNorm, kNorm []float32
	bias                              [len(amxProjections)][]float32
}

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
// on the AMX kernel, unless WithoutAMX is given: a dense model without
// attention sinks in bfloat16, on host memory, on a CPU and OS that allow
// AMX. Callers that record how states were computed (a resumable
// extraction's fingerprint) can ask before loading the model.
func WouldUseAMX(cfg Config, dt dtypes.DType, sharedBuffers bool) bool {
	return cfg.MoE == nil && !cfg.AttentionSinks && (dt == dtypes.BFloat16 || dt == dtypes.Float32) && sharedBuffers && amx.Available()
}

// amxProjections are the linear layers of a block, each its own product.
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
	for l := range c.NumLayers {
		prefix := blockPrefix(l)
		var layer amxLayer
		var hw hostWeights
		var err error
		widenAll := func(dst *[]float32, name string) {
			if err == nil {
				*dst, err = m.widenParam(prefix + name)
			}
		}
		widenAll(&hw.inputNorm, "input_layernorm.weight")
		widenAll(&hw.postNorm, "post_attention_layernorm.weight")
		if c.QKNorm {
			widenAll(&hw.qNorm, "self_attn.q_norm.weight")
			widenAll(&hw.kNorm, "self_attn.k_norm.weight")
		}
		for i, name := range amxProjections {
			if a.bias[i] {
				widenAll(&hw.bias[i], name+".bias")
			}
			if err == nil {
				layer[i], err = m.packLinear(prefix + name)
			}
		}
		if err != nil {
			a.finalize()
			return nil, err
		}
		a.layers = append(a.layers, layer)
		a.host = append(a.host, hw)
		// The freed weights are garbage of the Go heap until a collection:
		// without one, packing all blocks held both copies (a 1B model
		// peaked at 4.9 GB instead of 3.5).
		runtime.GC()
	}
	debug.FreeOSMemory()
	return a, nil
}

// widenParam returns the named weight (bfloat16 or float32) in float32.
func (m *Model) widenParam(name string) ([]float32, error) {
	t := m.param(name)
	var out []float32
	var err error
	if t.DType() == dtypes.Float32 {
		out, err = tensors.CopyFlatData[float32](t)
	} else {
		err = tensors.ConstFlatData(t, func(flat []bfloat16.BFloat16) {
			out = make([]float32, len(flat))
			for i, v := range flat {
				out[i] = v.Float32()
			}
		})
	}
	if err != nil {
		return nil, fmt.Errorf("llm: %s: %w", name, err)
	}
	return out, nil
}

// packLinear packs the weight of the named linear layer for the AMX
// kernel (a bfloat16 weight as it is, a float32 one as its three bfloat16
// parts) and frees it.
func (m *Model) packLinear(name string) (any, error) {
	i := m.index[name+".weight"]
	t := m.params[i]
	d := t.Shape().Dimensions
	var w any
	var packErr error
	var err error
	if t.DType() == dtypes.Float32 {
		err = tensors.ConstFlatData(t, func(flat []float32) {
			var sw *splitLinear
			if sw, packErr = packSplit(flat, d[0], d[1]); packErr == nil {
				w = sw
			}
		})
	} else {
		err = tensors.ConstFlatData(t, func(flat []bfloat16.BFloat16) {
			w, packErr = amx.PackWeight(u16(flat), d[0], d[1])
		})
	}
	if err == nil {
		err = packErr
	}
	if err != nil {
		return nil, fmt.Errorf("llm: %s.weight: %w", name, err)
	}
	free(t)
	m.params[i] = nil
	return w, nil
}

func (a *amxLinears) finalize() {
	a.layers, a.host = nil, nil
}
