package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/layersim/layersim/internal/testenv"
	"github.com/layersim/layersim/lcka/shard"
)

// decodeStrict reads a YAML manifest into v, refusing unknown or repeated
// fields, as the API server's strict field validation does.
func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSONStrict(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestStrictDecodeRejectsTypos(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: batch/v1\nkind: Job\nspec:\n  completionMod: Indexed\n"), 0o644)
	b, _ := os.ReadFile(bad)
	js, _ := yaml.YAMLToJSONStrict(b)
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var j batchv1.Job
	if err := dec.Decode(&j); err == nil || !strings.Contains(err.Error(), "completionMod") {
		t.Errorf("a misspelt field decoded: %v", err)
	}
}

// TestIndexedJobs checks the extraction Jobs: Indexed, each pod running
// run-job.sh on the plan from the ConfigMap, the shared volume at /data
// with the Hugging Face cache on it, HF_TOKEN from a Secret, and a GPU for
// each pod of the CUDA Job.
func TestIndexedJobs(t *testing.T) {
	for _, c := range []struct {
		file, image string
		gpu         bool
	}{{"k8s/extract-cpu.yaml", "layersim:cpu", false}, {"k8s/extract-cuda.yaml", "layersim:cuda", true}} {
		var j batchv1.Job
		decodeStrict(t, c.file, &j)
		s := j.Spec
		if j.APIVersion != "batch/v1" || j.Kind != "Job" || s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion ||
			s.Completions == nil || *s.Completions < 1 || s.BackoffLimitPerIndex == nil {
			t.Errorf("%s: not an Indexed Job with completions and per-index retries: %+v", c.file, s)
		}
		pod := s.Template.Spec
		if pod.RestartPolicy != corev1.RestartPolicyNever || len(pod.Containers) != 1 {
			t.Fatalf("%s: restartPolicy %q (backoffLimitPerIndex needs Never), %d containers", c.file, pod.RestartPolicy, len(pod.Containers))
		}
		ctr := pod.Containers[0]
		if ctr.Image != c.image || !slices.Equal(ctr.Args, []string{"bash", "/plan/run-job.sh", "/plan/plan.tsv"}) || len(ctr.Command) != 0 {
			t.Errorf("%s: image %q, command %q, args %q", c.file, ctr.Image, ctr.Command, ctr.Args)
		}
		mounts := map[string]string{}
		for _, m := range ctr.VolumeMounts {
			mounts[m.MountPath] = m.Name
		}
		vols := map[string]corev1.Volume{}
		for _, v := range pod.Volumes {
			vols[v.Name] = v
		}
		if v := vols[mounts["/data"]]; v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "layersim-data" {
			t.Errorf("%s: /data is not the layersim-data claim: %+v", c.file, v)
		}
		if v := vols[mounts["/plan"]]; v.ConfigMap == nil || v.ConfigMap.Name != "layersim-plan" {
			t.Errorf("%s: /plan is not the layersim-plan ConfigMap: %+v", c.file, v)
		}
		env := map[string]corev1.EnvVar{}
		for _, e := range ctr.Env {
			env[e.Name] = e
		}
		if !strings.HasPrefix(env["HF_HOME"].Value, "/data/") {
			t.Errorf("%s: HF_HOME %q is not on the shared volume", c.file, env["HF_HOME"].Value)
		}
		if ref := env["HF_TOKEN"].ValueFrom; ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != "hf-token" {
			t.Errorf("%s: HF_TOKEN is not from the hf-token Secret", c.file)
		}
		gpu := corev1.ResourceName("nvidia.com/gpu")
		req, lim := ctr.Resources.Requests[gpu], ctr.Resources.Limits[gpu]
		if c.gpu {
			if req.Cmp(resource.MustParse("1")) != 0 || lim.Cmp(req) != 0 || env["LAYERSIM_BACKEND"].Value != "xla:cuda" {
				t.Errorf("%s: GPU request %v, limit %v, backend %q", c.file, req.String(), lim.String(), env["LAYERSIM_BACKEND"].Value)
			}
		} else if !req.IsZero() || !lim.IsZero() {
			t.Errorf("%s: a CPU Job asks for GPUs", c.file)
		}
		if ctr.Resources.Requests.Cpu().IsZero() || ctr.Resources.Requests.Memory().IsZero() {
			t.Errorf("%s: no CPU or memory request", c.file)
		}
	}
	var pvc corev1.PersistentVolumeClaim
	decodeStrict(t, "k8s/pvc.yaml", &pvc)
	if pvc.Name != "layersim-data" || !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		t.Errorf("pvc.yaml: %s, %v", pvc.Name, pvc.Spec.AccessModes)
	}
	var merge batchv1.Job
	decodeStrict(t, "k8s/merge.yaml", &merge)
	if args := strings.Join(merge.Spec.Template.Spec.Containers[0].Args, " "); !strings.Contains(args, "layersim merge --artifacts /data/artifacts") {
		t.Errorf("merge.yaml runs %q", args)
	}
}

// fakePlan writes the plan of jobs with a fake layersim that records its
// arguments, and returns the plan's path, the jobs, the folder for PATH
// and the record file.
func fakePlan(t *testing.T) (string, []shard.Job, string, string) {
	dir := t.TempDir()
	jobs, err := shard.Plan(shard.PlanOptions{
		Models: []string{"org/model-a", "/models/my model's copy"}, Langs: []string{"en", "hi", "sw"},
		N: 1000, Shards: 3, Extra: []string{"--out", "/data/artifacts", "--data", "a b;c$(x).json"},
	})
	if err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(dir, "plan.tsv")
	if err := os.WriteFile(plan, []byte(shard.Lines(jobs)), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	record := filepath.Join(dir, "args")
	fake := "#!/usr/bin/env bash\nprintf '%s\\0' \"$@\" > " + shard.Quote(record) + "\n"
	if err := os.WriteFile(filepath.Join(bin, "layersim"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	return plan, jobs, bin, record
}

func runScript(t *testing.T, bash string, env []string, args ...string) (string, error) {
	cmd := exec.Command(bash, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = slices.DeleteFunc(cmd.Env, func(e string) bool {
		return strings.HasPrefix(e, "JOB_INDEX=") || strings.HasPrefix(e, "SLURM_ARRAY_TASK_ID=") || strings.HasPrefix(e, "JOB_COMPLETION_INDEX=")
	})
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestIndexMapping runs run-job.sh as the Indexed Job does and the sbatch
// script as a Slurm array task does, on a plan of 18 fake jobs: index i
// runs job i's command with its arguments intact.
func TestIndexMapping(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		testenv.Missing(t, "bash")
	}
	plan, jobs, bin, record := fakePlan(t)
	path := "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")
	wd, _ := os.Getwd()
	for _, i := range []int{0, 1, 7, len(jobs) - 1} {
		for _, c := range []struct {
			name string
			env  []string
			args []string
		}{
			{"indexed job", []string{"JOB_COMPLETION_INDEX=" + strconv.Itoa(i)}, []string{"run-job.sh", plan}},
			{"slurm array", []string{"SLURM_ARRAY_TASK_ID=" + strconv.Itoa(i), "SLURM_SUBMIT_DIR=" + filepath.Dir(wd)}, []string{"slurm/extract.sbatch", plan}},
		} {
			os.Remove(record)
			out, err := runScript(t, bash, append(c.env, path), c.args...)
			if err != nil {
				t.Fatalf("%s, job %d: %v\n%s", c.name, i, err, out)
			}
			b, err := os.ReadFile(record)
			if err != nil {
				t.Fatalf("%s, job %d: the command did not run: %v\n%s", c.name, i, err, out)
			}
			got := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
			if !slices.Equal(got, jobs[i].Args[1:]) {
				t.Errorf("%s, job %d ran\n%q\nwant\n%q", c.name, i, got, jobs[i].Args[1:])
			}
			if want := jobs[i].Model + ", " + jobs[i].Lang + ", shard " + jobs[i].Shard; !strings.Contains(out, want) {
				t.Errorf("%s, job %d: log %q lacks %q", c.name, i, out, want)
			}
		}
	}
	for _, c := range []struct {
		env  []string
		args []string
		want string
	}{
		{[]string{"JOB_COMPLETION_INDEX=18"}, []string{"run-job.sh", plan}, "job 18 is not in"},
		{nil, []string{"run-job.sh", plan}, "no job index"},
		{[]string{"JOB_COMPLETION_INDEX=x"}, []string{"run-job.sh", plan}, "no job index"},
		{[]string{"JOB_COMPLETION_INDEX=0"}, []string{"run-job.sh", plan + ".none"}, "cannot read the plan"},
		{nil, []string{"slurm/extract.sbatch", plan}, "not an array task"},
	} {
		out, err := runScript(t, bash, append(c.env, path), c.args...)
		if err == nil || !strings.Contains(out, c.want) {
			t.Errorf("%v %v: %v, %q; want an error %q", c.env, c.args, err, out, c.want)
		}
	}
}
