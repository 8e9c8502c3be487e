package dense

import (
	"math"
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
