package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/layersim/layersim/lcka/artifacts"
	"github.com/layersim/layersim/lcka/shard"
	"github.com/layersim/layersim/lcka/study"
)

// modelFiles reads every file under root/models but the parts folders.
func modelFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(filepath.Join(root, "models"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || (d.IsDir() && strings.HasSuffix(d.Name(), ".parts")) {
			if err == nil {
				err = filepath.SkipDir
			}
			return err
		}
		if !d.IsDir() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			out[rel] = b
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPlanShardMerge runs a sharded extraction as a cluster would: the
// plan's jobs one by one (each one language and one shard), the study
// on the parts, the merge; the merged sets are byte for byte those of
// one unsharded extract, and the study of the parts equals the study of
// the merged sets.
func TestPlanShardMerge(t *testing.T) {
	root := t.TempDir()
	var out bytes.Buffer
	if err := makeModels([]string{"--out", root, "--sizes", "tiny-a"}, &out); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(root, "tiny-a")
	ref, arts := filepath.Join(root, "ref"), filepath.Join(root, "arts")
	common := []string{"--n", "40", "--batch-size", "4", "--block", "8", "--quiet"}
	var stdout, stderr bytes.Buffer
	if err := extractCmd(context.Background(), append([]string{"--model", model, "--langs", "en,hi", "--out", ref}, common...), &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}

	out.Reset()
	planArgs := []string{"--models", model, "--langs", "en,hi", "--n", "40", "--shards", "3", "--block", "8", "--json",
		"--", "--out", arts, "--batch-size", "4", "--quiet"}
	if err := planCmd(planArgs, &out, &stderr); err != nil {
		t.Fatal(err)
	}
	var jobs []shard.Job
	if err := json.Unmarshal(out.Bytes(), &jobs); err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 6 {
		t.Fatalf("%d jobs, want 2 languages × 3 shards", len(jobs))
	}
	// 40 prompts are 5 blocks of 8: shards of 1, 2 and 2 blocks.
	wantRanges := [][2]int{{0, 8}, {8, 24}, {24, 40}}
	for i, j := range jobs {
		spec := shard.Spec{Index: i % 3, Count: 3}
		if j.Index != i || j.Lang != []string{"en", "hi"}[i/3] || j.Shard != spec.String() ||
			[2]int{j.First, j.End} != wantRanges[i%3] || j.Args[0] != "layersim" || j.Args[1] != "extract" {
			t.Fatalf("job %d: %+v", i, j)
		}
		stdout.Reset()
		if err := extractCmd(context.Background(), j.Args[2:], &stdout, &stderr); err != nil {
			t.Fatalf("job %d (%s): %v\n%s", i, j.Line(), err, stderr.String())
		}
		n := wantRanges[i%3][1] - wantRanges[i%3][0]
		if !strings.Contains(stdout.String(), fmt.Sprintf("part-%d-of-3.npz", i%3)) || !strings.Contains(stdout.String(), fmt.Sprintf("\t%d texts computed", n)) {
			t.Errorf("job %d printed %q", i, stdout.String())
		}
	}
	// A finished shard is skipped.
	stdout.Reset()
	if err := extractCmd(context.Background(), jobs[4].Args[2:], &stdout, &stderr); err != nil || !strings.Contains(stdout.String(), "up to date, skipped") {
		t.Errorf("job 4 again: %v, %q", err, stdout.String())
	}

	// The study reads the complete parts as sets.
	sets, err := artifacts.Discover(arts)
	if err != nil || len(sets) != 2 || sets[0].Format != artifacts.Parts || sets[0].Rows != 40 {
		t.Fatalf("Discover on the parts: %d sets, %v", len(sets), err)
	}
	fromParts, err := study.Analyze(study.Options{Artifacts: arts, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1})
	if err != nil {
		t.Fatal(err)
	}

	stdout.Reset()
	if err := mergeCmd([]string{"--artifacts", arts}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if strings.Count(stdout.String(), "3 parts, 40 rows") != 2 {
		t.Errorf("merge printed %q", stdout.String())
	}
	want, got := modelFiles(t, ref), modelFiles(t, arts)
	if len(want) != 6 || len(got) != len(want) {
		t.Fatalf("unsharded files %d, merged %d", len(want), len(got))
	}
	for path, b := range want {
		if !bytes.Equal(got[path], b) {
			t.Errorf("merged %s differs from the unsharded run's", path)
		}
	}
	fromMerged, err := study.Analyze(study.Options{Artifacts: arts, Langs: []string{"en", "hi"}, Bootstrap: -1, Permutations: -1})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(fromParts.Metrics)
	b, _ := json.Marshal(fromMerged.Metrics)
	if !bytes.Equal(a, b) {
		t.Errorf("metrics of the parts differ from those of the merged sets:\n%s\n%s", a, b)
	}
}

// TestPlanLines checks the plan's lines: tab-separated fields, the command
// quoted for a shell.
func TestPlanLines(t *testing.T) {
	var out, errb bytes.Buffer
	err := planCmd([]string{"--models", "org/m1,/data/my model", "--langs", "en,hi,sw", "--n", "1000", "--shards", "4",
		"--", "--out", "/data/arts", "--data", "it's.json"}, &out, &errb)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2*3*4 {
		t.Fatalf("%d lines", len(lines))
	}
	f := strings.Split(lines[13], "\t")
	want := []string{"13", "/data/my model", "en", "1/4",
		`layersim extract --model '/data/my model' --langs en,hi,sw --only en --n 1000 --shard 1/4 --out /data/arts --data 'it'\''s.json'`}
	if !slices.Equal(f, want) {
		t.Errorf("line 13:\n%q\nwant\n%q", f, want)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--langs", "en"}, "--models and --langs are required"},
		{[]string{"--models", "m", "--langs", "en", "--n", "300", "--shards", "3"}, "300 prompts make 2 block(s) of 256: at most 2 shard(s)"},
		{[]string{"--models", "m,m", "--langs", "en"}, "repeated"},
		{[]string{"--models", "m", "--langs", "en", "--shards", "0"}, "shards (0) must be positive"},
	} {
		if err := planCmd(tt.args, &out, &errb); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("plan %q: %v, want %q", tt.args, err, tt.want)
		}
	}
	dir := t.TempDir()
	for _, tt := range []struct{ shard, want string }{{"2/2", "out of range"}, {"1-3", "not i/N"}} {
		err := extractCmd(context.Background(), []string{"--model", dir, "--out", dir, "--shard", tt.shard}, &out, &errb)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("extract --shard %s: %v, want %q", tt.shard, err, tt.want)
		}
	}
	if err := mergeCmd([]string{"--artifacts", dir}, &out, &errb); err == nil || !strings.Contains(err.Error(), "no parts folder") {
		t.Errorf("merge of an empty root: %v", err)
	}
}
