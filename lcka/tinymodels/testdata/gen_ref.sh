#!/bin/sh
# gen_ref.sh regenerates lcka/tinymodels/testdata/hf_ref.json: it writes the
# tiny models with the layersim command, then runs gen_ref.js (Hugging Face
# tokenizers through Node) on their tokenizer.json. Run from anywhere; needs
# Go, Node 20 and `npm ci` done in lcka/tokenizer/testdata/ref.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
GOEXPERIMENT=simd GOFLAGS=-mod=mod go run ./cmd/layersim make-models --out "$tmp" --sizes tiny-a
node "$here/gen_ref.js" "$tmp/tiny-a/tokenizer.json"
