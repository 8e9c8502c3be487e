package cca

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/internal/densetest"
	"github.com/layersim/layersim/lcka/internal/grampanel"
	"github.com/layersim/layersim/lcka/internal/grampanel/grampaneltest"
)

func TestAllPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	reps := []mat.Matrix{densetest.Normal(rng, 40, 5), densetest.Normal(rng, 40, 8), densetest.Normal(rng, 40, 5)}
	for _, m := range []Measure{MeasureSVCCA, MeasurePWCCA} {
		all, kept, err := AllPairs(reps, m, Keep{Variance: 0.9})
		if err != nil {
			t.Fatal(err)
		}
		for i := range reps {
			for j := range reps {
				var r Result
				if m == MeasureSVCCA {
					r, err = SVCCA(reps[i], reps[j], Keep{Variance: 0.9})
				} else {
					r, err = PWCCA(reps[i], reps[j])
				}
				if err != nil || math.Abs(all.At(i, j)-r.Value) > 1e-12 || kept[i] != r.KeptX {
					t.Errorf("measure %d (%d, %d): AllPairs %v (kept %d), pair %v (kept %d) %v", m, i, j, all.At(i, j), kept[i], r.Value, r.KeptX, err)
				}
			}
		}
	}
	if _, _, err := AllPairs([]mat.Matrix{reps[0], densetest.Normal(rng, 39, 5)}, MeasurePWCCA, Keep{}); err == nil {
		t.Error("AllPairs with different n: no error")
	}
}

// BenchmarkAllPairs: n = 400 inputs of width 2048, as in the study. SVCCA
// runs on all 200 layers: on random normal layers it keeps about 390 of 399
// directions and so takes the complements; on layers whose variance decays
// as a power of the direction's rank ("decay") it keeps about n/2, its
// costliest case. PWCCA costs an SVD of up to 399×399 with vectors per pair
// and runs on 20 layers, of width 2048 (rank n − 1: no SVD, see the package
// doc) and 300 (rank 300, each pair computed).
func BenchmarkAllPairs(b *testing.B) {
	const n, d = 400, 2048
	rng := rand.New(rand.NewPCG(400, 20))
	reps := make([]mat.Matrix, 200)
	for l := range reps {
		reps[l] = densetest.Normal(rng, n, d)
	}
	decay := make([]mat.Matrix, len(reps))
	for l := range decay {
		x := mat.DenseCopyOf(reps[l])
		for j := range d {
			s := math.Pow(float64(j+1), -0.8)
			for i := range n {
				x.Set(i, j, x.At(i, j)*s)
			}
		}
		decay[l] = x
	}
	narrow := make([]mat.Matrix, 20)
	for l := range narrow {
		narrow[l] = mat.DenseCopyOf(reps[l].(*mat.Dense).Slice(0, n, 0, 300))
	}
	for _, c := range []struct {
		name string
		m    Measure
		reps []mat.Matrix
	}{
		{"svcca/normal", MeasureSVCCA, reps},
		{"svcca/decay", MeasureSVCCA, decay},
		// Rank n − 1: every pair is 1 without an SVD.
		{"pwcca/normal", MeasurePWCCA, reps[:20]},
		// Rank 300 < n − 1: every pair is computed.
		{"pwcca/narrow", MeasurePWCCA, narrow},
	} {
		_, width := c.reps[0].Dims()
		b.Run(fmt.Sprintf("%s/n=%d/d=%d/L=%d", c.name, n, width, len(c.reps)), func(b *testing.B) {
			var kept []int
			for b.Loop() {
				var err error
				if _, kept, err = AllPairs(c.reps, c.m, Paper); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(slices.Min(kept)), "min-kept")
			b.ReportMetric(float64(slices.Max(kept)), "max-kept")
		})
	}
}

// TestComplement checks svccaSum's identity Σρ(A, B) = Σρ(A⊥, B⊥) + ka +
// kb − n against the direct sum for every pair of kept counts, on layers
// of full rank and of rank below n.
func TestComplement(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 24
	a, err := newSpectrum("a", densetest.Normal(rng, n, 40))
	if err != nil {
		t.Fatal(err)
	}
	b, err := newSpectrum("b", densetest.Normal(rng, n, 9))
	if err != nil {
		t.Fatal(err)
	}
	if a.rank != n-1 || b.rank != 9 {
		t.Fatalf("ranks %d and %d, want %d and 9 (centred)", a.rank, b.rank, n-1)
	}
	complements := 0
	for ka := 1; ka <= n; ka++ {
		for kb := 1; kb <= n; kb++ {
			if (n-ka)*(n-kb) < ka*kb {
				complements++
			}
			got, err := svccaSum(a, b, ka, kb)
			if err != nil {
				t.Fatal(err)
			}
			want, err := nuclear(a.basis(0, ka), b.basis(0, kb))
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-want) > 1e-12*float64(n) {
				t.Errorf("ka %d, kb %d: %.15g, direct %.15g", ka, kb, got, want)
			}
			if !grampanel.Host() {
				continue
			}
			// The same through bases packed for the tile kernel, as
			// AllPairs packs them.
			pa, pb := *a, *b
			pa.vt, pb.vt = slices.Clone(a.vt), slices.Clone(b.vt)
			if err := pa.packPanels(ka, true, true); err != nil {
				t.Fatal(err)
			}
			if err := pb.packPanels(kb, true, true); err != nil {
				t.Fatal(err)
			}
			job := planSVCCA(&pa, &pb, ka, kb)
			packed := job.add
			if job.qx != nil {
				sums, _, err := nuclearJobs([]svccaJob{job})
				if err != nil {
					t.Fatal(err)
				}
				packed += sums[0]
			}
			if math.Abs(packed-got) > 1e-12*float64(n) {
				t.Errorf("ka %d, kb %d: packed %.15g, unpacked %.15g", ka, kb, packed, got)
			}
		}
	}
	if complements == 0 {
		t.Fatal("no pair took the complement")
	}
}

// TestAllPairsComplement: layers that keep most of their directions (99%
// of spread variance) go through the complements in AllPairs and still
// equal the pairwise SVCCA.
func TestAllPairsComplement(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n = 40
	reps := []mat.Matrix{densetest.Normal(rng, n, 80), densetest.Normal(rng, n, 60), densetest.Normal(rng, n, 35)}
	mixed := densetest.Normal(rng, n, 80)
	var shared mat.Dense
	shared.Mul(reps[0], densetest.Normal(rng, 80, 80))
	mixed.Add(mixed, &shared)
	reps = append(reps, mixed)
	all, kept, err := AllPairs(reps, MeasureSVCCA, Paper)
	if err != nil {
		t.Fatal(err)
	}
	if kept[0]+kept[1] <= n {
		t.Fatalf("kept %v: the first two layers should keep more than n = %d together", kept, n)
	}
	for i := range reps {
		for j := range reps {
			r, err := SVCCA(reps[i], reps[j], Paper)
			if err != nil || math.Abs(all.At(i, j)-r.Value) > 1e-12 || kept[i] != r.KeptX {
				t.Errorf("(%d, %d): AllPairs %.15g (kept %d), pair %.15g (kept %d) %v", i, j, all.At(i, j), kept[i], r.Value, r.KeptX, err)
			}
		}
	}
}

// TestAllPairsAgainstNumpy: layers whose 99% of variance needs 25–27 of
// their 29 centred directions (n = 30), so that AllPairs takes the
// complements, against testdata/gen_ref.py's covariance-route SVCCA.
func TestAllPairsAgainstNumpy(t *testing.T) { grampaneltest.Both(t, testAllPairsAgainstNumpy) }

func testAllPairsAgainstNumpy(t *testing.T) {
	data, err := os.ReadFile("testdata/ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Spread      [][][]float64
		SpreadSVCCA [][]float64 `json:"spread_svcca"`
		SpreadKept  []int       `json:"spread_kept"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Spread) != 3 {
		t.Fatalf("ref.json has %d spread layers, want 3", len(ref.Spread))
	}
	reps := make([]mat.Matrix, len(ref.Spread))
	for i, rows := range ref.Spread {
		reps[i] = densetest.FromRows(rows)
	}
	all, kept, err := AllPairs(reps, MeasureSVCCA, Paper)
	if err != nil {
		t.Fatal(err)
	}
	n := len(ref.Spread[0])
	for i := range reps {
		if kept[i] != ref.SpreadKept[i] {
			t.Errorf("layer %d kept %d directions, numpy %d", i, kept[i], ref.SpreadKept[i])
		}
		for j := range reps {
			if i != j && kept[i]+kept[j] <= n {
				t.Errorf("layers %d and %d keep %d + %d ≤ n = %d directions: no complement", i, j, kept[i], kept[j], n)
			}
			if got, want := all.At(i, j), ref.SpreadSVCCA[i][j]; math.Abs(got-want) > 1e-9 {
				t.Errorf("(%d, %d): %.15g, numpy %.15g", i, j, got, want)
			}
		}
	}
}

// TestSVCCAScale: SVCCA and PWCCA do not see the scale, down to 1e-300 and
// up to 1e300, where the Gram matrix's squares and the SVD's norms would
// underflow or overflow.
func TestSVCCAScale(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	x, y := densetest.Normal(rng, 30, 50), densetest.Normal(rng, 30, 20)
	want, err := SVCCA(x, y, Paper)
	if err != nil {
		t.Fatal(err)
	}
	// PWCCA on layers wider than tall of rank below n − 1, where it is
	// not 1 by rank.
	var px, py mat.Dense
	px.Mul(densetest.Normal(rng, 30, 6), densetest.Normal(rng, 6, 45))
	py.Mul(densetest.Normal(rng, 30, 5), densetest.Normal(rng, 5, 40))
	// Entries below 1 in magnitude, so that times 1e307 and centred they
	// stay finite.
	px.Scale(1/(2*mat.Norm(&px, math.Inf(1))), &px)
	py.Scale(1/(2*mat.Norm(&py, math.Inf(1))), &py)
	wantPW, err := PWCCA(&px, &py)
	if err != nil || wantPW.Value > 0.9 {
		t.Fatalf("PWCCA %v (%v): want a value well below 1 for this test", wantPW.Value, err)
	}
	for _, c := range []float64{1e-300, 1e-160, 1e160, 1e300, 1e307} {
		var xs, ys mat.Dense
		xs.Scale(c, x)
		ys.Scale(c, y)
		got, err := SVCCA(&xs, &ys, Paper)
		if err != nil || math.Abs(got.Value-want.Value) > 1e-12 || got.KeptX != want.KeptX || got.KeptY != want.KeptY {
			t.Errorf("scale %g: %v (kept %d, %d) %v, at 1: %v (kept %d, %d)", c, got.Value, got.KeptX, got.KeptY, err, want.Value, want.KeptX, want.KeptY)
		}
		var pxs, pys mat.Dense
		pxs.Scale(c, &px)
		pys.Scale(c, &py)
		gotPW, err := PWCCA(&pxs, &pys)
		if err != nil || math.Abs(gotPW.Value-wantPW.Value) > 1e-12 {
			t.Errorf("scale %g: PWCCA %v (%v), at 1: %v", c, gotPW.Value, err, wantPW.Value)
		}
	}
}

// TestAllPairsFullRank: a layer of rank n − 1 (d ≥ n) spans the centred
// space, so every pair it is in has PWCCA 1, which AllPairs gives without
// an SVD; the pairwise PWCCA, which computes it, agrees.
func TestAllPairsFullRank(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	const n = 24
	reps := []mat.Matrix{densetest.Normal(rng, n, 30), densetest.Normal(rng, n, 6), densetest.Normal(rng, n, 40), densetest.Normal(rng, n, 9)}
	all, kept, err := AllPairs(reps, MeasurePWCCA, Keep{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{n - 1, 6, n - 1, 9}; !slices.Equal(kept, want) {
		t.Fatalf("ranks %v, want %v", kept, want)
	}
	for i := range reps {
		for j := range reps {
			r, err := PWCCA(reps[i], reps[j])
			if err != nil || math.Abs(all.At(i, j)-r.Value) > 1e-12 {
				t.Errorf("(%d, %d): AllPairs %.15g, pair %.15g %v", i, j, all.At(i, j), r.Value, err)
			}
			if full := max(kept[i], kept[j]) == n-1; i != j && full != (all.At(i, j) == 1) {
				t.Errorf("(%d, %d): ranks %d and %d, PWCCA %v", i, j, kept[i], kept[j], all.At(i, j))
			}
		}
	}
}

// TestAllPairsProgress: the reports rise to the number of layers and pairs,
// the values equal AllPairs', and a done context stops the job with its
// error.
func TestAllPairsProgress(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	reps := []mat.Matrix{densetest.Normal(rng, 30, 8), densetest.Normal(rng, 30, 40), densetest.Normal(rng, 30, 12)}
	for _, c := range []struct {
		m     Measure
		total int
	}{{MeasureSVCCA, 3 + 6}, {MeasurePWCCA, 3 + 9}} {
		var last int
		got, _, err := AllPairsProgress(context.Background(), reps, c.m, Paper, func(done, total int) {
			if total != c.total || done < last {
				t.Errorf("measure %d: report %d of %d after %d, want a total of %d", c.m, done, total, last, c.total)
			}
			last = done
		})
		if err != nil {
			t.Fatal(err)
		}
		if last != c.total {
			t.Errorf("measure %d: last report %d, want %d", c.m, last, c.total)
		}
		want, _, _ := AllPairs(reps, c.m, Paper)
		if !mat.Equal(got, want) {
			t.Errorf("measure %d: %v, AllPairs %v", c.m, mat.Formatted(got), mat.Formatted(want))
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, _, err := AllPairsProgress(ctx, reps, c.m, Paper, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("measure %d, cancelled: %v", c.m, err)
		}
	}
}
