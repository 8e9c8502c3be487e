package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func ev(action, test, output string) string {
	s := `{"Action":"` + action + `","Package":"p"`
	if test != "" {
		s += `,"Test":"` + test + `"`
	}
	if output != "" {
		s += `,"Output":` + strings.ReplaceAll(strings.ReplaceAll(`"`+output+`"`, "\n", `\n`), "\t", `\t`)
	}
	return s + "}\n"
}

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"pass and skip",
			ev("run", "TestA", "") + ev("output", "TestA", "=== RUN   TestA\n") + ev("output", "TestA", "    a_test.go:3: hello\n") +
				ev("pass", "TestA", "") + ev("output", "TestS", "=== RUN   TestS\n") + ev("output", "TestS", "    a_test.go:4: skipped: no tool\n") +
				ev("output", "TestS", "--- SKIP: TestS (0.00s)\n") + ev("skip", "TestS", "") + ev("output", "", "PASS\n") + ev("output", "", "ok  \tp\t0.1s\n") + ev("pass", "", ""),
			"ok  \tp\t0.1s\nskipped tests (1):\n  p TestS: a_test.go:4: skipped: no tool\n"},
		{"nothing skipped", ev("output", "", "?   \tp\t[no test files]\n") + ev("skip", "", ""),
			"?   \tp\t[no test files]\nskipped tests: none\n"},
		{"skip without a reason", ev("output", "T", "--- SKIP: T (0.00s)\n") + ev("skip", "T", ""),
			"skipped tests (1):\n  p T: (no reason given)\n"},
		{"failed subtest under its parent",
			ev("output", "T", "=== RUN   T\n") + ev("output", "T/s", "=== RUN   T/s\n") + ev("output", "T/s", "    x.go:1: bad\n") +
				ev("output", "T/s", "--- FAIL: T/s (0.00s)\n") + ev("fail", "T/s", "") + ev("output", "T", "--- FAIL: T (0.00s)\n") + ev("fail", "T", "") +
				ev("output", "", "FAIL\n") + ev("fail", "", ""),
			"--- FAIL: T (0.00s)\n    --- FAIL: T/s (0.00s)\n        x.go:1: bad\nFAIL\nFAIL\nskipped tests: none\n"},
		{"a panic: the unfinished test's output when the package fails",
			ev("output", "T", "=== RUN   T\n") + ev("output", "T", "panic: boom\n") + ev("output", "", "FAIL\tp\t0.1s\n") + ev("fail", "", ""),
			"FAIL\tp\t0.1s\npanic: boom\nFAIL\nskipped tests: none\n"},
		{"build errors and other lines pass through",
			`{"ImportPath":"p","Action":"build-output","Output":"x.go:1: undefined: y\n"}` + "\n" + "FAIL\tp [build failed]\n" + "\n",
			"x.go:1: undefined: y\nFAIL\tp [build failed]\n\nskipped tests: none\n"},
	} {
		var out bytes.Buffer
		if err := run(strings.NewReader(tc.in), &out); err != nil {
			t.Fatal(err)
		}
		if out.String() != tc.want {
			t.Errorf("%s:\n%q\nwant\n%q", tc.name, out.String(), tc.want)
		}
	}
}

// TestAgainstGoTest runs a small module's tests twice, with go test -json
// through testlog and with plain go test: the same text (timings aside),
// then the skips.
func TestAgainstGoTest(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: runs go test")
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module a\n\ngo 1.26\n",
		"a_test.go": `package a

import "testing"

func TestPass(t *testing.T) { t.Log("hello") }
func TestSkip(t *testing.T) { t.Skip("no tool") }
func TestFail(t *testing.T) {
	t.Run("sub", func(t *testing.T) { t.Error("bad") })
	t.Run("ok", func(t *testing.T) {})
}
func TestSkipSub(t *testing.T) { t.Run("x", func(t *testing.T) { t.Skipf("reason %d", 3) }) }
`,
		"b/b_test.go": "package b\n\nimport \"testing\"\n\nfunc TestB(t *testing.T) {}\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goTest := func(args ...string) string {
		cmd := exec.Command("go", append([]string{"test", "-count=1", "-p=1"}, append(args, "./...")...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
		out, err := cmd.Output()
		if _, ok := err.(*exec.ExitError); err != nil && !ok {
			t.Fatal(err)
		}
		return string(out)
	}
	var got bytes.Buffer
	if err := run(strings.NewReader(goTest("-json")), &got); err != nil {
		t.Fatal(err)
	}
	times := regexp.MustCompile(`\d+\.\d+s`)
	want := times.ReplaceAllString(goTest(), "T") + "skipped tests (2):\n  a TestSkip: a_test.go:6: no tool\n  a TestSkipSub/x: a_test.go:11: reason 3\n"
	if g := times.ReplaceAllString(got.String(), "T"); g != want {
		t.Errorf("through testlog:\n%s\nwant\n%s", g, want)
	}
}
