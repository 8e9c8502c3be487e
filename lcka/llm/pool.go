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
		return pool(m.forward(in), in[1], s)
	})
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	e.SetMaxCache(-1)
	m.pooledExec[s] = e
	return e, nil
}

// pool reduces each hidden state ([B,S,H] in the compute dtype) over the
// tokens where mask != 0, one state at a time, so that no [L+1,B,S,H]
// stack is formed, and returns for each pooling of s, in the order last,
// mean, max, a float32 node shaped [L+1,B,H].
func pool(states []*graph.Node, mask *graph.Node, s poolSet) []*graph.Node {
	dims := states[0].Shape().Dimensions
	batch, seq := dims[0], dims[1]
	g := mask.Graph()
	real := graph.NotEqual(mask, graph.ScalarZero(g, mask.DType())) // [B,S]
	var outs []*graph.Node
	if s.has(PoolLast) {
		// Row b's last real token: index max{s : mask[b,s] != 0}, gathered.
		idx := graph.Iota(g, shapes.Make(dtypes.Int32, batch, seq), 1)
		last := graph.ReduceMax(graph.Where(real, idx, graph.Const(g, int32(-1))), 1) // [B]
		rows := graph.Iota(g, shapes.Make(dtypes.Int32, batch), 0)
		at := graph.Stack([]*graph.Node{rows, last}, -1) // [B,2]
		pooled := make([]*graph.Node, len(states))
		for l, x := range states {
			pooled[l] = graph.ConvertDType(graph.Gather(x, at), dtypes.Float32) // [B,H]
		}
		outs = append(outs, graph.Stack(pooled, 0))
	}
	if s.has(PoolMean) {
		count := graph.ReduceSum(graph.ConvertDType(real, dtypes.Float64), 1) // [B]
		count = graph.ExpandAxes(count, -1)
		zero := graph.Const(g, 0.0)
		pooled := make([]*graph.Node, len(states))
		for l, x := range states {
			sum := graph.ReduceSum(graph.Where(real, graph.ConvertDType(x, dtypes.Float64), zero), 1) // [B,H]
			pooled[l] = graph.ConvertDType(graph.Div(sum, count), dtypes.Float32)
		}
		outs = append(outs, graph.Stack(pooled, 0))
	}
	if s.has(PoolMax) {
		pooled := make([]*graph.Node, len(states))
		for l, x := range states {
			x32 := graph.ConvertDType(x, dtypes.Float32)
			pooled[l] = graph.ReduceMax(graph.Where(real, x32, graph.Const(g, float32(math.Inf(-1)))), 1)
		}
		outs = append(outs, graph.Stack(pooled, 0))
	}
	return outs
}
