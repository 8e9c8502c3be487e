package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/outliers"
)

// TestCompareOutlierFlags checks that --drop-top, --clip-quantile and
// --top-dims reach package outliers (checked there against numpy and torch)
// in that order, and that bad values are errors.
func TestCompareOutlierFlags(t *testing.T) {
	x, err := readDense("testdata/x.npy")
	if err != nil {
		t.Fatal(err)
	}
	y, err := readDense("testdata/y.npy")
	if err != nil {
		t.Fatal(err)
	}
	xd, dx, err := outliers.DropTop(x, 1)
	if err != nil {
		t.Fatal(err)
	}
	yd, dy, err := outliers.DropTop(y, 1)
	if err != nil {
		t.Fatal(err)
	}
	xp, _ := outliers.Prepare(xd, 0.9, outliers.Exact)
	yp, _ := outliers.Prepare(yd, 0.9, outliers.Exact)
	want, err := cka.Linear(xp, yp)
	if err != nil {
		t.Fatal(err)
	}
	with, without, err := outliers.Dependence(xp, yp, 2, cka.Linear)
	if err != nil {
		t.Fatal(err)
	}
	out := captureStdout(t, func() error {
		return runCompare([]string{"--measure", "cka", "--drop-top", "1", "--clip-quantile", "0.9", "--clip-method", "exact", "--top-dims", "2", "testdata/x.npy", "testdata/y.npy"})
	})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("output %q: want 3 lines", out)
	}
	if w := fmt.Sprintf("dropped the top-variance columns %v of X and %v of Y", dx, dy); lines[0] != w {
		t.Errorf("line 1 %q, want %q", lines[0], w)
	}
	if w := fmt.Sprintf("top dimensions: %.6g with all, %.6g without the top 2", with, without); !strings.HasPrefix(lines[1], w) || with == without {
		t.Errorf("line 2 %q, want it to start %q (with ≠ without)", lines[1], w)
	}
	if got, err := strconv.ParseFloat(lines[2], 64); err != nil || math.Abs(got-want) > 1e-15 {
		t.Errorf("value %q, want %.17g", lines[2], want)
	}
	for _, bad := range [][]string{
		{"--clip-quantile", "1.5"},
		{"--clip-method", "median", "--clip-quantile", "0.9"},
		{"--drop-top", "-1"},
		{"--top-dims", "100000"},
	} {
		args := append(append([]string{"--measure", "cka"}, bad...), "testdata/x.npy", "testdata/y.npy")
		if err := runCompare(args); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
