package extract

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute/dtypes"

	"github.com/layersim/layersim/lcka/internal/meminfo"
	"github.com/layersim/layersim/lcka/llm"
)

// MemoryPlan is what a model needs in memory to extract batches of a given
// shape, estimated before any weight is read.
type MemoryPlan struct {
	Model string // the model as given
	DType string // the compute dtype of the figures

	Weights     int64 // every weight the forward pass reads, in DType (MXFP4 experts as stored)
	LoadPeak    int64 // the largest tensor, held twice while it is copied (mapped pages and copy, or a transposition)
	Activations int64 // one forward pass over the largest batch (EstimateBatchBytes)
	Fixed       int64 // the Go runtime, tokenizer, compiled graphs and the saved states
	Total       int64 // Weights + max(LoadPeak, Activations) + Fixed

	Batch, Seq int   // the batch shape planned for
	Available  int64 // the machine's available memory (MemAvailable); 0 if unknown

	// Others holds Total in the other compute dtypes, for the way out.
	Others map[string]int64
}

// availableMemory is meminfo.Available; tests replace it.
var availableMemory = meminfo.Available

// fixedBytes is the part of the plan that does not scale with the model:
// the Go runtime and its garbage collector's slack, the tokenizer, the
// compiled executables (measured at about 0.3 GB on the 1B-shaped job).
const fixedBytes = 400 << 20

// PlanMemory estimates the memory of extracting batches of batch rows of
// seq tokens (seq at most the longest text) in the model's dtype, and
// the totals in the other dtypes.
func (m *Model) PlanMemory(batch, seq, texts int) MemoryPlan {
	dt := m.dtype()
	p := planFor(m.Config, dt, batch, seq, texts, m.usesAMX())
	p.Model = m.ID
	if avail, ok := availableMemory(); ok {
		p.Available = avail
	}
	p.Others = map[string]int64{}
	for _, other := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16, dtypes.Float16} {
		if other != dt {
			p.Others[dtypeName(other)] = planFor(m.Config, other, batch, seq, texts, m.amxFor(other)).Total
		}
	}
	return p
}

// planFor is the plan of a model of c in dt; amx tells that its linear
// layers run on the AMX kernel, which in float32 holds each linear weight
// as three bfloat16 parts (6 bytes a value instead of 4, llm's
// amx.SplitWeight) and, while packing one, its unpacked parts too.
func planFor(c llm.Config, dt dtypes.DType, batch, seq, texts int, amx bool) MemoryPlan {
	p := MemoryPlan{DType: dtypeName(dt), Batch: batch, Seq: seq}
	elem := int64(dt.Size())
	names, shapes := llm.WeightShapes(c)
	for i, name := range names {
		n := int64(1)
		for _, d := range shapes[i] {
			n *= int64(d)
		}
		if amx && dt == dtypes.Float32 && strings.HasSuffix(name, "_proj.weight") && strings.Contains(name, ".layers.") {
			p.Weights += 6 * n
			p.LoadPeak = max(p.LoadPeak, 12*n) // the float32 original, the unpacked parts
			continue
		}
		p.Weights += n * elem
		p.LoadPeak = max(p.LoadPeak, n*elem)
	}
	_, byteShapes := llm.Uint8WeightShapes(c)
	for _, s := range byteShapes {
		n := int64(1)
		for _, d := range s {
			n *= int64(d)
		}
		p.Weights += n
	}
	p.Activations = EstimateBatchBytesDType(c, dt, batch, seq)
	states := int64(texts) * int64(c.NumLayers+1) * int64(c.HiddenSize) * 4
	p.Fixed = fixedBytes + states
	p.Total = p.Weights + max(p.LoadPeak, p.Activations) + p.Fixed
	return p
}

// Fits reports whether the plan fits the available memory (true when the
// available memory is unknown).
func (p MemoryPlan) Fits() bool { return p.Available == 0 || p.Total <= p.Available }

// String describes the plan in one line, with the way out when it does not
// fit.
func (p MemoryPlan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s in %s needs %s (weights %s, batches of %d×%d tokens %s, runtime and results %s)",
		p.Model, p.DType, gb(p.Total), gb(p.Weights), p.Batch, p.Seq, gb(max(p.LoadPeak, p.Activations)), gb(p.Fixed))
	if p.Available > 0 {
		fmt.Fprintf(&b, ", %s are available", gb(p.Available))
	}
	if !p.Fits() {
		var ways []string
		for _, name := range []string{"bfloat16", "float16", "float32"} {
			if t, ok := p.Others[name]; ok && t <= p.Available && t < p.Total {
				ways = append(ways, fmt.Sprintf("--dtype %s needs %s", name, gb(t)))
			}
		}
		if len(ways) > 0 {
			fmt.Fprintf(&b, "; %s", strings.Join(ways, ", "))
		} else if p.Weights+p.LoadPeak+p.Fixed < p.Available {
			fmt.Fprintf(&b, "; a smaller --batch-size or --max-length fits")
		} else {
			fmt.Fprintf(&b, "; the weights alone do not fit this machine in any dtype")
		}
	}
	return b.String()
}

func gb(n int64) string { return fmt.Sprintf("%.1f GB", float64(n)/1e9) }

// EstimateBatchBytesDType is a rough upper bound of the activation memory
// of one forward pass over batch×seq tokens in the compute dtype dt
// (weights excluded), in bytes, for the pass extraction runs (each state
// pooled as soon as it is built, so that about two [B,S,H] states are live
// at a time): per token, with e the dtype's size, the residual stream and
// its normalized copy, the embedding and the pooled state (4H values), q, k,
// v, their rotated copies and the attention output (4·(heads+2·kv)·d), the
// MLP's gate, up and product (3I), and in half dtypes the float32 copies
// of the normalized stream and the activation (2H + 2I floats); and per
// query the attention matrices [B,heads,S,S] four times in float32 (scores,
// masked, softmax and the rounded probabilities):
//
//	B·S·(e·(4H + 4·(heads+2·kv)·d + 3I) + [half] 4·(2H+2I)) + 16·B·heads·S²
func EstimateBatchBytesDType(c llm.Config, dt dtypes.DType, batch, seq int) int64 {
	d := c.HeadDim
	if d == 0 {
		d = c.HiddenSize / max(c.NumHeads, 1)
	}
	kv := c.NumKVHeads
	if kv == 0 {
		kv = c.NumHeads
	}
	e := int64(dt.Size())
	h, in := int64(c.HiddenSize), int64(c.IntermediateSize)
	perToken := e * (4*h + 4*int64(c.NumHeads+2*kv)*int64(d) + 3*in)
	if dt != dtypes.Float32 {
		perToken += 4 * (2*h + 2*in)
	}
	b, s := int64(batch), int64(seq)
	return b*s*perToken + 16*b*int64(c.NumHeads)*s*s
}
