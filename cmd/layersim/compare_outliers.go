package main

import (
	"flag"
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/outliers"
)

// rogueOptions are compare's options for outlier ("rogue") dimensions.
type rogueOptions struct {
	dropTop  *int
	quantile *float64
	method   *string
	topDims  *int
}

func outlierFlags(fs *flag.FlagSet) *rogueOptions {
	return &rogueOptions{
		dropTop:  fs.Int("drop-top", 0, "drop the `K` columns of largest variance of each matrix first"),
		quantile: fs.Float64("clip-quantile", 0, "clip each matrix at the `Q`-quantile of its |values| and scale every row to unit L2 norm, as platonic-rep prepares features (0: off; they use 0.95)"),
		method:   fs.String("clip-method", "row-mean", "the --clip-quantile threshold: row-mean (each row's quantile, averaged; platonic-rep's default) or exact (of all values; their --precise)"),
		topDims:  fs.Int("top-dims", 0, "also print the measure without the `K` top-variance dimensions of each matrix (after the options above)"),
	}
}

// prepare applies --drop-top, then --clip-quantile.
func (o *rogueOptions) prepare(x, y *mat.Dense) (*mat.Dense, *mat.Dense, error) {
	var m outliers.Quantile
	switch *o.method {
	case "row-mean":
		m = outliers.RowMean
	case "exact":
		m = outliers.Exact
	default:
		return nil, nil, fmt.Errorf("--clip-method %q: want row-mean or exact", *o.method)
	}
	if *o.dropTop < 0 || *o.topDims < 0 || *o.quantile < 0 {
		return nil, nil, fmt.Errorf("--drop-top, --top-dims and --clip-quantile must not be negative")
	}
	if *o.dropTop > 0 {
		var err error
		var dx, dy []int
		if x, dx, err = outliers.DropTop(x, *o.dropTop); err != nil {
			return nil, nil, fmt.Errorf("--drop-top, X: %w", err)
		}
		if y, dy, err = outliers.DropTop(y, *o.dropTop); err != nil {
			return nil, nil, fmt.Errorf("--drop-top, Y: %w", err)
		}
		fmt.Printf("dropped the top-variance columns %v of X and %v of Y\n", dx, dy)
	}
	if *o.quantile > 0 {
		var err error
		if x, err = outliers.Prepare(x, *o.quantile, m); err != nil {
			return nil, nil, fmt.Errorf("--clip-quantile, X: %w", err)
		}
		if y, err = outliers.Prepare(y, *o.quantile, m); err != nil {
			return nil, nil, fmt.Errorf("--clip-quantile, Y: %w", err)
		}
	}
	return x, y, nil
}

// report prints, for --top-dims K, the measure with and without the K
// top-variance dimensions of each matrix.
func (o *rogueOptions) report(x, y *mat.Dense, f measureFunc) error {
	k := *o.topDims
	if k == 0 {
		return nil
	}
	prev := compareNotes
	compareNotes = false
	defer func() { compareNotes = prev }()
	with, without, err := outliers.Dependence(x, y, k, outliers.Measure(f))
	if err != nil {
		return fmt.Errorf("--top-dims: %w", err)
	}
	fmt.Printf("top dimensions: %.6g with all, %.6g without the top %d variance dimensions of each (change %+.4g)\n", with, without, k, without-with)
	return nil
}
