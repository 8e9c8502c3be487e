package llm

import (
	"errors"
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// HiddenStates runs the model on a padded batch and returns the hidden
// states of every layer, as transformers returns them with
// output_hidden_states=True: NumLayers+1 slices, each [batch·seq·hidden]
// row-major, where index 0 is the embedding output, index k the output of
// block k and the last one the output of the last block after the final
// RMSNorm.
//
// tokens is [batch][seq] token ids. mask is the attention mask, 1 for real
// tokens and 0 for padding (left or right); nil means all ones. positions
// are the RoPE position ids; nil means 0, 1, …, seq-1 in every row, as
// transformers does when position_ids is not given. To get for each real
// token of a padded prompt the states it has alone, pass
// PositionsFromMask(mask).
//
// States at padding positions are computed as transformers computes them
// (a query with no visible key attends uniformly to all keys) and carry no
// meaning.
func (m *Model) HiddenStates(tokens, mask, positions [][]int32) ([][]float32, error) {
	args, err := m.inputs(tokens, mask, positions, false)
	if err != nil {
		return nil, err
	}
	if b := m.blocks; b != nil {
		states := make([][]float32, 0, m.cfg.NumLayers+1)
		err := m.blockStates(args, false, func(_ int, x *tensors.Tensor) error {
			outs, err := b.states.Call(x)
			if err != nil {
				return fmt.Errorf("llm: %w", err)
			}
			state, err := tensors.CopyFlatData[float32](outs[0])
			_ = outs[0].FinalizeAll()
			if err != nil {
				return fmt.Errorf("llm: %w", err)
			}
			states = append(states, state)
			return nil
		})
		if err != nil {
			return nil, err
		}
		return states, nil
	}
	outs, err := m.run(m.statesExec, args)
	if err != nil {
		return nil, err
	}
	states := make([][]float32, len(outs))
	for i, t := range outs {
		states[i], err = tensors.CopyFlatData[float32](t)
		_ = t.FinalizeAll()
		if err != nil {
			return nil, fmt.Errorf("llm: %w", err)
		}
	}
	return states, nil
}

// Pooled holds per-layer pooled hidden states, each indexed
// [layer 0..NumLayers][batch row][hidden]. The pooling is over the real
// (mask != 0) tokens of each row. Poolings that were not asked for are nil.
type Pooled struct {
	Last [][][]float32 // the last real token of the row
	Mean [][][]float32 // the mean over real tokens (accumulated in float64)
	Max  [][][]float32 // the element-wise maximum over real tokens
}

// PooledHiddenStates is HiddenStates followed by pooling inside the graph,
// so that only [NumLayers+1, batch, hidden] values per pooling leave it.
// It computes the given poolings, or all three when none is given. Every
// row must contain at least one real token.
func (m *Model) PooledHiddenStates(tokens, mask, positions [][]int32, poolings ...Pooling) (*Pooled, error) {
	var set poolSet
	for _, p := range poolings {
		if p < 0 || p >= numPoolings {
			return nil, fmt.Errorf("llm: unknown pooling %v", p)
		}
		set |= 1 << p
	}
	if set == 0 {
		set = 1<<PoolLast | 1<<PoolMean | 1<<PoolMax
	}
	args, err := m.inputs(tokens, mask, positions, true)
	if err != nil {
		return nil, err
	}
	if m.blocks != nil {
		return m.blockPooled(args, set)
	}
	exec, err := m.pooledExecFor(set)
	if err != nil {
		freeInputs(args)
		return nil, err
	}
	outs, err := m.run(exec, args)
	if err != nil {
		return nil, err
	}
	hidden := m.cfg.HiddenSize
	split := func(t *tensors.Tensor) ([][][]float32, error) {
		flat, err := tensors.CopyFlatData[float32](t)
		if err != nil {
			return nil, fmt.Errorf("llm: %w", err)
		}
		dims := t.Shape().Dimensions
		out := make([][][]float32, dims[0])
		for l := range out {
			out[l] = make([][]float32, dims[1])
			for b := range out[l] {
				off := (l*dims[1] + b) * hidden
				out[l][b] = flat[off : off+hidden : off+hidden]
			}
		}
		return out, nil
	}
	defer func() {
		for _, t := range outs {
			_ = t.FinalizeAll()
		}
	}()
	p := &Pooled{}
	i := 0
	for k, dst := range []*[][][]float32{&p.Last, &p.Mean, &p.Max} {
		if !set.has(Pooling(k)) {
			continue
		}
		if *dst, err = split(outs[i]); err != nil {
			return nil, err
		}
		i++
	}
	return p, nil
}

// blockPooled is PooledHiddenStates block by block (blocks.go): each
// state is pooled as soon as it is computed.
func (m *Model) blockPooled(args []any, set poolSet) (*Pooled, error) {
	exec, err := m.blocks.poolExec(m, set)
	if err != nil {
		freeInputs(args)
		return nil, err
	}
	mask := args[1].(*tensors.Tensor)
	batch, hidden := mask.Shape().Dimensions[0], m.cfg.HiddenSize
	p := &Pooled{}
	var dsts []*[][][]float32
	for k, dst := range []*[][][]float32{&p.Last, &p.Mean, &p.Max} {
		if set.has(Pooling(k)) {
			*dst = make([][][]float32, 0, m.cfg.NumLayers+1)
			dsts = append(dsts, dst)
		}
	}
	err = m.blockStates(args, true, func(_ int, x *tensors.Tensor) error {
		outs, err := exec.Call(x, mask)
		if err != nil {
			return fmt.Errorf("llm: %w", err)
		}
		defer func() {
			for _, t := range outs {
				_ = t.FinalizeAll()
			}
		}()
		for i, dst := range dsts {
			flat, err := tensors.CopyFlatData[float32](outs[i])
			if err != nil {
				return fmt.Errorf("llm: %w", err)
			}
			rows := make([][]float32, batch)
			for b := range rows {
				rows[b] = flat[b*hidden : (b+1)*hidden : (b+1)*hidden]
			}
			*dst = append(*dst, rows)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// PositionsFromMask returns the position ids cumsum(mask)-1 along each row,
// so that each real token gets the position it has in its unpadded prompt.
// Padding positions get 1, as transformers' generate does
// (position_ids.masked_fill_(attention_mask == 0, 1)).
func PositionsFromMask(mask [][]int32) [][]int32 {
	out := make([][]int32, len(mask))
	for b, row := range mask {
		out[b] = make([]int32, len(row))
		var n int32
		for s, v := range row {
			if v != 0 {
				out[b][s] = n
				n++
			} else {
				out[b][s] = 1
			}
		}
	}
	return out
}

// freeInputs finalizes the data inputs of args (as m.inputs returns them),
// for the paths that return before running them.
func freeInputs(args []any) {
	for _, t := range args[:numDataInputs] {
		_ = t.(*tensors.Tensor).FinalizeAll()
	}
}

// run executes e on args and converts panics and errors into errors.
func (m *Model) run(e *graph.Exec, args []any) ([]*tensors.Tensor, error) {
	if e == nil {
		return nil, errors.New("llm: model is closed")
	}
	outs, err := e.Call(args...)
	freeInputs(args)
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	return outs, nil
}

// inputs validates the batch and returns the executable's arguments.
func (m *Model) inputs(tokens, mask, positions [][]int32, needReal bool) ([]any, error) {
	if m.params == nil {
		return nil, errors.New("llm: model is closed")
	}
	batch := len(tokens)
	if batch == 0 {
		return nil, errors.New("llm: empty batch")
	}
	seq := len(tokens[0])
	if seq == 0 {
		return nil, errors.New("llm: empty sequences")
	}
	if seq > 1<<24 {
		return nil, fmt.Errorf("llm: sequence length %d too long", seq)
	}
	check := func(what string, rows [][]int32) error {
		if rows == nil {
			return nil
		}
		if len(rows) != batch {
			return fmt.Errorf("llm: %s has %d rows, tokens has %d", what, len(rows), batch)
		}
		for b, row := range rows {
			if len(row) != seq {
				return fmt.Errorf("llm: %s row %d has length %d, want %d", what, b, len(row), seq)
			}
		}
		return nil
	}
	for _, c := range []struct {
		what string
		rows [][]int32
	}{{"tokens", tokens}, {"mask", mask}, {"positions", positions}} {
		if err := check(c.what, c.rows); err != nil {
			return nil, err
		}
	}
	flatTokens := make([]int32, 0, batch*seq)
	flatMask := make([]int32, 0, batch*seq)
	flatPos := make([]int32, 0, batch*seq)
	for b := range batch {
		for s, id := range tokens[b] {
			if id < 0 || int(id) >= m.cfg.VocabSize {
				return nil, fmt.Errorf("llm: token %d at [%d][%d] is outside the vocabulary [0, %d)", id, b, s, m.cfg.VocabSize)
			}
		}
		flatTokens = append(flatTokens, tokens[b]...)
		real := seq
		if mask != nil {
			real = 0
			for s, v := range mask[b] {
				if v != 0 && v != 1 {
					return nil, fmt.Errorf("llm: mask value %d at [%d][%d] is not 0 or 1", v, b, s)
				}
				real += int(v)
			}
			flatMask = append(flatMask, mask[b]...)
		} else {
			for range seq {
				flatMask = append(flatMask, 1)
			}
		}
		if needReal && real == 0 {
			return nil, fmt.Errorf("llm: row %d has no real token to pool", b)
		}
		if positions != nil {
			for s, p := range positions[b] {
				if p < -(1<<24) || p > 1<<24 {
					return nil, fmt.Errorf("llm: position %d at [%d][%d] is out of range ±2^24", p, b, s)
				}
			}
			flatPos = append(flatPos, positions[b]...)
		} else {
			for s := range seq {
				flatPos = append(flatPos, int32(s))
			}
		}
	}
	args := make([]any, 0, numDataInputs+len(m.params))
	args = append(args,
		tensors.FromFlatDataAndDimensions(flatTokens, batch, seq),
		tensors.FromFlatDataAndDimensions(flatMask, batch, seq),
		tensors.FromFlatDataAndDimensions(flatPos, batch, seq))
	for _, t := range m.params {
		args = append(args, t)
	}
	return args, nil
}
