package docker

import (
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// The helpers get their own tests: the Dockerfile checks are only as good as
// the parsing under them. Each bad case below is a mistake a check must catch.

func TestSplitImageRef(t *testing.T) {
	const dig = "sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d"
	for _, tc := range []struct {
		in        string
		want      imageRef
		wantErr   bool
		pinnedErr bool
	}{
		{in: "golang:1.26.8-bookworm@" + dig, want: imageRef{"golang", "1.26.8-bookworm", dig}},
		{in: "nvidia/cuda:12.8.1-runtime-ubuntu24.04@" + dig, want: imageRef{"nvidia/cuda", "12.8.1-runtime-ubuntu24.04", dig}},
		{in: "localhost:5000/team/img:1.2@" + dig, want: imageRef{"localhost:5000/team/img", "1.2", dig}},
		{in: "golang:1.26.8-bookworm", want: imageRef{"golang", "1.26.8-bookworm", ""}, pinnedErr: true},
		{in: "golang@" + dig, want: imageRef{"golang", "", dig}, pinnedErr: true},
		{in: "golang:latest@" + dig, want: imageRef{"golang", "latest", dig}, pinnedErr: true},
		{in: "golang:bookworm@" + dig, want: imageRef{"golang", "bookworm", dig}, pinnedErr: true},
		{in: "localhost:5000/img", want: imageRef{"localhost:5000/img", "", ""}, pinnedErr: true},
		{in: "golang", want: imageRef{"golang", "", ""}, pinnedErr: true},
		{in: "golang:1.26@sha256:abc", wantErr: true},
		{in: "golang:1.26@md5:" + strings.Repeat("a", 32), wantErr: true},
		{in: "Golang:1.26", wantErr: true},
		{in: "golang:-x", wantErr: true},
		{in: "", wantErr: true},
		{in: "golang:", wantErr: true},
	} {
		got, err := splitImageRef(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("splitImageRef(%q): err %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if got != tc.want {
			t.Errorf("splitImageRef(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if err := checkPinned(tc.in); (err != nil) != (tc.wantErr || tc.pinnedErr) {
			t.Errorf("checkPinned(%q) = %v, want error %v", tc.in, err, tc.wantErr || tc.pinnedErr)
		}
	}
}

func TestSplitCommands(t *testing.T) {
	words := strings.Fields(`apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y tini ` +
		`&& if id -u ubuntu >/dev/null 2>&1; then userdel --remove ubuntu; fi && A=1 B=2 ./scripts/setup | tee log ; true`)
	got := splitCommands(words)
	want := []shellCommand{
		{args: []string{"apt-get", "update"}},
		{assigns: []string{"DEBIAN_FRONTEND=noninteractive"}, args: []string{"apt-get", "install", "-y", "tini"}},
		{args: []string{"id", "-u", "ubuntu", ">/dev/null", "2>&1"}},
		{args: []string{"userdel", "--remove", "ubuntu"}},
		{assigns: []string{"A=1", "B=2"}, args: []string{"./scripts/setup"}},
		{args: []string{"tee", "log"}},
		{args: []string{"true"}},
	}
	if len(got) != len(want) {
		t.Fatalf("splitCommands: %d commands %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if !slices.Equal(got[i].args, want[i].args) || !slices.Equal(got[i].assigns, want[i].assigns) {
			t.Errorf("command %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestPipRequirements(t *testing.T) {
	for _, tc := range []struct {
		args    string
		reqs    []string
		ok      bool
		wantErr bool
	}{
		{args: "/opt/jupyterlab/bin/pip install --no-cache-dir jupyterlab==4.5.6", reqs: []string{"jupyterlab==4.5.6"}, ok: true},
		{args: "pip3 install --target /tmp/pjrt a==1 b[x,y]==2.0", reqs: []string{"a==1", "b[x,y]==2.0"}, ok: true},
		{args: "python3 -m pip install -i http://localhost/simple c>=1", reqs: []string{"c>=1"}, ok: true},
		{args: "pip install -r requirements.txt", ok: true, wantErr: true},
		{args: "pip download x==1"},
		{args: "python3 -m venv /opt/x"},
		{args: "pip"},
	} {
		reqs, ok, err := pipRequirements(strings.Fields(tc.args))
		if ok != tc.ok || (err != nil) != tc.wantErr || !slices.Equal(reqs, tc.reqs) {
			t.Errorf("pipRequirements(%q) = %q, %v, %v; want %q, %v, error %v", tc.args, reqs, ok, err, tc.reqs, tc.ok, tc.wantErr)
		}
	}
	for req, pinned := range map[string]bool{
		"jupyterlab==4.5.6":                    true,
		"jax-cuda12-plugin[with-cuda]==0.11.0": true,
		"torch==2.5.0+cpu":                     true,
		"jupyterlab":                           false,
		"jupyterlab>=4":                        false,
		"jupyterlab==4.*":                      false,
		"jupyterlab==":                         false,
		"jupyterlab~=4.5":                      false,
		"jupyterlab==${JUPYTERLAB_VERSION}":    false, // unexpanded
	} {
		if got := pinnedRequirement.MatchString(req); got != pinned {
			t.Errorf("pinned(%q) = %v, want %v", req, got, pinned)
		}
	}
}

func TestImagePath(t *testing.T) {
	copies := []copyStep{
		{srcs: []string{"scripts/gonb-setup"}, dest: "/w/scripts/gonb-setup"},
		{srcs: []string{"tools/gonb"}, dest: "/w/tools/gonb"},
		{srcs: []string{"go.mod", "go.sum"}, dest: "/x/"},
	}
	for p, want := range map[string]string{
		"/w/scripts/gonb-setup":   "scripts/gonb-setup",
		"/w/tools/gonb/go.mod":    "tools/gonb/go.mod",
		"/w/tools/gonb":           "tools/gonb",
		"/w/scripts":              "",
		"/w":                      "",
		"/x/go.mod":               "go.mod",
		"/x/go.sum":               "go.sum",
		"/w/tools/gonbextra/a.go": "",
	} {
		if got := imagePath(copies, p); got != want {
			t.Errorf("before COPY .: imagePath(%s) = %q, want %q", p, got, want)
		}
	}
	copies = append(copies, copyStep{srcs: []string{"."}, dest: "/w/"})
	for p, want := range map[string]string{
		"/w":                 ".",
		"/w/scripts/setup":   "scripts/setup",
		"/w/notebooks":       "notebooks",
		"/elsewhere/scripts": "",
	} {
		if got := imagePath(copies, p); got != want {
			t.Errorf("after COPY .: imagePath(%s) = %q, want %q", p, got, want)
		}
	}
}

// TestChecksCatch feeds the checks a Dockerfile with one mistake of each kind
// and requires each to be found, so that the checks on the real files
// cannot pass by finding nothing to look at.
func TestChecksCatch(t *testing.T) {
	src := `FROM golang:1.26.8-bookworm
ARG HF_TOKEN=x
ENV PASSWORD=y
RUN pip install jupyterlab
user root
CMD jupyter lab
`
	d, err := parseDockerfile("bad", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkPinned(d.stages[0].BaseName); err == nil {
		t.Error("unpinned FROM not caught")
	}
	st, err := d.walk(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.user != "root" {
		t.Errorf("user = %q, want root", st.user)
	}
	if st.env["GOEXPERIMENT"] == "simd" {
		t.Error("GOEXPERIMENT set out of nowhere")
	}
	var keys []string
	for k := range st.env {
		if secretName.MatchString(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"HF_TOKEN", "PASSWORD"}) {
		t.Errorf("secret names caught: %q, want HF_TOKEN and PASSWORD", keys)
	}
	var run, cmdShell bool
	for _, c := range d.stages[0].Commands {
		switch c := c.(type) {
		case *instructions.RunCommand:
			cmds, err := runCommands(c, st)
			if err != nil {
				t.Fatal(err)
			}
			reqs, ok, _ := pipRequirements(cmds[0].args)
			run = ok && len(reqs) == 1 && !pinnedRequirement.MatchString(reqs[0])
		case *instructions.CmdCommand:
			cmdShell = c.PrependShell
		}
	}
	if !run {
		t.Error("unpinned pip install not caught")
	}
	if !cmdShell {
		t.Error("CMD in shell form not caught")
	}
	lower := false
	for _, n := range d.nodes {
		if kw, _, _ := strings.Cut(n.Original, " "); kw != strings.ToUpper(kw) {
			lower = true
		}
	}
	if !lower {
		t.Error("lower-case instruction not caught")
	}
	if hfToken.MatchString(src) || !hfToken.MatchString("HF_TOKEN=hf_"+strings.Repeat("aB3", 12)) {
		t.Error("hfToken pattern wrong")
	}
}
