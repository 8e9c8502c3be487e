package data

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/layersim/layersim/lcka/hf"
)

// Options configure Load and LoadGlobalMMLULite.
type Options struct {
	// Format of Global-MMLU-Lite prompts: QuestionOnly (default) or
	// QuestionWithOptions.
	Format Format
	// Strict makes Global-MMLU-Lite rows without a counterpart in every
	// language an error instead of dropping them.
	Strict bool
	// Hub configures downloads of Global-MMLU-Lite from the hub.
	Hub hf.Options
	// Ctx cancels downloads; nil means context.Background().
	Ctx context.Context
}

// DefaultLangs are the languages loaded when none are named.
var DefaultLangs = []string{"en", "hi"}

// Load reads the prompt set named by spec, keeps the languages langs (nil
// means DefaultLangs for builtin and Global-MMLU-Lite, and every language
// found in a file) and the first n items (0 means all). Specs:
//
//	builtin                               the built-in English–Hindi set
//	global-mmlu-lite[:split]              Global-MMLU-Lite from the hub (split test or dev)
//	global-mmlu-lite:/path/folder[:split] Global-MMLU-Lite from a local copy
//	file:/path/prompts.jsonl              a .json, .jsonl or .csv file (see ReadFile)
//	/path/prompts.csv                     the same, recognised by its extension
//
// A file path may hold {lang} for one file per language.
func Load(spec string, langs []string, n int, opts Options) (*Parallel, error) {
	if n < 0 {
		return nil, fmt.Errorf("data: negative number of prompts %d", n)
	}
	p, err := load(spec, langs, opts)
	if err != nil {
		return nil, err
	}
	return p.Head(n), nil
}

func load(spec string, langs []string, opts Options) (*Parallel, error) {
	spec = strings.TrimSpace(spec)
	switch {
	case spec == BuiltinName:
		if langs == nil {
			langs = DefaultLangs
		}
		return Builtin().Select(langs)
	case spec == GlobalMMLULiteName || strings.HasPrefix(spec, GlobalMMLULiteName+":"):
		if langs == nil {
			langs = DefaultLangs
		}
		folder, split := parseMMLUSpec(strings.TrimPrefix(strings.TrimPrefix(spec, GlobalMMLULiteName), ":"))
		if folder != "" {
			if st, err := os.Stat(folder); err != nil || !st.IsDir() {
				return nil, fmt.Errorf("data: %q: %s is not a folder", spec, folder)
			}
		}
		return LoadGlobalMMLULite(folder, split, langs, opts)
	case strings.HasPrefix(spec, "file:"):
		return readFileSpec(strings.TrimPrefix(spec, "file:"), langs)
	case knownExt(spec):
		return readFileSpec(spec, langs)
	case spec == "":
		return nil, errors.New("data: empty prompt set spec")
	}
	return nil, fmt.Errorf("data: unknown prompt set %q: want builtin, global-mmlu-lite[:split], global-mmlu-lite:/folder[:split], file:/path or a .json, .jsonl or .csv path", spec)
}

func readFileSpec(path string, langs []string) (*Parallel, error) {
	if path == "" {
		return nil, errors.New("data: file: spec without a path")
	}
	if strings.Contains(path, LangPlaceholder) && langs == nil {
		langs = DefaultLangs
	}
	return ReadFile(path, langs)
}

func knownExt(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".json", ".jsonl", ".ndjson", ".csv":
		return true
	}
	return false
}

// parseMMLUSpec splits "test", "/folder", "/folder:dev" or "" into a folder
// and a split.
func parseMMLUSpec(rest string) (folder, split string) {
	if rest == "test" || rest == "dev" || rest == "" {
		return "", rest
	}
	if !strings.ContainsAny(rest, `/\`) && !strings.HasPrefix(rest, ".") {
		if st, err := os.Stat(rest); err != nil || !st.IsDir() {
			return "", rest // A split name; LoadGlobalMMLULite checks it.
		}
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		if s := rest[i+1:]; s == "test" || s == "dev" {
			return rest[:i], s
		}
	}
	return rest, ""
}
