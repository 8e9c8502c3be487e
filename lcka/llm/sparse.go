package llm

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// A mixture of experts (GPT-OSS) runs block by block, so that each block
// computes only the experts its tokens are routed to:
//
//  1. the embedding, once;
//  2. for each block, one executable for attention, the post-attention
//     norm and the router, which returns the residual stream, the normed
//     input of the experts (float32) and the router's ranks and weights;
//  3. on the host, the tokens of the batch grouped by expert: each token's
//     TopK experts (rank < TopK), padded per expert to a few row counts so
//     that a job compiles few shapes;
//  4. for each expert with tokens, one executable that gathers its rows,
//     runs the expert on them and adds the weighted outputs into the
//     block's float32 sum (ScatterSum), in expert order, as the dense form
//     adds them; padding slots point at row 0 with weight 0 and add 0·y,
//     which the dense form adds for every unselected expert too;
//  5. the sum added to the residual stream, and the state pooled.
//
// Every value is computed by the ops the dense form uses, so the states
// equal the dense ones up to the matrix kernel's float32 rounding (the
// kernel may block a 16-row product differently from a 512-row one).
//
// The experts' MXFP4 weights are dequantized for each call, only for the
// experts that received tokens: on a backend whose buffers are host memory
// (the Go backend) on the host (dequantizeMXFP4IntoTransposed), into two
// float32 buffers reused across the call's experts; elsewhere inside the
// expert's graph, from the MXFP4 tensors already on the device
// (dequantizeMXFP4At).

// expertDequant says where a sparse call dequantizes the experts.
type expertDequant int

const (
	dequantAuto    expertDequant = iota // host on shared-buffer backends, else in the graph
	dequantHost                         // dequantizeMXFP4IntoTransposed
	dequantInGraph                      // dequantizeMXFP4At
)

// sparseExperts holds the block-by-block executables of a mixture of
// experts and the names of one block's non-expert weights.
type sparseExperts struct {
	add                     *graph.Exec
	attn                    [2]*graph.Exec // full, sliding attention
	expertHost, expertGraph *graph.Exec
	blockNames              []string // weight names without "model.layers.N."
	dequant                 expertDequant

	mu      sync.Mutex
	buffers []*expertBuffers // free host dequantization buffers
}

// expertBuffers are the float32 tensors one expert is dequantized into.
type expertBuffers struct{ gateUp, down *tensors.Tensor }

// newSparseExperts prepares (without compiling) m's block-by-block executables.
func newSparseExperts(m *Model) (*sparseExperts, error) {
	s := &sparseExperts{}
	s.blockNames = blockWeightNames(m.cfg, func(suffix string) bool { return !strings.HasPrefix(suffix, "mlp.experts.") })
	var err error
	// in: x [B,S,H], mask, positions, block weights → x + attention [B,S,H],
	// the experts' input h [B·S,H] float32, rank [B·S,E], weights [B·S,E].
	for i, sliding := range []bool{false, true} {
		if s.attn[i], err = newExec(m, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			p := blockParams(s.blockNames, in, 3)
			x, mask, positions := in[0], in[1], in[2]
			xf := m.attentionBlock(p, "", flatten(x), sliding, m.newAttnContext(mask, positions))
			h := graph.ConvertDType(m.rmsNorm(xf, p("post_attention_layernorm.weight")), dtypes.Float32)
			rank, weights := m.route(p, h, "mlp.")
			return []*graph.Node{graph.Reshape(xf, x.Shape().Dimensions...), h, rank, weights}
		}); err != nil {
			return nil, err
		}
	}
	// in: sum [N,H], h [N,H], rows [R,1], row weights [R,1], expert [1],
	// gate_up biases [E,2I], down biases [E,H], then the expert's weights:
	// dequantized and transposed gate_up [H,2I] and down [I,H] (expertHost),
	// or the MXFP4 blocks and scales of all experts (expertGraph) → the new
	// sum.
	expertFn := func(inGraph bool) func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		return func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			sum, h, rows, rowWeights, idx, b1, b2 := in[0], in[1], in[2], in[3], in[4], in[5], in[6]
			hRows := graph.Gather(h, rows) // [R,H]
			b1 = graph.ExpandAxes(graph.Gather(b1, idx), 0)
			b2 = graph.ExpandAxes(graph.Gather(b2, idx), 0)
			var w1 *graph.Node
			down := func(*graph.Node) *graph.Node { return in[8] }
			if inGraph {
				w1 = dequantizeMXFP4At(in[7], in[8], idx)
				down = func(act *graph.Node) *graph.Node {
					return dequantizeMXFP4At(in[9], in[10], graph.SchedulingBarrier(idx, act))
				}
			} else {
				w1 = in[7]
			}
			y := graph.Mul(m.expert(hRows, w1, b1, b2, !inGraph, down), rowWeights)
			return []*graph.Node{graph.ScatterSum(sum, rows, y, false, false)}
		}
	}
	if s.expertHost, err = newExec(m, expertFn(false)); err != nil {
		return nil, err
	}
	if s.expertGraph, err = newExec(m, expertFn(true)); err != nil {
		return nil, err
	}
	// in: x [B,S,H], sum [B·S,H] float32 → x + sum in the compute dtype.
	if s.add, err = newExec(m, func(_ *graph.Graph, in []*graph.Node) []*graph.Node {
		x, sum := in[0], in[1]
		return []*graph.Node{graph.Add(x, graph.Reshape(graph.ConvertDType(sum, m.dt), x.Shape().Dimensions...))}
	}); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *sparseExperts) finalize() {
	finalizeExecs(s.add, s.attn[0], s.attn[1], s.expertHost, s.expertGraph)
	for _, b := range s.buffers {
		_ = b.gateUp.FinalizeAll()
		_ = b.down.FinalizeAll()
	}
	s.buffers = nil
}

// getBuffers returns host dequantization buffers, new or freed by an
// earlier call.
func (s *sparseExperts) getBuffers(m *Model) (*expertBuffers, error) {
	s.mu.Lock()
	if n := len(s.buffers); n > 0 {
		b := s.buffers[n-1]
		s.buffers = s.buffers[:n-1]
		s.mu.Unlock()
		return b, nil
	}
	s.mu.Unlock()
	h, inter := m.cfg.HiddenSize, m.cfg.IntermediateSize
	gateUp, err := tensors.FromShapeForBackend(m.backend, 0, shapes.Make(dtypes.Float32, h, 2*inter))
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	down, err := tensors.FromShapeForBackend(m.backend, 0, shapes.Make(dtypes.Float32, inter, h))
	if err != nil {
		_ = gateUp.FinalizeAll()
		return nil, fmt.Errorf("llm: %w", err)
	}
	return &expertBuffers{gateUp: gateUp, down: down}, nil
}

func (s *sparseExperts) putBuffers(b *expertBuffers) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buffers = append(s.buffers, b)
}

// hostDequant reports whether this model's sparse calls dequantize on the host.
func (s *sparseExperts) hostDequant(m *Model) bool {
	switch s.dequant {
	case dequantHost:
		return true
	case dequantInGraph:
		return false
	}
	return m.backend.HasSharedBuffers()
}

// expertRows groups the rows of a [N,E] rank matrix by expert: for each
// expert, the rows that rank it below topK, in row order, padded with row
// 0 to rowBucket(count), and their router weights (0 for padding). Experts
// without rows get nil.
func expertRows(rank []int32, weights []float32, numExperts, topK int) (rows [][]int32, rowWeights [][]float32) {
	n := len(rank) / numExperts
	rows = make([][]int32, numExperts)
	rowWeights = make([][]float32, numExperts)
	for r := range n {
		for e := range numExperts {
			if int(rank[r*numExperts+e]) < topK {
				rows[e] = append(rows[e], int32(r))
				rowWeights[e] = append(rowWeights[e], weights[r*numExperts+e])
			}
		}
	}
	for e := range rows {
		if c := len(rows[e]); c > 0 {
			for range rowBucket(c) - c {
				rows[e] = append(rows[e], 0)
				rowWeights[e] = append(rowWeights[e], 0)
			}
		}
	}
	return rows, rowWeights
}

// rowBucket is the row count an expert with c rows is padded to: a
// multiple of 8 up to 64, then of an eighth of the power of two below c,
// so that padding costs at most 12.5% and a job compiles few shapes.
func rowBucket(c int) int {
	if c <= 64 {
		return (c + 7) / 8 * 8
	}
	step := 1
	for step*16 <= c {
		step *= 2
	}
	return (c + step - 1) / step * step
}

// sparseBlock is one block of a mixture of experts (a blockState):
// attention and the router, the tokens grouped by expert, and each expert
// with tokens.
func (m *Model) sparseBlock(l int, x, mask, positions *tensors.Tensor) (*tensors.Tensor, error) {
	s, c := m.sparse, &m.cfg
	prefix := blockPrefix(l)
	in := []any{x, mask, positions}
	for _, name := range s.blockNames {
		in = append(in, m.param(prefix+name))
	}
	attn := s.attn[0]
	if c.slidingLayer(l) {
		attn = s.attn[1]
	}
	outs, err := call(attn, in...)
	if err != nil {
		return nil, err
	}
	xAttn, h, rankT, weightsT := outs[0], outs[1], outs[2], outs[3]
	defer func() { free(xAttn, h) }()
	rank, err := tensors.CopyFlatData[int32](rankT)
	if err == nil {
		var weights []float32
		if weights, err = tensors.CopyFlatData[float32](weightsT); err == nil {
			free(rankT, weightsT)
			return m.runExperts(l, xAttn, h, rank, weights)
		}
	}
	free(rankT, weightsT)
	return nil, fmt.Errorf("llm: %w", err)
}

// runExperts runs the experts of block l chosen by the router's rank
// and weights [N,E] on h [N,H] float32, and returns xAttn plus their sum.
func (m *Model) runExperts(l int, xAttn, h *tensors.Tensor, rank []int32, weights []float32) (*tensors.Tensor, error) {
	s, c, e := m.sparse, &m.cfg, m.cfg.MoE
	prefix := blockPrefix(l)
	rows, rowWeights := expertRows(rank, weights, e.NumExperts, e.TopK)
	host := s.hostDequant(m)
	var buf *expertBuffers
	if host {
		var err error
		if buf, err = s.getBuffers(m); err != nil {
			return nil, err
		}
		defer s.putBuffers(buf)
	}
	n := h.Shape().Dimensions[0]
	sum, err := tensors.FromShapeForBackend(m.backend, 0, shapes.Make(dtypes.Float32, n, c.HiddenSize))
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	defer func() { free(sum) }()
	workers := runtime.GOMAXPROCS(0)
	gateUpBlocks, gateUpScales := m.param(prefix+"mlp.experts.gate_up_proj_blocks"), m.param(prefix+"mlp.experts.gate_up_proj_scales")
	downBlocks, downScales := m.param(prefix+"mlp.experts.down_proj_blocks"), m.param(prefix+"mlp.experts.down_proj_scales")
	for ex := range e.NumExperts {
		if rows[ex] == nil {
			continue
		}
		r := len(rows[ex])
		idx := []*tensors.Tensor{
			tensors.FromFlatDataAndDimensions(rows[ex], r, 1),
			tensors.FromFlatDataAndDimensions(rowWeights[ex], r, 1),
			tensors.FromFlatDataAndDimensions([]int32{int32(ex)}, 1)}
		in := []any{sum, h, idx[0], idx[1], idx[2],
			m.param(prefix + "mlp.experts.gate_up_proj_bias"), m.param(prefix + "mlp.experts.down_proj_bias")}
		exec := s.expertGraph
		if host {
			if err := dequantExpert(buf.gateUp, gateUpBlocks, gateUpScales, ex, workers); err != nil {
				free(idx...)
				return nil, err
			}
			if err := dequantExpert(buf.down, downBlocks, downScales, ex, workers); err != nil {
				free(idx...)
				return nil, err
			}
			in = append(in, buf.gateUp, buf.down)
			exec = s.expertHost
		} else {
			in = append(in, gateUpBlocks, gateUpScales, downBlocks, downScales)
		}
		outs, err := call(exec, in...)
		free(idx...)
		if err != nil {
			return nil, err
		}
		free(sum)
		sum = outs[0]
	}
	outs, err := call(s.add, xAttn, sum)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// dequantExpert dequantizes expert ex of the MXFP4 tensors blocks
// [E,rows,groups,16] and scales [E,rows,groups] into dst [groups·32, rows],
// transposed (see Model.expert).
func dequantExpert(dst, blocks, scales *tensors.Tensor, ex, workers int) error {
	numExperts := scales.Shape().Dimensions[0]
	var err error
	if e := tensors.MutableFlatData(dst, func(out []float32) {
		err = tensors.ConstFlatData(blocks, func(b []uint8) {
			err = tensors.ConstFlatData(scales, func(sc []uint8) {
				bPer, sPer := len(b)/numExperts, len(sc)/numExperts
				rows := scales.Shape().Dimensions[1]
				dequantizeMXFP4IntoTransposed(out, b[ex*bPer:(ex+1)*bPer], sc[ex*sPer:(ex+1)*sPer], rows, workers)
			})
		})
	}); e != nil {
		return fmt.Errorf("llm: %w", e)
	}
	if err != nil {
		return fmt.Errorf("llm: %w", err)
	}
	return nil
}
