package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/layersim/layersim/plots"
)

func init() {
	commands["report"] = command{summary: "one HTML page with every chart and table of an analysis results folder", run: runReport}
}

func runReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: layersim report --results DIR [--out FILE]\n\n"+
			"Writes a self-contained HTML report (tables of metrics.json, the 3D projector,\n"+
			"layer-wise curves, distance histograms and heatmaps) of a folder written by\n"+
			"layersim analyze. The charts need no network when viewed; building the report\n"+
			"needs the ECharts bundles that scripts/setup installs (or "+plots.JSDirEnv+").\n\nflags:")
		fs.PrintDefaults()
	}
	results := fs.String("results", "", "results folder written by layersim analyze (holds metrics.json)")
	out := fs.String("out", "", "report file (default RESULTS/report.html)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *results == "" {
		fs.Usage()
		return errors.New("--results is required")
	}
	path := *out
	if path == "" {
		path = filepath.Join(*results, "report.html")
	}
	if err := plots.WriteReport(*results, path); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "wrote", path)
	return nil
}
