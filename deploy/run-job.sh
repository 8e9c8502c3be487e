#!/usr/bin/env bash
# run-job.sh PLAN: runs one job of a plan written by `layersim plan`, the
# job whose index the engine gives: JOB_COMPLETION_INDEX (a Kubernetes
# Indexed Job), SLURM_ARRAY_TASK_ID (a Slurm job array) or JOB_INDEX (by
# hand). Line i+1 of PLAN is job i: index, model, language, shard and the
# command, separated by tabs; the command is shell-quoted by the plan.
set -euo pipefail

plan=${1:?usage: run-job.sh PLAN (the lines of layersim plan)}
idx=${JOB_INDEX:-${JOB_COMPLETION_INDEX:-${SLURM_ARRAY_TASK_ID:-}}}
if ! [[ $idx =~ ^[0-9]+$ ]]; then
  echo "run-job.sh: no job index: set JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or JOB_INDEX (got '$idx')" >&2
  exit 2
fi
if ! [[ -r $plan ]]; then
  echo "run-job.sh: cannot read the plan $plan" >&2
  exit 2
fi
line=$(awk -F '\t' -v i="$idx" '$1 == i { print; found = 1; exit } END { exit !found }' "$plan") || {
  echo "run-job.sh: job $idx is not in $plan ($(wc -l < "$plan") jobs, 0-based)" >&2
  exit 2
}
IFS=$'\t' read -r _ model lang shard cmd <<< "$line"
echo "run-job.sh: job $idx: $model, $lang, shard $shard" >&2
eval "exec $cmd"
