package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/layersim/layersim/lcka/tinymodels"
)

func init() {
	commands["make-models"] = command{summary: "write the built-in tiny models as Hugging Face folders", run: runMakeModels}
}

func runMakeModels(args []string) error { return makeModels(args, os.Stdout) }

// makeModels writes the tiny models and prints their folders on w.
func makeModels(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("make-models", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: layersim make-models --out DIR [--sizes %s] [--seed N]\n\n"+
			"Writes each tiny model (config.json, model.safetensors, tokenizer.json,\n"+
			"tokenizer_config.json) to DIR/<size>.\n\n", strings.Join(tinymodels.Sizes(), ","))
		fs.PrintDefaults()
	}
	out := fs.String("out", "", "folder to write the models into (required)")
	sizes := fs.String("sizes", strings.Join(tinymodels.Sizes(), ","), "comma-separated sizes to write")
	seed := fs.Int64("seed", 1, "seed of the random weights")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *out == "" {
		return errors.New("--out is required")
	}
	for _, size := range splitList(*sizes) {
		dir := filepath.Join(*out, size)
		if err := tinymodels.Generate(dir, size, *seed); err != nil {
			return err
		}
		fmt.Fprintln(w, dir)
	}
	return nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
