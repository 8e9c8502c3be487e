package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestCompareAgainstNumpy checks every measure of `layersim compare` on the
// values testdata/gen_compare.py computed with numpy and scipy.
func TestCompareAgainstNumpy(t *testing.T) {
	data, err := os.ReadFile("testdata/compare_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Values map[string]float64 `json:"values"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	x, err := readDense("testdata/x.npy")
	if err != nil {
		t.Fatal(err)
	}
	y, err := readDense("testdata/y.npy")
	if err != nil {
		t.Fatal(err)
	}
	for measure, want := range ref.Values {
		got, err := compare(measure, x, y)
		if err != nil {
			t.Errorf("%s: %v", measure, err)
			continue
		}
		if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %.15g, numpy/scipy %.15g", measure, got, want)
		}
	}
}

// TestCompareFloat64 checks that float64 inputs are compared in float64:
// testdata/gen_compare64.py computed the values with numpy in float64 on
// values that float32 cannot hold (y64.npy is in Fortran order).
func TestCompareFloat64(t *testing.T) {
	data, err := os.ReadFile("testdata/compare64_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Values map[string]float64 `json:"values"`
	}
	if err := json.Unmarshal(data, &ref); err != nil || len(ref.Values) != 3 {
		t.Fatalf("compare64_ref.json: %v, %d values", err, len(ref.Values))
	}
	x, err := readDense("testdata/x64.npy")
	if err != nil {
		t.Fatal(err)
	}
	y, err := readDense("testdata/y64.npy")
	if err != nil {
		t.Fatal(err)
	}
	if v := x.At(0, 0); float64(float32(v)) == v {
		t.Fatalf("x64.npy[0, 0] = %v is a float32 value: the file was read through float32", v)
	}
	for measure, want := range ref.Values {
		got, err := compare(measure, x, y)
		if err != nil {
			t.Errorf("%s: %v", measure, err)
			continue
		}
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %.17g, numpy float64 %.17g (off by %.2g)", measure, got, want, got-want)
		}
	}
}

func TestCompareCommandOutput(t *testing.T) {
	out := captureStdout(t, func() error {
		return runCompare([]string{"--measure", "cka", "testdata/x.npy", "testdata/y.npy"})
	})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	v, err := strconv.ParseFloat(lines[len(lines)-1], 64)
	if err != nil || v <= 0 || v >= 1 {
		t.Errorf("last line %q is not a CKA value", lines[len(lines)-1])
	}
	for _, bad := range [][]string{
		{"--measure", "nope", "testdata/x.npy", "testdata/y.npy"},
		{"--measure", "cka-rbf:abc", "testdata/x.npy", "testdata/y.npy"},
		{"--measure", "cka-minibatch:3", "testdata/x.npy", "testdata/y.npy"},
		{"--measure", "cka-minibatch:x", "testdata/x.npy", "testdata/y.npy"},
		{"testdata/x.npy"},
		{"testdata/x.npy", "testdata/missing.npy"},
		{"testdata/x.npy", "testdata/compare_ref.json"},
	} {
		if err := runCompare(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	// A bad measure is reported before a missing file, with the known names.
	err = runCompare([]string{"--measure", "foo", "testdata/missing-a.npy", "testdata/missing-b.npy"})
	if err == nil || !strings.Contains(err.Error(), `unknown measure "foo"`) || !strings.Contains(err.Error(), "cka-standardized") {
		t.Errorf("bad measure and missing files: %v, want the unknown measure and the known names", err)
	}
	err = runCompare([]string{"--measure", "cka-minibatch:2", "testdata/missing-a.npy", "testdata/missing-b.npy"})
	if err == nil || !strings.Contains(err.Error(), "batch size") {
		t.Errorf("bad minibatch size and missing files: %v, want the batch size error", err)
	}
}

func captureStdout(t *testing.T, fn func() error) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	errc := make(chan error, 1)
	go func() { errc <- fn(); w.Close() }()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	os.Stdout = old
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestCompareMeasures15 checks the nearest-neighbour, CCA, shape and further
// RSA measures of `layersim compare` on the values testdata/gen_compare15.py
// computed with the packages' numpy references.
func TestCompareMeasures15(t *testing.T) {
	data, err := os.ReadFile("testdata/compare15_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Values map[string]float64 `json:"values"`
		Kept   map[string][2]int  `json:"svcca_kept"`
	}
	if err := json.Unmarshal(data, &ref); err != nil || len(ref.Values) != 23 {
		t.Fatalf("compare15_ref.json: %v, %d values", err, len(ref.Values))
	}
	x, err := readDense("testdata/x.npy")
	if err != nil {
		t.Fatal(err)
	}
	y, err := readDense("testdata/y.npy")
	if err != nil {
		t.Fatal(err)
	}
	for measure, want := range ref.Values {
		got, err := compare(measure, x, y)
		if err != nil {
			t.Errorf("%s: %v", measure, err)
			continue
		}
		if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %.15g, numpy %.15g", measure, got, want)
		}
	}
	// svcca states the directions it kept before the value.
	out := captureStdout(t, func() error {
		return runCompare([]string{"--measure", "svcca", "testdata/x.npy", "testdata/y.npy"})
	})
	k := ref.Kept["svcca"]
	if want := fmt.Sprintf("kept %d of 20 directions of x and %d of 12 of y", k[0], k[1]); !strings.Contains(out, want) {
		t.Errorf("svcca output %q does not say %q", out, want)
	}
	// --null puts the permutation null next to the score, on the line before.
	out = captureStdout(t, func() error {
		return runCompare([]string{"--measure", "svcca", "--null", "20", "testdata/x.npy", "testdata/y.npy"})
	})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || strings.Count(out, "svcca: kept") != 1 || !strings.HasPrefix(lines[1], "null: mean ") || !strings.Contains(lines[1], "over 20 permutations") {
		t.Errorf("svcca --null 20 printed %q; want the directions once, the null line, the value", out)
	}
	if v, err := strconv.ParseFloat(lines[len(lines)-1], 64); err != nil || math.Abs(v-ref.Values["svcca"]) > 1e-9 {
		t.Errorf("svcca --null: last line %q, want %v", lines[len(lines)-1], ref.Values["svcca"])
	}
	if err := runCompare([]string{"--measure", "cka", "--null", "1", "testdata/x.npy", "testdata/y.npy"}); err == nil {
		t.Error("--null 1: no error")
	}
	for _, bad := range []string{"mutual-knn", "mutual-knn:0", "cknna:x", "svcca:abc", "svcca:1.5", "svcca:0", "pwcca:3", "shape", "shape:2", "rsa-rho-a:manhattan", "cknna:40"} {
		if _, err := compare(bad, x, y); err == nil {
			t.Errorf("measure %q: no error", bad)
		}
	}
}
