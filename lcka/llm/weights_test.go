package llm

import (
	"fmt"
	"hash/fnv"
	"math"
	"strings"
)

// randomWeights generates deterministic weights for a Config, lazily, by
// name. Value i (0-based, row-major) of tensor `name` is
//
//	z = splitmix64(fnv1a64(name) ^ seed, i+1)   (the (i+1)-th output of splitmix64)
//	u = (z >> 40) / 2^24                        (24 random bits, in [0, 1))
//	w = float32(offset + scale·(2u − 1))        (in float64, then rounded)
//
// with (offset, scale) from weightScale. The transformers fixtures were made
// by a Python copy of this generator (outside the repository, see
// testdata/README.md), so any change here breaks them.
type randomWeights struct {
	cfg    Config
	seed   uint64
	untied bool // also provide lm_head.weight (never read by the model)
}

func (r randomWeights) Tensor(name string) ([]float32, []int, error) {
	names, shapes := WeightShapes(r.cfg)
	if r.untied {
		names = append(names, "lm_head.weight")
		shapes = append(shapes, []int{r.cfg.VocabSize, r.cfg.HiddenSize})
	}
	for i, n := range names {
		if n == name {
			return generate(name, shapes[i], r.seed), shapes[i], nil
		}
	}
	return nil, nil, fmt.Errorf("no tensor %q", name)
}

// Uint8 serves the MXFP4 tensors of Uint8WeightShapes: value i of tensor
// name is lo + (z >> 40) mod (hi − lo + 1), z as in Tensor and [lo, hi]
// from byteRange.
func (r randomWeights) Uint8(name string) ([]uint8, []int, error) {
	names, shapes := Uint8WeightShapes(r.cfg)
	for i, n := range names {
		if n == name {
			return generateBytes(name, shapes[i], r.seed), shapes[i], nil
		}
	}
	return nil, nil, fmt.Errorf("no uint8 tensor %q", name)
}

// splitmix returns the seed of the generator of tensor name:
// fnv1a64(name) ^ seed.
func splitmix(name string, seed uint64) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64() ^ seed
}

// splitmixAt returns output i (1-based) of splitmix64 started at state.
func splitmixAt(state uint64, i int) uint64 {
	z := state + uint64(i)*0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func generate(name string, shape []int, seed uint64) []float32 {
	offset, scale := weightScale(name, shape)
	state := splitmix(name, seed)
	out := make([]float32, numElements(shape))
	for i := range out {
		u := float64(splitmixAt(state, i+1)>>40) / (1 << 24)
		out[i] = float32(offset + scale*(2*u-1))
	}
	return out
}

func generateBytes(name string, shape []int, seed uint64) []uint8 {
	lo, hi := byteRange(name)
	state := splitmix(name, seed)
	out := make([]uint8, numElements(shape))
	for i := range out {
		out[i] = lo + uint8((splitmixAt(state, i+1)>>40)%(uint64(hi)-uint64(lo)+1))
	}
	return out
}

func numElements(shape []int) int {
	size := 1
	for _, d := range shape {
		size *= d
	}
	return size
}

// byteRange gives the range of the MXFP4 bytes: any block byte; E8M0
// scales 2^−3…2^−2 for gate_up_proj (so that about a tenth of the gate and
// up values of the test models pass the SwiGLU limit 7) and 2^−8…2^−7 for
// down_proj (unit-size expert outputs).
func byteRange(name string) (lo, hi uint8) {
	switch {
	case strings.HasSuffix(name, "gate_up_proj_scales"):
		return 124, 125
	case strings.HasSuffix(name, "down_proj_scales"):
		return 119, 120
	default:
		return 0, 255
	}
}

// weightScale gives the (offset, half-width) of the uniform distribution of
// each tensor: norms near 1, projections with unit output variance for unit
// inputs (q and k 1.5 times larger, so that attention is not uniform),
// sizeable biases, attention sinks in [−1, 3] (comparable to the scores).
func weightScale(name string, shape []int) (offset, scale float64) {
	switch {
	case strings.HasSuffix(name, "norm.weight"):
		return 1, 0.2
	case strings.HasSuffix(name, ".bias"), strings.HasSuffix(name, "_proj_bias"):
		return 0, 0.5
	case strings.HasSuffix(name, ".sinks"):
		return 1, 2
	case name == "model.embed_tokens.weight":
		return 0, 1
	case name == "lm_head.weight":
		return 0, 0.1
	case strings.Contains(name, "q_proj") || strings.Contains(name, "k_proj"):
		return 0, 1.5 * math.Sqrt(3/float64(shape[1]))
	default:
		return 0, math.Sqrt(3 / float64(shape[1]))
	}
}

// mapWeights serves fixed tensors, for the error tests.
type mapWeights map[string]struct {
	data  []float32
	shape []int
}

func (m mapWeights) Tensor(name string) ([]float32, []int, error) {
	t, ok := m[name]
	if !ok {
		return nil, nil, fmt.Errorf("no tensor %q", name)
	}
	return t.data, t.shape, nil
}

func materialize(w Weights, cfg Config) mapWeights {
	m := mapWeights{}
	names, _ := WeightShapes(cfg)
	for _, n := range names {
		d, s, err := w.Tensor(n)
		if err != nil {
			panic(err)
		}
		m[n] = struct {
			data  []float32
			shape []int
		}{d, s}
	}
	return m
}
