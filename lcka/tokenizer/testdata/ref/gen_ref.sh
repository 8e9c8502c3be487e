#!/bin/sh
# gen_ref.sh regenerates the reference data of package lcka/tokenizer: it
# installs the pinned npm packages (package-lock.json) and runs gen_ref.js.
#
# Usage: testdata/ref/gen_ref.sh [DATA_DIR]
# DATA_DIR holds test_en.json and test_hi.json (Global-MMLU-Lite questions);
# it defaults to /work/shared/data/global-mmlu-lite.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
node gen_ref.js "${1:-/work/shared/data/global-mmlu-lite}"
