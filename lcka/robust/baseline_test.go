package robust

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/cka"
)

func TestRandomSubsets(t *testing.T) {
	subs, err := RandomSubsets(30, 12, 50, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 50 {
		t.Fatalf("%d subsets, want 50", len(subs))
	}
	counts := make([]int, 30)
	for i, s := range subs {
		if len(s) != 12 || !slices.IsSorted(s) || s[0] < 0 || s[11] >= 30 || len(slices.Compact(slices.Clone(s))) != 12 {
			t.Errorf("subset %d: %v; want 12 distinct rows of 0…29, ascending", i, s)
		}
		for _, r := range s {
			counts[r]++
		}
	}
	// Each row is drawn with probability 12/30: 20 of the 50 subsets on
	// average (binomial sd 3.5).
	for r, c := range counts {
		if c < 5 || c > 35 {
			t.Errorf("row %d in %d of 50 subsets, want about 20", r, c)
		}
	}
	again, _ := RandomSubsets(30, 12, 50, 4)
	other, _ := RandomSubsets(30, 12, 50, 5)
	if !reflect.DeepEqual(subs, again) || reflect.DeepEqual(subs, other) {
		t.Error("the same seed does not repeat the subsets, or another seed does")
	}
	for _, c := range []struct{ n, size, count int }{{30, 0, 5}, {30, 31, 5}, {30, 10, 0}} {
		if _, err := RandomSubsets(c.n, c.size, c.count, 1); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// TestBaseline: the baseline's curves are cka.Standardized (float64, one
// pair at a time) on the rows of RandomSubsets of the length-matched
// subset's size, the same rows in both languages; mean and percentiles are
// those of the curves, per layer; a seed repeats it, the default draws
// DefaultBaselineSubsets, a negative count and a subset of every question
// skip it.
func TestBaseline(t *testing.T) {
	f := loadFixture(t)
	a, b := fixtureRoots(t, f)
	const R, seed = 7, 9
	rep, err := Compare(a, b, Options{BaselineSubsets: R, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Models[0]
	for r, root := range []string{"a", "b"} {
		lm := m.LengthMatched[r]
		bl := lm.Baseline
		if bl == nil || bl.Subsets != R || bl.Size != lm.N || bl.Seed != seed || len(bl.Curves) != R || bl.Size >= f.N {
			t.Fatalf("root %s: baseline %+v (length-matched %d of %d)", root, bl, lm.N, lm.Of)
		}
		subs, err := RandomSubsets(f.N, lm.N, R, seed)
		if err != nil {
			t.Fatal(err)
		}
		for i, rows := range subs {
			if slices.Equal(rows, lm.Rows) {
				t.Errorf("root %s: random subset %d is the length-matched one", root, i)
			}
			for k := range f.Layers {
				sub := func(lang string) *mat.Dense {
					x := cka.Matrix(toMatrix(f.States[root][lang][k], f.N, f.D)).Dense()
					out := mat.NewDense(len(rows), f.D, nil)
					for j, row := range rows {
						out.SetRow(j, x.RawRowView(row))
					}
					return out
				}
				v, err := cka.Standardized(sub("en"), sub("hi"))
				if err != nil {
					t.Fatal(err)
				}
				if !near(bl.Curves[i][k], v, ckaTol) {
					t.Errorf("root %s subset %d layer %d: %.9g, cka.Standardized on its rows %.9g", root, i, k+1, bl.Curves[i][k], v)
				}
			}
		}
		var outside []int
		for k := range f.Layers {
			var v []float64
			for _, c := range bl.Curves {
				v = append(v, c[k])
			}
			slices.Sort(v)
			// numpy's percentile, linear: h = (R−1)p between order statistics.
			pct := func(p float64) float64 {
				h := float64(R-1) * p
				i := int(math.Floor(h))
				return v[i] + (h-float64(i))*(v[i+1]-v[i])
			}
			sum := 0.0
			for _, x := range v {
				sum += x
			}
			if !near(bl.Mean[k], sum/R, 1e-15) || !near(bl.Lo[k], pct(0.025), 1e-15) || !near(bl.Hi[k], pct(0.975), 1e-15) || bl.Lo[k] > bl.Hi[k] {
				t.Errorf("root %s layer %d: mean %v, 2.5%% %v, 97.5%% %v; want %v, %v, %v", root, k+1, bl.Mean[k], bl.Lo[k], bl.Hi[k], sum/R, pct(0.025), pct(0.975))
			}
			if lm.Matched[k] < pct(0.025) || lm.Matched[k] > pct(0.975) {
				outside = append(outside, m.Layers[k])
			}
		}
		if !slices.Equal(bl.Outside, outside) || bl.Outside == nil {
			t.Errorf("root %s: outside %v, want %v", root, bl.Outside, outside)
		}
	}
	again, err := Compare(a, b, Options{BaselineSubsets: R, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	other, err := Compare(a, b, Options{BaselineSubsets: R, Seed: seed + 1})
	if err != nil {
		t.Fatal(err)
	}
	for r := range 2 {
		if !reflect.DeepEqual(again.Models[0].LengthMatched[r].Baseline, m.LengthMatched[r].Baseline) {
			t.Errorf("root %d: the same seed gives another baseline", r)
		}
		if reflect.DeepEqual(other.Models[0].LengthMatched[r].Baseline.Curves, m.LengthMatched[r].Baseline.Curves) {
			t.Errorf("root %d: another seed gives the same curves", r)
		}
	}
	def, err := Compare(a, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	none, err := Compare(a, b, Options{BaselineSubsets: -1})
	if err != nil {
		t.Fatal(err)
	}
	all, err := Compare(a, b, Options{Quantile: -1})
	if err != nil {
		t.Fatal(err)
	}
	for r := range 2 {
		if bl := def.Models[0].LengthMatched[r].Baseline; bl == nil || bl.Subsets != DefaultBaselineSubsets || len(bl.Curves) != DefaultBaselineSubsets {
			t.Errorf("root %d: default baseline %+v", r, bl)
		}
		if bl := none.Models[0].LengthMatched[r].Baseline; bl != nil {
			t.Errorf("root %d: a baseline with a negative count", r)
		}
		if bl := all.Models[0].LengthMatched[r].Baseline; bl != nil {
			t.Errorf("root %d: a baseline for a subset of every question", r)
		}
	}
	if notes := strings.Join(all.Notes, "\n"); !strings.Contains(notes, "m root A: no subsampling baseline") {
		t.Errorf("notes %q lack the skipped baseline", notes)
	}
}
