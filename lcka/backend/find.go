package backend

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Plugin is a PJRT plugin file found on the machine.
type Plugin struct {
	Name   string // "cuda", "cpu", or the base name of an explicit file
	Path   string // absolute path of the .so file
	Source string // where it was found, for messages: "PJRT_PLUGIN_LIBRARY_PATH", "pip package jax-cuda13-pjrt", ...
	// CUDADataDir, for a plugin of a pip package, is the folder of the
	// sibling NVIDIA package that holds bin/ptxas and nvvm/libdevice
	// (site-packages/nvidia/cu13 or nvidia/cuda_nvcc), which XLA is
	// pointed to with XLA_FLAGS=--xla_gpu_cuda_data_dir, as JAX and
	// go-xla do; "" when none was found or not needed.
	CUDADataDir string
}

// Env is what Find looks at. SystemEnv is the machine's; tests give fake
// folder layouts.
type Env struct {
	// Getenv reads environment variables (PJRT_PLUGIN_LIBRARY_PATH,
	// VIRTUAL_ENV, CONDA_PREFIX).
	Getenv func(string) string
	// Home is the user's home folder ("" if unknown).
	Home string
	// Root prefixes the system folders searched (/usr/lib/python3/...,
	// /usr/local/lib/...): "" or "/" on a real machine.
	Root string
	// PythonPath returns the site folders of python3's sys.path; nil
	// means none (the interpreter is not asked).
	PythonPath func() []string
}

// SystemEnv is the machine's environment; its PythonPath asks python3
// (when on PATH) for sys.path, with a time limit of 10 s.
func SystemEnv() Env {
	home, _ := os.UserHomeDir()
	return Env{Getenv: os.Getenv, Home: home, PythonPath: pythonSysPath}
}

// pythonSysPath runs python3 for its sys.path; nil when there is no
// python3 or it fails.
func pythonSysPath() []string {
	py, err := exec.LookPath("python3")
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", "import sys\nfor p in sys.path:\n    print(p)").Output()
	if err != nil {
		return nil
	}
	var dirs []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); filepath.IsAbs(l) {
			dirs = append(dirs, l)
		}
	}
	return dirs
}

// pluginFiles are the file names a PJRT plugin of the platform goes by in
// a plugin folder: go-xla's patterns, and the name in JAX's pip packages.
func pluginFiles(name string) []string {
	files := []string{
		"pjrt_c_api_" + name + "_plugin.so",
		"pjrt_c_api_" + name + "_v*_plugin.so",
		"pjrt-plugin-" + name + ".so",
		"pjrt_plugin_" + name + ".so",
	}
	if name == "cuda" {
		files = append(files, "xla_cuda_plugin.so")
	}
	return files
}

// pipPlugins are JAX's CUDA PJRT pip packages, newest CUDA first, with
// their plugin file (relative to site-packages) and the NVIDIA package
// folders that may hold ptxas and libdevice.
var pipPlugins = []struct {
	pkg, file string
	dataDirs  []string
}{
	{"jax-cuda13-pjrt", "jax_plugins/xla_cuda13/xla_cuda_plugin.so", []string{"nvidia/cu13", "nvidia/cuda_nvcc"}},
	{"jax-cuda12-pjrt", "jax_plugins/xla_cuda12/xla_cuda_plugin.so", []string{"nvidia/cuda_nvcc"}},
}

// NotFoundError says which plugin files were looked for, and where, when
// none was found.
type NotFoundError struct {
	Plugin string
	Looked []string // "what in where" lines
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "backend xla:%s: no PJRT plugin found (nothing is downloaded). Looked for:", e.Plugin)
	for _, l := range e.Looked {
		b.WriteString("\n  - " + l)
	}
	if e.Plugin == "cuda" {
		b.WriteString("\nInstall one (pip install jax-cuda13-pjrt, with its nvidia-* packages), point PJRT_PLUGIN_LIBRARY_PATH to its file or folder, or give --backend xla:/abs/path/plugin.so.")
	} else {
		b.WriteString("\nPoint PJRT_PLUGIN_LIBRARY_PATH to a PJRT CPU plugin (pjrt_c_api_cpu_plugin.so) or its folder, or give --backend xla:/abs/path/plugin.so.")
	}
	return b.String()
}

// Find locates the PJRT plugin name ("cuda", "cpu", or an absolute path)
// without downloading anything. An absolute path is used as given. For a
// platform it looks, in order, in $PJRT_PLUGIN_LIBRARY_PATH (files or
// folders, ':'-separated), in go-xla's install folders
// (~/.local/lib/go-xla[/nvidia], /usr/local/lib/go-xla[/nvidia]), and, for
// cuda, in the site-packages folders of Python (python3's sys.path,
// $VIRTUAL_ENV, $CONDA_PREFIX, ~/.local/lib/python3*/site-packages,
// /usr/local/lib/python3*/{site,dist}-packages, /usr/lib/python3/dist-packages)
// for the plugin of the pip packages jax-cuda13-pjrt and jax-cuda12-pjrt.
// The error names every file and folder looked at.
func Find(name string, env Env) (Plugin, error) {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if filepath.IsAbs(name) {
		st, err := os.Stat(name)
		if err != nil {
			return Plugin{}, fmt.Errorf("backend xla:%s: PJRT plugin file: %w", name, err)
		}
		if st.IsDir() {
			return Plugin{}, fmt.Errorf("backend xla:%s: is a folder, not a PJRT plugin file (.so)", name)
		}
		p := Plugin{Name: filepath.Base(name), Path: name, Source: "explicit path"}
		p.CUDADataDir = pipDataDir(name)
		return p, nil
	}
	if name != "cuda" && name != "cpu" {
		return Plugin{}, fmt.Errorf("backend xla:%s: unknown plugin; want cuda, cpu or an absolute path", name)
	}
	files := pluginFiles(name)
	nf := &NotFoundError{Plugin: name}

	// 1. PJRT_PLUGIN_LIBRARY_PATH.
	if v := env.Getenv("PJRT_PLUGIN_LIBRARY_PATH"); v != "" {
		for _, d := range strings.Split(v, ":") {
			if d == "" {
				continue
			}
			if st, err := os.Stat(d); err == nil && !st.IsDir() {
				return Plugin{Name: name, Path: abs(d), Source: "PJRT_PLUGIN_LIBRARY_PATH", CUDADataDir: pipDataDir(abs(d))}, nil
			}
			if p, ok := inDir(d, files); ok {
				return Plugin{Name: name, Path: p, Source: "PJRT_PLUGIN_LIBRARY_PATH", CUDADataDir: pipDataDir(p)}, nil
			}
		}
		nf.Looked = append(nf.Looked, fmt.Sprintf("%s in $PJRT_PLUGIN_LIBRARY_PATH (%s)", strings.Join(files, ", "), v))
	} else {
		nf.Looked = append(nf.Looked, "$PJRT_PLUGIN_LIBRARY_PATH (not set)")
	}

	// 2. go-xla's install folders.
	var goxla []string
	if env.Home != "" {
		goxla = append(goxla, filepath.Join(env.Home, ".local/lib/go-xla"), filepath.Join(env.Home, ".local/lib/go-xla/nvidia"))
	}
	goxla = append(goxla, env.sys("/usr/local/lib/go-xla"), env.sys("/usr/local/lib/go-xla/nvidia"))
	for _, d := range goxla {
		if p, ok := inDir(d, files); ok {
			return Plugin{Name: name, Path: p, Source: "go-xla folder " + d}, nil
		}
	}
	nf.Looked = append(nf.Looked, fmt.Sprintf("%s in %s", strings.Join(files, ", "), strings.Join(goxla, ", ")))

	// 3. Python's site-packages, for JAX's CUDA pip packages.
	if name == "cuda" {
		sites := env.siteDirs()
		for _, site := range sites {
			for _, pp := range pipPlugins {
				p := filepath.Join(site, pp.file)
				if isFile(p) {
					return Plugin{Name: name, Path: p, Source: "pip package " + pp.pkg + " in " + site, CUDADataDir: pipDataDir(p)}, nil
				}
			}
		}
		where := "no site-packages folder found"
		if len(sites) > 0 {
			where = strings.Join(sites, ", ")
		}
		for _, pp := range pipPlugins {
			nf.Looked = append(nf.Looked, fmt.Sprintf("%s (pip package %s) in %s", pp.file, pp.pkg, where))
		}
	}
	return Plugin{}, nf
}

// sys returns the system folder p under env.Root.
func (env Env) sys(p string) string {
	if env.Root == "" {
		return p
	}
	return filepath.Join(env.Root, p)
}

// siteDirs lists the existing Python site folders, in search order,
// without repeats.
func (env Env) siteDirs() []string {
	var cands []string
	if env.PythonPath != nil {
		cands = append(cands, env.PythonPath()...)
	}
	glob := func(pattern string) {
		m, _ := filepath.Glob(pattern)
		slices.Sort(m)
		slices.Reverse(m) // newest Python first
		cands = append(cands, m...)
	}
	for _, v := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if d := env.Getenv(v); d != "" {
			glob(filepath.Join(d, "lib/python3*/site-packages"))
		}
	}
	if env.Home != "" {
		glob(filepath.Join(env.Home, ".local/lib/python3*/site-packages"))
	}
	glob(env.sys("/usr/local/lib/python3*/site-packages"))
	glob(env.sys("/usr/local/lib/python3*/dist-packages"))
	cands = append(cands, env.sys("/usr/lib/python3/dist-packages"))
	glob(env.sys("/usr/lib/python3*/site-packages"))
	var dirs []string
	seen := map[string]bool{}
	for _, d := range cands {
		d = filepath.Clean(d)
		if seen[d] {
			continue
		}
		seen[d] = true
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// pipDataDir returns, for a plugin file in a pip layout
// (site-packages/jax_plugins/xla_cudaNN/xla_cuda_plugin.so), the sibling
// NVIDIA folder holding bin/ptxas, else "".
func pipDataDir(plugin string) string {
	site := filepath.Dir(filepath.Dir(filepath.Dir(plugin)))
	if filepath.Base(filepath.Dir(filepath.Dir(plugin))) != "jax_plugins" {
		return ""
	}
	for _, pp := range pipPlugins {
		if !strings.HasSuffix(filepath.ToSlash(plugin), pp.file) {
			continue
		}
		for _, d := range pp.dataDirs {
			dir := filepath.Join(site, d)
			if isFile(filepath.Join(dir, "bin", "ptxas")) {
				return dir
			}
		}
	}
	return ""
}

// inDir returns the first file of patterns present in dir.
func inDir(dir string, patterns []string) (string, bool) {
	for _, pat := range patterns {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		slices.Sort(m)
		for _, p := range slices.Backward(m) { // the highest version first
			if isFile(p) {
				return abs(p), true
			}
		}
	}
	return "", false
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
