package llm

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

// RawWeights is implemented by Weights that serve a floating-point tensor
// in its stored encoding: little-endian float32, bfloat16 or float16 bytes.
// New then copies each tensor once into a backend tensor of the compute
// dtype, converting element by element only where the dtypes differ, so a
// bfloat16 checkpoint run in bfloat16 is never widened to float32. The bytes
// are read only during the call.
type RawWeights interface {
	Weights
	Raw(name string) (dtype dtypes.DType, data []byte, shape []int, err error)
}

// WeightReleaser is implemented by Weights whose storage can be released
// tensor by tensor (for example the pages of a memory-mapped file): New
// calls Release(name) once the named tensor is on the backend, so that
// loading never holds the checkpoint and the backend copy at once.
type WeightReleaser interface {
	Release(name string)
}

// ComputeDTypes are the dtypes WithDType accepts.
var ComputeDTypes = []dtypes.DType{dtypes.Float32, dtypes.BFloat16, dtypes.Float16}

func validComputeDType(dt dtypes.DType) bool {
	for _, d := range ComputeDTypes {
		if d == dt {
			return true
		}
	}
	return false
}

// loadFloat reads the named float weight from w and returns a backend
// tensor of dtype dt holding it, after checking its shape and that every
// value is finite (in the stored dtype and after the conversion: a float32
// or bfloat16 value beyond float16's range is an error in float16).
func loadFloat(backend compute.Backend, dt dtypes.DType, w Weights, name string, want []int) (*tensors.Tensor, error) {
	var (
		src   dtypes.DType
		raw   []byte
		f32   []float32
		shape []int
		err   error
		n     int
	)
	if rw, ok := w.(RawWeights); ok {
		src, raw, shape, err = rw.Raw(name)
		if err != nil {
			return nil, err
		}
		switch src {
		case dtypes.Float32, dtypes.BFloat16, dtypes.Float16:
		default:
			return nil, fmt.Errorf("has dtype %s, want float32, bfloat16 or float16", src)
		}
		if len(raw)%src.Size() != 0 {
			return nil, fmt.Errorf("has %d bytes, not a whole number of %s values", len(raw), src)
		}
		n = len(raw) / src.Size()
	} else {
		f32, shape, err = w.Tensor(name)
		if err != nil {
			return nil, err
		}
		src, n = dtypes.Float32, len(f32)
	}
	if err := checkShape(shape, want, n); err != nil {
		return nil, err
	}
	// at returns value i as float32 (exact for every source dtype).
	at := func(i int) float32 {
		if raw == nil {
			return f32[i]
		}
		switch src {
		case dtypes.BFloat16:
			return math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
		case dtypes.Float16:
			return float16.Float16(binary.LittleEndian.Uint16(raw[2*i:])).Float32()
		}
		return math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	bad := func(i int, v float32) error {
		if src == dt {
			return fmt.Errorf("has a non-finite value %v at flat index %d", v, i)
		}
		return fmt.Errorf("has a value %v at flat index %d that is not finite in %s", at(i), i, dt)
	}
	t, err := tensors.FromShapeForBackend(backend, 0, shapes.Make(dt, shape...))
	if err != nil {
		return nil, err
	}
	var convErr, accessErr error
	fill := func() {
		switch dt {
		case dtypes.Float32:
			accessErr = tensors.MutableFlatData(t, func(dst []float32) {
				for i := range dst {
					v := at(i)
					if isNonFinite(v) {
						convErr = bad(i, v)
						return
					}
					dst[i] = v
				}
			})
		case dtypes.BFloat16:
			accessErr = tensors.MutableFlatData(t, func(dst []bfloat16.BFloat16) {
				if src == dtypes.BFloat16 { // same encoding: copy the bits
					for i := range dst {
						b := binary.LittleEndian.Uint16(raw[2*i:])
						if b&0x7f80 == 0x7f80 {
							convErr = bad(i, at(i))
							return
						}
						dst[i] = bfloat16.BFloat16(b)
					}
					return
				}
				for i := range dst {
					v := at(i)
					b := bfloat16.FromFloat32(v)
					if isNonFinite(v) || isNonFinite(b.Float32()) {
						convErr = bad(i, b.Float32())
						return
					}
					dst[i] = b
				}
			})
		case dtypes.Float16:
			accessErr = tensors.MutableFlatData(t, func(dst []float16.Float16) {
				for i := range dst {
					v := at(i)
					h := float16.FromFloat32(v)
					if isNonFinite(v) || isNonFinite(h.Float32()) {
						convErr = bad(i, h.Float32())
						return
					}
					dst[i] = h
				}
			})
		}
	}
	fill()
	if convErr == nil {
		convErr = accessErr
	}
	if convErr != nil {
		_ = t.FinalizeAll()
		return nil, convErr
	}
	if !backend.HasSharedBuffers() {
		if err := t.ToDevice(backend, 0); err != nil {
			_ = t.FinalizeAll()
			return nil, err
		}
	}
	if r, ok := w.(WeightReleaser); ok {
		r.Release(name)
	}
	return t, nil
}

func isNonFinite(v float32) bool {
	return math.IsNaN(float64(v)) || math.IsInf(float64(v), 0)
}
