package study

import (
	"github.com/layersim/layersim/internal/describe"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/internal/testenv"
	"github.com/layersim/layersim/lcka/cka"
)

// bootstrapMeanByGather is the direct definition of a bootstrap value: it
// forms the resampled Gram matrices, double-centers them and averages their
// CKA over the layers.
func bootstrapMeanByGather(ka, kb [][]float64, idx []int, n int) float64 {
	a := make([]float64, n*n)
	b := make([]float64, n*n)
	total := 0.0
	for k := range ka {
		gather(ka[k], idx, n, a)
		gather(kb[k], idx, n, b)
		var ab, aa, bbv float64
		for i, v := range a {
			ab += v * b[i]
			aa += v * v
			bbv += b[i] * b[i]
		}
		total += ab / math.Sqrt(aa*bbv)
	}
	return total / float64(len(ka))
}

// gather writes the double-centered k[idx, idx] into out.
func gather(k []float64, idx []int, n int, out []float64) {
	rowMean := make([]float64, n)
	grand := 0.0
	for i, ii := range idx {
		row := k[ii*n : (ii+1)*n]
		o := out[i*n : (i+1)*n]
		s := 0.0
		for j, jj := range idx {
			o[j] = row[jj]
			s += row[jj]
		}
		rowMean[i] = s / float64(n)
		grand += s
	}
	grand /= float64(n * n)
	for i := 0; i < n; i++ {
		o := out[i*n : (i+1)*n]
		for j := range o {
			o[j] += grand - rowMean[i] - rowMean[j]
		}
	}
}

// permutedByGather is the direct form of the permutation null: CKA between
// Ka and Kb with its prompts reordered by perm, layer by layer.
func permutedByGather(ka, kb [][]float64, perm []int, n int) float64 {
	total := 0.0
	for k := range ka {
		var ab, aa, bb float64
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				x, y := ka[k][i*n+j], kb[k][perm[i]*n+perm[j]]
				ab += x * y
				aa += x * x
				bb += y * y
			}
		}
		total += ab / math.Sqrt(aa*bb)
	}
	return total / float64(len(ka))
}

// randomGrams returns L standardized centred Gram matrices of n random
// prompts, in float64 and float32.
func randomGrams(t testing.TB, rng *rand.Rand, n, L, d int) ([][]float64, [][]float32) {
	var g64 [][]float64
	var g32 [][]float32
	for k := 0; k < L; k++ {
		x := mat.NewDense(n, d, nil)
		for i := 0; i < n; i++ {
			for j := 0; j < d; j++ {
				x.Set(i, j, rng.NormFloat64()+0.5*float64(i%3))
			}
		}
		g, err := cka.CenteredGram(x, true)
		if err != nil {
			t.Fatal(err)
		}
		a, b := make([]float64, n*n), make([]float32, n*n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				a[i*n+j], b[i*n+j] = g.At(i, j), float32(g.At(i, j))
			}
		}
		g64, g32 = append(g64, a), append(g32, b)
	}
	return g64, g32
}

// TestResamplerMatchesGather: the interleaved float32 bootstrap and
// permutation values (the AVX-512 kernels where the CPU has them, and the
// plain Go ones) equal forming, double-centering and comparing the resampled
// Gram matrices in float64, for layer counts below, at and above a multiple
// of 16.
func TestResamplerMatchesGather(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	for _, L := range []int{1, 3, 16, 19, 70} {
		const n = 37
		a64, a32 := randomGrams(t, rng, n, L, 6)
		b64, b32 := randomGrams(t, rng, n, L, 9)
		r := newResampler(a32, b32, n)
		id := make([]int, n)
		for i := range id {
			id[i] = i
		}
		if got, want := r.observed(), permutedByGather(a64, b64, id, n); math.Abs(got-want) > 1e-6 {
			t.Errorf("L=%d observed %.9f, by gathering %.9f", L, got, want)
		}
		for rep := 0; rep < 10; rep++ {
			idx := make([]int, n)
			for i := range idx {
				idx[i] = rng.IntN(n)
			}
			want := bootstrapMeanByGather(a64, b64, idx, n)
			got := make([]float64, 1)
			if r.bootstrap([]resample{newResample(idx, n)}, got); math.Abs(got[0]-want) > 1e-6 {
				t.Errorf("L=%d resample %d: %.9f, by gathering %.9f", L, rep, got[0], want)
			}
			perm := rng.Perm(n)
			p32 := make([]int32, n)
			for i, v := range perm {
				p32[i] = int32(v)
			}
			want = permutedByGather(a64, b64, perm, n)
			if r.permuted([][]int32{p32}, got); math.Abs(got[0]-want) > 1e-6 {
				t.Errorf("L=%d permutation %d: %.9f, by gathering %.9f", L, rep, got[0], want)
			}
		}
		// The plain Go kernels against the dispatched ones, row by row.
		lp := r.lp
		rs := newResample(rng.Perm(n)[:n/2], n)
		var v1, v2 [5][]float32
		for q := range v1 {
			v1[q], v2[q] = make([]float32, lp), make([]float32, lp)
		}
		bootRow(v1[0], v1[1], v1[2], v1[3], v1[4], r.ka[:n*lp], r.kb[:n*lp], rs.drawn, rs.c, rs.c16, lp)
		bootRowGo(v2[0], v2[1], v2[2], v2[3], v2[4], r.ka[:n*lp], r.kb[:n*lp], rs.drawn, rs.c, lp)
		for q := range v1 {
			for k := range v1[q] {
				if math.Abs(float64(v1[q][k]-v2[q][k])) > 1e-6 {
					t.Errorf("L=%d bootRow[%d][%d] %g, plain Go %g", L, q, k, v1[q][k], v2[q][k])
				}
			}
		}
		if permAsm { // the assembly kernels: bootRowGo's sums, rounded in another order
			acc := make([]float32, 5*lp)
			bootRowAsm(acc, r.ka[:n*lp], r.kb[:n*lp], rs.drawn, rs.c, lp)
			for q := range v2 {
				for k := range v2[q] {
					if math.Abs(float64(acc[q*lp+k]-v2[q][k])) > 1e-6 {
						t.Errorf("L=%d bootRowAsm[%d][%d] %g, plain Go %g", L, q, k, acc[q*lp+k], v2[q][k])
					}
				}
			}
		}
		// The 8-lane kernels do what the 16-lane ones do, to the bit, where
		// the CPU runs them (bootRow and permRow dispatch to them without
		// AVX-512).
		var v3 [5][]float32
		for q := range v3 {
			v3[q] = make([]float32, lp)
		}
		if bootRowAVX2(v3[0], v3[1], v3[2], v3[3], v3[4], r.ka[:n*lp], r.kb[:n*lp], rs.drawn, rs.c16, lp) {
			for q := range v3 {
				if !slices.Equal(v3[q], v1[q]) {
					t.Errorf("L=%d bootRowAVX2's sums %d differ from bootRow's", L, q)
				}
			}
		} else if testenv.CPUListsFlags("avx2", "fma") && simdBuild {
			testenv.Missing(t, "/proc/cpuinfo lists AVX2 and FMA but bootRowAVX2 does not run")
		}
		acc1, acc2 := make([]float32, lp), make([]float32, lp)
		perm := make([]int32, n)
		for i, v := range rng.Perm(n) {
			perm[i] = int32(v)
		}
		permRow(acc1, r.ka[:n*lp], r.kb[:n*lp], perm, lp)
		permRowGo(acc2, r.ka[:n*lp], r.kb[:n*lp], perm, lp)
		for k := range acc1 {
			if math.Abs(float64(acc1[k]-acc2[k])) > 1e-6 {
				t.Errorf("L=%d permRow[%d] %g, plain Go %g", L, k, acc1[k], acc2[k])
			}
		}
		acc3 := make([]float32, lp)
		if permRowAVX2(acc3, r.ka[:n*lp], r.kb[:n*lp], perm, lp) {
			if !slices.Equal(acc3, acc1) {
				t.Errorf("L=%d permRowAVX2's sums differ from permRow's", L)
			}
		} else if testenv.CPUListsFlags("avx2", "fma") && simdBuild {
			testenv.Missing(t, "/proc/cpuinfo lists AVX2 and FMA but permRowAVX2 does not run")
		}
	}
}

// TestPairStatsAgainstDefinition: the interval and p-value of pairStats
// equal those computed with the direct definitions in float64 on the same
// resamples.
func TestPairStatsAgainstDefinition(t *testing.T) {
	const n, L, boot, perms = 30, 4, 200, 200
	rng := rand.New(rand.NewPCG(8, 9))
	a64, a32 := randomGrams(t, rng, n, L, 5)
	b64, b32 := randomGrams(t, rng, n, L, 7)
	st := pairStats(a32, b32, n, boot, perms, 11, 0.5, 1)

	// The same draws as pairStats.
	gen := rand.New(rand.NewPCG(11, 0xb007))
	var bootVals []float64
	for r := 0; r < boot; r++ {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = gen.IntN(n)
		}
		bootVals = append(bootVals, bootstrapMeanByGather(a64, b64, idx, n))
	}
	id := make([]int, n)
	for i := range id {
		id[i] = i
	}
	observed := permutedByGather(a64, b64, id, n)
	count := 0
	var null []float64
	for r := 0; r < perms; r++ {
		v := permutedByGather(a64, b64, gen.Perm(n), n)
		null = append(null, v)
		if v >= observed {
			count++
		}
	}
	sort.Float64s(bootVals)
	mean := describe.Mean(bootVals)
	ci := [2]float64{0.5 + describe.Quantile(bootVals, 0.025) - mean, 0.5 + describe.Quantile(bootVals, 0.975) - mean}
	if math.Abs(st.ci[0]-ci[0]) > 1e-6 || math.Abs(st.ci[1]-ci[1]) > 1e-6 || math.Abs(st.bias-(mean-observed)) > 1e-6 {
		t.Errorf("interval %v bias %g, by definition %v bias %g", st.ci, st.bias, ci, mean-observed)
	}
	if p := float64(1+count) / (1 + perms); st.p != p {
		t.Errorf("p = %g, by definition %g", st.p, p)
	}
	// The null's moments: from the screened values (within screenBound of
	// float32 each, by proof; about 3e-6 off here, where n = 30 leaves the
	// roundings little to average over).
	nm := describe.Mean(null)
	ss := 0.0
	for _, v := range null {
		ss += (v - nm) * (v - nm)
	}
	sd := math.Sqrt(ss / float64(len(null)-1))
	if math.Abs(st.nullMean-nm) > 3e-5 || math.Abs(st.nullSD-sd) > 3e-5 || math.Abs(st.observed-observed) > 1e-6 {
		t.Errorf("null mean %g sd %g observed %g, by definition %g, %g, %g", st.nullMean, st.nullSD, st.observed, nm, sd, observed)
	}
}

// BenchmarkResample: a batch of resampleBatch bootstrap resamples and of as
// many permutations of the study's largest model (n = 400 prompts, 32
// layers), interleaved (what pairStats runs) and by gathering the Gram
// matrices one resample at a time (docs/benchmarks.md).
func BenchmarkResample(b *testing.B) {
	const n, L = 400, 32
	rng := rand.New(rand.NewPCG(6, 7))
	a64, a32 := randomGrams(b, rng, n, L, 8)
	b64, b32 := randomGrams(b, rng, n, L, 8)
	r := newResampler(a32, b32, n)
	var batch []resample
	var idxs, perms [][]int
	var p32 [][]int32
	for q := 0; q < resampleBatch; q++ {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		batch, idxs = append(batch, newResample(idx, n)), append(idxs, idx)
		perm := rng.Perm(n)
		p := make([]int32, n)
		for i, v := range perm {
			p[i] = int32(v)
		}
		perms, p32 = append(perms, perm), append(p32, p)
	}
	out := make([]float64, resampleBatch)
	b.Run("bootstrap/interleaved", func(b *testing.B) {
		for b.Loop() {
			r.bootstrap(batch, out)
		}
	})
	b.Run("bootstrap/gather", func(b *testing.B) {
		for b.Loop() {
			for _, idx := range idxs {
				bootstrapMeanByGather(a64, b64, idx, n)
			}
		}
	})
	b.Run("permutation/interleaved", func(b *testing.B) {
		for b.Loop() {
			r.permuted(p32, out)
		}
	})
	if r.kb16 != nil {
		b.Run("permutation/screen", func(b *testing.B) {
			for b.Loop() {
				r.permutedScreen(p32, out)
			}
		})
	}
	b.Run("permutation/gather", func(b *testing.B) {
		for b.Loop() {
			for _, perm := range perms {
				permutedByGather(a64, b64, perm, n)
			}
		}
	})
}
