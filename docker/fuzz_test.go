package docker

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// FuzzSplitImageRef checks that an accepted reference is exactly its parts
// put back together, and that checkPinned agrees with the parts.
func FuzzSplitImageRef(f *testing.F) {
	const dig = "sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d"
	for _, s := range []string{
		"golang:1.26.8-bookworm@" + dig, "nvidia/cuda:12.8.1-runtime-ubuntu24.04", "host:5000/a/b:1@" + dig,
		"golang", "golang:latest", "a@b", ":", "@", "a:b:c", "a/b:c/d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := splitImageRef(s)
		if err != nil {
			if checkPinned(s) == nil {
				t.Fatalf("checkPinned(%q) accepts what splitImageRef refuses", s)
			}
			return
		}
		back := r.name
		if r.tag != "" {
			back += ":" + r.tag
		}
		if r.digest != "" {
			back += "@" + r.digest
		}
		if back != s {
			t.Fatalf("splitImageRef(%q) = %+v, which makes %q", s, r, back)
		}
		wantPinned := r.tag != "" && r.tag != "latest" && versionTag.MatchString(r.tag) && r.digest != ""
		if (checkPinned(s) == nil) != wantPinned {
			t.Fatalf("checkPinned(%q) = %v, parts %+v", s, checkPinned(s), r)
		}
	})
}

// FuzzSplitCommands checks that splitting a command line keeps every word
// but the control operators and keywords, in order, and never starts a
// command with an operator.
func FuzzSplitCommands(f *testing.F) {
	for _, s := range []string{
		"a && b || c | d ; e", "if x; then y; fi", "A=1 B=2 ./s x", "A=1", ";;;", "&& &&", "x; ; y",
		"/opt/jupyterlab/bin/pip install --no-cache-dir jupyterlab==4.5.6",
		"python3 -m pip install -r r.txt", "pip install --target",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words := strings.Fields(line)
		var kept []string
		for _, c := range splitCommands(words) {
			if len(c.args) == 0 && len(c.assigns) == 0 {
				t.Fatalf("empty command from %q", line)
			}
			if len(c.args) > 0 && slices.Contains([]string{"&&", "||", "|", ";"}, c.args[0]) {
				t.Fatalf("command %q starts with an operator", c.args)
			}
			kept = append(kept, c.assigns...)
			kept = append(kept, c.args...)
			// pipRequirements must take any command without panicking, and
			// return only words of it.
			reqs, _, _ := pipRequirements(c.args)
			for _, r := range reqs {
				if !slices.Contains(c.args, r) {
					t.Fatalf("requirement %q not in %q", r, c.args)
				}
			}
		}
		i := 0
		for _, w := range words {
			if i < len(kept) && (kept[i] == w || kept[i]+";" == w) {
				i++
			}
		}
		if i != len(kept) {
			t.Fatalf("words %q kept as %q: not a subsequence", words, kept)
		}
	})
}

// FuzzWalk runs the stage walk, with RUN splitting, on arbitrary
// Dockerfiles: whatever BuildKit's parser accepts must give a result or an
// error, never a panic.
func FuzzWalk(f *testing.F) {
	for _, name := range dockerfiles {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("FROM a\nWORKDIR x\nCOPY . .\n"))
	f.Add([]byte("ARG V=1\nFROM a:$V AS b\nFROM b\nENV A=$V B=${A:-x}\nRUN echo $A && ./s\nUSER 0\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		d, err := parseDockerfile("fuzz", src)
		if err != nil {
			return
		}
		for i := range d.stages {
			_, _ = d.walk(i, func(cmd instructions.Command, st *state) error {
				if c, ok := cmd.(*instructions.RunCommand); ok {
					cmds, err := runCommands(c, st)
					if err != nil {
						return err
					}
					for _, sc := range cmds {
						if p := sc.program(); strings.Contains(p, "/") {
							if abs, err := st.resolve(p); err == nil {
								_ = imagePath(st.copies, abs)
							}
						}
					}
				}
				return nil
			})
		}
	})
}
