package shard

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// PlanOptions describe the jobs of a sharded extraction.
type PlanOptions struct {
	Models []string // model ids or folders, as extract's --model takes them
	Langs  []string // every language of the study; each job pairs on all of them
	N      int      // prompts per language (extract's --n); 0 means all, unknown to the plan
	Shards int      // shards per (model, language); 1 means none
	Block  int      // prompts per block; 0 means DefaultBlock
	// Command is the program the jobs run, "layersim" when empty.
	Command string
	// Extra are flags given to every job's extract after the plan's own
	// (--data, --out, --dtype, …).
	Extra []string
}

// Job is one extraction: one model, one language, one shard.
type Job struct {
	Index int      `json:"index"` // 0-based, the job's array or completion index
	Model string   `json:"model"`
	Lang  string   `json:"lang"`
	Shard string   `json:"shard"` // "i/N"
	First int      `json:"first"` // first prompt of the shard; -1 when N is unknown
	End   int      `json:"end"`   // one past its last prompt; -1 when N is unknown
	Args  []string `json:"args"`  // the command line, program first
}

// Line is the job's command line quoted for a POSIX shell.
func (j Job) Line() string {
	q := make([]string, len(j.Args))
	for i, a := range j.Args {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}

// Plan lists the jobs, model by model, then language, then shard. Each
// job extracts one language (--only) of the set paired on all of them
// (--langs), so that every language's shard i holds the same prompts.
// With N known, the shards' prompt ranges are checked and given.
func Plan(o PlanOptions) ([]Job, error) {
	if len(o.Models) == 0 || len(o.Langs) == 0 {
		return nil, errors.New("shard: a plan needs models and languages")
	}
	for _, list := range [][]string{o.Models, o.Langs} {
		for i, s := range list {
			if s == "" || strings.TrimSpace(s) != s || strings.ContainsAny(s, "\t\n\r") || slices.Contains(list[:i], s) {
				return nil, fmt.Errorf("shard: %q is empty, padded, repeated or holds a tab or newline", s)
			}
		}
	}
	if o.Shards < 1 || o.N < 0 || o.Block < 0 {
		return nil, fmt.Errorf("shard: shards (%d) must be positive, n (%d) and block (%d) not negative", o.Shards, o.N, o.Block)
	}
	// The plan sets these itself: given again among the extra flags they
	// would win over its own (the last flag does), and the ranges it prints
	// would be wrong.
	for _, f := range o.Extra {
		name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if strings.HasPrefix(f, "-") && slices.Contains([]string{"model", "langs", "only", "n", "shard", "block"}, name) {
			return nil, fmt.Errorf("shard: %s among the extra flags: the plan sets it (use the plan's own option)", f)
		}
	}
	block := o.Block
	if block == 0 {
		block = DefaultBlock
	}
	cmd := o.Command
	if cmd == "" {
		cmd = "layersim"
	}
	var jobs []Job
	for _, m := range o.Models {
		for _, l := range o.Langs {
			for i := range o.Shards {
				s := Spec{Index: i, Count: o.Shards}
				j := Job{Index: len(jobs), Model: m, Lang: l, Shard: s.String(), First: -1, End: -1}
				if o.N > 0 {
					lo, hi, err := Range(o.N, block, s)
					if err != nil {
						return nil, err
					}
					j.First, j.End = lo, hi
				}
				j.Args = []string{cmd, "extract", "--model", m, "--langs", strings.Join(o.Langs, ","), "--only", l,
					"--n", strconv.Itoa(o.N)}
				if o.Shards > 1 {
					j.Args = append(j.Args, "--shard", s.String())
				}
				if o.Block != 0 {
					j.Args = append(j.Args, "--block", strconv.Itoa(o.Block))
				}
				j.Args = append(j.Args, o.Extra...)
				jobs = append(jobs, j)
			}
		}
	}
	return jobs, nil
}

// JSON is the plan as an indented JSON array of jobs.
func JSON(jobs []Job) ([]byte, error) {
	b, err := json.MarshalIndent(jobs, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Lines is the plan as text, one job a line, job i on line i+1: its index,
// model, language, shard and command line (shell-quoted), separated by
// tabs. deploy/run-job.sh runs the command of a line.
func Lines(jobs []Job) string {
	var b strings.Builder
	for _, j := range jobs {
		fmt.Fprintf(&b, "%d\t%s\t%s\t%s\t%s\n", j.Index, j.Model, j.Lang, j.Shard, j.Line())
	}
	return b.String()
}

// Quote quotes s for a POSIX shell: as is when it holds only characters
// no shell treats specially, else in single quotes.
func Quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:,=@+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
