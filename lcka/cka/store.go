package cka

import (
	"fmt"
	"math"
	"os"
	"unsafe"
)

// store holds the preprocessed layers (float32, row-major), in memory or in a
// scratch file laid out layer by layer so that a block of rows of one layer is
// one contiguous read.
type store struct {
	n      int
	cols   []int
	mem    [][]float32 // in memory, or nil
	file   *os.File    // scratch file, or nil
	offset []int64     // byte offset of each layer in file
}

func (s *store) sumCols() int {
	t := 0
	for _, c := range s.cols {
		t += c
	}
	return t
}

// block returns rows [r0, r1) of every layer.
func (s *store) block(r0, r1 int) ([][]float32, error) {
	out := make([][]float32, len(s.cols))
	for i, d := range s.cols {
		if s.mem != nil {
			out[i] = s.mem[i][r0*d : r1*d]
			continue
		}
		buf := make([]float32, (r1-r0)*d)
		if len(buf) == 0 {
			out[i] = buf
			continue
		}
		raw := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(buf)*4)
		if _, err := s.file.ReadAt(raw, s.offset[i]+int64(r0*d*4)); err != nil {
			return nil, fmt.Errorf("cka: reading the scratch file: %w", err)
		}
		out[i] = buf
	}
	return out, nil
}

func (s *store) close() {
	if s.file != nil {
		name := s.file.Name()
		s.file.Close()
		os.Remove(name)
	}
}

// preprocess loads every layer once, checks it, centers or standardizes its
// columns into float32 and keeps it in memory or in a scratch file when the
// layers exceed half the budget.
func preprocess(src Source, opt Options, budget int64) (*store, *Result, error) {
	L := src.Len()
	st := &store{cols: make([]int, L)}
	res := &Result{ConstantColumns: make([]int, L)}
	var total int64
	for i := 0; i < L; i++ {
		m, err := src.Layer(i)
		if err != nil {
			st.close()
			return nil, nil, fmt.Errorf("cka: loading %s: %w", src.Name(i), err)
		}
		if m.Rows*m.Cols != len(m.Data) || m.Rows <= 0 || m.Cols <= 0 {
			st.close()
			return nil, nil, fmt.Errorf("cka: %s: shape %d×%d does not match %d values", src.Name(i), m.Rows, m.Cols, len(m.Data))
		}
		if i == 0 {
			st.n = m.Rows
			if st.n < 2 {
				return nil, nil, fmt.Errorf("cka: %s: need at least 2 inputs, got %d", src.Name(i), st.n)
			}
		} else if m.Rows != st.n {
			st.close()
			return nil, nil, fmt.Errorf("cka: %s has %d inputs but %s has %d: all layers must hold the same inputs", src.Name(i), m.Rows, src.Name(0), st.n)
		}
		data, constant, err := prepareColumns(m, opt.Measure == MeasureStandardized)
		if err != nil {
			st.close()
			return nil, nil, fmt.Errorf("cka: %s: %w", src.Name(i), err)
		}
		st.cols[i] = m.Cols
		res.ConstantColumns[i] = constant
		total += int64(len(data)) * 4
		if st.file == nil && total > budget/2 {
			// Move what is in memory to a scratch file and go on there.
			f, err := os.CreateTemp(opt.TempDir, "layersim-cka-*.f32")
			if err != nil {
				st.close()
				return nil, nil, fmt.Errorf("cka: layers exceed the memory budget and the scratch file cannot be created: %w", err)
			}
			st.file = f
			var off int64
			for _, d := range st.mem {
				st.offset = append(st.offset, off)
				if err := writeFloats(f, d, off); err != nil {
					st.close()
					return nil, nil, err
				}
				off += int64(len(d)) * 4
			}
			st.mem = nil
			res.Spilled = true
		}
		if st.file != nil {
			var off int64
			if len(st.offset) > 0 {
				last := len(st.offset) - 1
				off = st.offset[last] + int64(st.n*st.cols[last])*4
			}
			st.offset = append(st.offset, off)
			if err := writeFloats(st.file, data, off); err != nil {
				st.close()
				return nil, nil, err
			}
		} else {
			st.mem = append(st.mem, data)
		}
	}
	res.N = st.n
	return st, res, nil
}

func writeFloats(f *os.File, d []float32, off int64) error {
	if len(d) == 0 {
		return nil
	}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&d[0])), len(d)*4)
	if _, err := f.WriteAt(raw, off); err != nil {
		return fmt.Errorf("cka: writing the scratch file: %w", err)
	}
	return nil
}

// prepareColumns returns the column-centered (and, if scale, standardized)
// copy of m in float32, with statistics in float64. Constant columns become
// zero and are counted. Non-finite values and constant layers are errors.
func prepareColumns(m Matrix, scale bool) ([]float32, int, error) {
	n, d := m.Rows, m.Cols
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		row := m.Data[i*d : (i+1)*d]
		for j, v := range row {
			f := float64(v)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, 0, fmt.Errorf("non-finite value %v at input %d, feature %d", v, i, j)
			}
			mean[j] += f
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	ss := make([]float64, d)
	for i := 0; i < n; i++ {
		row := m.Data[i*d : (i+1)*d]
		for j, v := range row {
			dv := float64(v) - mean[j]
			ss[j] += dv * dv
		}
	}
	factor := make([]float64, d)
	constant := 0
	for j := range factor {
		sd := math.Sqrt(ss[j] / float64(n))
		switch {
		case constantColumn(sd, mean[j]) || sd < 1e-30:
			factor[j] = 0
			constant++
		case scale:
			factor[j] = 1 / sd
		default:
			factor[j] = 1
		}
	}
	if constant == d {
		return nil, constant, ErrConstant
	}
	out := make([]float32, n*d)
	for i := 0; i < n; i++ {
		row := m.Data[i*d : (i+1)*d]
		o := out[i*d : (i+1)*d]
		for j, v := range row {
			o[j] = float32((float64(v) - mean[j]) * factor[j])
		}
	}
	return out, constant, nil
}
