package hf

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"github.com/layersim/layersim/internal/atomicfile"
)

// TensorData is one tensor to write with WriteSafetensors: float32 values in
// row-major order, stored as DType (F32, BF16 or F16; rounding to nearest,
// ties to even).
type TensorData struct {
	Name   string
	DType  DType
	Shape  []int
	Values []float32
}

// WriteSafetensors writes the tensors, in the given order, and the optional
// metadata to a safetensors file at path. The file is written atomically: to
// a temporary file in the same folder, synced, then renamed over path.
func WriteSafetensors(path string, tensors []TensorData, metadata map[string]string) error {
	buf, err := EncodeSafetensors(tensors, metadata)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, buf)
}

// EncodeSafetensors returns the bytes of a safetensors file holding the
// tensors; see WriteSafetensors.
func EncodeSafetensors(tensors []TensorData, metadata map[string]string) ([]byte, error) {
	type entry struct {
		DType       DType   `json:"dtype"`
		Shape       []int   `json:"shape"`
		DataOffsets []int64 `json:"data_offsets"`
	}
	// Build the header as an ordered JSON object.
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	if len(metadata) > 0 {
		m, err := json.Marshal(metadata)
		if err != nil {
			return nil, fmt.Errorf("hf: safetensors metadata: %v", err)
		}
		hdr.WriteString(`"__metadata__":`)
		hdr.Write(m)
	}
	seen := map[string]bool{}
	var off int64
	for i, t := range tensors {
		if t.Name == "" || t.Name == "__metadata__" {
			return nil, fmt.Errorf("hf: safetensors tensor %d: invalid name %q", i, t.Name)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("hf: safetensors tensor %q given twice", t.Name)
		}
		seen[t.Name] = true
		switch t.DType {
		case F32, BF16, F16:
		default:
			return nil, fmt.Errorf("hf: safetensors tensor %q: cannot write dtype %q (want F32, BF16 or F16)", t.Name, t.DType)
		}
		n := 1
		for _, d := range t.Shape {
			if d < 0 {
				return nil, fmt.Errorf("hf: safetensors tensor %q: negative dimension in shape %v", t.Name, t.Shape)
			}
			n *= d
		}
		if n != len(t.Values) {
			return nil, fmt.Errorf("hf: safetensors tensor %q: shape %v has %d elements but %d values were given", t.Name, t.Shape, n, len(t.Values))
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		size := int64(n * t.DType.Size())
		e, _ := json.Marshal(entry{t.DType, shape, []int64{off, off + size}})
		name, _ := json.Marshal(t.Name)
		if hdr.Len() > 1 {
			hdr.WriteByte(',')
		}
		hdr.Write(name)
		hdr.WriteByte(':')
		hdr.Write(e)
		off += size
	}
	hdr.WriteByte('}')
	// Pad the header with spaces so that the data starts 8-byte aligned.
	for (8+hdr.Len())%8 != 0 {
		hdr.WriteByte(' ')
	}
	out := make([]byte, 8, 8+int64(hdr.Len())+off)
	binary.LittleEndian.PutUint64(out, uint64(hdr.Len()))
	out = append(out, hdr.Bytes()...)
	for _, t := range tensors {
		switch t.DType {
		case F32:
			for _, v := range t.Values {
				out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
			}
		case BF16:
			for _, v := range t.Values {
				out = binary.LittleEndian.AppendUint16(out, Float32ToBF16(v))
			}
		case F16:
			for _, v := range t.Values {
				out = binary.LittleEndian.AppendUint16(out, Float32ToF16(v))
			}
		}
	}
	return out, nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// folder that is synced and renamed over path, so that readers see either
// the old file or the complete new one.
func WriteFileAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	return nil
}
