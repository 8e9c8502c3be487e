package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/procrustes"
	"github.com/layersim/layersim/lcka/rsa"
)

func init() {
	commands["compare"] = command{summary: "one similarity measure between two [n, d] .npy matrices", run: runCompare}
}

const measuresHelp = "cka, cka-standardized, cka-debiased, cka-rbf:<t>, rsa-<spearman|pearson|kendall-tau-a>:<cosine|correlation|euclidean>, procrustes"

func runCompare(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	measure := fs.String("measure", "cka-standardized", "the measure: "+measuresHelp)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: layersim compare [--measure M] X.npy Y.npy\n\nPrints the measure between two matrices with the same rows (inputs);\nthe number alone is on the last line.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return errors.New("want two .npy files")
	}
	x, err := readDense(fs.Arg(0))
	if err != nil {
		return err
	}
	y, err := readDense(fs.Arg(1))
	if err != nil {
		return err
	}
	v, err := compare(*measure, x, y)
	if err != nil {
		return err
	}
	fmt.Println(strconv.FormatFloat(v, 'g', 17, 64))
	return nil
}

// compare computes one named measure.
func compare(measure string, x, y mat.Matrix) (float64, error) {
	switch {
	case measure == "cka":
		return cka.Linear(x, y)
	case measure == "cka-standardized":
		return cka.Standardized(x, y)
	case measure == "cka-debiased":
		return cka.Debiased(x, y)
	case strings.HasPrefix(measure, "cka-rbf:"):
		t, err := strconv.ParseFloat(strings.TrimPrefix(measure, "cka-rbf:"), 64)
		if err != nil {
			return 0, fmt.Errorf("measure %q: the threshold is not a number", measure)
		}
		return cka.RBF(x, y, t)
	case strings.HasPrefix(measure, "rsa-"):
		m, err := rsa.ParseMethod(measure)
		if err != nil {
			return 0, err
		}
		return rsa.Compare(x, y, m.Dissimilarity, m.Comparison)
	case measure == "procrustes":
		return procrustes.Distance(x, y)
	}
	return 0, fmt.Errorf("unknown measure %q; known: %s", measure, measuresHelp)
}

func readDense(path string) (*mat.Dense, error) {
	m, err := artifacts.ReadNPY(path)
	if err != nil {
		return nil, err
	}
	d := make([]float64, len(m.Data))
	for i, v := range m.Data {
		d[i] = float64(v)
	}
	return mat.NewDense(m.Rows, m.Cols, d), nil
}
