package shard

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/layersim/layersim/internal/testenv"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Spec
		err  string
	}{
		{"0/1", Spec{0, 1}, ""},
		{"3/7", Spec{3, 7}, ""},
		{" 2/4 ", Spec{2, 4}, ""},
		{"7/7", Spec{}, "out of range"},
		{"-1/3", Spec{}, "out of range"},
		{"0/0", Spec{}, "out of range"},
		{"1", Spec{}, "not i/N"},
		{"a/b", Spec{}, "not i/N"},
		{"1/2/3", Spec{}, "not i/N"},
	} {
		got, err := Parse(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%q) = %v, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want || got.String() != strings.TrimSpace(tt.in) {
			t.Errorf("Parse(%q) = %v, %v", tt.in, got, err)
		}
	}
}

// TestRangeCovers checks Range over many sizes: contiguous shards of whole
// blocks from 0 to n, sizes within one block of each other.
func TestRangeCovers(t *testing.T) {
	for n := 1; n <= 70; n++ {
		for _, block := range []int{1, 3, 8, 256} {
			B := Blocks(n, block)
			for N := 1; N <= B+1; N++ {
				next, small, large := 0, n, 0
				for i := range N {
					lo, hi, err := Range(n, block, Spec{i, N})
					if N > B {
						if err == nil {
							t.Fatalf("n=%d block=%d: %d shards of %d blocks accepted", n, block, N, B)
						}
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					if lo != next || hi <= lo || lo%block != 0 || (hi%block != 0 && hi != n) {
						t.Fatalf("n=%d block=%d shard %d/%d = [%d, %d) after %d", n, block, i, N, lo, hi, next)
					}
					next = hi
					blocks := Blocks(hi-lo, block)
					small, large = min(small, blocks), max(large, blocks)
				}
				if N <= B && (next != n || large-small > 1) {
					t.Fatalf("n=%d block=%d N=%d: ends at %d, shard sizes %d..%d blocks", n, block, N, next, small, large)
				}
			}
		}
	}
	if _, _, err := Range(0, 4, Spec{0, 1}); err == nil {
		t.Error("no prompts accepted")
	}
}

// TestQuoteInShell gives quoted words to bash and reads them back.
func TestQuoteInShell(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		testenv.Missing(t, "bash")
	}
	words := []string{"plain", "with space", "it's", `"dq" $HOME \back`, "", "tab\there", "new\nline", "*?[x]", "a=b,c:d/e"}
	var quoted []string
	for _, w := range words {
		quoted = append(quoted, Quote(w))
	}
	out, err := exec.Command(bash, "-c", `for a in `+strings.Join(quoted, " ")+`; do printf '%s\0' "$a"; done`).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if !slices.Equal(got, words) {
		t.Errorf("bash read %q, want %q", got, words)
	}
}

func TestPlanOrder(t *testing.T) {
	jobs, err := Plan(PlanOptions{Models: []string{"a", "b"}, Langs: []string{"en", "hi"}, N: 600, Shards: 3, Extra: []string{"--out", "/r"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 12 {
		t.Fatalf("%d jobs", len(jobs))
	}
	j := jobs[7] // b, en, 1/3
	if j.Index != 7 || j.Model != "b" || j.Lang != "en" || j.Shard != "1/3" || j.First != 256 || j.End != 512 {
		t.Errorf("job 7 = %+v", j)
	}
	want := "layersim extract --model b --langs en,hi --only en --n 600 --shard 1/3 --out /r"
	if j.Line() != want {
		t.Errorf("job 7 runs %q, want %q", j.Line(), want)
	}
	one, err := Plan(PlanOptions{Models: []string{"a"}, Langs: []string{"en"}, N: 0, Shards: 1})
	if err != nil || len(one) != 1 || one[0].First != -1 || slices.Contains(one[0].Args, "--shard") {
		t.Errorf("unsharded plan: %+v, %v", one, err)
	}
}

// TestPlanRejectsItsOwnFlags: flags the plan sets itself are refused among
// the extra ones, in either spelling.
func TestPlanRejectsItsOwnFlags(t *testing.T) {
	for _, extra := range [][]string{{"--n", "5"}, {"--n=5"}, {"-block", "3"}, {"--shard=0/2"}, {"--only", "en"}, {"--langs=en"}, {"--model", "x"}} {
		if _, err := Plan(PlanOptions{Models: []string{"m"}, Langs: []string{"en"}, Shards: 1, Extra: extra}); err == nil {
			t.Errorf("extra %q: no error", extra)
		}
	}
	if _, err := Plan(PlanOptions{Models: []string{"m"}, Langs: []string{"en"}, Shards: 1, Extra: []string{"--dtype", "bfloat16", "--max-length=128"}}); err != nil {
		t.Errorf("other flags refused: %v", err)
	}
}
