package docker

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// forEach runs check on each Dockerfile in a subtest.
func forEach(t *testing.T, check func(t *testing.T, d *dockerfile)) {
	for _, name := range dockerfiles {
		t.Run(name, func(t *testing.T) { check(t, load(t, name)) })
	}
}

// finalState walks the final stage, calling fn (if not nil) on each command.
func finalState(t *testing.T, d *dockerfile, fn func(cmd instructions.Command, st *state) error) *state {
	t.Helper()
	st, err := d.walk(len(d.stages)-1, fn)
	if err != nil {
		t.Fatalf("%s: %v", d.name, err)
	}
	return st
}

// TestParse parses both files as docker build would and fails on any
// warning of the parser or of BuildKit's parse-time lint rules, and on
// instructions not written in upper case.
func TestParse(t *testing.T) {
	forEach(t, func(t *testing.T, d *dockerfile) {
		for _, w := range d.warnings {
			t.Error(w)
		}
		for _, n := range d.nodes {
			if kw, _, _ := strings.Cut(n.Original, " "); kw != strings.ToUpper(kw) {
				t.Errorf("line %d: instruction %q not in upper case", n.StartLine, kw)
			}
		}
	})
}

// TestBaseImagesPinned requires every image a build pulls (FROM and COPY
// --from) to be named by a version tag and a sha256 digest.
func TestBaseImagesPinned(t *testing.T) {
	forEach(t, func(t *testing.T, d *dockerfile) {
		for i, s := range d.stages {
			if !d.isStage(s.BaseName, i) {
				if err := checkPinned(s.BaseName); err != nil {
					t.Errorf("FROM: %v", err)
				}
			}
			for _, cmd := range s.Commands {
				if c, ok := cmd.(*instructions.CopyCommand); ok && c.From != "" && !d.isStage(c.From, i+1) {
					if err := checkPinned(c.From); err != nil {
						t.Errorf("COPY --from: %v", err)
					}
				}
			}
		}
	})
}

// TestCopySources requires every COPY or ADD source to exist in the
// repository and to be part of the build context, and no ADD of URLs.
func TestCopySources(t *testing.T) {
	forEach(t, func(t *testing.T, d *dockerfile) {
		pm, _, err := dockerignore(d.name)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, s := range d.stages {
			for _, cmd := range s.Commands {
				var srcs []string
				switch c := cmd.(type) {
				case *instructions.CopyCommand:
					if c.From != "" {
						continue
					}
					srcs = c.SourcePaths
				case *instructions.AddCommand:
					srcs = c.SourcePaths
				default:
					continue
				}
				for _, src := range srcs {
					n++
					if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") {
						t.Errorf("%s: remote source %q", cmd.Name(), src)
						continue
					}
					if strings.ContainsAny(src, "$*?[") {
						t.Errorf("%s: source %q has variables or wildcards this test does not resolve", cmd.Name(), src)
						continue
					}
					if _, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(src))); err != nil {
						t.Errorf("%s %s: not in the repository: %v", cmd.Name(), src, err)
					}
					if ex, err := excluded(pm, src); err != nil || ex {
						t.Errorf("%s %s: left out of the build context by %s.dockerignore (%v)", cmd.Name(), src, d.name, err)
					}
				}
			}
		}
		if n == 0 {
			t.Error("no COPY sources")
		}
	})
}

// TestDockerignore checks that both ignore files leave out git metadata and
// every node_modules (so that the images run npm ci from the lock files
// instead of copying a host's install) but keep what the set-up needs, and
// that the two files keep the same patterns.
func TestDockerignore(t *testing.T) {
	var first []string
	for _, name := range dockerfiles {
		pm, patterns, err := dockerignore(name)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = patterns
		} else if !slices.Equal(first, patterns) {
			t.Errorf("%s.dockerignore and %s.dockerignore differ:\n%q\n%q", dockerfiles[0], name, first, patterns)
		}
		for p, want := range map[string]bool{
			".git/HEAD": true,
			"plots/js/node_modules/echarts/dist/echarts.min.js": true,
			"lcka/tokenizer/testdata/ref/node_modules/x.json":   true,
			"docker/lint/node_modules/.bin/dockerfilelint":      true,
			"notebooks/out/artifacts/x":                         true,
			"demo-out/results/report.html":                      true,
			"cka.test":                                          true,
			"go.mod":                                            false,
			"go.sum":                                            false,
			"plots/js/package-lock.json":                        false,
			"lcka/tokenizer/testdata/ref/package-lock.json":     false,
			"scripts/setup":                                     false,
			"notebooks/Analysis.ipynb":                          false,
			"cmd/layersim/main.go":                              false,
			"docker/entrypoint.sh":                              false,
		} {
			got, err := excluded(pm, p)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s.dockerignore: %s excluded = %v, want %v", name, p, got, want)
			}
		}
	}
}

// ciScripts returns the set-up scripts .ci/run runs, as repository paths.
func ciScripts(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^\s*\./(scripts/[\w.-]+)`).FindAllStringSubmatch(string(b), -1) {
		// The set-up scripts: what installs; CI's checks (scripts/fuzz-briefly) are not the images' business.
		if strings.HasSuffix(m[1], "setup") {
			out = append(out, m[1])
		}
	}
	if len(out) == 0 {
		t.Fatal(".ci/run runs no script under scripts/")
	}
	return out
}

// scriptRun is a RUN of a repository script.
type scriptRun struct {
	image  string // the script's path in the image
	copies []copyStep
	env    map[string]string // the script's environment from ARG, ENV and NAME=value words
}

// scriptRuns returns the RUNs of the final stage that start the
// repository's script repoPath.
func scriptRuns(t *testing.T, d *dockerfile, repoPath string) []scriptRun {
	t.Helper()
	var runs []scriptRun
	finalState(t, d, func(cmd instructions.Command, st *state) error {
		c, ok := cmd.(*instructions.RunCommand)
		if !ok {
			return nil
		}
		cmds, err := runCommands(c, st)
		if err != nil {
			return err
		}
		for _, sc := range cmds {
			p := sc.program()
			if !strings.Contains(p, "/") {
				continue
			}
			abs, err := st.resolve(p)
			if err != nil {
				return err
			}
			if imagePath(st.copies, abs) == repoPath {
				env := maps.Clone(st.env)
				for _, a := range sc.assigns {
					k, v, _ := strings.Cut(a, "=")
					env[k] = v
				}
				runs = append(runs, scriptRun{image: abs, copies: slices.Clone(st.copies), env: env})
			}
		}
		return nil
	})
	return runs
}

// systemJupyterDirs are the data folders every user's Jupyter searches for
// kernels (jupyter_core's SYSTEM_JUPYTER_PATH on Linux).
var systemJupyterDirs = []string{"/usr/local/share/jupyter", "/usr/share/jupyter"}

// TestSetupScripts checks the one source of truth: each image runs the
// set-up script that .ci/run runs (and the README tells to run) from a copy
// of the whole checkout, and scripts/gonb-setup the same way (directly, or
// through scripts/setup if that runs it), with JUPYTER_DATA_DIR set to a
// folder where the image's user finds the kernel (by default it would go to
// root's home).
func TestSetupScripts(t *testing.T) {
	scripts := ciScripts(t)
	if !slices.Contains(scripts, "scripts/setup") {
		t.Fatalf(".ci/run runs %v, not scripts/setup", scripts)
	}
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scripts {
		if !strings.Contains(string(readme), "./"+s) {
			t.Errorf("README.md does not run ./%s", s)
		}
	}
	for _, s := range []string{"setup", "gonb-setup"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, "scripts", s))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `cd "$(dirname "$0")/.."`) {
			t.Fatalf(`scripts/%s no longer takes the checkout as $(dirname "$0")/..: update this test`, s)
		}
	}
	setup, err := os.ReadFile(filepath.Join(repoRoot, "scripts", "setup"))
	if err != nil {
		t.Fatal(err)
	}
	setupRunsGonb := regexp.MustCompile(`(?m)^\s*\./scripts/gonb-setup(\s|$)`).Match(setup)
	forEach(t, func(t *testing.T, d *dockerfile) {
		fromCheckout := func(s string, runs []scriptRun) {
			for _, r := range runs {
				// The scripts take the checkout to be their folder's parent.
				root := path.Dir(path.Dir(r.image))
				if got := imagePath(r.copies, root); got != "." {
					t.Errorf("%s runs at %s, which holds %q of the repository, not all of it", s, root, got)
				}
			}
		}
		for _, s := range scripts {
			runs := scriptRuns(t, d, s)
			if len(runs) == 0 {
				t.Errorf("no RUN of %s", s)
			}
			fromCheckout(s, runs)
		}
		kernel := scriptRuns(t, d, "scripts/gonb-setup")
		fromCheckout("scripts/gonb-setup", kernel)
		if setupRunsGonb {
			kernel = append(kernel, scriptRuns(t, d, "scripts/setup")...)
		}
		if len(kernel) == 0 {
			t.Error("scripts/gonb-setup runs neither in a RUN nor from scripts/setup")
		}
		for _, r := range kernel {
			if dir := r.env["JUPYTER_DATA_DIR"]; !slices.Contains(systemJupyterDirs, dir) {
				t.Errorf("%s registers the kernel with JUPYTER_DATA_DIR=%q, want one of %q", r.image, dir, systemJupyterDirs)
			}
		}
	})
}

// TestNonRootUser requires the image's user, set before CMD and
// ENTRYPOINT, to be created in the image and not to be root.
func TestNonRootUser(t *testing.T) {
	forEach(t, func(t *testing.T, d *dockerfile) {
		var userAt, cmdAt, entrypointAt = -1, -1, -1
		var user string
		created := map[string]bool{}
		finalState(t, d, func(cmd instructions.Command, st *state) error {
			i := slices.Index(d.final().Commands, cmd)
			switch c := cmd.(type) {
			case *instructions.UserCommand:
				userAt, user = i, c.User
			case *instructions.CmdCommand:
				cmdAt = i
			case *instructions.EntrypointCommand:
				entrypointAt = i
			case *instructions.RunCommand:
				cmds, err := runCommands(c, st)
				if err != nil {
					return err
				}
				for _, sc := range cmds {
					if sc.program() == "useradd" && len(sc.args) > 1 {
						created[sc.args[len(sc.args)-1]] = true
					}
				}
			}
			return nil
		})
		name, _, _ := strings.Cut(user, ":")
		switch {
		case userAt < 0:
			t.Fatal("no USER: the image runs as root")
		case name == "root" || name == "0":
			t.Errorf("USER %s", user)
		case !created[name]:
			t.Errorf("USER %s is not created by a useradd in the image", user)
		}
		if cmdAt < 0 || entrypointAt < 0 {
			t.Fatal("no CMD or ENTRYPOINT")
		}
		if userAt > cmdAt || userAt > entrypointAt {
			t.Errorf("USER comes after CMD or ENTRYPOINT")
		}
	})
}

var (
	// secretName matches ARG and ENV names that would hold a credential.
	secretName = regexp.MustCompile(`(?i)(token|secret|passw|credential|api_?key|private_?key)`)
	// hfToken matches a Hugging Face access token.
	hfToken = regexp.MustCompile(`hf_[A-Za-z0-9]{30,}`)
)

// TestNoSecrets requires that no ARG or ENV carries a credential (HF_TOKEN
// is given to docker run), that no RUN assigns one, and that no Hugging Face
// token appears anywhere in the files.
func TestNoSecrets(t *testing.T) {
	forEach(t, func(t *testing.T, d *dockerfile) {
		if hfToken.MatchString(d.source) {
			t.Error("a Hugging Face token is written in the file")
		}
		for _, a := range d.metaArgs {
			for _, kv := range a.Args {
				if secretName.MatchString(kv.Key) {
					t.Errorf("ARG %s", kv.Key)
				}
			}
		}
		for i := range d.stages {
			_, err := d.walk(i, func(cmd instructions.Command, st *state) error {
				switch c := cmd.(type) {
				case *instructions.ArgCommand:
					for _, kv := range c.Args {
						if secretName.MatchString(kv.Key) {
							t.Errorf("ARG %s", kv.Key)
						}
					}
				case *instructions.EnvCommand:
					for _, kv := range c.Env {
						if secretName.MatchString(kv.Key) {
							t.Errorf("ENV %s", kv.Key)
						}
					}
				case *instructions.RunCommand:
					cmds, err := runCommands(c, st)
					if err != nil {
						return err
					}
					for _, sc := range cmds {
						for _, a := range append(sc.assigns, sc.args...) {
							if k, _, ok := strings.Cut(a, "="); ok && secretName.MatchString(k) && assignment.MatchString(a) {
								t.Errorf("RUN assigns %s", k)
							}
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestGoExperiment requires GOEXPERIMENT=simd wherever go or a set-up
// script runs, and in the image's environment (for notebooks and go run).
func TestGoExperiment(t *testing.T) {
	forEach(t, func(t *testing.T, d *dockerfile) {
		builds := 0
		st := finalState(t, d, func(cmd instructions.Command, st *state) error {
			c, ok := cmd.(*instructions.RunCommand)
			if !ok {
				return nil
			}
			cmds, err := runCommands(c, st)
			if err != nil {
				return err
			}
			for _, sc := range cmds {
				p := sc.program()
				if p == "go" || strings.HasSuffix(p, "scripts/setup") || strings.HasSuffix(p, "scripts/gonb-setup") {
					builds++
					if st.env["GOEXPERIMENT"] != "simd" && !slices.Contains(sc.assigns, "GOEXPERIMENT=simd") {
						t.Errorf("RUN %s without GOEXPERIMENT=simd", strings.Join(sc.args, " "))
					}
				}
			}
			return nil
		})
		if builds == 0 {
			t.Error("nothing runs go or a set-up script")
		}
		if st.env["GOEXPERIMENT"] != "simd" {
			t.Errorf("image environment: GOEXPERIMENT=%q, want simd", st.env["GOEXPERIMENT"])
		}
		// The kernels' cells run with it (internal/simdrt).
		if st.env["GODEBUG"] != "asyncpreemptoff=1" {
			t.Errorf("image environment: GODEBUG=%q, want asyncpreemptoff=1", st.env["GODEBUG"])
		}
	})
}

// TestPipPinned requires every pip install to name exact versions.
func TestPipPinned(t *testing.T) {
	forEach(t, func(t *testing.T, d *dockerfile) {
		installs := 0
		finalState(t, d, func(cmd instructions.Command, st *state) error {
			c, ok := cmd.(*instructions.RunCommand)
			if !ok {
				return nil
			}
			cmds, err := runCommands(c, st)
			if err != nil {
				return err
			}
			for _, sc := range cmds {
				reqs, ok, err := pipRequirements(sc.args)
				if err != nil {
					t.Error(err)
				}
				if !ok {
					continue
				}
				installs++
				if len(reqs) == 0 {
					t.Errorf("pip install without requirements: %q", sc.args)
				}
				for _, r := range reqs {
					if !pinnedRequirement.MatchString(r) {
						t.Errorf("pip install %s: not an exact version", r)
					}
				}
			}
			return nil
		})
		if installs == 0 {
			t.Error("no pip install (JupyterLab)")
		}
	})
}

// TestRuntimeLayout checks what docker/README.md promises about a running
// container: JupyterLab listens on the exposed port, which the README
// publishes; HF_HOME and the notebooks' outputs lie on the volume; the
// working directory holds the notebooks; the ENTRYPOINT is the repository's
// docker/entrypoint.sh, executable; CMD and ENTRYPOINT are in exec form.
func TestRuntimeLayout(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	forEach(t, func(t *testing.T, d *dockerfile) {
		var exposed, volumes, cmdArgs, entrypoint []string
		var links [][2]string // RUN ln -s TARGET LINK, LINK resolved
		var entrypointChmod string
		st := finalState(t, d, func(cmd instructions.Command, st *state) error {
			switch c := cmd.(type) {
			case *instructions.ExposeCommand:
				exposed = append(exposed, c.Ports...)
			case *instructions.VolumeCommand:
				volumes = append(volumes, c.Volumes...)
			case *instructions.CmdCommand:
				if c.PrependShell {
					t.Error("CMD in shell form: signals would not reach JupyterLab")
				}
				cmdArgs = c.CmdLine
			case *instructions.EntrypointCommand:
				if c.PrependShell {
					t.Error("ENTRYPOINT in shell form")
				}
				entrypoint = c.CmdLine
			case *instructions.CopyCommand:
				if slices.Contains(c.SourcePaths, "docker/entrypoint.sh") {
					entrypointChmod = c.Chmod
				}
			case *instructions.RunCommand:
				cmds, err := runCommands(c, st)
				if err != nil {
					return err
				}
				for _, sc := range cmds {
					if sc.program() == "ln" && len(sc.args) >= 3 && strings.HasPrefix(sc.args[1], "-s") {
						link, err := st.resolve(sc.args[len(sc.args)-1])
						if err != nil {
							return err
						}
						links = append(links, [2]string{sc.args[len(sc.args)-2], link})
					}
				}
			}
			return nil
		})

		if len(exposed) != 1 {
			t.Fatalf("EXPOSE %q, want one port", exposed)
		}
		port := strings.TrimSuffix(exposed[0], "/tcp")
		if !slices.Contains(cmdArgs, "--port="+port) || !slices.Contains(cmdArgs, "--ip=0.0.0.0") {
			t.Errorf("CMD %q does not listen on 0.0.0.0:%s", cmdArgs, port)
		}
		if len(cmdArgs) < 2 || cmdArgs[0] != "jupyter" || cmdArgs[1] != "lab" {
			t.Errorf("CMD %q does not start JupyterLab", cmdArgs)
		}
		for _, want := range []string{fmt.Sprintf("-p %s:%s", port, port), "localhost:" + port, "-f docker/" + d.name + " "} {
			if !strings.Contains(string(readme), want) {
				t.Errorf("docker/README.md does not say %q", want)
			}
		}

		if len(volumes) != 1 {
			t.Fatalf("VOLUME %q, want one", volumes)
		}
		vol := path.Clean(volumes[0])
		if st.env["LAYERSIM_DATA"] != vol {
			t.Errorf("LAYERSIM_DATA=%q (the entry point's data folder), want the volume %s", st.env["LAYERSIM_DATA"], vol)
		}
		if _, ok := under(path.Clean(st.env["HF_HOME"]), vol); !ok || st.env["HF_HOME"] == "" {
			t.Errorf("HF_HOME=%q is not on the volume %s", st.env["HF_HOME"], vol)
		}

		if got := imagePath(st.copies, st.workdir); got != "notebooks" {
			t.Errorf("WORKDIR %s holds %q of the repository, want notebooks", st.workdir, got)
		}
		nbs, _ := filepath.Glob(filepath.Join(repoRoot, "notebooks", "*.ipynb"))
		if len(nbs) == 0 {
			t.Error("no notebooks in notebooks/")
		}
		outLinked := false
		for _, l := range links {
			if _, onVolume := under(path.Clean(l[0]), vol); onVolume && l[1] == path.Join(st.workdir, "out") {
				outLinked = true
			}
		}
		if !outLinked {
			t.Errorf("%s/out (where the notebooks write) is not linked into the volume %s", st.workdir, vol)
		}
		for _, nb := range nbs {
			b, err := os.ReadFile(nb)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `\"out/`) {
				t.Errorf("%s no longer writes under out/: update the image's link", nb)
			}
		}

		if len(entrypoint) < 1 {
			t.Fatal("no ENTRYPOINT")
		}
		script := entrypoint[len(entrypoint)-1]
		if got := imagePath(st.copies, script); got != "docker/entrypoint.sh" {
			t.Errorf("ENTRYPOINT runs %s, which is %q of the repository, want docker/entrypoint.sh", script, got)
		}
		if entrypointChmod != "0755" && entrypointChmod != "755" {
			t.Errorf("docker/entrypoint.sh copied with --chmod=%q, want 0755", entrypointChmod)
		}
	})
}

// The plugin search of github.com/gomlx/go-xla v0.4.1 (pjrt/dynamiclib_base.go,
// pjrt/cuda_linux.go): plugins are files pjrt_c_api_<name>_plugin.so (or
// pjrt_plugin_<name>.so, pjrt-plugin-<name>.so) in the folders of
// PJRT_PLUGIN_LIBRARY_PATH; a plugin whose name holds "cuda" gets
// XLA_FLAGS=--xla_gpu_cuda_data_dir=<plugin folder>/../nvidia, which must be
// a folder (the NVIDIA libraries, and bin/ptxas).
var goXLAPluginName = regexp.MustCompile(`^pjrt_c_api_(.+)_plugin\.so$`)

// TestCUDAPlugin checks that Dockerfile.cuda installs the PJRT CUDA plugin
// where go-xla finds it, with the NVIDIA libraries where go-xla points XLA,
// from jax-cuda12-pjrt and jax-cuda12-plugin of one version.
func TestCUDAPlugin(t *testing.T) {
	d := load(t, "Dockerfile.cuda")
	var plugin string
	var runWords []string
	pinned := map[string]string{}
	st := finalState(t, d, func(cmd instructions.Command, st *state) error {
		c, ok := cmd.(*instructions.RunCommand)
		if !ok {
			return nil
		}
		cmds, err := runCommands(c, st)
		if err != nil {
			return err
		}
		for _, sc := range cmds {
			runWords = append(runWords, sc.args...)
			for _, a := range sc.args {
				if path.IsAbs(a) && goXLAPluginName.MatchString(path.Base(a)) {
					plugin = a
				}
			}
			if reqs, ok, _ := pipRequirements(sc.args); ok {
				for _, r := range reqs {
					name, version, _ := strings.Cut(r, "==")
					name, _, _ = strings.Cut(name, "[")
					pinned[name] = version
				}
			}
		}
		return nil
	})
	if plugin == "" {
		t.Fatal("no RUN installs a pjrt_c_api_<name>_plugin.so")
	}
	if name := goXLAPluginName.FindStringSubmatch(path.Base(plugin))[1]; !strings.Contains(strings.ToUpper(name), "CUDA") {
		t.Errorf("plugin %s: go-xla would not treat %q as a CUDA plugin", plugin, name)
	}
	dirs := strings.Split(st.env["PJRT_PLUGIN_LIBRARY_PATH"], ":")
	if !slices.Contains(dirs, path.Dir(plugin)) {
		t.Errorf("PJRT_PLUGIN_LIBRARY_PATH=%q does not hold %s", st.env["PJRT_PLUGIN_LIBRARY_PATH"], path.Dir(plugin))
	}
	nvidia := path.Join(path.Dir(path.Dir(plugin)), "nvidia")
	for _, want := range []string{nvidia, path.Join(nvidia, "bin", "ptxas")} {
		if !slices.Contains(runWords, want) {
			t.Errorf("no RUN installs %s", want)
		}
	}
	pjrt, plug := pinned["jax-cuda12-pjrt"], pinned["jax-cuda12-plugin"]
	if pjrt == "" || pjrt != plug {
		t.Errorf("jax-cuda12-pjrt==%q and jax-cuda12-plugin==%q: want one pinned version", pjrt, plug)
	}
	if st.env["GOMLX_BACKEND"] != "" {
		t.Errorf("GOMLX_BACKEND=%q: layersim does not read it yet (docker/README.md)", st.env["GOMLX_BACKEND"])
	}
}

// TestReadme checks that docker/README.md says the images were not built
// here, and that the top-level README points at it.
func TestReadme(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"not built", "HF_TOKEN", "--gpus all", "layersim demo"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("docker/README.md does not mention %q", want)
		}
	}
	top, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(top), "docker/README.md") {
		t.Error("README.md does not point at docker/README.md")
	}
}

// dockerfilelintReport is the part of dockerfilelint's -j output read here.
type dockerfilelintReport struct {
	Files []struct {
		File   string `json:"file"`
		Issues []struct {
			Line     string `json:"line"`
			Category string `json:"category"`
			Title    string `json:"title"`
		} `json:"issues"`
	} `json:"files"`
}

// unmarshalLint parses dockerfilelint's JSON output.
func unmarshalLint(b []byte) (dockerfilelintReport, error) {
	var r dockerfilelintReport
	err := json.Unmarshal(b, &r)
	return r, err
}
