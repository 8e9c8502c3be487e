package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/layersim/layersim/lcka/extract"
)

func init() {
	commands["merge"] = command{summary: "join the parts of sharded sets (extract --shard)", run: func(args []string) error {
		return mergeCmd(args, os.Stdout, os.Stderr)
	}}
}

// mergeCmd merges every parts folder under the artifacts root.
func mergeCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: layersim merge --artifacts ROOT [flags]\n\n"+
			"Writes every set whose parts (extract --shard) are under ROOT, checking that the\n"+
			"parts are complete, of the same model, dtype, pooling and options, with no gap or\n"+
			"overlap. The set is the one an unsharded run writes, byte for byte.")
		fs.PrintDefaults()
	}
	root := fs.String("artifacts", "", "artifacts root folder (required)")
	split := fs.String("split", "", "merge this split only (default all)")
	force := fs.Bool("force", false, "write sets that are already up to date")
	remove := fs.Bool("remove-parts", false, "remove each parts folder once its set is written")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *root == "" {
		return errors.New("--artifacts is required")
	}
	results, err := extract.MergeAll(*root, extract.MergeOptions{Split: *split, Force: *force, RemoveParts: *remove})
	for _, r := range results {
		state := fmt.Sprintf("%d parts, %d rows", r.Parts, r.Rows)
		if r.Skipped {
			state += ", up to date"
		}
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\n", r.Slug, r.Lang, r.Split, r.Path, state)
	}
	return err
}
