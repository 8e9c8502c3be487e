// Command layersim maps how representations evolve across the layers of
// language models and how well languages line up inside them.
//
//	layersim demo      built-in models and prompts → extract → analyze → report
//	layersim extract   run a model on parallel prompts, save every layer
//	layersim plan      the (model, language, shard) jobs of a sharded extraction
//	layersim merge     join the parts of sharded sets
//	layersim analyze   all-pairs CKA/RSA, joint embedding, cross-lingual pairs
//	layersim compare   one measure between two .npy matrices
//	layersim subspace  cross-lingual CKA before and after removing a language subspace
//	layersim robustness layer maps under two prompt formats and on length-matched questions
//	layersim tokenize  token ids of texts with a tokenizer.json
//
// Run "layersim <command> -h" for the flags of each command.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"

	"github.com/layersim/layersim/internal/simdrt"
)

// command is one subcommand: run gets the arguments after its name.
type command struct {
	summary string
	run     func(args []string) error
}

// commands is filled by the init functions of the files of this package.
var commands = map[string]command{}

func main() {
	// Before anything runs: a GOEXPERIMENT=simd build on amd64 starts itself
	// again with GODEBUG=asyncpreemptoff=1 (see internal/simdrt; without
	// it the Go backend's scalar ops run up to 150× slower). Failing that, it
	// goes on as it is.
	if err := simdrt.ReExec(); err != nil {
		fmt.Fprintf(os.Stderr, "layersim: could not restart with GODEBUG=%s (%v); going on, slower\n", simdrt.Setting, err)
	}
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "layersim: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := cmd.run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "layersim %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: layersim <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
}

// interruptible returns a context cancelled by the first interrupt (Ctrl-C),
// for the commands to stop cleanly at the next step; a second interrupt ends
// the process at once.
func interruptible() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}
