package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/layersim/layersim/lcka/cka"
	"github.com/layersim/layersim/lcka/study"
)

func init() {
	commands["analyze"] = command{summary: "all-pairs CKA/RSA, joint 3D embedding and cross-lingual statistics of an artifacts tree", run: runAnalyze}
}

func runAnalyze(args []string) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	root := fs.String("artifacts", "", "the artifacts root, holding models/<slug>/<lang>/activations/")
	langs := fs.String("langs", "en,hi", "languages, comma-separated, two or more; with two the first is +1 on the language axis, with any number the language × language matrices and discriminant are reported")
	out := fs.String("out", "", "the results folder (metrics.json, joint_coords.json, heatmaps/)")
	split := fs.String("split", "test", "the split of the activation files")
	measure := fs.String("measure", "cka-standardized", "the study's measure, which gives the heatmaps, the embedding, the pairs and the statistics: cka-standardized (the study's), cka, cka-debiased, or one of "+study.ExtraMeasuresHelp+" (these hold every layer in memory, and their bootstrap and permutations compute the measure again on each resample, layer by layer)")
	also := fs.String("also", "", "further measures, comma-separated, computed all pairs over the same layers and reported beside the study's measure (metrics.json extra_measures, a joint heatmap each): "+study.ExtraMeasuresHelp+"; svcca, pwcca and shape cost an SVD per pair of layers; every layer is held in memory at once (float32)")
	alsoNull := fs.Int("also-null", 0, "if ≥ 2, the permutation null of each --also measure's cross-lingual values over this many shuffles of the second language's rows, seeded by --seed (metrics.json: null mean, sd, calibrated value and p per layer and for the mean); each shuffle costs a pair of layers; 0: none")
	rsaMethod := fs.String("rsa", "", `RSA method, e.g. rsa-spearman:correlation; "none" skips it`)
	boot := fs.Int("bootstrap", 1000, "bootstrap resamples for the interval of the pair's mean CKA (or --measure's) and the depth maps (negative: skip); none by default with a --measure other than CKA, each resample computing it again on every layer")
	perms := fs.Int("permutations", 1000, "permutations for the p-value of the pair's mean CKA (or --measure's) (negative: skip); none by default with a --measure other than CKA")
	statsN := fs.Int("stats-max-n", 2000, "at most this many prompts (drawn at random) for bootstrap and permutations")
	seed := fs.Uint64("seed", 1, "seed of the resampling")
	classical := fs.Bool("classical-mds", false, "classical MDS instead of the study's uncentered embedding")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	budgetMB := fs.Int64("memory-budget-mb", 0, "memory for the CKA engine in MB (0: 60% of the available memory); layers beyond half of it go to a scratch file; an error with a --measure other than CKA")
	tempDir := fs.String("temp-dir", "", "folder for that scratch file (default: the system's temporary folder); an error with a --measure other than CKA")
	checkpoint := fs.String("checkpoint", "", `file where large CKA jobs save their progress and resume from (default OUT/.cka-checkpoint; "none": no checkpoint); an error with a --measure other than CKA`)
	minibatch := fs.Int("minibatch", 0, "if > 0, minibatch CKA over consecutive batches of this many prompts, on features standardized (cka-standardized) or centered (cka, cka-debiased) as --measure says")
	skipUnreadable := fs.Bool("skip-unreadable", false, "leave out activation sets that cannot be read (named in metrics.json's notes) instead of failing")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile of the run to this file (read it with go tool pprof)")
	backendName := backendFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := useBackend(*backendName); err != nil {
		return err
	}
	if *root == "" || *out == "" {
		fs.Usage()
		return errors.New("--artifacts and --out are required")
	}
	m, main, err := parseStudyMeasure(*measure)
	if err != nil {
		return err
	}
	extra, err := study.ParseExtraMeasures(*also)
	if err != nil {
		return fmt.Errorf("--also: %w", err)
	}
	if *alsoNull < 0 || *alsoNull == 1 {
		return fmt.Errorf("--also-null %d: want 0 (none) or at least 2 permutations", *alsoNull)
	}
	if *alsoNull > 0 && len(extra) == 0 {
		return errors.New("--also-null needs measures named by --also")
	}
	if !main.IsZero() {
		// A measure other than CKA computes itself again on each resample
		// and permutation: none unless the flags are given.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["bootstrap"] {
			*boot = 0
		}
		if !set["permutations"] {
			*perms = 0
		}
	}
	opt := study.Options{
		Artifacts: *root, Langs: strings.Split(*langs, ","), Split: *split, Measure: m, Main: main, RSA: *rsaMethod,
		Bootstrap: *boot, Permutations: *perms, StatsMaxN: *statsN, Seed: *seed, Classical: *classical,
		Minibatch: *minibatch, MemoryBudget: *budgetMB << 20, TempDir: *tempDir,
		SkipUnreadable: *skipUnreadable, ExtraMeasures: extra, ExtraMeasureNull: *alsoNull,
	}
	if *budgetMB < 0 {
		return errors.New("--memory-budget-mb must be ≥ 0")
	}
	if !main.IsZero() && (*budgetMB != 0 || *tempDir != "" || *checkpoint != "" && *checkpoint != "none") {
		return fmt.Errorf("--memory-budget-mb, --temp-dir and --checkpoint are the CKA engine's; with --measure %s every layer is held in memory and an interrupted run starts over", main)
	}
	switch *checkpoint {
	case "none":
	case "":
		if main.IsZero() { // the CKA engine's; a measure other than CKA starts over
			opt.Checkpoint = filepath.Join(*out, ".cka-checkpoint")
		}
	default:
		opt.Checkpoint = *checkpoint
	}
	if opt.Checkpoint != "" {
		if err := os.MkdirAll(filepath.Dir(opt.Checkpoint), 0o755); err != nil {
			return err
		}
	}
	// The first interrupt saves the checkpoint after the tile in progress.
	ctx, stop := interruptible()
	defer stop()
	opt.Context = ctx
	if !*quiet {
		opt.Progress = stageProgress(os.Stderr)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	start := time.Now()
	res, err := study.Analyze(opt)
	if err != nil {
		if _, serr := os.Stat(opt.Checkpoint); errors.Is(err, context.Canceled) && opt.Checkpoint != "" && serr == nil {
			return fmt.Errorf("%w; the progress is saved in %s: run the same command again to resume", err, opt.Checkpoint)
		}
		return err
	}
	if err := study.Write(*out, res); err != nil {
		return err
	}
	if !*quiet {
		clearProgress(os.Stderr)
	}
	printSummary(os.Stdout, res, *out, time.Since(start))
	return nil
}

// parseMeasure parses the name of a CKA measure, for the commands that
// compare layers by CKA alone.
func parseMeasure(s string) (cka.Measure, error) {
	for _, m := range []cka.Measure{cka.MeasureStandardized, cka.MeasureLinear, cka.MeasureDebiased} {
		if m.String() == s {
			return m, nil
		}
	}
	if _, err := study.ParseExtraMeasure(s); err == nil {
		// A measure of analyze: say so rather than only that it is unknown.
		return 0, fmt.Errorf("unknown measure %q here: this command compares layers by CKA (cka-standardized, cka or cka-debiased); %s is a measure of analyze --measure and compare --measure", s, s)
	}
	return 0, fmt.Errorf("unknown measure %q: want cka-standardized, cka or cka-debiased", s)
}

// parseStudyMeasure parses analyze's --measure: a CKA measure, or another
// measure (study.ParseExtraMeasure) as the study's.
func parseStudyMeasure(s string) (cka.Measure, study.ExtraMeasure, error) {
	m, err := parseMeasure(s)
	if err == nil {
		return m, study.ExtraMeasure{}, nil
	}
	e, eerr := study.ParseExtraMeasure(s)
	if errors.Is(eerr, study.ErrUnknownMeasure) {
		return 0, e, fmt.Errorf("unknown measure %q: want cka-standardized, cka, cka-debiased or one of %s", s, study.ExtraMeasuresHelp)
	}
	return cka.MeasureStandardized, e, eerr
}

// stageProgress prints one updating line per stage on a terminal, and
// whole lines at most every logInterval elsewhere (stageLog).
func stageProgress(w io.Writer) func(stage string, done, total int) {
	if !isTerminal(w) {
		return stageLog(w, logInterval, time.Now)
	}
	var mu sync.Mutex // the CKA engine's workers report from several goroutines
	last := time.Time{}
	var clock stageClock
	return func(stage string, done, total int) {
		mu.Lock()
		defer mu.Unlock()
		t := time.Now()
		eta := clock.eta(stage, done, total, t)
		if t.Sub(last) < 200*time.Millisecond && done < total {
			return
		}
		last = t
		fmt.Fprintf(w, "\r\033[K%s %d/%d%s", stage, done, total, eta)
	}
}

func printSummary(w io.Writer, res *study.Result, out string, took time.Duration) {
	m := res.Metrics
	fmt.Fprintf(w, "%d models × %d languages × n = %d prompts, %d layers in all, %s\n", len(m.Models), len(m.Languages), m.N, len(m.Joint.Rows), took.Round(time.Millisecond))
	if a := m.LanguageAxis; a != nil {
		fmt.Fprintf(w, "language axis: coordinate %d, r = %.3f\n", a.Component+1, a.CorrOverall)
	}
	name := "CKA"
	if m.MeasureFormula != "" {
		name = m.Measure
		if m.MeasureDistance {
			name += " (a distance)"
		}
	}
	for _, p := range m.Pairs {
		ci, pv := "", ""
		if p.CKACI95 != nil {
			ci = fmt.Sprintf(" [%.3f, %.3f]", p.CKACI95[0], p.CKACI95[1])
		}
		if p.PermP != nil {
			pv = fmt.Sprintf(" p=%.3g", *p.PermP)
		}
		proc := "none (see the notes)"
		if p.ProcrustesRel != nil {
			proc = fmt.Sprintf("%.3f", *p.ProcrustesRel)
		}
		fmt.Fprintf(w, "%s %s–%s: pair %s mean %.3f%s%s, median %.3f, min %.3f; 3D distance mean %.3f; Procrustes rel %s\n",
			p.Model, p.LangA, p.LangB, name, p.CKAMean, ci, pv, p.CKAMedian, p.CKAMin, p.D3Mean, proc)
	}
	for _, e := range m.ExtraMeasures {
		means := []string{"no language pairs"}
		if len(e.Pairs) > 0 {
			means = nil
		}
		for _, p := range e.Pairs {
			cal := ""
			if p.Null != nil {
				cal = fmt.Sprintf(" (null %.3f, calibrated %.3g, p %.3g)", p.Null.Mean, p.Null.Calibrated, p.Null.P)
			}
			means = append(means, fmt.Sprintf("%s %s–%s %.3f%s", p.Model, p.LangA, p.LangB, p.Mean, cal))
		}
		fmt.Fprintf(w, "%s (%s): mean over layer pairs: %s\n", e.Name, (time.Duration(e.Seconds * float64(time.Second))).Round(time.Millisecond), strings.Join(means, "; "))
	}
	for _, n := range m.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	fmt.Fprintf(w, "results in %s\n", out)
}
