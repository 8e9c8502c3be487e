#!/bin/sh
# Entry point of layersim's images: makes sure the data volume holds the
# folders the image points at (a named volume starts with them, an empty
# bind mount does not), then runs the command, JupyterLab by default.
set -eu
data=${LAYERSIM_DATA:-/data}
if ! [ -w "$data" ]; then
  echo "layersim: $data is not writable by uid $(id -u); mount a named volume," >&2
  echo "layersim: or a host folder owned by uid $(id -u) (docker/README.md)." >&2
  exit 1
fi
mkdir -p "${HF_HOME:-$data/huggingface}" "$data/notebooks-out"
exec "$@"
