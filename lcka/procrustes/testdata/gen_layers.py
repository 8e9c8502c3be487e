#!/usr/bin/python3
"""Reference values for LayerResidual (orthogonal map of the rows).

Run with Debian bookworm's python3 (numpy 1.24.2), from this folder:

    /usr/bin/python3 gen_layers.py

For stacks A, B (L x p), R = orthogonal_procrustes(A.T, B.T) (scipy 1.10's
algorithm, written out below: R = U V^T from the SVD of A B^T) minimizes ||A.T R - B.T||_F = ||R.T A - B||_F over orthogonal L x L maps; res
is that minimum, computed from R explicitly, and rel = res / sqrt(||A||^2 + ||B||^2).
"""
import json

import numpy as np


def orthogonal_procrustes(x, y):
    """scipy.linalg.orthogonal_procrustes(x, y)[0]: the orthogonal R minimizing ||x R - y||_F."""
    u, _, vt = np.linalg.svd((y.T @ x).T)
    return u @ vt, None


rng = np.random.default_rng(7)
cases = []


def add(name, a, b):
    r, _ = orthogonal_procrustes(a.T, b.T)
    res = float(np.linalg.norm(a.T @ r - b.T))
    cases.append({"name": name, "a": a.tolist(), "b": b.tolist(), "res": res,
                  "rel": res / float(np.sqrt(np.sum(a * a) + np.sum(b * b)))})


add("random 3x8", rng.standard_normal((3, 8)), rng.standard_normal((3, 8)))
a = rng.standard_normal((4, 12))
add("related 4x12", a, a + 0.3 * rng.standard_normal((4, 12)))
q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
a = rng.standard_normal((5, 7))
add("rows mixed by an orthogonal map 5x7", a, q @ a)
add("wide 2x40", rng.standard_normal((2, 40)), rng.standard_normal((2, 40)))
with open("layers_ref.json", "w") as f:
    json.dump(cases, f, indent=1)
