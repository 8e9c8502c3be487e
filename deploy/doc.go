// Package deploy holds the job definitions that run a sharded extraction
// on a cluster, and the tests that check them offline: a Kubernetes
// Indexed Job (k8s/), a Slurm job array (slurm/), and run-job.sh, which
// maps the engine's job index to a job of a plan written by layersim plan.
// The manifests are decoded strictly into the Kubernetes API types
// (k8s.io/api, pinned in go.mod); the index mapping runs in bash on a
// plan of fake jobs. README.md walks through a run.
package deploy
