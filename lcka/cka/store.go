package cka

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"math"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

// store holds the preprocessed layers as float32 row blocks: in memory as
// GoMLX tensors (one per layer and block, shared with the backend so tiles
// are computed without copies), or in a scratch file laid out layer by layer
// so that a block of rows of one layer is one contiguous read.
type store struct {
	n       int
	cols    []int
	starts  []int               // row blocks [starts[k], starts[k+1])
	mem     [][]*tensors.Tensor // [layer][block], or nil once spilled
	file    *os.File            // scratch file, or nil
	offset  []int64             // byte offset of each layer in file
	backend compute.Backend
	free    map[int][][]*tensors.Tensor // reusable blocks read from file, by row count
	scratch []float32                   // reused buffer for writing the file
	// fingerprint identifies the job for checkpoints: options, sizes, and
	// per layer its width, a CRC of its values and its column transform.
	fingerprint [32]byte
}

func (s *store) newTensor(rows, cols int) (*tensors.Tensor, error) {
	return tensors.FromShapeForBackend(s.backend, 0, shapes.Make(dtypes.Float32, rows, cols))
}

// block returns row block k of every layer.
func (s *store) block(k int) ([]*tensors.Tensor, error) {
	if s.file == nil {
		out := make([]*tensors.Tensor, len(s.mem))
		for i := range s.mem {
			out[i] = s.mem[i][k]
		}
		return out, nil
	}
	r0, r1 := s.starts[k], s.starts[k+1]
	// Blocks are large (rows × all features of all layers) and fresh memory
	// is slow to touch on some machines: released blocks are reused.
	var out []*tensors.Tensor
	if free := s.free[r1-r0]; len(free) > 0 {
		out, s.free[r1-r0] = free[len(free)-1], free[:len(free)-1]
	} else {
		out = make([]*tensors.Tensor, len(s.cols))
		for i, d := range s.cols {
			t, err := s.newTensor(r1-r0, d)
			if err != nil {
				s.finalize(out)
				return nil, fmt.Errorf("cka: allocating a row block: %w", err)
			}
			out[i] = t
		}
	}
	for i, d := range s.cols {
		var err error
		merr := tensors.MutableFlatData(out[i], func(flat []float32) {
			raw := unsafe.Slice((*byte)(unsafe.Pointer(&flat[0])), len(flat)*4)
			_, err = s.file.ReadAt(raw, s.offset[i]+int64(r0*d*4))
		})
		if err == nil {
			err = merr
		}
		if err != nil {
			s.finalize(out)
			return nil, fmt.Errorf("cka: reading the scratch file: %w", err)
		}
	}
	return out, nil
}

// release hands back a block returned by block, for reuse when it was read
// from the file.
func (s *store) release(ts []*tensors.Tensor) {
	if s.file == nil || len(ts) == 0 {
		return
	}
	rows := ts[0].Shape().Dimensions[0]
	if s.free == nil {
		s.free = map[int][][]*tensors.Tensor{}
	}
	s.free[rows] = append(s.free[rows], ts)
}

func (s *store) finalize(ts []*tensors.Tensor) {
	for _, t := range ts {
		if t != nil {
			t.FinalizeAll()
		}
	}
}

// blockBytes is the size of one full row block of every layer.
func (s *store) blockBytes() int64 {
	sum := 0
	for _, d := range s.cols {
		sum += d
	}
	return int64(s.starts[1]-s.starts[0]) * int64(sum) * 4
}

func (s *store) close() {
	for _, sets := range s.free {
		for _, ts := range sets {
			s.finalize(ts)
		}
	}
	s.free = nil
	for _, blocks := range s.mem {
		for _, t := range blocks {
			t.FinalizeAll()
		}
	}
	s.mem = nil
	if s.file != nil {
		name := s.file.Name()
		s.file.Close()
		os.Remove(name)
	}
}

// add stores one layer, transformed column by column as (x − mean)·factor.
func (s *store) add(m Matrix, mean, factor []float64) error {
	d := m.Cols
	s.cols = append(s.cols, d)
	if s.file != nil {
		data := s.buffer(m.Rows * d)
		transformRows(m, mean, factor, 0, m.Rows, data)
		return s.write(data)
	}
	blocks := make([]*tensors.Tensor, len(s.starts)-1)
	for k := range blocks {
		r0, r1 := s.starts[k], s.starts[k+1]
		t, err := s.newTensor(r1-r0, d)
		if err != nil {
			return fmt.Errorf("cka: allocating a row block: %w", err)
		}
		tensors.MutableFlatData(t, func(flat []float32) { transformRows(m, mean, factor, r0, r1, flat) })
		blocks[k] = t
	}
	s.mem = append(s.mem, blocks)
	return nil
}

// transformRows writes rows [r0, r1) of m, transformed, into dst.
func transformRows(m Matrix, mean, factor []float64, r0, r1 int, dst []float32) {
	d := m.Cols
	parallelRows(r1-r0, min(runtime.GOMAXPROCS(0), max(1, (r1-r0)/16)), func(i int) {
		row := m.Data[(r0+i)*d : (r0+i+1)*d]
		o := dst[i*d : (i+1)*d]
		for j, v := range row {
			o[j] = float32((float64(v) - mean[j]) * factor[j])
		}
	})
}

// spill moves the layers held in memory to a scratch file.
func (s *store) spill(dir string) error {
	f, err := os.CreateTemp(dir, "layersim-cka-*.f32")
	if err != nil {
		return fmt.Errorf("cka: the layers exceed the memory budget and the scratch file cannot be created: %w", err)
	}
	s.file = f
	mem := s.mem
	s.mem = nil
	s.offset = nil
	for i, blocks := range mem {
		data := s.buffer(s.n * s.cols[i])[:0]
		for _, t := range blocks {
			tensors.ConstFlatData(t, func(flat []float32) { data = append(data, flat...) })
			t.FinalizeAll()
		}
		if err := s.write(data); err != nil {
			return err
		}
	}
	return nil
}

// buffer returns the reused write buffer, with length n.
func (s *store) buffer(n int) []float32 {
	if cap(s.scratch) < n {
		s.scratch = make([]float32, n)
	}
	return s.scratch[:n]
}

// write appends one layer to the scratch file.
func (s *store) write(data []float32) error {
	var off int64
	if k := len(s.offset); k > 0 {
		off = s.offset[k-1] + int64(s.n*s.cols[k-1])*4
	}
	s.offset = append(s.offset, off)
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), len(data)*4)
	if _, err := s.file.WriteAt(raw, off); err != nil {
		return fmt.Errorf("cka: writing the scratch file: %w", err)
	}
	return nil
}

// preprocess loads every layer once, checks it, centers or standardizes its
// columns into float32 and stores it in row blocks of the tile size, in
// memory or, once the layers exceed half the budget, in a scratch file.
func preprocess(src Source, opt Options, budget int64, backend compute.Backend) (*store, *Result, error) {
	L := src.Len()
	st := &store{backend: backend}
	res := &Result{ConstantColumns: make([]int, L)}
	var fp hash.Hash
	if opt.Checkpoint != "" {
		fp = sha256.New()
		fmt.Fprintf(fp, "layersim cka v1 measure=%d minibatch=%d tile=%d L=%d\n", opt.Measure, opt.Minibatch, opt.TileSize, L)
	}
	var total int64
	fail := func(err error) (*store, *Result, error) {
		st.close()
		return nil, nil, err
	}
	for i := 0; i < L; i++ {
		m, err := src.Layer(i)
		if err != nil {
			return fail(fmt.Errorf("cka: loading %s: %w", src.Name(i), err))
		}
		if m.Rows*m.Cols != len(m.Data) || m.Rows <= 0 || m.Cols <= 0 {
			return fail(fmt.Errorf("cka: %s: shape %d×%d does not match %d values", src.Name(i), m.Rows, m.Cols, len(m.Data)))
		}
		if i == 0 {
			st.n = m.Rows
			if st.n < 2 {
				return fail(fmt.Errorf("cka: %s: need at least 2 inputs, got %d", src.Name(i), st.n))
			}
			b := opt.TileSize
			switch {
			case opt.Minibatch > 0:
				if b = opt.Minibatch; b < 4 {
					return fail(fmt.Errorf("cka: minibatch size must be ≥ 4, got %d", b))
				}
			case b <= 0:
				b = chooseTile(st.n, L, L*m.Cols, budget)
			}
			b = min(b, st.n)
			res.TileSize = b
			for s := 0; s < st.n; s += b {
				st.starts = append(st.starts, s)
			}
			st.starts = append(st.starts, st.n)
		} else if m.Rows != st.n {
			return fail(fmt.Errorf("cka: %s has %d inputs but %s has %d: all layers must hold the same inputs", src.Name(i), m.Rows, src.Name(0), st.n))
		}
		mean, factor, constant, err := columnTransform(m, opt.Measure == MeasureStandardized)
		if err != nil {
			return fail(fmt.Errorf("cka: %s: %w", src.Name(i), err))
		}
		res.ConstantColumns[i] = constant
		if fp != nil {
			raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(m.Data))), len(m.Data)*4)
			var b []byte
			b = binary.LittleEndian.AppendUint64(b, uint64(m.Rows))
			b = binary.LittleEndian.AppendUint64(b, uint64(m.Cols))
			b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(raw, crc32.MakeTable(crc32.Castagnoli)))
			for j := range mean {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(mean[j]))
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(factor[j]))
			}
			fp.Write(b)
		}
		total += int64(len(m.Data)) * 4
		if st.file == nil && total > budget/2 {
			if err := st.spill(opt.TempDir); err != nil {
				return fail(err)
			}
			res.Spilled = true
		}
		if err := st.add(m, mean, factor); err != nil {
			return fail(err)
		}
		if opt.Progress != nil {
			nb := len(st.starts) - 1
			if opt.Minibatch > 0 && st.starts[nb]-st.starts[nb-1] < 4 {
				nb-- // the short last minibatch is left out
			}
			opt.Progress(i+1, L+tileCount(nb, opt.Minibatch > 0))
		}
	}
	res.N = st.n
	if fp != nil {
		fmt.Fprintf(fp, "tile rows=%d", st.starts[1]-st.starts[0])
		copy(st.fingerprint[:], fp.Sum(nil))
	}
	st.scratch = nil
	return st, res, nil
}

// columnTransform returns, for each column of m, the mean and the factor
// that center it (factor 1) or standardize it (factor 1/sd, if scale), with
// statistics accumulated in float64. Constant columns get factor 0 and are
// counted. Non-finite values and constant layers are errors.
func columnTransform(m Matrix, scale bool) (mean, factor []float64, constant int, err error) {
	n, d := m.Rows, m.Cols
	// Sums and sums of squares around a provisional mean (the first row),
	// four rows at a time, over row ranges in parallel.
	workers := min(runtime.GOMAXPROCS(0), max(1, n/64))
	sums := make([][]float64, workers)
	sqs := make([][]float64, workers)
	first := m.Data[:d]
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s, q := make([]float64, d), make([]float64, d)
			i, end := w*n/workers, (w+1)*n/workers
			for ; i+4 <= end; i += 4 {
				r0, r1 := m.Data[i*d:(i+1)*d], m.Data[(i+1)*d:(i+2)*d]
				r2, r3 := m.Data[(i+2)*d:(i+3)*d], m.Data[(i+3)*d:(i+4)*d]
				for j := range d {
					f := float64(first[j])
					a, b, c, e := float64(r0[j])-f, float64(r1[j])-f, float64(r2[j])-f, float64(r3[j])-f
					s[j] += (a + b) + (c + e)
					q[j] += (a*a + b*b) + (c*c + e*e)
				}
			}
			for ; i < end; i++ {
				row := m.Data[i*d : (i+1)*d]
				for j := range d {
					a := float64(row[j]) - float64(first[j])
					s[j] += a
					q[j] += a * a
				}
			}
			sums[w], sqs[w] = s, q
		}(w)
	}
	wg.Wait()
	mean = make([]float64, d)
	factor = make([]float64, d)
	for j := 0; j < d; j++ {
		var s, q float64
		for w := range sums {
			s += sums[w][j]
			q += sqs[w][j]
		}
		if math.IsNaN(q) || math.IsInf(q, 0) {
			// Any NaN or Inf in the column ends up here: find it.
			for i := 0; i < n; i++ {
				if v := float64(m.Data[i*d+j]); math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, nil, 0, fmt.Errorf("non-finite value %v at input %d, feature %d", v, i, j)
				}
			}
			return nil, nil, 0, fmt.Errorf("feature %d overflows float64 sums", j)
		}
		shift := s / float64(n)
		mean[j] = float64(first[j]) + shift
		sd := math.Sqrt(max(0, q/float64(n)-shift*shift))
		switch {
		case constantColumn(sd, mean[j]) || sd < 1e-30:
			constant++
		case scale:
			factor[j] = 1 / sd
		default:
			factor[j] = 1
		}
	}
	if constant == d {
		return nil, nil, constant, ErrConstant
	}
	return mean, factor, constant, nil
}

func parallelRows(n, workers int, fn func(i int)) {
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w * n / workers; i < (w+1)*n/workers; i++ {
				fn(i)
			}
		}(w)
	}
	wg.Wait()
}
