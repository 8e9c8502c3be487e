package llm

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// Pooling is a reduction of a row's hidden states over its real tokens.
type Pooling int

// The poolings PooledHiddenStates computes.
const (
	PoolLast Pooling = iota // the last real token
	PoolMean                // the mean over real tokens, accumulated in float64
	PoolMax                 // the element-wise maximum over real tokens
	numPoolings
)

func (p Pooling) String() string {
	switch p {
	case PoolLast:
		return "last"
	case PoolMean:
		return "mean"
	case PoolMax:
		return "max"
	}
	return fmt.Sprintf("Pooling(%d)", int(p))
}

// poolSet is a bit set of poolings: one compiled executable each.
type poolSet uint8

func (s poolSet) has(p Pooling) bool { return s&(1<<p) != 0 }

// pooledExec returns the executable computing the poolings of s, creating
// it on first use.
func (m *Model) pooledExecFor(s poolSet) (*graph.Exec, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, nil
	}
	if e, ok := m.pooledExec[s]; ok {
		return e, nil
	}
	e, err := graph.NewExec(m.backend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		p := newPooler(in[1], s)
		m.forward(in, p.add)
		return p.outputs()
	})
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	e.SetMaxCache(-1)
	m.pooledExec[s] = e
	return e, nil
}

// pooler reduces each hidden state ([B,S,H] in the compute dtype) over
// the tokens where mask != 0 as the forward pass builds it (see forward's
// visit), so that no [L+1,B,S,H] stack is formed, and returns for each
// pooling of its set, in the order last, mean, max, a float32 node shaped
// [L+1,B,H].
type pooler struct {
	set               poolSet
	real              *graph.Node // [B,S] bool: mask != 0
	at                *graph.Node // [B,2]: (row, index of its last real token)
	count             *graph.Node // [B,1] float64: real tokens per row
	last, mean, maxes []*graph.Node
}

func newPooler(mask *graph.Node, set poolSet) *pooler {
	g := mask.Graph()
	batch, seq := mask.Shape().Dimensions[0], mask.Shape().Dimensions[1]
	p := &pooler{set: set, real: graph.NotEqual(mask, graph.ScalarZero(g, mask.DType()))}
	// Row b's last real token: index max{s : mask[b,s] != 0}, gathered.
	idx := graph.Iota(g, shapes.Make(dtypes.Int32, batch, seq), 1)
	last := graph.ReduceMax(graph.Where(p.real, idx, graph.Const(g, int32(-1))), 1) // [B]
	rows := graph.Iota(g, shapes.Make(dtypes.Int32, batch), 0)
	p.at = graph.Stack([]*graph.Node{rows, last}, -1)
	p.count = graph.ExpandAxes(graph.ReduceSum(graph.ConvertDType(p.real, dtypes.Float64), 1), -1)
	return p
}

// add pools one state.
func (p *pooler) add(x *graph.Node) {
	g := x.Graph()
	if p.set.has(PoolLast) {
		p.last = append(p.last, graph.ConvertDType(graph.Gather(x, p.at), dtypes.Float32)) // [B,H]
	}
	if p.set.has(PoolMean) {
		sum := graph.ReduceSum(graph.Where(p.real, graph.ConvertDType(x, dtypes.Float64), graph.Const(g, 0.0)), 1)
		p.mean = append(p.mean, graph.ConvertDType(graph.Div(sum, p.count), dtypes.Float32))
	}
	if p.set.has(PoolMax) {
		x32 := graph.ConvertDType(x, dtypes.Float32)
		p.maxes = append(p.maxes, graph.ReduceMax(graph.Where(p.real, x32, graph.Const(g, float32(math.Inf(-1)))), 1))
	}
}

// outputs returns the stacked poolings.
func (p *pooler) outputs() []*graph.Node {
	var outs []*graph.Node
	for _, pooled := range [][]*graph.Node{p.last, p.mean, p.maxes} {
		if len(pooled) > 0 {
			outs = append(outs, graph.Stack(pooled, 0))
		}
	}
	return outs
}
