package llm

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

var fuzzModel = sync.OnceValues(func() (*Model, error) {
	cfg := smallConfigs()["qwen3"]
	cfg.NumLayers = 1
	return New(testBackend(), cfg, randomWeights{cfg: cfg, seed: 5})
})

// fuzzGptOSS is a one-layer GPT-OSS with a sliding window, sinks and experts.
var fuzzGptOSS = sync.OnceValues(func() (*Model, error) {
	cfg := gptOSSConfig()
	cfg.NumLayers, cfg.LayerTypes = 1, cfg.LayerTypes[:1]
	return New(testBackend(), cfg, randomWeights{cfg: cfg, seed: 5})
})

// FuzzInputs feeds arbitrary batches (tokens, masks and positions, valid or
// not) to a small model (Qwen3, or GPT-OSS when bit 2 of the flags byte is
// set): it must return an error or finite states, never panic, and its
// pooled states must agree with the full states.
func FuzzInputs(f *testing.F) {
	f.Add([]byte{2, 3, 1, 0, 5, 0, 7, 0, 9, 0, 1, 0, 2, 0, 3, 0, 1, 1, 1, 0, 1, 1})
	f.Add([]byte{1, 1, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{3, 2, 44, 1, 0, 0, 9, 0, 2, 0, 0, 0, 8, 0, 1, 2, 0, 1, 0, 1})
	f.Add([]byte{2, 5, 7, 1, 0, 5, 0, 7, 0, 9, 0, 1, 0, 2, 0, 3, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := fuzzModel()
		if err != nil {
			t.Fatal(err)
		}
		if len(data) < 2 {
			return
		}
		batch, seq := int(data[0]%4), int(data[1]%6) // shapes kept few: each compiles once
		data = data[2:]
		next := func() int32 {
			if len(data) < 2 {
				return 0
			}
			v := int32(int16(binary.LittleEndian.Uint16(data)))
			data = data[2:]
			return v
		}
		tokens := make([][]int32, batch)
		var mask, positions [][]int32
		useMask, usePos := len(data) > 0 && data[0]&1 == 1, len(data) > 0 && data[0]&2 == 2
		if len(data) > 0 && data[0]&4 == 4 {
			if m, err = fuzzGptOSS(); err != nil {
				t.Fatal(err)
			}
		}
		if useMask {
			mask = make([][]int32, batch)
		}
		if usePos {
			positions = make([][]int32, batch)
		}
		for b := range batch {
			tokens[b] = make([]int32, seq)
			for s := range seq {
				tokens[b][s] = int32(uint16(next())) % 310 // a few outside the vocabulary
			}
			if useMask {
				mask[b] = make([]int32, seq)
				for s := range seq {
					if v := uint16(next()); v%64 == 63 {
						mask[b][s] = 2 // invalid
					} else {
						mask[b][s] = int32(v & 1)
					}
				}
			}
			if usePos {
				positions[b] = make([]int32, seq)
				for s := range seq {
					positions[b][s] = next()
				}
			}
		}
		states, err := m.HiddenStates(tokens, mask, positions)
		if err != nil {
			return
		}
		for _, layer := range states {
			for _, v := range layer {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("non-finite state for tokens %v mask %v positions %v", tokens, mask, positions)
				}
			}
		}
		pooled, err := m.PooledHiddenStates(tokens, mask, positions)
		if err != nil {
			return // a row without real tokens
		}
		hid := m.cfg.HiddenSize
		for l := range states {
			for b := range batch {
				last := -1
				for s := range seq {
					if mask == nil || mask[b][s] == 1 {
						last = s
					}
				}
				for j := range hid {
					if got, want := pooled.Last[l][b][j], states[l][(b*seq+last)*hid+j]; got != want {
						t.Fatalf("layer %d row %d: last-token pooling %v, state %v", l, b, got, want)
					}
				}
			}
		}
	})
}

// mxfp4FuzzExec dequantizes one expert of 2 rows × 32 columns in the graph.
var mxfp4FuzzExec = sync.OnceValues(func() (*graph.Exec, error) {
	return graph.NewExec(testBackend(), func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{dequantizeMXFP4(in[0], in[1], 0, in[0])}
	})
})

// FuzzMXFP4 decodes arbitrary MXFP4 bytes (2 rows of one 32-value group):
// checkMXFP4 must refuse them exactly when the reference decoder gives a
// value beyond float32, and otherwise the graph must give the reference
// values bit for bit.
func FuzzMXFP4(f *testing.F) {
	f.Add(make([]byte, 34))
	f.Add(append(bytes.Repeat([]byte{0x77}, 32), 252, 253))
	f.Add(append(bytes.Repeat([]byte{0x18}, 32), 0, 255))
	f.Add([]byte{0xF0, 0x0F, 254})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := make([]byte, 34)
		copy(in, data)
		blocks, scales := in[:32], in[32:]
		raw := map[string][]uint8{"w_blocks": blocks, "w_scales": scales}
		ref := refMXFP4Matrix(raw, "w", 0, 2, 32)
		finite := true
		for _, v := range ref {
			finite = finite && math.Abs(v) <= math.MaxFloat32 // false for NaN
		}
		if err := checkMXFP4("w", blocks, scales); (err == nil) != finite {
			t.Fatalf("checkMXFP4 = %v, but the values are finite: %v (scales %v)", err, finite, scales)
		}
		if !finite {
			return
		}
		exec, err := mxfp4FuzzExec()
		if err != nil {
			t.Fatal(err)
		}
		bt := tensors.FromFlatDataAndDimensions(slices.Clone(blocks), 1, 2, 1, 16)
		st := tensors.FromFlatDataAndDimensions(slices.Clone(scales), 1, 2, 1)
		outs, err := exec.Call(bt, st)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tensors.CopyFlatData[float32](outs[0])
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range ref {
			if math.Float64bits(float64(got[i])) != math.Float64bits(v) {
				t.Fatalf("value %d: graph %v, reference %v (blocks %x, scales %v)", i, got[i], v, blocks, scales)
			}
		}
	})
}
