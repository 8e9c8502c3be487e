package llm

import (
	"encoding/binary"
	"math"
	"sync"
	"testing"
)

var fuzzModel = sync.OnceValues(func() (*Model, error) {
	cfg := smallConfigs()["qwen3"]
	cfg.NumLayers = 1
	return New(testBackend(), cfg, randomWeights{cfg: cfg, seed: 5})
})

// FuzzInputs feeds arbitrary batches (tokens, masks and positions, valid or
// not) to a small model: it must return an error or finite states, never
// panic, and its pooled states must agree with the full states.
func FuzzInputs(f *testing.F) {
	f.Add([]byte{2, 3, 1, 0, 5, 0, 7, 0, 9, 0, 1, 0, 2, 0, 3, 0, 1, 1, 1, 0, 1, 1})
	f.Add([]byte{1, 1, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{3, 2, 44, 1, 0, 0, 9, 0, 2, 0, 0, 0, 8, 0, 1, 2, 0, 1, 0, 1})
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
