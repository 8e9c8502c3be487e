package llm

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestSparseEqualsDense runs GPT-OSS test models block by block with only
// the selected experts (both dequantization routes) and in one graph with
// every expert (WithDenseExperts), on padded batches with both layer
// types, and compares every state at every position, padding included.
//
// Tolerance: in float32 the two differ only by the matrix kernel's
// blocking of products with different row counts, a few float32 ulps
// (observed ≤ 5.1e-6 of the layer's RMS); 1e-4 leaves room for other
// blockings on other CPUs and still fails on any real difference (a lost
// or duplicated expert moves states by ~1e-1 of the RMS). In bfloat16 the
// residual stream is rounded to 8 bits after every block, so a float32 ulp
// of difference can flip one rounding by a bfloat16 ulp (2⁻⁸ relative):
// the bound is 2⁻⁷ of the RMS (observed: identical), and the pooled states
// must agree as well.
func TestSparseEqualsDense(t *testing.T) {
	small := gptOSSConfig()
	// Eight experts with top-1 routing on few tokens leave some experts
	// without rows; the long batch gives experts more than 64 rows (the
	// larger row buckets).
	eight := gptOSSConfig()
	eight.MoE = &MoE{NumExperts: 8, TopK: 1, SwiGLUAlpha: 1.702, SwiGLULimit: 7}
	tokens, mask := paddedBatch()
	longTokens, longMask := longBatch(small.VocabSize)
	cases := []struct {
		name         string
		cfg          Config
		tokens, mask [][]int32
	}{
		{"4 experts top-2", small, tokens, mask},
		{"8 experts top-1", eight, tokens, mask},
		{"4 experts top-2 long batch", small, longTokens, longMask},
	}
	for _, c := range cases {
		w := randomWeights{cfg: c.cfg, seed: 3}
		pos := PositionsFromMask(c.mask)
		for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
			dense, err := New(testBackend(), c.cfg, w, WithDType(dt), WithDenseExperts())
			if err != nil {
				t.Fatal(err)
			}
			defer dense.Close()
			if dense.sparse != nil {
				t.Fatal("WithDenseExperts built the block-by-block executables")
			}
			want, err := dense.HiddenStates(c.tokens, c.mask, pos)
			if err != nil {
				t.Fatal(err)
			}
			wantPooled, err := dense.PooledHiddenStates(c.tokens, c.mask, pos)
			if err != nil {
				t.Fatal(err)
			}
			tol := 1e-4
			if dt != dtypes.Float32 {
				tol = 1.0 / 128
			}
			for _, dq := range []expertDequant{dequantHost, dequantInGraph} {
				t.Run(fmt.Sprintf("%s/%s/dequant=%d", c.name, dt, dq), func(t *testing.T) {
					m, err := New(testBackend(), c.cfg, w, WithDType(dt))
					if err != nil {
						t.Fatal(err)
					}
					defer m.Close()
					if m.sparse == nil {
						t.Fatal("a mixture of experts did not get the sparse executables")
					}
					m.sparse.dequant = dq
					got, err := m.HiddenStates(c.tokens, c.mask, pos)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != len(want) {
						t.Fatalf("%d states, want %d", len(got), len(want))
					}
					var worst float64
					for l := range want {
						if len(got[l]) != len(want[l]) {
							t.Fatalf("state %d has %d values, want %d", l, len(got[l]), len(want[l]))
						}
						e := relToRMS(got[l], want[l])
						worst = max(worst, e)
						if e > tol {
							t.Errorf("state %d: sparse differs from dense by %.3g of the RMS (tolerance %.3g)", l, e, tol)
						}
					}
					t.Logf("largest difference %.3g of the RMS", worst)
					pooled, err := m.PooledHiddenStates(c.tokens, c.mask, pos)
					if err != nil {
						t.Fatal(err)
					}
					for k, pair := range [][2][][][]float32{{pooled.Last, wantPooled.Last}, {pooled.Mean, wantPooled.Mean}, {pooled.Max, wantPooled.Max}} {
						if len(pair[0]) != len(pair[1]) {
							t.Fatalf("pooling %v: %d states, want %d", Pooling(k), len(pair[0]), len(pair[1]))
						}
						for l := range pair[1] {
							if e := relToRMS(slices.Concat(pair[0][l]...), slices.Concat(pair[1][l]...)); e > tol {
								t.Errorf("pooling %v, state %d: sparse differs from dense by %.3g of the RMS", Pooling(k), l, e)
							}
						}
					}
				})
			}
		}
	}
}

// longBatch is 6 rows of 50 tokens below vocab, right-padded by 0, 7, …,
// 35 tokens: 300 rows of states, more than the small-matrix paths take.
func longBatch(vocab int) (tokens, mask [][]int32) {
	tokens, mask = make([][]int32, 6), make([][]int32, 6)
	for b := range tokens {
		tokens[b], mask[b] = make([]int32, 50), make([]int32, 50)
		for s := range tokens[b] {
			tokens[b][s] = int32((b*7919 + s*104729) % vocab)
			if s < 50-7*b {
				mask[b][s] = 1
			}
		}
	}
	return tokens, mask
}

// relToRMS returns max |got−want| / rms(want).
func relToRMS(got, want []float32) float64 {
	var ss, worst float64
	for _, v := range want {
		ss += float64(v) * float64(v)
	}
	rms := math.Sqrt(ss / float64(len(want)))
	for i, v := range want {
		d := math.Abs(float64(got[i]) - float64(v))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = max(worst, d/rms)
	}
	return worst
}

func TestRowBucket(t *testing.T) {
	for _, c := range []struct{ rows, want int }{
		{1, 8}, {8, 8}, {9, 16}, {64, 64}, {65, 72}, {100, 104}, {128, 128}, {129, 144}, {1000, 1024}, {1025, 1152},
	} {
		if got := rowBucket(c.rows); got != c.want {
			t.Errorf("rowBucket(%d) = %d, want %d", c.rows, got, c.want)
		}
		if got := rowBucket(c.rows); got < c.rows || (c.rows > 64 && float64(got) > 1.125*float64(c.rows)) {
			t.Errorf("rowBucket(%d) = %d: below the count or over 12.5%% padding", c.rows, got)
		}
	}
}

func TestExpertRows(t *testing.T) {
	// Three rows, four experts, top-2: row 0 picks experts 1 and 3, row 1
	// experts 0 and 1, row 2 experts 1 and 3; nobody picks expert 2.
	rank := []int32{
		2, 0, 3, 1,
		1, 0, 2, 3,
		3, 1, 2, 0,
	}
	weights := []float32{
		0, .6, 0, .4,
		.3, .7, 0, 0,
		0, .2, 0, .8,
	}
	rows, rowWeights := expertRows(rank, weights, 4, 2)
	want := [][]int32{{1, 0, 0, 0, 0, 0, 0, 0}, {0, 1, 2, 0, 0, 0, 0, 0}, nil, {0, 2, 0, 0, 0, 0, 0, 0}}
	wantWeights := [][]float32{{.3, 0, 0, 0, 0, 0, 0, 0}, {.6, .7, .2, 0, 0, 0, 0, 0}, nil, {.4, .8, 0, 0, 0, 0, 0, 0}}
	for e := range want {
		if !slices.Equal(rows[e], want[e]) || !slices.Equal(rowWeights[e], wantWeights[e]) {
			t.Errorf("expert %d: rows %v weights %v, want %v %v", e, rows[e], rowWeights[e], want[e], wantWeights[e])
		}
	}
}

// TestDequantizeMXFP4IntoTransposed checks the host dequantization, with
// and without AVX-512, against the graph's on bytes covering every code
// and many scales, for row counts with and without a partial 16-row tile.
func TestDequantizeMXFP4IntoTransposed(t *testing.T) {
	const groups = 3
	for _, rows := range []int{5, 16, 37} {
		for _, simd := range []bool{false, true} {
			if simd && !haveAVX512Dequant() {
				t.Log("this CPU or build has no AVX-512 VBMI: the AVX-512 case runs the scalar loop")
			}
			useAVX512Dequant = simd
			per := rows * groups
			blocks := make([]uint8, 2*per*mxfp4Group/2)
			scales := make([]uint8, 2*per)
			for i := range blocks {
				blocks[i] = uint8(i * 37)
			}
			for i := range scales {
				scales[i] = uint8(i * 17 % 253) // 0…252: every value finite (checkMXFP4)
			}
			for ex := range 2 {
				got := make([]float32, per*mxfp4Group)
				dequantizeMXFP4IntoTransposed(got, blocks[ex*per*16:(ex+1)*per*16], scales[ex*per:(ex+1)*per], rows, 2)
				want := graphDequant(t, blocks, scales, ex, rows, groups) // [rows, groups·32]
				cols := groups * mxfp4Group
				for r := range rows {
					for c := range cols {
						g, w := got[c*rows+r], want[r*cols+c]
						if math.Float32bits(g) != math.Float32bits(w) {
							t.Fatalf("rows %d, AVX-512 %v, expert %d, [%d,%d]: %g, graph %g", rows, simd, ex, r, c, g, w)
						}
					}
				}
			}
		}
	}
	useAVX512Dequant = true
}

// graphDequant returns dequantizeMXFP4 of expert ex computed by the backend.
func graphDequant(t *testing.T, blocks, scales []uint8, ex, rows, groups int) []float32 {
	t.Helper()
	e, err := graph.NewExec(testBackend(), func(b, s *graph.Node) *graph.Node { return dequantizeMXFP4(b, s, ex, b) })
	if err != nil {
		t.Fatal(err)
	}
	defer e.Finalize()
	outs, err := e.Call(tensors.FromFlatDataAndDimensions(blocks, 2, rows, groups, mxfp4Group/2),
		tensors.FromFlatDataAndDimensions(scales, 2, rows, groups))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tensors.CopyFlatData[float32](outs[0])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// BenchmarkDequantizeMXFP4 dequantizes one gpt-oss-20b expert's gate_up
// projection (5760 × 2880 values) on the host, transposed, with and
// without AVX-512, on one and two workers.
func BenchmarkDequantizeMXFP4(b *testing.B) {
	const rows, groups = 5760, 90
	blocks := make([]uint8, rows*groups*mxfp4Group/2)
	scales := make([]uint8, rows*groups)
	for i := range blocks {
		blocks[i] = uint8(i * 37)
	}
	for i := range scales {
		scales[i] = uint8(110 + i%20)
	}
	dst := make([]float32, rows*groups*mxfp4Group)
	for _, simd := range []bool{false, true} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("avx512=%v/workers=%d", simd, workers), func(b *testing.B) {
				useAVX512Dequant = simd
				defer func() { useAVX512Dequant = true }()
				for b.Loop() {
					dequantizeMXFP4IntoTransposed(dst, blocks, scales, rows, workers)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(dst)), "ns/value")
			})
		}
	}
}
