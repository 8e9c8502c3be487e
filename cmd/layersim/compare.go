package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio"
	"gonum.org/v1/gonum/mat"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/calibrate"
	"github.com/layersim/layersim/lcka/cca"
	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/knn"
	"github.com/layersim/layersim/lcka/procrustes"
	"github.com/layersim/layersim/lcka/rsa"
	"github.com/layersim/layersim/lcka/shape"
	"github.com/layersim/layersim/lcka/study"
)

func init() {
	commands["compare"] = command{summary: "one similarity measure between two [n, d] .npy matrices", run: runCompare}
}

const measuresHelp = "cka, cka-standardized, cka-debiased, cka-minibatch:<b>, cka-rbf:<t>, rsa-<spearman|pearson|kendall-tau-a|kendall-tau-b|rho-a|whitened-cosine|whitened-correlation>:<cosine|correlation|euclidean>, procrustes, " + study.ExtraMeasuresHelp

func runCompare(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	measure := fs.String("measure", "cka-standardized", "the measure: "+measuresHelp)
	null := fs.Int("null", 0, "also score `N` permutations of Y's rows and print the null's mean, spread, the calibrated value (score − mean)/spread and the permutation p-value")
	seed := fs.Uint64("seed", 1, "seed of the --null permutations")
	rogue := outlierFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: layersim compare [--measure M] [--null N] [--drop-top K] [--clip-quantile Q] [--top-dims K] X.npy Y.npy\n\nPrints the measure between two matrices with the same rows (inputs);\nthe number alone is on the last line. cka-minibatch:<b> averages the\nunbiased HSIC over consecutive batches of b rows, in file order (a last\nbatch of fewer than 4 rows is left out, and said so).\n\n")
		fs.PrintDefaults()
	}
	backendName := backendFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := useBackend(*backendName); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return errors.New("want two .npy files")
	}
	// The measure costs nothing to check: before the files are read.
	f, err := parseCompareMeasure(*measure)
	if err != nil {
		return err
	}
	x, err := readDense(fs.Arg(0))
	if err != nil {
		return err
	}
	y, err := readDense(fs.Arg(1))
	if err != nil {
		return err
	}
	if x, y, err = rogue.prepare(x, y); err != nil {
		return err
	}
	v, err := f(x, y)
	if err != nil {
		return err
	}
	if err := rogue.report(x, y, f); err != nil {
		return err
	}
	if *null != 0 {
		compareNotes = false // the directions kept were said once
		r, err := calibrate.Calibrate(x, y, calibrate.Measure(f), calibrate.Options{Permutations: *null, Seed: *seed})
		compareNotes = true
		if err != nil {
			return err
		}
		fmt.Printf("null: mean %.6g, sd %.6g over %d permutations of Y's rows (seed %d); calibrated %.4g, p = %.4g\n", r.NullMean, r.NullSD, r.Permutations, *seed, r.Calibrated, r.P)
	}
	fmt.Println(strconv.FormatFloat(v, 'g', 17, 64))
	return nil
}

// compareNotes says whether svcca and pwcca print the directions they kept.
var compareNotes = true

// measureFunc computes one measure between two matrices with the same rows.
type measureFunc func(x, y mat.Matrix) (float64, error)

// compare computes one named measure.
func compare(measure string, x, y mat.Matrix) (float64, error) {
	f, err := parseCompareMeasure(measure)
	if err != nil {
		return 0, err
	}
	return f(x, y)
}

// parseCompareMeasure checks a measure name and its parameter and returns the
// measure; unknown names get the list of known ones.
func parseCompareMeasure(measure string) (measureFunc, error) {
	if f, ok, err := parseNeighbourCCAShape(measure); ok {
		return f, err
	}
	switch {
	case measure == "cka":
		return cka.Linear, nil
	case measure == "cka-standardized":
		return cka.Standardized, nil
	case measure == "cka-debiased":
		return cka.Debiased, nil
	case strings.HasPrefix(measure, "cka-minibatch:"):
		b, err := strconv.Atoi(strings.TrimPrefix(measure, "cka-minibatch:"))
		if err != nil || b < 4 {
			return nil, fmt.Errorf("measure %q: the batch size must be an integer ≥ 4", measure)
		}
		return func(x, y mat.Matrix) (float64, error) { return minibatchCKA(x, y, b) }, nil
	case strings.HasPrefix(measure, "cka-rbf:"):
		t, err := strconv.ParseFloat(strings.TrimPrefix(measure, "cka-rbf:"), 64)
		if err != nil {
			return nil, fmt.Errorf("measure %q: the threshold is not a number", measure)
		}
		return func(x, y mat.Matrix) (float64, error) { return cka.RBF(x, y, t) }, nil
	case strings.HasPrefix(measure, "rsa-"):
		if c, d, err := rsa.ParseRDMMethod(measure); err == nil {
			return func(x, y mat.Matrix) (float64, error) { return rsa.CompareWith(x, y, d, c) }, nil
		}
		m, err := rsa.ParseMethod(measure)
		if err != nil {
			return nil, err
		}
		return func(x, y mat.Matrix) (float64, error) { return rsa.Compare(x, y, m.Dissimilarity, m.Comparison) }, nil
	case measure == "procrustes":
		return procrustes.Distance, nil
	}
	return nil, fmt.Errorf("unknown measure %q; known: %s", measure, measuresHelp)
}

// parseNeighbourCCAShape parses the measures of packages knn, cca and shape
// (study.ParseExtraMeasure, the names `analyze --also` takes); ok says
// whether measure names one of them. mutual-knn and cknna use cosine
// similarity (rows L2-normalized, as platonic-rep does). svcca keeps 99% of
// the variance, svcca:<fraction> another fraction, svcca:<count> a number of
// directions; svcca and pwcca print the directions kept on the line before
// the value. shape:<alpha> is the angular shape distance in radians.
func parseNeighbourCCAShape(measure string) (f measureFunc, ok bool, err error) {
	e, err := study.ParseExtraMeasure(measure)
	if errors.Is(err, study.ErrUnknownMeasure) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	k, keep, a := e.K(), e.Keep(), e.Alpha()
	switch e.Kind() {
	case "cknna":
		return func(x, y mat.Matrix) (float64, error) { return knn.CKNNA(x, y, k, knn.Cosine) }, true, nil
	case "mutual-knn":
		return func(x, y mat.Matrix) (float64, error) { return knn.MutualKNN(x, y, k, knn.Cosine) }, true, nil
	case "svcca":
		return func(x, y mat.Matrix) (float64, error) {
			r, err := cca.SVCCA(x, y, keep)
			if err != nil {
				return 0, err
			}
			how := fmt.Sprintf("%g of the variance", keep.Variance)
			if keep.Count != 0 {
				how = fmt.Sprintf("at most %d asked", keep.Count)
			}
			if !compareNotes {
				return r.Value, nil
			}
			fmt.Printf("svcca: kept %d of %d directions of x and %d of %d of y (%s); %d canonical correlations\n", r.KeptX, r.DimX, r.KeptY, r.DimY, how, len(r.Correlations))
			return r.Value, nil
		}, true, nil
	case "pwcca":
		return func(x, y mat.Matrix) (float64, error) {
			r, err := cca.PWCCA(x, y)
			if err != nil {
				return 0, err
			}
			if !compareNotes {
				return r.Value, nil
			}
			fmt.Printf("pwcca: ranks %d of %d columns of x and %d of %d of y; %d canonical correlations\n", r.KeptX, r.DimX, r.KeptY, r.DimY, len(r.Correlations))
			return r.Value, nil
		}, true, nil
	case "shape":
		return func(x, y mat.Matrix) (float64, error) { return shape.Angular(x, y, a) }, true, nil
	}
	return nil, true, fmt.Errorf("measure %q: kind %q has no pairwise function", measure, e.Kind())
}

// minibatchCKA is the minibatch CKA (Nguyen et al. 2021) over consecutive
// batches of b rows; a last batch of fewer than 4 rows is left out, with a
// note on standard error.
func minibatchCKA(x, y mat.Matrix, b int) (float64, error) {
	n, _ := x.Dims()
	if ny, _ := y.Dims(); ny != n {
		return 0, fmt.Errorf("the matrices have %d and %d rows: they must hold the same inputs", n, ny)
	}
	xd, yd := mat.DenseCopyOf(x), mat.DenseCopyOf(y)
	_, cx := xd.Dims()
	_, cy := yd.Dims()
	var m cka.Minibatch
	for s := 0; s < n; s += b {
		e := min(n, s+b)
		if e-s < 4 {
			fmt.Fprintf(os.Stderr, "layersim: the last %d rows make a batch of fewer than 4 and are left out\n", e-s)
			break
		}
		if err := m.Add(xd.Slice(s, e, 0, cx), yd.Slice(s, e, 0, cy)); err != nil {
			return 0, err
		}
	}
	if m.Batches() == 0 {
		return 0, fmt.Errorf("minibatch CKA needs at least 4 rows, got %d", n)
	}
	return m.CKA()
}

// readDense reads a 2-D .npy file. Float64 files keep their values; float32
// and float16 ones are widened to float64. The measures then all compute in
// float64.
func readDense(path string) (*mat.Dense, error) {
	// artifacts checks the file (header, shape, size) with clear errors.
	m, err := artifacts.ReadNPY(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := npyio.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !strings.HasSuffix(strings.Trim(r.Header.Descr.Type, "'\""), "f8") { // '<f8' or '>f8'
		return cka.Matrix(m).Dense(), nil
	}
	var d mat.Dense
	if err := r.Read(&d); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if rows, cols := d.Dims(); rows != m.Rows || cols != m.Cols {
		return nil, fmt.Errorf("%s: read as %d×%d, its header says %d×%d", path, rows, cols, m.Rows, m.Cols)
	}
	return &d, nil
}
