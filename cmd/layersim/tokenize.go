package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/layersim/layersim/lcka/tokenizer"
)

func init() {
	commands["tokenize"] = command{summary: "token ids of texts with a tokenizer.json", run: runTokenize}
}

func runTokenize(args []string) error { return tokenize(args, os.Stdout) }

// tokenize prints the ids of each text as one JSON array per line on w.
func tokenize(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: layersim tokenize --tokenizer PATH/tokenizer.json --texts TEXTS.json [--special] [--max-length N]\n\n"+
			"TEXTS.json is a JSON array of strings (\"-\" reads it from standard input).\n"+
			"Prints one JSON array of token ids per text, one per line.")
		fs.PrintDefaults()
	}
	tokPath := fs.String("tokenizer", "", "tokenizer.json file (required)")
	textsPath := fs.String("texts", "", "JSON array of texts (required; - for standard input)")
	special := fs.Bool("special", false, "add the special tokens of the post-processor (BOS for Llama 3)")
	maxLength := fs.Int("max-length", 0, "truncate to this many ids, special tokens included (0: no truncation)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *tokPath == "" || *textsPath == "" {
		return errors.New("--tokenizer and --texts are required")
	}
	if *maxLength < 0 {
		return fmt.Errorf("--max-length must not be negative, got %d", *maxLength)
	}
	tok, err := tokenizer.Load(*tokPath)
	if err != nil {
		return err
	}
	var raw []byte
	if *textsPath == "-" {
		raw, err = io.ReadAll(os.Stdin)
	} else {
		raw, err = os.ReadFile(*textsPath)
	}
	if err != nil {
		return err
	}
	var texts []string
	if err := json.Unmarshal(raw, &texts); err != nil {
		return fmt.Errorf("%s: want a JSON array of strings: %v", *textsPath, err)
	}
	var ids [][]int
	if *maxLength > 0 {
		ids, err = tok.EncodeBatchTruncated(texts, *special, *maxLength)
	} else {
		ids, err = tok.EncodeBatch(texts, *special)
	}
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	for _, row := range ids {
		if row == nil {
			row = []int{}
		}
		b, err := json.Marshal(row)
		if err != nil {
			return err
		}
		bw.Write(b)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
