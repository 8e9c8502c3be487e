package backend

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Spec
		str  string
		err  string // part of the error; "" for none
	}{
		{"", Spec{Kind: Go}, "go", ""},
		{"go", Spec{Kind: Go}, "go", ""},
		{" GO ", Spec{Kind: Go}, "go", ""},
		{"xla:cuda", Spec{Kind: XLA, Plugin: "cuda"}, "xla:cuda", ""},
		{"xla:cpu", Spec{Kind: XLA, Plugin: "cpu"}, "xla:cpu", ""},
		{"xla:/opt/p/../pjrt/xla_cuda_plugin.so", Spec{Kind: XLA, Plugin: "/opt/pjrt/xla_cuda_plugin.so"}, "xla:/opt/pjrt/xla_cuda_plugin.so", ""},
		{"xla:cuda,tf32=true,memory_fraction=0.5", Spec{Kind: XLA, Plugin: "cuda", Options: []string{"tf32=true", "memory_fraction=0.5"}}, "xla:cuda,tf32=true,memory_fraction=0.5", ""},
		{"xla:cuda,,preallocate", Spec{Kind: XLA, Plugin: "cuda", Options: []string{"preallocate"}}, "xla:cuda,preallocate", ""},
		{"xla", Spec{}, "", "say which plugin"},
		{"xla:", Spec{}, "", "no plugin after xla:"},
		{"xla:tpu", Spec{}, "", `unknown plugin "tpu"`},
		{"xla:plugin.so", Spec{}, "", "absolute path"},
		{"xla:./plugin.so", Spec{}, "", "absolute path"},
		{"cuda", Spec{}, "", "unknown; want go, xla:cuda"},
		{"xla:cuda,=1", Spec{}, "", "malformed option"},
	} {
		got, err := Parse(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%q) error %v, want one containing %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got.Kind != tt.want.Kind || got.Plugin != tt.want.Plugin || !slices.Equal(got.Options, tt.want.Options) {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.str {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, s, tt.str)
		}
		if again, err := Parse(got.String()); err != nil || again.String() != got.String() {
			t.Errorf("Parse(String()) of %q = %v, %v", tt.in, again, err)
		}
	}
}

func TestHostMemory(t *testing.T) {
	for in, want := range map[string]bool{
		"go": true, "xla:cpu": true, "xla:cuda": false,
		"xla:/x/pjrt_c_api_cpu_plugin.so": true, "xla:/x/xla_cuda_plugin.so": false,
	} {
		s, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.HostMemory(); got != want {
			t.Errorf("%s: HostMemory() = %v, want %v", in, got, want)
		}
	}
}

func TestDefault(t *testing.T) {
	t.Cleanup(func() { defMu.Lock(); defSet = false; defMu.Unlock() })
	t.Setenv(EnvVar, "")
	if s, err := Default(); err != nil || s.Kind != Go {
		t.Errorf("no choice: %v, %v; want go", s, err)
	}
	t.Setenv(EnvVar, "xla:cpu")
	if s, err := Default(); err != nil || s.String() != "xla:cpu" {
		t.Errorf("$%s=xla:cpu: %v, %v", EnvVar, s, err)
	}
	t.Setenv(EnvVar, "xla:gpu")
	if _, err := Default(); err == nil || !strings.Contains(err.Error(), EnvVar) {
		t.Errorf("bad $%s: error %v, want one naming the variable", EnvVar, err)
	}
	SetDefault(Spec{Kind: Go})
	if s, err := Default(); err != nil || s.Kind != Go {
		t.Errorf("SetDefault(go) over a bad $%s: %v, %v", EnvVar, s, err)
	}
}

func TestNewGo(t *testing.T) {
	b, err := New(Spec{Kind: Go}, "ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if b.Name() == "xla" || !b.HasSharedBuffers() {
		t.Errorf("New(go) = %s (shared buffers %v)", b.Name(), b.HasSharedBuffers())
	}
	if _, err := New(Spec{Kind: Go}, "no_such_option"); err == nil {
		t.Error("New(go) with an unknown Go backend option: no error")
	}
}

func TestWithDefaults(t *testing.T) {
	p := Plugin{Path: "/p/x.so"}
	for _, tt := range []struct {
		opts []string
		want string
	}{
		{nil, "/p/x.so,tf32=false"},
		{[]string{"tf32=true"}, "/p/x.so,tf32=true"},
		{[]string{"notf32", "preallocate=true"}, "/p/x.so,notf32,preallocate=true"},
		{[]string{"memory_fraction=0.5"}, "/p/x.so,memory_fraction=0.5,tf32=false"},
	} {
		if got := withDefaults(Spec{Kind: XLA, Plugin: "cuda", Options: tt.opts}, p); got != tt.want {
			t.Errorf("withDefaults(%q) = %q, want %q", tt.opts, got, tt.want)
		}
	}
}

// touch creates the file p (and its folders) under dir and returns its path.
func touch(t *testing.T, dir, p string) string {
	t.Helper()
	full := filepath.Join(dir, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte("not a real plugin"), 0o644); err != nil {
		t.Fatal(err)
	}
	return full
}

func vars(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFind(t *testing.T) {
	type want struct {
		path, source, dataDir string // relative to the test's folder
		err                   []string
	}
	for _, tt := range []struct {
		name   string
		files  []string // created under the test's folder
		plugin string   // "cuda", "cpu", or a path relative to the folder (made absolute)
		env    map[string]string
		python []string // sys.path, relative
		want   want
	}{
		{name: "explicit path", files: []string{"opt/my.so"}, plugin: "/opt/my.so",
			want: want{path: "opt/my.so", source: "explicit path"}},
		{name: "explicit path missing", plugin: "/opt/none.so",
			want: want{err: []string{"opt/none.so", "no such file"}}},
		{name: "explicit folder", files: []string{"opt/d/x"}, plugin: "/opt/d",
			want: want{err: []string{"is a folder"}}},
		{name: "PJRT_PLUGIN_LIBRARY_PATH file", files: []string{"p/anything.so"}, plugin: "cuda",
			env:  map[string]string{"PJRT_PLUGIN_LIBRARY_PATH": "/p/anything.so"},
			want: want{path: "p/anything.so", source: "PJRT_PLUGIN_LIBRARY_PATH"}},
		{name: "PJRT_PLUGIN_LIBRARY_PATH folders", plugin: "cpu",
			files: []string{"a/pjrt_c_api_cuda_plugin.so", "b/pjrt_c_api_cpu_v0.104.0_plugin.so", "b/pjrt_c_api_cpu_v0.114.0_plugin.so"},
			env:   map[string]string{"PJRT_PLUGIN_LIBRARY_PATH": "/a::/b"},
			want:  want{path: "b/pjrt_c_api_cpu_v0.114.0_plugin.so", source: "PJRT_PLUGIN_LIBRARY_PATH"}},
		{name: "PJRT_PLUGIN_LIBRARY_PATH with a pip plugin", plugin: "cuda",
			files: []string{"site/jax_plugins/xla_cuda13/xla_cuda_plugin.so", "site/nvidia/cu13/bin/ptxas"},
			env:   map[string]string{"PJRT_PLUGIN_LIBRARY_PATH": "/site/jax_plugins/xla_cuda13"},
			want:  want{path: "site/jax_plugins/xla_cuda13/xla_cuda_plugin.so", source: "PJRT_PLUGIN_LIBRARY_PATH", dataDir: "site/nvidia/cu13"}},
		{name: "go-xla home folder", plugin: "cuda", files: []string{"home/.local/lib/go-xla/nvidia/pjrt_c_api_cuda_plugin.so"},
			want: want{path: "home/.local/lib/go-xla/nvidia/pjrt_c_api_cuda_plugin.so", source: "go-xla folder"}},
		{name: "go-xla system folder", plugin: "cpu", files: []string{"usr/local/lib/go-xla/pjrt_c_api_cpu_plugin.so"},
			want: want{path: "usr/local/lib/go-xla/pjrt_c_api_cpu_plugin.so", source: "go-xla folder"}},
		{name: "pip cuda13 in dist-packages", plugin: "cuda",
			files: []string{"usr/local/lib/python3.12/dist-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so",
				"usr/local/lib/python3.12/dist-packages/nvidia/cu13/bin/ptxas"},
			want: want{path: "usr/local/lib/python3.12/dist-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so",
				source: "pip package jax-cuda13-pjrt", dataDir: "usr/local/lib/python3.12/dist-packages/nvidia/cu13"}},
		{name: "pip cuda12 in ~/.local", plugin: "cuda",
			files: []string{"home/.local/lib/python3.11/site-packages/jax_plugins/xla_cuda12/xla_cuda_plugin.so",
				"home/.local/lib/python3.11/site-packages/nvidia/cuda_nvcc/bin/ptxas"},
			want: want{path: "home/.local/lib/python3.11/site-packages/jax_plugins/xla_cuda12/xla_cuda_plugin.so",
				source: "pip package jax-cuda12-pjrt", dataDir: "home/.local/lib/python3.11/site-packages/nvidia/cuda_nvcc"}},
		{name: "cuda13 before cuda12, no ptxas", plugin: "cuda",
			files: []string{"usr/lib/python3/dist-packages/jax_plugins/xla_cuda12/xla_cuda_plugin.so",
				"usr/lib/python3/dist-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so"},
			want: want{path: "usr/lib/python3/dist-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so", source: "jax-cuda13-pjrt"}},
		{name: "python sys.path first", plugin: "cuda", python: []string{"/venv/lib/python3.13/site-packages"},
			files: []string{"venv/lib/python3.13/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so",
				"usr/lib/python3/dist-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so"},
			want: want{path: "venv/lib/python3.13/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so", source: "venv/lib/python3.13/site-packages"}},
		{name: "VIRTUAL_ENV", plugin: "cuda", env: map[string]string{"VIRTUAL_ENV": "/ve"},
			files: []string{"ve/lib/python3.12/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so"},
			want:  want{path: "ve/lib/python3.12/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so", source: "jax-cuda13-pjrt"}},
		{name: "cuda nowhere", plugin: "cuda", files: []string{"usr/lib/python3/dist-packages/numpy/x"},
			want: want{err: []string{"backend xla:cuda: no PJRT plugin found (nothing is downloaded)",
				"$PJRT_PLUGIN_LIBRARY_PATH (not set)", "pjrt_c_api_cuda_plugin.so", "xla_cuda_plugin.so",
				"home/.local/lib/go-xla", "usr/local/lib/go-xla/nvidia",
				"jax_plugins/xla_cuda13/xla_cuda_plugin.so (pip package jax-cuda13-pjrt) in ",
				"usr/lib/python3/dist-packages", "pip install jax-cuda13-pjrt"}}},
		{name: "cpu nowhere, wrong names in the path", plugin: "cpu", files: []string{"p/libfoo.so", "p/pjrt_c_api_cuda_plugin.so"},
			env: map[string]string{"PJRT_PLUGIN_LIBRARY_PATH": "/p"},
			want: want{err: []string{"backend xla:cpu: no PJRT plugin found", "pjrt_c_api_cpu_plugin.so",
				"in $PJRT_PLUGIN_LIBRARY_PATH (p)", "pjrt_c_api_cpu_plugin.so) or its folder"}}},
		{name: "unknown platform", plugin: "tpu", want: want{err: []string{"unknown plugin"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				touch(t, dir, f)
			}
			env := map[string]string{}
			for k, v := range tt.env {
				var parts []string
				for _, p := range strings.Split(v, ":") {
					if p != "" {
						p = filepath.Join(dir, p)
					}
					parts = append(parts, p)
				}
				env[k] = strings.Join(parts, ":")
			}
			var python []string
			for _, p := range tt.python {
				python = append(python, filepath.Join(dir, p))
			}
			plugin := tt.plugin
			if strings.HasPrefix(plugin, "/") {
				plugin = filepath.Join(dir, plugin)
			}
			e := Env{Getenv: vars(env), Home: filepath.Join(dir, "home"), Root: dir, PythonPath: func() []string { return python }}
			got, err := Find(plugin, e)
			if len(tt.want.err) > 0 {
				if err == nil {
					t.Fatalf("found %+v, want an error", got)
				}
				msg := strings.ReplaceAll(err.Error(), dir+"/", "")
				for _, w := range tt.want.err {
					if !strings.Contains(msg, w) {
						t.Errorf("error %q lacks %q", msg, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Path != filepath.Join(dir, tt.want.path) {
				t.Errorf("path %s, want %s", got.Path, tt.want.path)
			}
			if !strings.Contains(got.Source, tt.want.source) {
				t.Errorf("source %q, want it to contain %q", got.Source, tt.want.source)
			}
			wantData := ""
			if tt.want.dataDir != "" {
				wantData = filepath.Join(dir, tt.want.dataDir)
			}
			if got.CUDADataDir != wantData {
				t.Errorf("CUDA data dir %q, want %q", got.CUDADataDir, wantData)
			}
		})
	}
}

// TestNotFoundIsTyped: callers can tell "no plugin" from other failures.
func TestNotFoundIsTyped(t *testing.T) {
	_, err := Find("cuda", Env{Root: t.TempDir()})
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Plugin != "cuda" || len(nf.Looked) < 3 {
		t.Errorf("error %v (%T), want a *NotFoundError listing the places", err, err)
	}
}
