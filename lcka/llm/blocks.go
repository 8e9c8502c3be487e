package llm

import (
	"fmt"
	"strings"
	"sync"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Some models run block by block rather than in one graph, with host work
// between the executables: a mixture of experts, to run only the routed
// experts (sparse.go), and bfloat16 models on a CPU with AMX, whose linear
// layers run on the internal/amx kernel (amxpass.go). blockExecs holds what
// both share: the embedding, the final norm, and the executables that
// convert or pool one state.
type blockExecs struct {
	embed, norm, states *graph.Exec

	mu   sync.Mutex
	pool map[poolSet]*graph.Exec
}

// newExec returns an executable of fn on m's backend, with an unbounded
// cache of shapes (a job compiles a few).
func newExec(m *Model, fn func(g *graph.Graph, in []*graph.Node) []*graph.Node) (*graph.Exec, error) {
	e, err := graph.NewExec(m.backend, fn)
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	e.SetMaxCache(-1)
	return e, nil
}

func newBlockExecs(m *Model) (*blockExecs, error) {
	b := &blockExecs{pool: make(map[poolSet]*graph.Exec)}
	var err error
	// in: tokens [B,S], embedding table → x [B,S,H].
	if b.embed, err = newExec(m, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{m.embed(func(string) *graph.Node { return in[1] }, in[0])}
	}); err != nil {
		return nil, err
	}
	// in: x, norm weight → the final RMSNorm of x.
	if b.norm, err = newExec(m, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{m.rmsNorm(in[0], in[1])}
	}); err != nil {
		return nil, err
	}
	// in: x → x in float32.
	if b.states, err = newExec(m, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.ConvertDType(in[0], dtypes.Float32)}
	}); err != nil {
		return nil, err
	}
	return b, nil
}

// poolExec returns the executable pooling one state: in x [B,S,H], mask
// → for each pooling of set, [1,B,H] float32.
func (b *blockExecs) poolExec(m *Model, set poolSet) (*graph.Exec, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.pool[set]; ok {
		return e, nil
	}
	e, err := newExec(m, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		p := newPooler(in[1], set)
		p.add(in[0])
		return p.outputs()
	})
	if err != nil {
		return nil, err
	}
	b.pool[set] = e
	return e, nil
}

func (b *blockExecs) finalize() {
	finalizeExecs(b.embed, b.norm, b.states)
	for _, e := range b.pool {
		e.Finalize()
	}
}

func finalizeExecs(execs ...*graph.Exec) {
	for _, e := range execs {
		if e != nil {
			e.Finalize()
		}
	}
}

func blockPrefix(l int) string { return fmt.Sprintf("model.layers.%d.", l) }

// blockWeightNames returns the names, without "model.layers.0.", of the
// weights of block 0 for which keep is true.
func blockWeightNames(cfg Config, keep func(suffix string) bool) []string {
	names, _ := WeightShapes(cfg)
	var out []string
	for _, name := range names {
		if suffix, ok := strings.CutPrefix(name, blockPrefix(0)); ok && keep(suffix) {
			out = append(out, suffix)
		}
	}
	return out
}

// blockParams returns the params of a block executable whose inputs from
// first on are the weights names (without the block's prefix), in order.
func blockParams(names []string, in []*graph.Node, first int) params {
	index := make(map[string]int, len(names))
	for i, name := range names {
		index[name] = first + i
	}
	return func(name string) *graph.Node {
		i, ok := index[name]
		if !ok {
			panic(fmt.Errorf("llm: internal error: no block weight %s", name))
		}
		return in[i]
	}
}

// call executes e on in and wraps its error.
func call(e *graph.Exec, in ...any) ([]*tensors.Tensor, error) {
	outs, err := e.Call(in...)
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	return outs, nil
}

// free finalizes tensors, skipping nil ones.
func free(ts ...*tensors.Tensor) {
	for _, t := range ts {
		if t != nil {
			_ = t.FinalizeAll()
		}
	}
}

// blockState is one block of a block-by-block pass: given the residual
// stream x [B,S,H] entering block l (which it must not free) and the
// batch's mask and positions, it returns the stream leaving the block.
type blockState func(l int, x, mask, positions *tensors.Tensor) (*tensors.Tensor, error)

// runBlocks runs a block-by-block pass on the validated args (as m.inputs
// returns them): the embedding, block for each block, the final norm after
// the last. It calls visit with each of the NumLayers+1 states, [B,S,H] in
// the compute dtype, and frees each state after visit returns.
func (m *Model) runBlocks(args []any, block blockState, visit func(l int, x *tensors.Tensor) error) error {
	tokens, mask, positions := args[0].(*tensors.Tensor), args[1].(*tensors.Tensor), args[2].(*tensors.Tensor)
	defer free(tokens, mask, positions)
	outs, err := call(m.blocks.embed, tokens, m.param("model.embed_tokens.weight"))
	if err != nil {
		return err
	}
	x := outs[0]
	defer func() { free(x) }()
	if err := visit(0, x); err != nil {
		return err
	}
	for l := range m.cfg.NumLayers {
		next, err := block(l, x, mask, positions)
		if err != nil {
			return err
		}
		free(x)
		x = next
		if l == m.cfg.NumLayers-1 {
			outs, err := call(m.blocks.norm, x, m.param("model.norm.weight"))
			if err != nil {
				return err
			}
			free(x)
			x = outs[0]
		}
		if err := visit(l+1, x); err != nil {
			return err
		}
	}
	return nil
}

// param returns the backend tensor of the named weight.
func (m *Model) param(name string) *tensors.Tensor { return m.params[m.index[name]] }

// blockStates runs m's block-by-block pass (see runBlocks). With realOnly
// the caller reads the states of real tokens only (mask != 0), and the
// pass may leave the padding's states zero rather than compute them.
func (m *Model) blockStates(args []any, realOnly bool, visit func(l int, x *tensors.Tensor) error) error {
	if m.sparse != nil {
		return m.runBlocks(args, m.sparseBlock, visit)
	}
	c := &amxCall{m: m, realOnly: realOnly}
	return m.runBlocks(args, c.block, visit)
}

// flatten reshapes x [B,S,H] to [B·S,H].
func flatten(x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	return graph.Reshape(x, d[0]*d[1], d[2])
}
