package llm

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

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
	dt  dtypes.DType // compute dtype: the weights' and the residual stream's

	index     map[string]int
	params    []*tensors.Tensor
	invFreq   []float32
	attnScale float32 // factor on cos and sin (yarn)

	backend    compute.Backend
	statesExec *graph.Exec
	mu         sync.Mutex
	pooledExec map[poolSet]*graph.Exec
	blocks     *blockExecs    // block by block (nil: one graph), with sparse or amx
	sparse     *sparseExperts // the routed experts only
	amx        *amxLinears    // linear layers on the AMX kernel
	closed     bool
}

// Option configures New.
type Option func(*options)

type options struct {
	dtype        dtypes.DType
	denseExperts bool
	noAMX        bool
}

// WithoutAMX keeps a bfloat16 or float32 model in one graph on the
// backend's own matrix kernel even where the CPU has AMX (amxpass.go).
// Both give the same states up to float32 rounding inside the products (and
// the bfloat16 roundings that follow them); the one-graph form is the
// reference and the comparison.
func WithoutAMX() Option {
	return func(o *options) { o.noAMX = true }
}

// WithDenseExperts makes a mixture of experts evaluate every expert on
// every token in one graph, as transformers does in eval mode, instead of
// running only the experts each token is routed to, block by block (the
// default). Both give the same states up to float32 rounding; the dense
// form is kept as the reference and for comparison.
func WithDenseExperts() Option {
	return func(o *options) { o.denseExperts = true }
}

// WithDType selects the dtype in which weights are held and the forward
// pass is computed: dtypes.Float32 (the default), dtypes.BFloat16 or
// dtypes.Float16. In the half types the matrix products take half inputs
// and accumulate in float32, and the steps transformers computes in float32
// are computed in float32 (see the package documentation, "Numerics").
func WithDType(dt dtypes.DType) Option {
	return func(o *options) { o.dtype = dt }
}

// New checks cfg and the weights, copies every parameter to the backend
// once, in the compute dtype, and returns the model. The backend is used as
// given: New never selects a default backend. Weights that implement
// RawWeights are copied from their stored encoding (never widened to
// float32 as a whole); a WeightReleaser is told when each tensor is on the
// backend. For a mixture of experts (cfg.MoE) w must also implement
// Uint8Weights; the MXFP4 bytes are kept as they are.
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
	if !validComputeDType(o.dtype) {
		return nil, fmt.Errorf("llm: compute dtype %s is not implemented (float32, bfloat16 or float16)", o.dtype)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	names, wantShapes := WeightShapes(cfg)
	byteNames, byteShapes := Uint8WeightShapes(cfg)
	var byteWeights Uint8Weights
	if len(byteNames) > 0 {
		var ok bool
		if byteWeights, ok = w.(Uint8Weights); !ok {
			return nil, fmt.Errorf("llm: the experts are MXFP4 uint8 tensors, and the weights (%T) do not implement Uint8Weights", w)
		}
	}
	m := &Model{
		cfg:        cfg,
		dt:         o.dtype,
		index:      make(map[string]int, len(names)+len(byteNames)),
		params:     make([]*tensors.Tensor, 0, len(names)+len(byteNames)),
		invFreq:    invFreq32(cfg),
		attnScale:  float32(attentionScaling(cfg)),
		pooledExec: make(map[poolSet]*graph.Exec),
	}
	fail := func(name string, err error) (*Model, error) {
		m.Close()
		return nil, fmt.Errorf("llm: weight %s: %w", name, err)
	}
	for i, name := range names {
		t, err := loadFloat(backend, m.dt, w, name, wantShapes[i])
		if err != nil {
			return fail(name, err)
		}
		m.index[name] = len(m.params)
		m.params = append(m.params, t)
	}
	var blocks []uint8
	for i, name := range byteNames {
		data, shape, err := byteWeights.Uint8(name)
		if err != nil {
			return fail(name, err)
		}
		if err := checkShape(shape, byteShapes[i], len(data)); err != nil {
			return fail(name, err)
		}
		if strings.HasSuffix(name, "_blocks") {
			blocks = data
		} else if err := checkMXFP4(name, blocks, data); err != nil {
			m.Close()
			return nil, err
		}
		t, err := upload(backend, dtypes.Uint8, shape, data)
		if err != nil {
			return fail(name, err)
		}
		if r, ok := w.(WeightReleaser); ok && !strings.HasSuffix(name, "_blocks") {
			r.Release(name) // the scales; the blocks are released after them
			r.Release(strings.TrimSuffix(name, "_scales") + "_blocks")
		}
		m.index[name] = len(m.params)
		m.params = append(m.params, t)
	}
	var err error
	m.statesExec, err = graph.NewExec(backend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		states := m.forward(in, nil)
		for i, s := range states {
			states[i] = graph.ConvertDType(s, dtypes.Float32)
		}
		return states
	})
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("llm: %w", err)
	}
	m.statesExec.SetMaxCache(-1)
	m.backend = backend
	if cfg.MoE != nil && !o.denseExperts {
		if m.sparse, err = newSparseExperts(m); err != nil {
			m.Close()
			return nil, err
		}
	} else if useAMX(m, o) {
		if m.amx, err = newAMXLinears(m); err != nil {
			m.Close()
			return nil, err
		}
	}
	if m.sparse != nil || m.amx != nil {
		if m.blocks, err = newBlockExecs(m); err != nil {
			m.Close()
			return nil, err
		}
	}
	return m, nil
}

// DType returns the compute dtype.
func (m *Model) DType() dtypes.DType { return m.dt }

// checkShape reports an error unless shape is want and holds n values.
func checkShape(shape, want []int, n int) error {
	if !slices.Equal(shape, want) {
		return fmt.Errorf("has shape %v, want %v", shape, want)
	}
	size := 1
	for _, d := range shape {
		size *= d
	}
	if n != size {
		return fmt.Errorf("has %d values for shape %v", n, shape)
	}
	return nil
}

// upload copies data to a new tensor on the backend. On backends without
// shared buffers the tensor moves to the device and the host copy is freed.
func upload[T float32 | uint8](backend compute.Backend, dtype dtypes.DType, shape []int, data []T) (*tensors.Tensor, error) {
	t, err := tensors.FromShapeForBackend(backend, 0, shapes.Make(dtype, shape...))
	if err != nil {
		return nil, err
	}
	if err := tensors.MutableFlatData(t, func(flat []T) { copy(flat, data) }); err != nil {
		_ = t.FinalizeAll()
		return nil, err
	}
	if !backend.HasSharedBuffers() {
		if err := t.ToDevice(backend, 0); err != nil {
			_ = t.FinalizeAll()
			return nil, err
		}
	}
	return t, nil
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Close frees the weights and the compiled executables. The model must not
// be used afterwards, nor while Close runs.
func (m *Model) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.params {
		if t != nil {
			_ = t.FinalizeAll()
		}
	}
	m.params = nil
	if m.statesExec != nil {
		m.statesExec.Finalize()
	}
	for _, e := range m.pooledExec {
		e.Finalize()
	}
	if m.sparse != nil {
		m.sparse.finalize()
		m.sparse = nil
	}
	if m.amx != nil {
		m.amx.finalize()
		m.amx = nil
	}
	if m.blocks != nil {
		m.blocks.finalize()
		m.blocks = nil
	}
	m.statesExec, m.pooledExec, m.closed = nil, nil, true
}

// params looks up a weight's graph node by its checkpoint name. The
// one-graph forward pass reads every weight from the graph's inputs; the
// block-by-block executables of a mixture of experts (sparse.go) read one
// block's weights, named without the block's prefix.
type params func(name string) *graph.Node

// inputParams returns the params of a graph whose inputs are the data
// inputs followed by every weight in m.params' order.
func (m *Model) inputParams(in []*graph.Node) params {
	return func(name string) *graph.Node {
		i, ok := m.index[name]
		if !ok {
			panic(fmt.Errorf("llm: internal error: no weight %s", name))
		}
		return in[numDataInputs+i]
	}
}

// numDataInputs counts the graph inputs before the weights: tokens, mask, positions.
const numDataInputs = 3

// forward builds the graph of the hidden states for inputs
// in = [tokens int32 [B,S], mask int32 [B,S], positions int32 [B,S], weights...].
// It returns NumLayers+1 nodes shaped [B,S,hidden], following transformers:
// index 0 is the embedding output, index k < L the output of block k and
// index L the output of block L after the final RMSNorm.
//
// visit, when not nil, is called with each state as soon as it is built,
// so that what it builds on the state (pooling) comes before the next
// layer in the graph and the Go backend, which runs the ops in the order
// they were built, can free the full state early.
func (m *Model) forward(in []*graph.Node, visit func(*graph.Node)) []*graph.Node {
	c := &m.cfg
	p := m.inputParams(in)
	tokens, mask, positions := in[0], in[1], in[2]
	batch, seq := tokens.Shape().Dimensions[0], tokens.Shape().Dimensions[1]
	hidden := c.HiddenSize

	x := m.embed(p, tokens) // [B,S,H]
	states := make([]*graph.Node, 0, c.NumLayers+1)
	addState := func(x *graph.Node) {
		states = append(states, x)
		if visit != nil {
			visit(x)
		}
	}
	addState(x)
	x = graph.Reshape(x, batch*seq, hidden)
	ac := m.newAttnContext(mask, positions)
	for l := range c.NumLayers {
		prefix := fmt.Sprintf("model.layers.%d.", l)
		x = m.attentionBlock(p, prefix, x, c.slidingLayer(l), ac)
		h := m.rmsNorm(x, p(prefix+"post_attention_layernorm.weight"))
		if c.MoE != nil {
			y := m.experts(p, graph.ConvertDType(h, dtypes.Float32), prefix+"mlp.")
			x = graph.Add(x, graph.ConvertDType(y, m.dt))
		} else {
			x = graph.Add(x, m.mlp(p, prefix+"mlp.", h))
		}
		if l < c.NumLayers-1 {
			addState(graph.Reshape(x, batch, seq, hidden))
		}
	}
	x = m.rmsNorm(x, p("model.norm.weight"))
	addState(graph.Reshape(x, batch, seq, hidden))
	return states
}

// embed returns the embeddings of tokens [B,S]: [B,S,H] in the compute dtype.
func (m *Model) embed(p params, tokens *graph.Node) *graph.Node {
	return graph.Gather(p("model.embed_tokens.weight"), graph.ExpandAxes(tokens, -1))
}

// attnContext holds what every attention block of a batch shares: the
// rotary tables and the masks.
type attnContext struct {
	batch, seq                  int
	cos, sin                    *graph.Node // [B,S,1,D], in the compute dtype
	allowedFull, allowedSliding *graph.Node // [B,KV,G,S,S] bool; allowedSliding nil without a window
	masked, scaleDiv, scaleMul  *graph.Node // float32 scalars
}

func (m *Model) newAttnContext(mask, positions *graph.Node) *attnContext {
	c := &m.cfg
	g := mask.Graph()
	batch, seq := mask.Shape().Dimensions[0], mask.Shape().Dimensions[1]
	nKV := c.numKVHeads()
	groups := c.NumHeads / nKV
	d := c.headDim()
	ac := &attnContext{batch: batch, seq: seq}
	ac.cos, ac.sin = m.rotary(positions)

	// allowed[b,1,1,q,s] = s <= q && mask[b,s] != 0, broadcast to the scores' shape [B,KV,G,Sq,Sk];
	// in sliding-window layers also s > q - window.
	qIdx := graph.Iota(g, shapes.Make(dtypes.Int32, seq, seq), 0)
	kIdx := graph.Iota(g, shapes.Make(dtypes.Int32, seq, seq), 1)
	padding := graph.Reshape(graph.NotEqual(mask, graph.ScalarZero(g, mask.DType())), batch, 1, 1, 1, seq)
	allowedFor := func(visible *graph.Node) *graph.Node {
		visible = graph.Reshape(visible, 1, 1, 1, seq, seq)
		return graph.BroadcastToDims(graph.LogicalAnd(visible, padding), batch, nKV, groups, seq, seq)
	}
	causal := graph.LessOrEqual(kIdx, qIdx)
	ac.allowedFull = allowedFor(causal)
	if c.SlidingWindow > 0 {
		inWindow := graph.GreaterThan(kIdx, graph.SubScalar(qIdx, c.SlidingWindow))
		ac.allowedSliding = allowedFor(graph.LogicalAnd(causal, inWindow))
	}
	// transformers adds finfo(float32).min to masked scores. Without sinks,
	// where the whole row is masked (left-padding queries) both give a
	// uniform softmax over all keys; with sinks the sink takes all the
	// weight there and the attention output is zero, in both. The softmax
	// is in float32 in every compute dtype, as transformers'.
	ac.masked = graph.Const(g, float32(-math.MaxFloat32))
	ac.scaleDiv = graph.Const(g, float32(math.Sqrt(float64(d))))
	ac.scaleMul = graph.Const(g, float32(1/math.Sqrt(float64(d))))
	return ac
}

// attentionBlock returns x + self_attn(input_layernorm(x)) for the
// residual stream x [B·S,H] of the block whose weights are named
// prefix+"…"; sliding selects the sliding-window mask.
func (m *Model) attentionBlock(p params, prefix string, x *graph.Node, sliding bool, ac *attnContext) *graph.Node {
	c := &m.cfg
	h := m.rmsNorm(x, p(prefix+"input_layernorm.weight"))
	q := m.linear(p, h, prefix+"self_attn.q_proj", c.AttentionBias)
	k := m.linear(p, h, prefix+"self_attn.k_proj", c.AttentionBias)
	v := m.linear(p, h, prefix+"self_attn.v_proj", c.AttentionBias)
	attn := m.attention(p, prefix, q, k, v, sliding, ac)
	return graph.Add(x, m.linear(p, attn, prefix+"self_attn.o_proj", c.AttentionOutputBias))
}

// attention is self-attention from the projections q [B·S, heads·D] and
// k, v [B·S, kvHeads·D] (in the compute dtype) to the heads' outputs
// [B·S, heads·D], before o_proj.
func (m *Model) attention(p params, prefix string, q, k, v *graph.Node, sliding bool, ac *attnContext) *graph.Node {
	c := &m.cfg
	batch, seq := ac.batch, ac.seq
	d := c.headDim()
	nHeads, nKV := c.NumHeads, c.numKVHeads()
	groups := nHeads / nKV
	n := batch * seq

	q = graph.Reshape(q, batch, seq, nHeads, d)
	k = graph.Reshape(k, batch, seq, nKV, d)
	v = graph.Reshape(v, batch, seq, nKV, d)
	if c.QKNorm {
		q = m.rmsNorm(q, p(prefix+"self_attn.q_norm.weight"))
		k = m.rmsNorm(k, p(prefix+"self_attn.k_norm.weight"))
	}
	q = applyRotary(q, ac.cos, ac.sin)
	k = applyRotary(k, ac.cos, ac.sin)
	// Query head h uses key/value head h / groups, as transformers' repeat_kv.
	q = graph.Reshape(q, batch, seq, nKV, groups, d)
	scores := attentionScores(q, k)
	if m.dt == dtypes.Float32 {
		scores = graph.Div(scores, ac.scaleDiv)
	} else {
		// transformers: (q·kᵀ)·scaling rounded to the compute dtype, then
		// the mask added, then softmax(dtype=float32).
		scores = graph.ConvertDType(graph.ConvertDType(graph.Mul(graph.ConvertDType(scores, dtypes.Float32), ac.scaleMul), m.dt), dtypes.Float32)
	}
	allowed := ac.allowedFull
	if sliding {
		allowed = ac.allowedSliding
	}
	scores = graph.Where(allowed, scores, ac.masked)
	var probs *graph.Node
	if c.AttentionSinks {
		// The sink of head h is one more logit in its softmax, dropped after it.
		sinks := graph.ConvertDType(p(prefix+"self_attn.sinks"), dtypes.Float32)
		sinks = graph.BroadcastToDims(graph.Reshape(sinks, 1, nKV, groups, 1, 1), batch, nKV, groups, seq, 1)
		probs = graph.Softmax(graph.Concatenate([]*graph.Node{scores, sinks}, -1), -1)
		probs = graph.SliceAxis(probs, -1, graph.AxisRange(0, seq))
	} else {
		probs = graph.Softmax(scores, -1)
	}
	probs = graph.ConvertDType(probs, m.dt)
	attn := attend(probs, v)
	return graph.Reshape(attn, n, nHeads*d)
}

// mlp is the SwiGLU MLP of the dense models on the normed h [N,H].
func (m *Model) mlp(p params, prefix string, h *graph.Node) *graph.Node {
	c := &m.cfg
	gate := m.linear(p, h, prefix+"gate_proj", c.MLPBias)
	up := m.linear(p, h, prefix+"up_proj", c.MLPBias)
	return m.linear(p, m.swiglu(gate, up), prefix+"down_proj", c.MLPBias)
}

// swiglu is silu(gate)·up, in the compute dtype.
func (m *Model) swiglu(gate, up *graph.Node) *graph.Node {
	if m.dt == dtypes.Float32 {
		return graph.Mul(graph.Mul(gate, graph.Sigmoid(gate)), up)
	}
	// torch's silu on a half tensor computes in float32 and rounds once.
	g32 := graph.ConvertDType(gate, dtypes.Float32)
	return graph.Mul(graph.ConvertDType(graph.Mul(g32, graph.Sigmoid(g32)), m.dt), up)
}

// experts is GPT-OSS's mixture of experts for h [N, H] (transformers'
// GptOssMLP in eval mode, v4.55.4):
//
//	z = h·W_routerᵀ + b_router;  S = the TopK largest z_e (ties: lower e)
//	w_e = exp(z_e)/Σ_{e'∈S} exp(z_e') for e ∈ S, 0 otherwise
//	[g, u] = h·W_eᵀ + b_e  (gate = even rows of W_e, up = odd rows)
//	g = min(g, limit);  u = clamp(u, −limit, limit)
//	y_e = ((u + 1) ⊙ g⊙σ(α·g))·D_eᵀ + d_e
//	out = Σ_e w_e·y_e
//
// Like transformers in eval mode it evaluates every expert on every token
// and weights the unselected ones by zero; experts are dequantized one at
// a time. This is the dense form (WithDenseExperts); the default runs only
// the selected experts (sparse.go), with the same values.
func (m *Model) experts(p params, h *graph.Node, prefix string) *graph.Node {
	e := m.cfg.MoE
	_, weights := m.route(p, h, prefix)

	gateUpBlocks, gateUpScales := p(prefix+"experts.gate_up_proj_blocks"), p(prefix+"experts.gate_up_proj_scales")
	downBlocks, downScales := p(prefix+"experts.down_proj_blocks"), p(prefix+"experts.down_proj_scales")
	gateUpBias := p(prefix + "experts.gate_up_proj_bias")
	downBias := p(prefix + "experts.down_proj_bias")

	var out *graph.Node
	after := h
	for ex := range e.NumExperts {
		w1 := dequantizeMXFP4(gateUpBlocks, gateUpScales, ex, after) // [2I, H]
		b1 := graph.SliceAxis(gateUpBias, 0, graph.AxisElem(ex))
		b2 := graph.SliceAxis(downBias, 0, graph.AxisElem(ex))
		y := m.expert(h, w1, b1, b2, false, func(act *graph.Node) *graph.Node {
			return dequantizeMXFP4(downBlocks, downScales, ex, act) // [H, I]
		})
		y = graph.Mul(y, graph.SliceAxis(weights, -1, graph.AxisElem(ex)))
		if out == nil {
			out = y
		} else {
			out = graph.Add(out, y)
		}
		after = out
	}
	return out
}

// route returns GPT-OSS's router decision for h [N,H] float32: rank [N,E]
// int32, the place of each expert's logit in its row (ties: lower expert
// first), and weights [N,E] float32, the softmax over the TopK selected
// logits (rank < TopK), 0 elsewhere.
func (m *Model) route(p params, h *graph.Node, prefix string) (rank, weights *graph.Node) {
	e := m.cfg.MoE
	g := h.Graph()
	logits := m.linearF32(p, h, prefix+"router", true) // [N,E]
	// rank_e = #{e' : z_e' > z_e or (z_e' = z_e and e' < e)}; selected when rank_e < TopK.
	zi := graph.ExpandAxes(logits, -1) // [N,E,1]: z_e
	zj := graph.ExpandAxes(logits, -2) // [N,1,E]: z_e'
	ei := graph.Iota(g, shapes.Make(dtypes.Int32, 1, e.NumExperts, e.NumExperts), 1)
	ej := graph.Iota(g, shapes.Make(dtypes.Int32, 1, e.NumExperts, e.NumExperts), 2)
	beats := graph.LogicalOr(graph.GreaterThan(zj, zi), graph.LogicalAnd(graph.Equal(zj, zi), graph.LessThan(ej, ei)))
	rank = graph.ReduceSum(graph.ConvertDType(beats, dtypes.Int32), -1) // [N,E]
	selected := graph.LessThan(rank, graph.Const(g, int32(e.TopK)))
	top := graph.ReduceAndKeep(logits, graph.ReduceMax, -1)
	expz := graph.Where(selected, graph.Exp(graph.Sub(logits, top)), graph.Const(g, float32(0)))
	return rank, graph.Div(expz, graph.ReduceAndKeep(expz, graph.ReduceSum, -1))
}

// expert is one GPT-OSS expert on h [N,H] float32: w1 [2I,H] float32 is
// its dequantized gate_up projection, b1 [2I] and b2 [H] its biases (in
// their stored dtype); down returns its dequantized down projection
// [H,I] float32 given the activation, so that the dense form dequantizes
// it only once the activation is computed. With transposed, w1 is [H,2I]
// and down [I,H]: the Go backend's matrix kernel packs a weight in that
// layout with vector copies, and one in the stored layout element by
// element, which cost as much as the product itself for the few rows an
// expert gets. The result is [N,H] float32.
func (m *Model) expert(h, w1, b1, b2 *graph.Node, transposed bool, down func(act *graph.Node) *graph.Node) *graph.Node {
	e := m.cfg.MoE
	g := h.Graph()
	n, inter := h.Shape().Dimensions[0], m.cfg.IntermediateSize
	limit := float32(e.SwiGLULimit)
	gateUpEq, downEq := "nh,rh->nr", "ni,hi->nh"
	if transposed {
		gateUpEq, downEq = "nh,hr->nr", "ni,ih->nh"
	}
	gateUp := graph.Einsum(gateUpEq, h, w1)
	gateUp = graph.Add(gateUp, graph.ConvertDType(b1, dtypes.Float32))
	gateUp = graph.Reshape(gateUp, n, inter, 2)
	gate := graph.Reshape(graph.SliceAxis(gateUp, -1, graph.AxisElem(0)), n, inter)
	up := graph.Reshape(graph.SliceAxis(gateUp, -1, graph.AxisElem(1)), n, inter)
	gate = graph.MinScalar(gate, limit)
	up = graph.Clamp(graph.Const(g, -limit), up, graph.Const(g, limit))
	glu := graph.Mul(gate, graph.Sigmoid(graph.Mul(gate, graph.Const(g, float32(e.SwiGLUAlpha)))))
	act := graph.Mul(graph.Add(up, graph.Const(g, float32(1))), glu)
	y := graph.Einsum(downEq, act, down(act))
	return graph.Add(y, graph.ConvertDType(b2, dtypes.Float32))
}

// linear is torch.nn.Linear: x·Wᵀ (+ b), with W shaped [out, in] and x [..., in].
// In a half compute dtype the product accumulates in float32, the bias is
// added in float32 and the sum is rounded once, as torch's addmm does.
func (m *Model) linear(p params, x *graph.Node, prefix string, bias bool) *graph.Node {
	return graph.ConvertDType(m.linearF32(p, widen(x), prefix, bias), m.dt)
}

// widen converts a half-precision x to float32 (exactly) for a matrix
// product; float32 passes through. The products of the half compute dtypes
// run on the float32 kernel this way: the same values as a half product
// with float32 accumulation, but the Go backend's half kernels in GoMLX
// compute v0.1.2 are far slower than its float32 one (its AVX-512 bfloat16
// kernel broadcasts every left-hand value through a scalar conversion and
// ran a Llama-1B forward pass at 0.4 tokens/s against 24 in float32). The
// widened weight is a temporary of one product: the weights stay in their
// half dtype in memory.
func widen(x *graph.Node) *graph.Node {
	if x.DType() == dtypes.Float32 {
		return x
	}
	return graph.ConvertDType(x, dtypes.Float32)
}

// linearF32 is linear for a float32 x in any compute dtype: the weights
// are widened to float32 in the graph (GPT-OSS's router, which runs on the
// float32 path of the experts).
func (m *Model) linearF32(p params, x *graph.Node, prefix string, bias bool) *graph.Node {
	w := graph.ConvertDType(p(prefix+".weight"), dtypes.Float32)
	y := graph.Einsum("ni,oi->no", x, w)
	if bias {
		b := graph.ConvertDType(p(prefix+".bias"), dtypes.Float32)
		y = graph.Add(y, graph.ExpandAxes(b, 0))
	}
	return y
}

// rmsNorm is transformers' RMSNorm over the last axis:
// w · (x / sqrt(mean(x²) + eps)). In float32 the mean of squares is
// accumulated in float64. In a half dtype, as transformers, x is widened to
// float32, normalized there and rounded back before the product with w
// (Llama, Mistral, Qwen2, Qwen3); GPT-OSS multiplies by w in float32 and
// rounds the product.
func (m *Model) rmsNorm(x, w *graph.Node) *graph.Node {
	if m.dt == dtypes.Float32 {
		x64 := graph.ConvertDType(x, dtypes.Float64)
		meanSq := graph.ReduceAndKeep(graph.Square(x64), graph.ReduceMean, -1)
		inv := graph.Rsqrt(graph.AddScalar(meanSq, m.cfg.RMSNormEps))
		normed := graph.Mul(x, graph.ConvertDType(inv, x.DType()))
		return graph.Mul(normed, graph.ExpandLeftToRank(w, x.Rank()))
	}
	x32 := graph.ConvertDType(x, dtypes.Float32)
	meanSq := graph.ReduceAndKeep(graph.Square(x32), graph.ReduceMean, -1)
	normed := graph.Mul(x32, graph.Rsqrt(graph.AddScalar(meanSq, m.cfg.RMSNormEps)))
	if m.cfg.AttentionSinks { // GPT-OSS
		w32 := graph.ConvertDType(w, dtypes.Float32)
		return graph.ConvertDType(graph.Mul(normed, graph.ExpandLeftToRank(w32, x.Rank())), m.dt)
	}
	return graph.Mul(graph.ConvertDType(normed, m.dt), graph.ExpandLeftToRank(w, x.Rank()))
}

// rotary returns cos and sin shaped [B,S,1,D] for the positions [B,S]:
// angle = float32(position) · inv_freq in float32, as transformers does,
// with cos and sin evaluated in float64 and rounded to float32, then
// multiplied by the attention scaling (yarn) in float32, then rounded to
// the compute dtype (transformers' cos.to(x.dtype)).
func (m *Model) rotary(positions *graph.Node) (cos, sin *graph.Node) {
	g := positions.Graph()
	pos := graph.ExpandAxes(graph.ConvertDType(positions, dtypes.Float32), -1) // [B,S,1]
	inv := graph.ExpandLeftToRank(graph.Const(g, m.invFreq), 3)                // [1,1,D/2]
	angle := graph.ConvertDType(graph.Mul(pos, inv), dtypes.Float64)
	angle = graph.Concatenate([]*graph.Node{angle, angle}, -1) // [B,S,D]
	cos = graph.ExpandAxes(graph.ConvertDType(graph.Cos(angle), dtypes.Float32), 2)
	sin = graph.ExpandAxes(graph.ConvertDType(graph.Sin(angle), dtypes.Float32), 2)
	if m.attnScale != 1 {
		// yarn: cos and sin times the attention factor, in float32 as transformers.
		scale := graph.Const(g, m.attnScale)
		cos, sin = graph.Mul(cos, scale), graph.Mul(sin, scale)
	}
	return graph.ConvertDType(cos, m.dt), graph.ConvertDType(sin, m.dt)
}

// applyRotary returns x·cos + rotate_half(x)·sin for x shaped [B,S,heads,D],
// with rotate_half(x) = concat(-x[D/2:], x[:D/2]) (halves, not interleaved
// pairs), each operation in x's dtype as in transformers.
func applyRotary(x, cos, sin *graph.Node) *graph.Node {
	d := x.Shape().Dimensions[3]
	x1 := graph.SliceAxis(x, 3, graph.AxisRange(0, d/2))
	x2 := graph.SliceAxis(x, 3, graph.AxisRange(d/2, d))
	rotated := graph.Concatenate([]*graph.Node{graph.Neg(x2), x1}, 3)
	return graph.Add(graph.Mul(x, cos), graph.Mul(rotated, sin))
}

// attentionScores is Einsum("bqkgd,bskd->bkgqs", q, k) laid out as
// [B·KV, G·Sq, D]·[B·KV, D, Sk], the Go backend's non-transposed layout:
// its small transposed kernel (a horizontal sum per output) ran
// the attention products about 5× slower than this layout on the 1B
// shape's batches.
func attentionScores(q, k *graph.Node) *graph.Node {
	dims := q.Shape().Dimensions
	b, s, kv, g, d := dims[0], dims[1], dims[2], dims[3], dims[4]
	lhs := graph.Reshape(graph.TransposeAllDims(q, 0, 2, 3, 1, 4), b*kv, g*s, d) // [B,KV,G,Sq,D]
	rhs := graph.Reshape(graph.TransposeAllDims(k, 0, 2, 3, 1), b*kv, d, s)      // [B,KV,D,Sk]
	out := graph.Dot(widen(lhs), widen(rhs)).General([]int{2}, []int{0}, []int{1}, []int{0})
	return graph.ConvertDType(graph.Reshape(out, b, kv, g, s, s), q.DType())
}

// attend is Einsum("bkgqs,bskd->bqkgd", probs, v) laid out as
// [B·KV, G·Sq, Sk]·[B·KV, Sk, D] (see attentionScores).
func attend(probs, v *graph.Node) *graph.Node {
	dims := v.Shape().Dimensions
	b, s, kv, d := dims[0], dims[1], dims[2], dims[3]
	g := probs.Shape().Dimensions[2]
	lhs := graph.Reshape(probs, b*kv, g*s, s)
	rhs := graph.Reshape(graph.TransposeAllDims(v, 0, 2, 1, 3), b*kv, s, d) // [B,KV,Sk,D]
	out := graph.ConvertDType(graph.Dot(widen(lhs), widen(rhs)).General([]int{2}, []int{0}, []int{1}, []int{0}), v.DType())
	return graph.TransposeAllDims(graph.Reshape(out, b, kv, g, s, d), 0, 3, 1, 2, 4)
}
