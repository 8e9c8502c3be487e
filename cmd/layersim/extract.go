package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"

	"github.com/layersim/layersim/lcka/data"
	"github.com/layersim/layersim/lcka/extract"
	"github.com/layersim/layersim/lcka/hf"
	"github.com/layersim/layersim/lcka/shard"
)

func init() {
	commands["extract"] = command{summary: "run a model on parallel prompts, save every layer", run: runExtract}
}

func runExtract(args []string) error {
	// The first interrupt stops after the batch in progress.
	ctx, stop := interruptible()
	defer stop()
	return extractCmd(ctx, args, os.Stdout, os.Stderr)
}

// extractCmd runs the extract command; the summary goes to stdout, the
// progress line to stderr.
func extractCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("extract", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: layersim extract --model ID_OR_PATH --out ROOT [flags]\n\n"+
			"Runs the model on the prompts of every language and writes\n"+
			"ROOT/models/<slug>/<lang>/activations/<slug>_<lang>_<split>.npz (layer_1..layer_L),\n"+
			".meta.json and .texts.json. An interrupted run resumes where it stopped;\n"+
			"sets already written by the same run are skipped.")
		fs.PrintDefaults()
	}
	model := fs.String("model", "", "model folder, or hub id org/name[@revision] (required)")
	spec := fs.String("data", data.BuiltinName, "prompt set: builtin, global-mmlu-lite[:split], global-mmlu-lite:/folder[:split], or a .json/.jsonl/.csv file")
	langs := fs.String("langs", strings.Join(data.DefaultLangs, ","), "comma-separated languages")
	n := fs.Int("n", 400, "number of prompts per language (0: all)")
	pooling := fs.String("pooling", string(extract.PoolLast), "pooling over tokens: last, mean or max")
	maxLength := fs.Int("max-length", extract.DefaultMaxLength, "truncation length in tokens, special tokens included")
	batch := fs.Int("batch-size", extract.DefaultBatchSize, "prompts per forward pass (halved on out-of-memory errors)")
	out := fs.String("out", "", "artifacts root folder (required)")
	split := fs.String("split", extract.DefaultSplit, "split name of the written sets")
	dtype := fs.String("dtype", "auto", "dtype the model runs in: auto (the checkpoint's torch_dtype), float32, bfloat16 or float16")
	noAMX := fs.Bool("no-amx", false, "run bfloat16 and float32 models in GoMLX graphs on its kernel even where the CPU has Intel AMX (slower; float32 then holds 4 bytes a weight instead of 6)")
	slug := fs.String("slug", "", "folder name of the model under ROOT/models (default from the model id)")
	modelID := fs.String("model-id", "", "model id recorded in meta.json (default: --model as given)")
	revision := fs.String("revision", "", "hub revision (branch, tag or commit) when not given as id@revision")
	offline := fs.Bool("offline", false, "use the Hugging Face cache only")
	withOptions := fs.Bool("with-options", false, "Global-MMLU-Lite prompts with their four options (default: the question only)")
	noSpecial := fs.Bool("no-special", false, "do not add the tokenizer's special tokens (BOS)")
	layer0 := fs.Bool("embedding-layer", false, "also save the embedding output as <slug>_<lang>_<split>.layer_0.npy")
	memMB := fs.Int64("memory-limit-mb", 0, "halve batches whose estimated activations exceed this many MiB (0: no limit)")
	force := fs.Bool("force", false, "recompute sets that are already written")
	skipPlan := fs.Bool("skip-memory-check", false, "run even when the memory plan says the model does not fit the available memory")
	quiet := fs.Bool("quiet", false, "no progress line")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile of the run to this file (read it with go tool pprof)")
	shardSpec := fs.String("shard", "", "run shard i/N only (0-based): the i-th of N contiguous ranges of whole blocks of prompts, written as a part of each set; layersim merge joins the parts")
	block := fs.Int("block", shard.DefaultBlock, "prompts per block: texts are batched by length within a block, and shards hold whole blocks")
	only := fs.String("only", "", "comma-separated languages of --langs to extract (default all); prompts are still paired on all of --langs")
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
	if *model == "" || *out == "" {
		return errors.New("--model and --out are required")
	}
	pool, err := extract.ParsePooling(*pooling)
	if err != nil {
		return err
	}
	if *n < 0 || *memMB < 0 {
		return errors.New("--n and --memory-limit-mb must not be negative")
	}
	var part shard.Spec
	if *shardSpec != "" {
		if part, err = shard.Parse(*shardSpec); err != nil {
			return err
		}
	}
	hub := hf.Options{Revision: *revision, Offline: *offline}
	dataOpts := data.Options{Hub: hf.Options{Offline: *offline}, Ctx: ctx}
	if *withOptions {
		dataOpts.Format = data.QuestionWithOptions
	}
	set, err := data.Load(*spec, splitList(*langs), *n, dataOpts)
	if err != nil {
		return err
	}
	if *only != "" {
		if set, err = set.Select(splitList(*only)); err != nil {
			return err
		}
	}
	m, err := extract.Load(ctx, *model, extract.LoadOptions{Hub: hub, DType: *dtype, ID: *modelID, NoAMX: *noAMX})
	if err != nil {
		return err
	}
	defer m.Close()
	opts := extract.Options{
		Out: *out, Slug: *slug, Split: *split, Subset: *spec, Pooling: pool,
		MaxLength: *maxLength, BatchSize: *batch, NoSpecialTokens: *noSpecial,
		EmbeddingLayer: *layer0, MemoryLimit: *memMB << 20, Force: *force, IgnoreMemoryPlan: *skipPlan,
		Shard: part, Block: *block,
	}
	setGCLimit(m.PlanMemory(*batch, *maxLength, set.Len()))
	if !*quiet {
		opts.Progress = extract.ShowProgress(stderr)
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
	results, err := m.Extract(ctx, set, opts)
	for _, r := range results {
		printResult(stdout, r)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted; finished batches are kept, run the same command again to resume: %w", err)
	}
	return err
}

func printResult(w io.Writer, r extract.Result) {
	state := fmt.Sprintf("%d texts computed", r.Computed)
	switch {
	case r.Skipped:
		state = "up to date, skipped"
	case r.Resumed > 0:
		state += fmt.Sprintf(", %d resumed", r.Resumed)
	}
	fmt.Fprintf(w, "%s\t%s\t%s; tokens/text mean %.1f median %.1f max %d, %d truncated; %.1fs",
		r.Lang, r.Path, state, r.Tokens.Mean, r.Tokens.Median, r.Tokens.Max, r.Tokens.Truncated, r.Elapsed.Seconds())
	if r.Computed > 0 {
		fmt.Fprintf(w, " (forward passes %.1fs, %.1f tokens/s", r.Forwarding.Seconds(), r.TokensPerSec)
		if r.Load > 0 {
			fmt.Fprintf(w, "; weights loaded in %.1fs", r.Load.Seconds())
		}
		fmt.Fprint(w, ")")
	}
	fmt.Fprintln(w)
	for _, h := range r.Halvings {
		fmt.Fprintf(w, "%s\tbatch size %d → %d on %d×%d tokens: %s\n", r.Lang, h.From, h.To, h.Rows, h.Tokens, h.Reason)
	}
}

// setGCLimit gives the Go garbage collector a soft memory limit from the
// plan (its total, at most 95% of the available memory), unless GOMEMLIMIT
// is set: the weights are most of the heap and the default GOGC=100 would
// let garbage grow to as much again before a collection. The plan's
// activations are an upper bound, so the limit leaves room for what is
// live; a quarter more let a bfloat16 Llama-3.2-1B run block by block on
// AMX (which makes more short-lived tensors) peak at 4.9 GB instead of 4.0.
func setGCLimit(p extract.MemoryPlan) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := p.Total
	if p.Available > 0 {
		limit = min(limit, p.Available/20*19)
	}
	debug.SetMemoryLimit(limit)
}
