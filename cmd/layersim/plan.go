package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/layersim/layersim/lcka/shard"
)

func init() {
	commands["plan"] = command{summary: "the (model, language, shard) jobs of a sharded extraction", run: func(args []string) error {
		return planCmd(args, os.Stdout, os.Stderr)
	}}
}

// planCmd prints the jobs of a sharded extraction, one a line (tab-separated
// index, model, language, shard and command) or as JSON.
func planCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: layersim plan --models M1,M2 --langs en,hi --n N --shards S [flags] [-- extract flags]\n\n"+
			"Prints the extraction jobs, one per model, language and shard, and the command of each:\n"+
			"one job a line (index, model, language, shard, command; tab-separated), or with --json\n"+
			"a JSON array. Job i is what deploy/run-job.sh runs for JOB_COMPLETION_INDEX or\n"+
			"SLURM_ARRAY_TASK_ID i. Flags after -- are given to every extract (--data, --out, --dtype, …).")
		fs.PrintDefaults()
	}
	models := fs.String("models", "", "comma-separated models (folders or hub ids; required)")
	langs := fs.String("langs", "", "comma-separated languages, all paired together (required)")
	n := fs.Int("n", 400, "prompts per language, as extract's --n (0: all; the plan then cannot check the shards)")
	shards := fs.Int("shards", 1, "shards per model and language")
	block := fs.Int("block", 0, "prompts per block, as extract's --block (0: extract's default, "+fmt.Sprint(shard.DefaultBlock)+")")
	program := fs.String("command", "layersim", "the program the jobs run")
	asJSON := fs.Bool("json", false, "print a JSON array of jobs (index, model, lang, shard, first, end, args)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *models == "" || *langs == "" {
		return errors.New("--models and --langs are required")
	}
	jobs, err := shard.Plan(shard.PlanOptions{
		Models: splitList(*models), Langs: splitList(*langs), N: *n, Shards: *shards, Block: *block,
		Command: *program, Extra: fs.Args(),
	})
	if err != nil {
		return err
	}
	if *asJSON {
		b, err := shard.JSON(jobs)
		if err != nil {
			return err
		}
		_, err = stdout.Write(b)
		return err
	}
	_, err = io.WriteString(stdout, shard.Lines(jobs))
	return err
}
