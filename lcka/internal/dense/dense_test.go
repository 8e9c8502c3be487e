package dense

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestChecked(t *testing.T) {
	good := mat.NewDense(2, 2, []float64{1, 2, 3, 4})
	if d, err := Checked(good, "x"); err != nil || d != good {
		t.Errorf("good input: %v, copied: %v", err, d != good)
	}
	if d, err := Checked(good.T(), "x"); err != nil || d.At(0, 1) != 3 {
		t.Errorf("transposed input: %v", err)
	}
	for _, c := range []struct {
		x   mat.Matrix
		msg string
	}{
		{nil, "x is nil"},
		{&mat.Dense{}, "x is empty"},
		{mat.NewDense(2, 2, []float64{1, math.NaN(), 3, 4}), "x has non-finite value NaN at row 0, column 1"},
		{mat.NewDense(1, 2, []float64{math.Inf(1), 0}), "x has non-finite value +Inf at row 0, column 0"},
	} {
		if _, err := Checked(c.x, "x"); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("error %v, want %q", err, c.msg)
		}
	}
}

func TestCenteredColumns(t *testing.T) {
	x := mat.NewDense(3, 2, []float64{1, 10, 2, 20, 6, 30})
	got := CenteredColumns(x)
	want := mat.NewDense(3, 2, []float64{-2, -10, -1, 0, 3, 10})
	if !mat.Equal(got, want) {
		t.Errorf("centered %v, want %v", mat.Formatted(got), mat.Formatted(want))
	}
	if x.At(0, 0) != 1 {
		t.Error("the input was changed")
	}
}

// TestTranspose: every entry lands at (j, i), for shapes around the tile.
func TestTranspose(t *testing.T) {
	for _, c := range [][2]int{{1, 1}, {1, 70}, {70, 1}, {31, 33}, {32, 32}, {65, 40}, {100, 300}} {
		rows, cols := c[0], c[1]
		src := make([]float64, rows*cols)
		for i := range src {
			src[i] = float64(i) + 0.5
		}
		dst := make([]float64, rows*cols)
		Transpose(dst, src, rows, cols)
		for i := range rows {
			for j := range cols {
				if dst[j*rows+i] != src[i*cols+j] {
					t.Fatalf("%d×%d: (%d, %d) = %v, want %v", rows, cols, j, i, dst[j*rows+i], src[i*cols+j])
				}
			}
		}
	}
}

// TestCheckedLarge: the vector pass over a whole matrix, and row by row
// over a view whose rows are not contiguous, finds a non-finite value
// anywhere and names it; one outside the view does not count.
func TestCheckedLarge(t *testing.T) {
	x := mat.NewDense(40, 50, nil)
	for i := range 40 {
		for j := range 50 {
			x.Set(i, j, float64(i-j))
		}
	}
	if _, err := Checked(x, "x"); err != nil {
		t.Fatal(err)
	}
	x.Set(39, 10, math.Inf(-1))
	if _, err := Checked(x, "x"); err == nil || !strings.Contains(err.Error(), "-Inf at row 39, column 10") {
		t.Errorf("whole: %v", err)
	}
	view := x.Slice(0, 40, 11, 50)
	if _, err := Checked(view, "x"); err != nil {
		t.Errorf("view past the -Inf: %v", err)
	}
	x.Set(17, 30, math.NaN())
	if _, err := Checked(view, "x"); err == nil || !strings.Contains(err.Error(), "NaN at row 17, column 19") {
		t.Errorf("view: %v", err)
	}
}

// TestScaleToPeak: the largest magnitude lands in [½, 1) by an exact power
// of two, the one returned (every value's ratio to its old self is the
// same), for peaks that are powers of two, in between, huge and subnormal;
// zeros stay.
func TestScaleToPeak(t *testing.T) {
	for _, peak := range []float64{1, 3, 0.75, 1e300, 1e-300, 5e-320} {
		v := []float64{peak, -peak / 3, 0, peak / 7}
		orig := append([]float64(nil), v...)
		p := ScaleToPeak(v)
		if !(v[0] >= 0.5 && v[0] < 1) {
			t.Errorf("peak %g: scaled to %g", peak, v[0])
		}
		_, e1 := math.Frexp(v[0])
		_, e0 := math.Frexp(orig[0])
		for i := range v {
			if want := math.Ldexp(orig[i], e1-e0); v[i] != want {
				t.Errorf("peak %g: v[%d] = %g, want %g (times 2^%d)", peak, i, v[i], want, e1-e0)
			}
		}
		if p != math.Ldexp(1, e0-e1) {
			t.Errorf("peak %g: returned %g, want 2^%d", peak, p, e0-e1)
		}
	}
	z := []float64{0, 0}
	if ScaleToPeak(z) != 0 || z[0] != 0 || z[1] != 0 {
		t.Error("zeros")
	}
}

// TestWeightedResample: the products of two layers' weighted distinct rows
// equal those of their centred resamples, with one row per distinct index;
// a row out of range or an empty draw is an error.
func TestWeightedResample(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x, y := mat.NewDense(9, 3, nil), mat.NewDense(9, 4, nil)
	for _, m := range []*mat.Dense{x, y} {
		r, c := m.Dims()
		for i := range r {
			for j := range c {
				m.Set(i, j, rng.NormFloat64()+float64(j))
			}
		}
	}
	for _, idx := range [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 5, 0, 2, 8, 8, 1, 5}, {7, 3, 7}} {
		xw, err := WeightedResample(x, idx)
		if err != nil {
			t.Fatal(err)
		}
		yw, err := WeightedResample(y, idx)
		if err != nil {
			t.Fatal(err)
		}
		distinct := map[int]bool{}
		for _, i := range idx {
			distinct[i] = true
		}
		if r, _ := xw.Dims(); r != len(distinct) {
			t.Errorf("%v: %d rows, want %d", idx, r, len(distinct))
		}
		xr, yr := mat.NewDense(len(idx), 3, nil), mat.NewDense(len(idx), 4, nil)
		for r, i := range idx {
			xr.SetRow(r, x.RawRowView(i))
			yr.SetRow(r, y.RawRowView(i))
		}
		var want, got mat.Dense
		want.Mul(CenteredColumns(xr).T(), CenteredColumns(yr))
		got.Mul(xw.T(), yw)
		if !mat.EqualApprox(&got, &want, 1e-12) {
			t.Errorf("%v: product\n%v\nwant\n%v", idx, mat.Formatted(&got), mat.Formatted(&want))
		}
	}
	for _, idx := range [][]int{nil, {0, 9}, {-1}} {
		if _, err := WeightedResample(x, idx); err == nil {
			t.Errorf("%v: no error", idx)
		}
	}
}
