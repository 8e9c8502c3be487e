package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/layersim/layersim/lcka/study"
	"github.com/layersim/layersim/lcka/tinymodels"
	"github.com/layersim/layersim/plots"
)

func init() {
	commands["demo"] = command{summary: "built-in tiny models and prompts → extract → analyze → report.html", run: runDemo}
}

func runDemo(args []string) error {
	ctx, stop := interruptible()
	defer stop()
	return demo(ctx, args, os.Stdout, os.Stderr)
}

// demo runs the whole study on the built-in default: the project's tiny
// Llama-architecture models and its English–Hindi prompts.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "demo-out", "folder for the models, artifacts, results and report")
	n := fs.Int("n", 0, "prompts per language (0: all of the built-in set)")
	seed := fs.Int64("seed", 1, "seed of the tiny models' weights")
	quiet := fs.Bool("quiet", false, "no progress lines")
	backendName := backendFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := useBackend(*backendName); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *out == "" {
		return errors.New("--out must not be empty")
	}
	start := time.Now()
	step := func(format string, a ...any) {
		fmt.Fprintf(stdout, "[%5.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
	}
	modelsDir := filepath.Join(*out, "models")
	artifactsDir := filepath.Join(*out, "artifacts")
	resultsDir := filepath.Join(*out, "results")

	var dirs []string
	for _, size := range tinymodels.Sizes() {
		dir := filepath.Join(modelsDir, size)
		if err := tinymodels.Generate(dir, size, *seed); err != nil {
			return err
		}
		dirs = append(dirs, dir)
	}
	step("built-in models written to %s", modelsDir)

	for _, dir := range dirs {
		args := []string{"--model", dir, "--model-id", "layersim/" + filepath.Base(dir), "--out", artifactsDir, "--data", "builtin", "--langs", "en,hi", "--n", strconv.Itoa(*n)}
		if *quiet {
			args = append(args, "--quiet")
		}
		if err := extractCmd(ctx, args, io.Discard, stderr); err != nil {
			return fmt.Errorf("extracting %s: %w", filepath.Base(dir), err)
		}
		step("extracted every layer of %s (en, hi)", filepath.Base(dir))
	}

	opt := study.Options{Artifacts: artifactsDir, Langs: []string{"en", "hi"}, Seed: 1}
	if !*quiet {
		opt.Progress = stageProgress(stderr)
	}
	res, err := study.Analyze(opt)
	if err != nil {
		return err
	}
	if err := study.Write(resultsDir, res); err != nil {
		return err
	}
	if !*quiet {
		clearProgress(stderr)
	}
	step("analysis written to %s", resultsDir)
	report := filepath.Join(resultsDir, "report.html")
	if err := plots.WriteReport(resultsDir, report); err != nil {
		return err
	}
	step("report: %s", report)
	printSummary(stdout, res, resultsDir, time.Since(start))
	fmt.Fprint(stdout, studyModelsHint)
	return nil
}

// studyModelsHint says how to run the original study's models instead of the
// built-in tiny ones.
const studyModelsHint = `
The study's models run the same way (weights from the Hugging Face hub; the
meta-llama models are gated: set HF_TOKEN):
  for m in meta-llama/Llama-3.2-1B meta-llama/Llama-3.2-3B meta-llama/Llama-3.1-8B openai/gpt-oss-20b; do
    layersim extract --model $m --data global-mmlu-lite --langs en,hi --n 400 --out study/artifacts
  done
  layersim analyze --artifacts study/artifacts --langs en,hi --out study/results
  layersim report --results study/results
`
