package extract

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/layersim/layersim/lcka/hf"
	"github.com/layersim/layersim/lcka/llm"
)

// checkCheckpoint compares the configuration with the tensors the
// checkpoint holds, before anything is built from the configuration: the
// number of layers first (a config.json asking for a billion layers would
// otherwise list a billion layers' tensors), then every tensor the
// configuration implies, present and of the implied shape. Everything it
// reads is the checkpoint's header, so time and memory stay bounded by the
// checkpoint's size whatever config.json says.
func checkCheckpoint(c llm.Config, ck *hf.Checkpoint) error {
	held := heldLayers(ck.Names())
	if c.NumLayers != held {
		return fmt.Errorf("config.json has num_hidden_layers %d, the checkpoint holds %d layer(s) (model.layers.N.* tensors)", c.NumLayers, held)
	}
	names, shapes := llm.WeightShapes(c)
	bNames, bShapes := llm.Uint8WeightShapes(c)
	names, shapes = append(names, bNames...), append(shapes, bShapes...)
	for i, name := range names {
		t, err := ck.Tensor(name)
		if err != nil {
			return fmt.Errorf("the checkpoint has no tensor %s, which config.json implies (%s)", name, configSummary(c))
		}
		if !slices.Equal(t.Shape, shapes[i]) {
			return fmt.Errorf("tensor %s has shape %v, config.json implies %v (%s)", name, t.Shape, shapes[i], configSummary(c))
		}
	}
	return nil
}

// heldLayers is one more than the largest N of the model.layers.N.* tensor
// names (0 when there are none).
func heldLayers(names []string) int {
	n := 0
	for _, name := range names {
		rest, ok := strings.CutPrefix(name, "model.layers.")
		if !ok {
			continue
		}
		idx, _, ok := strings.Cut(rest, ".")
		if !ok {
			continue
		}
		if i, err := strconv.Atoi(idx); err == nil && i >= 0 && i < 1<<20 {
			n = max(n, i+1)
		}
	}
	return n
}

// configSummary names the config.json fields that set the tensor shapes.
func configSummary(c llm.Config) string {
	s := fmt.Sprintf("vocab_size %d, hidden_size %d, intermediate_size %d, num_attention_heads %d, num_key_value_heads %d, head_dim %d",
		c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumHeads, c.NumKVHeads, c.HeadDim)
	if c.MoE != nil {
		s += fmt.Sprintf(", num_local_experts %d", c.MoE.NumExperts)
	}
	return s
}
