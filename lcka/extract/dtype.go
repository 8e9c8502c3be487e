package extract

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute/dtypes"

	lbackend "github.com/layersim/layersim/lcka/backend"
	"github.com/layersim/layersim/lcka/hf"
	"github.com/layersim/layersim/lcka/llm"
)

// DTypeNames are the values of LoadOptions.DType (and extract --dtype).
var DTypeNames = []string{"auto", "float32", "bfloat16", "float16"}

// ParseDType returns the compute dtype named s: float32, bfloat16 or
// float16 (torch's aliases float, bf16, half and fp16 are accepted). For
// "auto" and "" it returns dtypes.InvalidDType and no error: the dtype
// then comes from the checkpoint (see LoadOptions.DType).
func ParseDType(s string) (dtypes.DType, error) {
	switch strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "torch.") {
	case "", "auto":
		return dtypes.InvalidDType, nil
	case "float32", "float", "fp32":
		return dtypes.Float32, nil
	case "bfloat16", "bf16":
		return dtypes.BFloat16, nil
	case "float16", "half", "fp16":
		return dtypes.Float16, nil
	}
	return dtypes.InvalidDType, fmt.Errorf("extract: unknown dtype %q (one of %s)", s, strings.Join(DTypeNames, ", "))
}

// dtypeName is the name of a compute dtype in meta.json and messages.
func dtypeName(dt dtypes.DType) string {
	switch dt {
	case dtypes.BFloat16:
		return "bfloat16"
	case dtypes.Float16:
		return "float16"
	}
	return "float32"
}

// resolveDType turns the requested dtype into the one the model runs in:
// "auto" follows config.json's torch_dtype (or dtype), else the first
// floating-point weight of the checkpoint; float64 checkpoints run in
// float32 (package llm has no float64 forward pass).
func resolveDType(requested string, c *hf.Config, ckpt *hf.Checkpoint) (string, error) {
	dt, err := ParseDType(requested)
	if err != nil {
		return "", err
	}
	if dt != dtypes.InvalidDType {
		return dtypeName(dt), nil
	}
	if c != nil && c.DType != "" {
		switch strings.TrimPrefix(strings.ToLower(c.DType), "torch.") {
		case "float64", "double":
			return "float32", nil
		}
		dt, err := ParseDType(c.DType)
		if err != nil || dt == dtypes.InvalidDType {
			return "", fmt.Errorf("config.json: torch_dtype %q is not one of float32, bfloat16, float16 (choose one with --dtype)", c.DType)
		}
		return dtypeName(dt), nil
	}
	if ckpt != nil {
		for _, name := range ckpt.Names() {
			t, err := ckpt.Tensor(name)
			if err != nil {
				continue
			}
			switch t.DType {
			case hf.BF16:
				return "bfloat16", nil
			case hf.F16:
				return "float16", nil
			case hf.F32, hf.F64:
				return "float32", nil
			}
		}
	}
	return "float32", nil
}

// dtype returns the model's compute dtype.
func (m *Model) dtype() dtypes.DType {
	if dt, err := ParseDType(m.DType); err == nil && dt != dtypes.InvalidDType {
		return dt
	}
	return dtypes.Float32
}

// usesAMX reports whether the model's linear layers run (or will run, once
// loaded) on the AMX kernel (llm.WouldUseAMX; LoadOptions.NoAMX).
func (m *Model) usesAMX() bool {
	if m.model != nil {
		return m.model.UsesAMX()
	}
	return m.amxFor(m.dtype())
}

// amxFor reports whether the model would run on the AMX kernel in the
// compute dtype dt.
func (m *Model) amxFor(dt dtypes.DType) bool {
	var shared bool
	if m.backend != nil {
		shared = m.backend.HasSharedBuffers()
	} else { // NewDefaultBackend's, not started yet
		s, err := lbackend.Default()
		shared = err != nil || s.HostMemory()
	}
	return !m.noAMX && llm.WouldUseAMX(m.Config, dt, shared)
}
