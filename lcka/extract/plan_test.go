package extract

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"

	"github.com/layersim/layersim/internal/testenv"
	"github.com/layersim/layersim/lcka/llm"
)

// llama31_8B is Llama-3.1-8B's architecture (its config.json).
var llama31_8B = llm.Config{
	VocabSize: 128256, HiddenSize: 4096, IntermediateSize: 14336, NumLayers: 32,
	NumHeads: 32, NumKVHeads: 8, HeadDim: 128, RMSNormEps: 1e-5, RopeTheta: 500000, HiddenAct: "silu",
	RopeScaling: &llm.RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192},
}

// TestPlanFigures checks the weight bytes of Llama-3.1-8B against its
// parameter count without the output head (which extraction never reads),
// counted by hand from its config.json: embedding 128256·4096 =
// 525,336,576; per layer q and o 4096·4096 each, k and v 1024·4096 each,
// gate, up and down 14336·4096 each and two norms of 4096, 218,112,000 in
// all, times 32; the final norm 4096: 7,504,924,672 parameters.
func TestPlanFigures(t *testing.T) {
	const params = 7_504_924_672
	for _, c := range []struct {
		dt   dtypes.DType
		size int64
	}{{dtypes.Float32, 4}, {dtypes.BFloat16, 2}, {dtypes.Float16, 2}} {
		p := planFor(llama31_8B, c.dt, 16, 256, 400, false)
		if p.Weights != params*c.size {
			t.Errorf("%s: weights %d bytes, want %d", c.dt, p.Weights, params*c.size)
		}
		if p.LoadPeak != 128256*4096*c.size {
			t.Errorf("%s: load peak %d, want the embedding matrix", c.dt, p.LoadPeak)
		}
		if want := p.Weights + max(p.LoadPeak, p.Activations) + p.Fixed; p.Total != want {
			t.Errorf("%s: total %d, want %d", c.dt, p.Total, want)
		}
		if p.Activations != EstimateBatchBytesDType(llama31_8B, c.dt, 16, 256) {
			t.Errorf("%s: activations %d", c.dt, p.Activations)
		}
	}
	// On a 24 GB machine (22.9 GB available) the float32 model does not fit
	// and bfloat16 does.
	p := planFor(llama31_8B, dtypes.Float32, 16, 256, 400, false)
	p.Model, p.Available = "meta-llama/Llama-3.1-8B", 22.9e9
	p.Others = map[string]int64{"bfloat16": planFor(llama31_8B, dtypes.BFloat16, 16, 256, 400, false).Total}
	if p.Fits() || p.Others["bfloat16"] > p.Available {
		t.Fatalf("float32 total %d, bfloat16 total %d against 22.9 GB", p.Total, p.Others["bfloat16"])
	}
	msg := p.String()
	for _, want := range []string{"meta-llama/Llama-3.1-8B in float32 needs 32.", "weights 30.0 GB", "22.9 GB are available", "--dtype bfloat16 needs 1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
}

// TestMemoryPlanStops checks that Extract stops before reading any weight
// when the plan does not fit, runs with smaller batches when the weights
// fit but the batches do not, and runs anyway with IgnoreMemoryPlan.
func TestMemoryPlanStops(t *testing.T) {
	m := loadTiny(t)
	set := promptSet(t, 6)
	weights := planFor(m.Config, dtypes.Float32, 1, 1, 0, m.usesAMX()).Weights
	defer func(f func() (int64, bool)) { availableMemory = f }(availableMemory)

	availableMemory = func() (int64, bool) { return 1 << 20, true }
	_, err := m.Extract(context.Background(), set, Options{Out: t.TempDir()})
	if !errors.Is(err, ErrDoesNotFit) || !strings.Contains(err.Error(), "MB") && !strings.Contains(err.Error(), "GB are available") {
		t.Fatalf("error %v, want ErrDoesNotFit with the figures", err)
	}
	if m.model != nil {
		t.Fatal("weights were loaded although the plan did not fit")
	}
	if _, err := m.Extract(context.Background(), set, Options{Out: t.TempDir(), IgnoreMemoryPlan: true}); err != nil {
		t.Fatalf("IgnoreMemoryPlan: %v", err)
	}

	// Room for the weights and batches of one or two texts only.
	m2 := loadTiny(t)
	enc, err := m2.encode(set.Texts["en"], &Options{MaxLength: DefaultMaxLength})
	if err != nil {
		t.Fatal(err)
	}
	room := EstimateBatchBytes(m2.Config, 2, enc.stats.Max)
	availableMemory = func() (int64, bool) {
		return weights + fixedBytes + int64(6*(m2.Config.NumLayers+1)*m2.Config.HiddenSize*4) + room, true
	}
	var notes []string
	res, err := m2.Extract(context.Background(), set, Options{Out: t.TempDir(), BatchSize: 6,
		Progress: func(p Progress) { notes = append(notes, p.Note) }})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Batch > 2 || len(res[0].Halvings) == 0 {
		t.Errorf("batch %d after %d halvings, want at most 2", res[0].Batch, len(res[0].Halvings))
	}
	if !strings.Contains(strings.Join(notes, "\n"), "memory plan: ") {
		t.Errorf("no memory plan note in %q", notes)
	}
}

// TestPlanSplitWeights: on the AMX kernel a float32 model holds each
// linear weight of its blocks as three bfloat16 parts, 6 bytes a value
// instead of 4; bfloat16 weights are packed at their own size.
func TestPlanSplitWeights(t *testing.T) {
	names, shapes := llm.WeightShapes(llama31_8B)
	var linear int64
	for i, name := range names {
		if strings.HasSuffix(name, "_proj.weight") && strings.Contains(name, ".layers.") {
			linear += int64(shapes[i][0]) * int64(shapes[i][1])
		}
	}
	// Llama-3.1-8B: 32 blocks of q, k, v, o (4096×4096, 1024×4096 twice,
	// 4096×4096) and gate, up, down (14336×4096 each).
	if want := int64(32) * (2*4096*4096 + 2*1024*4096 + 3*14336*4096); linear != want {
		t.Fatalf("linear weights %d, want %d", linear, want)
	}
	f32, split := planFor(llama31_8B, dtypes.Float32, 16, 256, 400, false), planFor(llama31_8B, dtypes.Float32, 16, 256, 400, true)
	if d := split.Weights - f32.Weights; d != 2*linear {
		t.Errorf("split float32 weights %d bytes more, want 2×%d", d, linear)
	}
	if bf, bfAMX := planFor(llama31_8B, dtypes.BFloat16, 16, 256, 400, false), planFor(llama31_8B, dtypes.BFloat16, 16, 256, 400, true); bf.Weights != bfAMX.Weights {
		t.Errorf("bfloat16 weights %d on AMX, %d without", bfAMX.Weights, bf.Weights)
	}
}

// TestFloat32OffAMXWhenItDoesNotFit: a float32 model whose AMX form (three
// bfloat16 parts per linear weight) does not fit the available memory,
// but whose float32 weights do, runs on the backend's kernel, says so,
// and records that kernel; with room for both it runs on AMX.
func TestFloat32OffAMXWhenItDoesNotFit(t *testing.T) {
	probe := loadTiny(t)
	if !probe.usesAMX() {
		if testenv.CPUListsAMX() {
			testenv.Missing(t, "the CPU lists AMX but the model would not run on it")
			return
		}
		t.Skip("no AMX on this CPU: nothing to fall back from")
	}
	set := promptSet(t, 4)
	plan := func(amx bool) int64 {
		return planFor(probe.Config, dtypes.Float32, DefaultBatchSize, DefaultMaxLength, set.Len(), amx).Total
	}
	withAMX, without := plan(true), plan(false)
	if withAMX <= without {
		t.Fatalf("AMX plan %d bytes, float32 plan %d: want more on AMX", withAMX, without)
	}
	defer func(f func() (int64, bool)) { availableMemory = f }(availableMemory)
	for _, c := range []struct {
		avail   int64
		wantAMX bool
	}{{(withAMX + without) / 2, false}, {withAMX + 1<<20, true}} {
		availableMemory = func() (int64, bool) { return c.avail, true }
		m := loadTiny(t)
		var notes []string
		if _, err := m.Extract(context.Background(), set, Options{Out: t.TempDir(),
			Progress: func(p Progress) { notes = append(notes, p.Note) }}); err != nil {
			t.Fatal(err)
		}
		said := strings.Contains(strings.Join(notes, "\n"), "running on the backend's float32 kernel")
		if m.model.UsesAMX() != c.wantAMX || said == c.wantAMX {
			t.Errorf("available %d (AMX plan %d, float32 plan %d): AMX %v, note %v; want AMX %v",
				c.avail, withAMX, without, m.model.UsesAMX(), said, c.wantAMX)
		}
	}
}
