#!/usr/bin/python3
"""Inputs for the Procrustes test of package study: a small artifacts root.

Run with Debian bookworm's python3 (numpy 1.24.2), from this folder:

    /usr/bin/python3 gen_procrustes.py
    /usr/bin/python3 ../../../scripts/bench/study_cells.py procrustes_root --float64 --json procrustes_ref.json

The first writes procrustes_root/: model "indep" (3 layers of 30 x 16, every
layer of every language independent standard normal, as the random inputs of
issue 14) and model "shared" (5 layers of 30 x 12, Hindi = English plus noise
growing with depth), float32, in the study's layout. The second computes the
study's Procrustes figure (and the signature-space residual) on them with
numpy in float64, the reference values of procrustes_ref.json.
"""
import json
import os

import numpy as np

rng = np.random.default_rng(14)
n = 30


def write(slug, lang, layers):
    d = os.path.join("procrustes_root", "models", slug, lang, "activations")
    os.makedirs(d, exist_ok=True)
    base = os.path.join(d, f"{slug}_{lang}_test")
    np.savez(base + ".npz", **{f"layer_{k + 1}": x.astype(np.float32) for k, x in enumerate(layers)})
    meta = {"model_id": "synthetic/" + slug, "num_layers": len(layers), "dtype": "float32",
            "max_length": 256, "texts_count": n, "subset": "synthetic"}
    with open(base + ".meta.json", "w") as f:
        json.dump(meta, f, indent=2)
    with open(base + ".texts.json", "w") as f:
        json.dump([f"{lang} prompt {i}" for i in range(n)], f)


for lang in ("en", "hi"):
    write("indep", lang, [rng.standard_normal((n, 16)) for _ in range(3)])
en = [rng.standard_normal((n, 12)) for _ in range(5)]
write("shared", "en", en)
write("shared", "hi", [x + (0.3 + 0.4 * k) * rng.standard_normal(x.shape) for k, x in enumerate(en)])
