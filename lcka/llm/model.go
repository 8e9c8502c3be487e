package llm

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Model is a decoder-only transformer whose weights live on one backend.
// Its methods other than Close are safe for concurrent use. Executables are
// compiled once per (batch, sequence length) shape and cached.
type Model struct {
	cfg Config

	index   map[string]int
	params  []*tensors.Tensor
	invFreq []float32

	statesExec *graph.Exec
	pooledExec *graph.Exec
}

// Option configures New.
type Option func(*options)

type options struct {
	dtype dtypes.DType
}

// WithDType selects the dtype in which weights are stored and the forward
// pass is computed. Only dtypes.Float32 is implemented; the option exists
// so that bfloat16 can be added for accelerators without changing the API.
func WithDType(dt dtypes.DType) Option {
	return func(o *options) { o.dtype = dt }
}

// New checks cfg and the weights, copies every parameter to the backend
// once and returns the model. The backend is used as given: New never
// selects a default backend.
func New(backend compute.Backend, cfg Config, w Weights, opts ...Option) (*Model, error) {
	if backend == nil {
		return nil, errors.New("llm: nil backend")
	}
	if w == nil {
		return nil, errors.New("llm: nil weights")
	}
	o := options{dtype: dtypes.Float32}
	for _, opt := range opts {
		opt(&o)
	}
	if o.dtype != dtypes.Float32 {
		return nil, fmt.Errorf("llm: dtype %s is not implemented (only float32)", o.dtype)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	names, wantShapes := WeightShapes(cfg)
	m := &Model{
		cfg:     cfg,
		index:   make(map[string]int, len(names)),
		params:  make([]*tensors.Tensor, len(names)),
		invFreq: invFreq32(cfg),
	}
	for i, name := range names {
		m.index[name] = i
		data, shape, err := w.Tensor(name)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("llm: weight %s: %w", name, err)
		}
		if !slices.Equal(shape, wantShapes[i]) {
			m.Close()
			return nil, fmt.Errorf("llm: weight %s has shape %v, want %v", name, shape, wantShapes[i])
		}
		if len(data) != shapes.Make(dtypes.Float32, shape...).Size() {
			m.Close()
			return nil, fmt.Errorf("llm: weight %s has %d values for shape %v", name, len(data), shape)
		}
		for j, v := range data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				m.Close()
				return nil, fmt.Errorf("llm: weight %s has a non-finite value %v at flat index %d", name, v, j)
			}
		}
		t, err := tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Float32, shape...))
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("llm: weight %s: %w", name, err)
		}
		if err := tensors.MutableFlatData(t, func(flat []float32) { copy(flat, data) }); err != nil {
			m.Close()
			return nil, fmt.Errorf("llm: weight %s: %w", name, err)
		}
		if !backend.HasSharedBuffers() {
			// Move to the device now and free the host copy.
			if err := t.ToDevice(backend, 0); err != nil {
				m.Close()
				return nil, fmt.Errorf("llm: weight %s: %w", name, err)
			}
		}
		m.params[i] = t
	}
	var err error
	m.statesExec, err = graph.NewExec(backend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		return m.forward(in)
	})
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("llm: %w", err)
	}
	m.pooledExec, err = graph.NewExec(backend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		return pool(m.forward(in), in[1])
	})
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("llm: %w", err)
	}
	m.statesExec.SetMaxCache(-1)
	m.pooledExec.SetMaxCache(-1)
	return m, nil
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Close frees the weights and the compiled executables. The model must not
// be used afterwards, nor while Close runs.
func (m *Model) Close() {
	for _, t := range m.params {
		if t != nil {
			_ = t.FinalizeAll()
		}
	}
	m.params = nil
	for _, e := range []*graph.Exec{m.statesExec, m.pooledExec} {
		if e != nil {
			e.Finalize()
		}
	}
	m.statesExec, m.pooledExec = nil, nil
}

// param returns the graph input holding the named weight.
func (m *Model) param(in []*graph.Node, name string) *graph.Node {
	i, ok := m.index[name]
	if !ok {
		panic(fmt.Errorf("llm: internal error: no weight %s", name))
	}
	return in[numDataInputs+i]
}

// numDataInputs counts the graph inputs before the weights: tokens, mask, positions.
const numDataInputs = 3

// forward builds the graph of the hidden states for inputs
// in = [tokens int32 [B,S], mask int32 [B,S], positions int32 [B,S], weights...].
// It returns NumLayers+1 nodes shaped [B,S,hidden], following transformers:
// index 0 is the embedding output, index k < L the output of block k and
// index L the output of block L after the final RMSNorm.
func (m *Model) forward(in []*graph.Node) []*graph.Node {
	c := &m.cfg
	tokens, mask, positions := in[0], in[1], in[2]
	batch, seq := tokens.Shape().Dimensions[0], tokens.Shape().Dimensions[1]
	hidden, d := c.HiddenSize, c.headDim()
	nHeads, nKV := c.NumHeads, c.numKVHeads()
	groups := nHeads / nKV
	n := batch * seq
	g := tokens.Graph()

	x := graph.Gather(m.param(in, "model.embed_tokens.weight"), graph.ExpandAxes(tokens, -1)) // [B,S,H]
	states := make([]*graph.Node, 0, c.NumLayers+1)
	states = append(states, x)
	x = graph.Reshape(x, n, hidden)

	cos, sin := m.rotary(positions) // [B,S,1,D]

	// allowed[b,1,1,q,s] = s <= q && mask[b,s] != 0, broadcast to the scores' shape [B,KV,G,Sq,Sk].
	qIdx := graph.Iota(g, shapes.Make(dtypes.Int32, seq, seq), 0)
	kIdx := graph.Iota(g, shapes.Make(dtypes.Int32, seq, seq), 1)
	causal := graph.Reshape(graph.LessOrEqual(kIdx, qIdx), 1, 1, 1, seq, seq)
	padding := graph.Reshape(graph.NotEqual(mask, graph.ScalarZero(g, mask.DType())), batch, 1, 1, 1, seq)
	allowed := graph.BroadcastToDims(graph.LogicalAnd(causal, padding), batch, nKV, groups, seq, seq)
	// transformers adds finfo(float32).min to masked scores; where the whole row
	// is masked (left-padding queries) both give a uniform softmax over all keys.
	masked := graph.Const(g, float32(-math.MaxFloat32))
	scaleDiv := graph.Const(g, float32(math.Sqrt(float64(d))))

	for l := range c.NumLayers {
		p := fmt.Sprintf("model.layers.%d.", l)
		// Attention.
		h := m.rmsNorm(x, m.param(in, p+"input_layernorm.weight"))
		q := m.linear(in, h, p+"self_attn.q_proj", c.AttentionBias)
		k := m.linear(in, h, p+"self_attn.k_proj", c.AttentionBias)
		v := m.linear(in, h, p+"self_attn.v_proj", c.AttentionBias)
		q = graph.Reshape(q, batch, seq, nHeads, d)
		k = graph.Reshape(k, batch, seq, nKV, d)
		v = graph.Reshape(v, batch, seq, nKV, d)
		if c.QKNorm {
			q = m.rmsNorm(q, m.param(in, p+"self_attn.q_norm.weight"))
			k = m.rmsNorm(k, m.param(in, p+"self_attn.k_norm.weight"))
		}
		q = applyRotary(q, cos, sin)
		k = applyRotary(k, cos, sin)
		// Query head h uses key/value head h / groups, as transformers' repeat_kv.
		q = graph.Reshape(q, batch, seq, nKV, groups, d)
		scores := graph.Div(graph.Einsum("bqkgd,bskd->bkgqs", q, k), scaleDiv)
		scores = graph.Where(allowed, scores, masked)
		probs := graph.Softmax(scores, -1)
		attn := graph.Einsum("bkgqs,bskd->bqkgd", probs, v)
		attn = graph.Reshape(attn, n, nHeads*d)
		x = graph.Add(x, m.linear(in, attn, p+"self_attn.o_proj", c.AttentionOutputBias))

		// SwiGLU MLP.
		h = m.rmsNorm(x, m.param(in, p+"post_attention_layernorm.weight"))
		gate := m.linear(in, h, p+"mlp.gate_proj", c.MLPBias)
		up := m.linear(in, h, p+"mlp.up_proj", c.MLPBias)
		act := graph.Mul(graph.Mul(gate, graph.Sigmoid(gate)), up)
		x = graph.Add(x, m.linear(in, act, p+"mlp.down_proj", c.MLPBias))

		if l < c.NumLayers-1 {
			states = append(states, graph.Reshape(x, batch, seq, hidden))
		}
	}
	x = m.rmsNorm(x, m.param(in, "model.norm.weight"))
	states = append(states, graph.Reshape(x, batch, seq, hidden))
	return states
}

// linear is torch.nn.Linear: x·Wᵀ (+ b), with W shaped [out, in] and x [..., in].
func (m *Model) linear(in []*graph.Node, x *graph.Node, prefix string, bias bool) *graph.Node {
	w := m.param(in, prefix+".weight")
	y := graph.Einsum("ni,oi->no", x, w)
	if bias {
		b := m.param(in, prefix+".bias")
		y = graph.Add(y, graph.ExpandAxes(b, 0))
	}
	return y
}

// rmsNorm is transformers' LlamaRMSNorm over the last axis:
// w · (x / sqrt(mean(x²) + eps)). The mean of squares is accumulated in float64.
func (m *Model) rmsNorm(x, w *graph.Node) *graph.Node {
	x64 := graph.ConvertDType(x, dtypes.Float64)
	meanSq := graph.ReduceAndKeep(graph.Square(x64), graph.ReduceMean, -1)
	inv := graph.Rsqrt(graph.AddScalar(meanSq, m.cfg.RMSNormEps))
	normed := graph.Mul(x, graph.ConvertDType(inv, x.DType()))
	return graph.Mul(normed, graph.ExpandLeftToRank(w, x.Rank()))
}

// rotary returns cos and sin shaped [B,S,1,D] for the positions [B,S]:
// angle = float32(position) · inv_freq in float32, as transformers does,
// with cos and sin evaluated in float64 and rounded to float32.
func (m *Model) rotary(positions *graph.Node) (cos, sin *graph.Node) {
	g := positions.Graph()
	pos := graph.ExpandAxes(graph.ConvertDType(positions, dtypes.Float32), -1) // [B,S,1]
	inv := graph.ExpandLeftToRank(graph.Const(g, m.invFreq), 3)                // [1,1,D/2]
	angle := graph.ConvertDType(graph.Mul(pos, inv), dtypes.Float64)
	angle = graph.Concatenate([]*graph.Node{angle, angle}, -1) // [B,S,D]
	cos = graph.ExpandAxes(graph.ConvertDType(graph.Cos(angle), dtypes.Float32), 2)
	sin = graph.ExpandAxes(graph.ConvertDType(graph.Sin(angle), dtypes.Float32), 2)
	return cos, sin
}

// applyRotary returns x·cos + rotate_half(x)·sin for x shaped [B,S,heads,D],
// with rotate_half(x) = concat(-x[D/2:], x[:D/2]) (halves, not interleaved pairs).
func applyRotary(x, cos, sin *graph.Node) *graph.Node {
	d := x.Shape().Dimensions[3]
	x1 := graph.SliceAxis(x, 3, graph.AxisRange(0, d/2))
	x2 := graph.SliceAxis(x, 3, graph.AxisRange(d/2, d))
	rotated := graph.Concatenate([]*graph.Node{graph.Neg(x2), x1}, 3)
	return graph.Add(graph.Mul(x, cos), graph.Mul(rotated, sin))
}

// pool reduces the hidden states (L+1 nodes [B,S,H]) over the tokens where
// mask != 0 and returns three nodes shaped [L+1,B,H]: the last such token,
// the mean (accumulated in float64) and the element-wise maximum.
func pool(states []*graph.Node, mask *graph.Node) []*graph.Node {
	x := graph.Stack(states, 0) // [L1,B,S,H]
	dims := x.Shape().Dimensions
	layers, batch, seq, hidden := dims[0], dims[1], dims[2], dims[3]
	g := x.Graph()
	real := graph.NotEqual(mask, graph.ScalarZero(g, mask.DType())) // [B,S]
	realB := graph.BroadcastToDims(graph.Reshape(real, 1, batch, seq, 1), layers, batch, seq, hidden)

	sum := graph.ReduceSum(graph.Where(realB, graph.ConvertDType(x, dtypes.Float64), graph.Const(g, 0.0)), 2)
	count := graph.ReduceSum(graph.ConvertDType(real, dtypes.Float64), 1) // [B]
	mean := graph.ConvertDType(graph.Div(sum, graph.Reshape(count, 1, batch, 1)), dtypes.Float32)

	maxv := graph.ReduceMax(graph.Where(realB, x, graph.Const(g, float32(math.Inf(-1)))), 2)

	idx := graph.Iota(g, shapes.Make(dtypes.Int32, batch, seq), 1)
	lastIdx := graph.ReduceMax(graph.Where(real, idx, graph.Const(g, int32(-1))), 1) // [B]
	isLast := graph.Equal(idx, graph.ExpandAxes(lastIdx, -1))                        // [B,S]
	isLastB := graph.BroadcastToDims(graph.Reshape(isLast, 1, batch, seq, 1), layers, batch, seq, hidden)
	last := graph.ReduceSum(graph.Where(isLastB, x, graph.Const(g, float32(0))), 2)
	return []*graph.Node{last, mean, maxv}
}
