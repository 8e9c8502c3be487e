package docker

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// repoRoot is the build context of both images, the repository root, seen
// from this package's folder.
const repoRoot = ".."

// dockerfiles are the images' Dockerfiles, in this folder.
var dockerfiles = []string{"Dockerfile", "Dockerfile.cuda"}

// dockerfile is a parsed Dockerfile.
type dockerfile struct {
	name     string
	source   string
	nodes    []*parser.Node // the instructions as parsed
	stages   []instructions.Stage
	metaArgs []instructions.ArgCommand
	warnings []string // from the parser and BuildKit's lint rules
}

// parseDockerfile parses src as docker build's frontend does, collecting the
// parser's warnings and those of BuildKit's parse-time lint rules.
func parseDockerfile(name string, src []byte) (*dockerfile, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d := &dockerfile{name: name, source: string(src), nodes: res.AST.Children}
	for _, w := range res.Warnings {
		where := ""
		if w.Location != nil {
			where = fmt.Sprintf("line %d: ", w.Location.Start.Line)
		}
		d.warnings = append(d.warnings, where+w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		where := ""
		if len(loc) > 0 {
			where = fmt.Sprintf("line %d: ", loc[0].Start.Line)
		}
		d.warnings = append(d.warnings, fmt.Sprintf("%s%s: %s", where, rule, msg))
	}})
	d.stages, d.metaArgs, err = instructions.Parse(res.AST, lint)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(d.stages) == 0 {
		return nil, fmt.Errorf("%s: no FROM", name)
	}
	return d, nil
}

// load reads and parses one of this folder's Dockerfiles.
func load(t testing.TB, name string) *dockerfile {
	t.Helper()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	d, err := parseDockerfile(name, src)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// final returns the stage that becomes the image.
func (d *dockerfile) final() *instructions.Stage { return &d.stages[len(d.stages)-1] }

// isStage reports whether name refers to a stage defined before stage i.
func (d *dockerfile) isStage(name string, i int) bool {
	for _, s := range d.stages[:i] {
		if s.Name != "" && strings.EqualFold(s.Name, name) {
			return true
		}
	}
	return false
}

// copyStep is a COPY from the build context: where its sources land.
type copyStep struct {
	srcs []string // as written, relative to the context
	dest string   // absolute, in the image
}

// imagePath maps a path in the image back to the repository path that the
// copies made so far put there, or "" if none did. As COPY does, a
// directory's contents go into the destination, and a file copied to a
// destination ending in / keeps its name.
func imagePath(copies []copyStep, p string) string {
	p = path.Clean(p)
	found := ""
	for _, c := range copies { // later copies overwrite earlier ones
		dest := path.Clean(c.dest)
		for _, src := range c.srcs {
			src = path.Clean(src)
			target := dest
			if fi, err := os.Stat(filepath.Join(repoRoot, src)); err == nil && !fi.IsDir() && strings.HasSuffix(c.dest, "/") {
				target = path.Join(dest, path.Base(src))
			}
			if rel, ok := under(p, target); ok {
				found = path.Join(src, rel)
			}
		}
	}
	return found
}

// under reports whether p is dir or lies below it, and the path relative to it.
func under(p, dir string) (string, bool) {
	if p == dir {
		return ".", true
	}
	if dir == "/" {
		return strings.TrimPrefix(p, "/"), true
	}
	if strings.HasPrefix(p, dir+"/") {
		return p[len(dir)+1:], true
	}
	return "", false
}

// state is what a stage has set up to a point: variables, working
// directory, user and the copies from the build context.
type state struct {
	env     map[string]string
	workdir string // "" while the base image's is in force
	user    string
	copies  []copyStep
}

func (s *state) envGetter() shell.EnvGetter {
	kv := make([]string, 0, len(s.env))
	for k, v := range s.env {
		kv = append(kv, k+"="+v)
	}
	return shell.EnvsFromSlice(kv)
}

// expand expands variables in word as the Dockerfile frontend does.
func (s *state) expand(word string) (string, error) {
	out, _, err := shell.NewLex('\\').ProcessWord(word, s.envGetter())
	return out, err
}

// resolve makes p absolute against the working directory.
func (s *state) resolve(p string) (string, error) {
	if path.IsAbs(p) {
		return path.Clean(p), nil
	}
	if s.workdir == "" {
		return "", fmt.Errorf("relative path %q before any WORKDIR (the base image's is not known here)", p)
	}
	return path.Join(s.workdir, p), nil
}

// walk calls fn for every command of stage i with the state in force before
// it, and returns the state after the last command.
func (d *dockerfile) walk(i int, fn func(cmd instructions.Command, st *state) error) (*state, error) {
	st := &state{env: map[string]string{}}
	// Meta ARGs are visible in a stage only when it declares them again
	// (ARG NAME without a value), which the ARG case below handles.
	meta := map[string]string{}
	for _, a := range d.metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				meta[kv.Key] = *kv.Value
			}
		}
	}
	for _, cmd := range d.stages[i].Commands {
		if fn != nil {
			if err := fn(cmd, st); err != nil {
				return nil, err
			}
		}
		switch c := cmd.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				switch {
				case kv.Value != nil:
					v, err := st.expand(*kv.Value)
					if err != nil {
						return nil, err
					}
					st.env[kv.Key] = v
				default:
					if v, ok := meta[kv.Key]; ok {
						st.env[kv.Key] = v
					}
				}
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				v, err := st.expand(kv.Value)
				if err != nil {
					return nil, err
				}
				st.env[kv.Key] = v
			}
		case *instructions.WorkdirCommand:
			w, err := st.expand(c.Path)
			if err != nil {
				return nil, err
			}
			if path.IsAbs(w) {
				st.workdir = path.Clean(w)
			} else if st.workdir, err = st.resolve(w); err != nil {
				return nil, err
			}
		case *instructions.UserCommand:
			st.user = c.User
		case *instructions.CopyCommand:
			if c.From != "" {
				continue
			}
			dest, err := st.expand(c.DestPath)
			if err != nil {
				return nil, err
			}
			abs, err := st.resolve(dest)
			if err != nil {
				return nil, err
			}
			if strings.HasSuffix(dest, "/") || dest == "." {
				abs += "/"
			}
			st.copies = append(st.copies, copyStep{srcs: c.SourcePaths, dest: abs})
		}
	}
	return st, nil
}

// assignment matches a leading NAME=value word of a shell command.
var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// shellCommand is one simple command of a RUN line.
type shellCommand struct {
	assigns []string // leading NAME=value words
	args    []string // the program and its arguments
}

// splitCommands splits the words of a shell command line at the control
// operators &&, ||, | and ; (also when ; ends a word), dropping the words of
// if/then/else/fi, so that every part starts with its program. It does not
// handle subshells, functions or loops; the Dockerfiles here use none.
func splitCommands(words []string) []shellCommand {
	var out []shellCommand
	var cur shellCommand
	flush := func() {
		if len(cur.args) > 0 || len(cur.assigns) > 0 {
			out = append(out, cur)
		}
		cur = shellCommand{}
	}
	for _, w := range words {
		end := false
		if len(w) > 1 && strings.HasSuffix(w, ";") {
			w, end = strings.TrimSuffix(w, ";"), true
		}
		switch {
		case w == "&&" || w == "||" || w == "|" || w == ";":
			flush()
			continue
		case len(cur.args) == 0 && (w == "if" || w == "then" || w == "else" || w == "fi" || w == "!"):
			// a keyword in command position starts the next command
		case len(cur.args) == 0 && assignment.MatchString(w):
			cur.assigns = append(cur.assigns, w)
		default:
			cur.args = append(cur.args, w)
		}
		if end {
			flush()
		}
	}
	flush()
	return out
}

// runCommands returns the simple commands of a RUN, its variables expanded
// from the ARG and ENV values in force, as the shell would see them.
func runCommands(c *instructions.RunCommand, st *state) ([]shellCommand, error) {
	var words []string
	if c.PrependShell {
		var err error
		words, err = shell.NewLex('\\').ProcessWords(strings.Join(c.CmdLine, " "), st.envGetter())
		if err != nil {
			return nil, err
		}
	} else {
		words = c.CmdLine
	}
	return splitCommands(words), nil
}

// imageRef is a parsed image reference, name[:tag][@digest].
type imageRef struct{ name, tag, digest string }

var (
	tagRE    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	nameRE   = regexp.MustCompile(`^[a-z0-9]+([._-]+[a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$`)
)

// splitImageRef parses an image reference as FROM and COPY --from take it.
// The name may carry a registry host with a port; the tag follows the last
// colon after the last slash.
func splitImageRef(s string) (imageRef, error) {
	var r imageRef
	rest := s
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		rest, r.digest = rest[:i], rest[i+1:]
		if !digestRE.MatchString(r.digest) {
			return imageRef{}, fmt.Errorf("image %q: digest %q is not sha256:<64 hex digits>", s, r.digest)
		}
	}
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') {
		rest, r.tag = rest[:i], rest[i+1:]
		if !tagRE.MatchString(r.tag) {
			return imageRef{}, fmt.Errorf("image %q: invalid tag %q", s, r.tag)
		}
	}
	if !nameRE.MatchString(rest) {
		return imageRef{}, fmt.Errorf("image %q: invalid name %q", s, rest)
	}
	r.name = rest
	return r, nil
}

// versionTag matches tags that name a version (they contain a digit).
var versionTag = regexp.MustCompile(`[0-9]`)

// checkPinned returns an error unless ref names a version tag (not latest)
// and a sha256 digest.
func checkPinned(ref string) error {
	r, err := splitImageRef(ref)
	if err != nil {
		return err
	}
	switch {
	case r.tag == "" || r.tag == "latest" || !versionTag.MatchString(r.tag):
		return fmt.Errorf("image %q: no version tag", ref)
	case r.digest == "":
		return fmt.Errorf("image %q: no digest", ref)
	}
	return nil
}

// pinnedRequirement matches a pip requirement with an exact version.
var pinnedRequirement = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*\])?==[0-9][A-Za-z0-9.+!-]*$`)

// pipValueFlags are pip install's options that take a value.
var pipValueFlags = map[string]bool{
	"-t": true, "--target": true, "-r": true, "--requirement": true, "-c": true, "--constraint": true,
	"-i": true, "--index-url": true, "--extra-index-url": true, "--cache-dir": true, "--prefix": true,
	"--root": true, "--platform": true, "--python-version": true, "--only-binary": true, "--no-binary": true,
}

// pipRequirements returns the requirements of a pip install command, or
// ok false if the command is not one.
func pipRequirements(args []string) (reqs []string, ok bool, err error) {
	if len(args) < 2 {
		return nil, false, nil
	}
	i := 0
	switch base := path.Base(args[0]); {
	case base == "pip" || base == "pip3":
		i = 1
	case strings.HasPrefix(base, "python") && len(args) > 2 && args[1] == "-m" && args[2] == "pip":
		i = 3
	default:
		return nil, false, nil
	}
	if i >= len(args) || args[i] != "install" {
		return nil, false, nil
	}
	for j := i + 1; j < len(args); j++ {
		a := args[j]
		switch {
		case a == "-r" || a == "--requirement" || a == "-e" || a == "--editable":
			return nil, true, fmt.Errorf("pip install %s: use pinned requirements on the command line", a)
		case pipValueFlags[a]:
			j++
		case strings.HasPrefix(a, "-"):
		default:
			reqs = append(reqs, a)
		}
	}
	return reqs, true, nil
}

// program returns the program a command runs, "" for a bare assignment.
func (c shellCommand) program() string {
	if len(c.args) == 0 {
		return ""
	}
	return c.args[0]
}

// dockerignore loads the ignore file docker build uses with a Dockerfile
// (BuildKit reads <Dockerfile>.dockerignore next to it before the context's).
func dockerignore(name string) (*patternmatcher.PatternMatcher, []string, error) {
	f, err := os.Open(name + ".dockerignore")
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, nil, err
	}
	pm, err := patternmatcher.New(patterns)
	return pm, patterns, err
}

// excluded reports whether the ignore patterns leave the context path p out.
func excluded(pm *patternmatcher.PatternMatcher, p string) (bool, error) {
	p = filepath.FromSlash(path.Clean(p))
	if p == "." {
		return false, nil
	}
	return pm.MatchesOrParentMatches(p)
}
