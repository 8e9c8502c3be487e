package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/layersim/layersim/internal/describe"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/robust"
	"github.com/layersim/layersim/lcka/tokenizer"
	"github.com/layersim/layersim/plots"
)

func init() {
	commands["robustness"] = command{summary: "how much the layer maps move between two prompt formats, and on length-matched questions", run: runRobustness}
}

func runRobustness(args []string) error { return robustness(args, os.Stdout) }

func robustness(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("robustness", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: layersim robustness --a ROOT_A --b ROOT_B [--langs en,hi] [--out DIR]\n\n"+
			"Compares the activations of the same models and questions extracted with two\n"+
			"prompt formats, for example the question alone and the question with its four\n"+
			"options:\n\n"+
			"  layersim extract --model M --data global-mmlu-lite --langs en,hi --n 400 --out ROOT_A\n"+
			"  layersim extract --model M --data global-mmlu-lite --langs en,hi --n 400 --with-options --out ROOT_B\n\n"+
			"Per model it prints, layer by layer, the CKA between the two formats' states of\n"+
			"each language, the cross-lingual CKA under each format, and the cross-lingual\n"+
			"CKA on the length-matched questions of each root (those whose length ratio\n"+
			"between the languages lies within its central quantiles); then, per language, how\n"+
			"much the layer×layer map moves (correlation, max and mean |difference|), and,\n"+
			"per root, the cross-lingual CKA on random subsets of the length-matched subset's\n"+
			"size (--baseline-subsets): the band subsampling alone gives, and the layers where\n"+
			"the length-matched curve lies outside it.\n"+
			"--out writes DIR/robustness.json and DIR/robustness.html (lcka/robust's package\n"+
			"documentation has the definitions).\n\nflags:")
		fs.PrintDefaults()
	}
	rootA := fs.String("a", "", "artifacts root of format A (required)")
	rootB := fs.String("b", "", "artifacts root of format B, the same models and questions (required)")
	langs := fs.String("langs", "en,hi", "the two languages, comma-separated (length ratio: second / first)")
	models := fs.String("models", "", "comma-separated model folders to compare (default: all of root A, which root B must hold too)")
	split := fs.String("split", "test", "the split of the activation sets")
	measure := fs.String("measure", "cka-standardized", "cka-standardized (the study's), cka or cka-debiased")
	q := fs.Float64("quantile", robust.DefaultQuantile, "the length-matched questions have a log length ratio within its q and 1−q quantiles (0: all questions)")
	tok := fs.String("tokenizer", "", "count lengths in tokens of this tokenizer.json (default: characters)")
	baselineN := fs.Int("baseline-subsets", robust.DefaultBaselineSubsets, "random subsets of the length-matched subset's size whose cross-lingual curves give the subsampling baseline (mean, 2.5 and 97.5 percentiles per layer); each costs as much as the length-matched curve; 0: none")
	seed := fs.Uint64("seed", 1, "seed of the random subsets")
	skipCheck := fs.Bool("skip-text-check", false, "accept rows whose texts in A and B neither match nor contain one another")
	out := fs.String("out", "", "folder for robustness.json and robustness.html")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *rootA == "" || *rootB == "" {
		fs.Usage()
		return errors.New("--a and --b are required")
	}
	if *q < 0 || *q >= 0.5 {
		return fmt.Errorf("--quantile %g: want q in [0, 0.5)", *q)
	}
	if *baselineN < 0 {
		return fmt.Errorf("--baseline-subsets %d: want 0 (none) or more", *baselineN)
	}
	m, err := parseMeasure(*measure)
	if err != nil {
		return err
	}
	opt := robust.Options{Langs: splitList(*langs), Split: *split, Measure: m, Quantile: *q, SkipTextCheck: *skipCheck,
		BaselineSubsets: *baselineN, Seed: *seed}
	if *baselineN == 0 {
		opt.BaselineSubsets = -1 // none
	}
	if *q == 0 {
		opt.Quantile = -1 // every question
	}
	if *models != "" {
		opt.Models = splitList(*models)
	}
	if *tok != "" {
		t, err := tokenizer.Load(*tok)
		if err != nil {
			return err
		}
		opt.Length = func(s string) (int, error) {
			ids, err := t.Encode(s, false)
			return len(ids), err
		}
		opt.LengthUnit = "tokens of " + *tok
	}
	rep, err := robust.Compare(*rootA, *rootB, opt)
	if err != nil {
		return err
	}
	printRobustness(stdout, rep)
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
		js := filepath.Join(*out, "robustness.json")
		if err := artifacts.WriteJSON(js, rep); err != nil {
			return err
		}
		page := filepath.Join(*out, "robustness.html")
		if err := plots.WriteRobustness(rep, page); err != nil {
			return fmt.Errorf("%s written; the page: %w", js, err)
		}
		fmt.Fprintf(stdout, "wrote %s and %s\n", js, page)
	}
	return nil
}

// printRobustness prints a table per model.
func printRobustness(w io.Writer, rep *robust.Report) {
	l0, l1 := rep.Langs[0], rep.Langs[1]
	for _, m := range rep.Models {
		fmt.Fprintf(w, "%s (%s): %s, n = %d; A: %s, B: %s\n", m.Slug, m.ID, rep.Measure, m.N, rep.RootA, rep.RootB)
		fmt.Fprintf(w, "%5s %8s %8s %9s %9s %9s %9s %9s\n", "layer",
			"AB "+l0, "AB "+l1, "cross A", "cross B", "B−A", "matched A", "matched B")
		for k, layer := range m.Layers {
			fmt.Fprintf(w, "%5d %8.4f %8.4f %9.4f %9.4f %+9.4f %9.4f %9.4f\n", layer,
				m.Languages[0].AB[k], m.Languages[1].AB[k], m.CrossA[k], m.CrossB[k], m.CrossDiff[k], m.LengthMatched[0].Matched[k], m.LengthMatched[1].Matched[k])
		}
		for _, lg := range m.Languages {
			r := "undefined"
			if lg.Movement.Corr != nil {
				r = fmt.Sprintf("%.4f", *lg.Movement.Corr)
			}
			fmt.Fprintf(w, "map %s: r = %s, max |Δ| = %.4f (layers %d, %d), mean |Δ| = %.4f\n",
				lg.Lang, r, lg.Movement.MaxAbs, lg.Movement.MaxAt[0], lg.Movement.MaxAt[1], lg.Movement.MeanAbs)
		}
		for r, s := range m.LengthMatched {
			fmt.Fprintf(w, "length-matched %s: %d of %d questions, %s/%s ratio %.3f to %.3f (median %.3f over all)\n",
				"AB"[r:r+1], s.N, s.Of, l1, l0, s.RatioLo, s.RatioHi, s.MedianRatio)
		}
		for r, s := range m.LengthMatched {
			if b := s.Baseline; b != nil {
				outside := "none"
				if len(b.Outside) > 0 {
					outside = strings.Trim(fmt.Sprint(b.Outside), "[]")
				}
				fmt.Fprintf(w, "baseline %s: %d random subsets of %d questions (seed %d): mean over layers %.4f, length-matched %.4f; layers outside their 2.5–97.5%% band: %s\n",
					"AB"[r:r+1], b.Subsets, b.Size, b.Seed, describe.Mean(b.Mean), describe.Mean(s.Matched), outside)
			}
		}
	}
	fmt.Fprintf(w, "lengths in %s\n", rep.LengthUnit)
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}
