#!/usr/bin/python3
"""Reference values for package procrustes, written to testdata/ref.json.

Run with Debian's python3 (numpy 1.24.2, scipy 1.10.1 from Debian bookworm):

    /usr/bin/python3 lcka/procrustes/testdata/gen_ref.py

Every value is the residual of an explicit rotation from
scipy.linalg.orthogonal_procrustes, ||A R - B||_F; the nuclear-norm formula is
only used as a cross-check (asserted before writing).

Distance: X and Y are centred (column means), scaled to unit Frobenius norm and
zero-padded to the same number of columns; d2 = ||X R - Y||_F^2.
Residual: no centring or scaling; res = ||A R - B||_F, rel = res / sqrt(||A||^2 + ||B||^2).
"""
import json
import os

import numpy as np
import scipy
from scipy.linalg import orthogonal_procrustes


def pad(a, d):
    return np.hstack([a, np.zeros((a.shape[0], d - a.shape[1]))])


def distance(x, y):
    xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
    xc, yc = xc / np.linalg.norm(xc), yc / np.linalg.norm(yc)
    d = max(x.shape[1], y.shape[1])
    xp, yp = pad(xc, d), pad(yc, d)
    r, _ = orthogonal_procrustes(xp, yp)
    d2 = float(np.linalg.norm(xp @ r - yp) ** 2)
    nuc = np.linalg.svd(xc.T @ yc, compute_uv=False).sum()
    assert abs(d2 - (2 - 2 * nuc)) < 1e-12, (d2, 2 - 2 * nuc)
    return d2


def residual(a, b):
    p = max(a.shape[1], b.shape[1])
    ap, bp = pad(a, p), pad(b, p)
    r, _ = orthogonal_procrustes(ap, bp)
    res = float(np.linalg.norm(ap @ r - bp))
    total = np.linalg.norm(a) ** 2 + np.linalg.norm(b) ** 2
    nuc = np.linalg.svd(a.T @ b, compute_uv=False).sum()
    assert abs(res ** 2 - (total - 2 * nuc)) < 1e-12 * total
    return res, float(res / np.sqrt(total))


def main():
    rng = np.random.default_rng(20240612)
    out = {
        "provenance": "gen_ref.py with numpy %s, scipy %s (Debian bookworm)" % (np.__version__, scipy.__version__),
        "distance": [],
        "residual": [],
    }

    def add_distance(name, x, y):
        out["distance"].append({"name": name, "x": x.tolist(), "y": y.tolist(), "d2": distance(x, y)})

    x = rng.standard_normal((10, 4))
    add_distance("same-dims", x, x @ rng.standard_normal((4, 4)) + 0.5 * rng.standard_normal((10, 4)))
    x = rng.standard_normal((6, 30))
    add_distance("wide", x, x[:, :25] + rng.standard_normal((6, 25)))
    x = rng.standard_normal((8, 3))
    add_distance("mixed-dims", x, np.hstack([x, rng.standard_normal((8, 9))]))
    add_distance("integer", rng.integers(-3, 4, size=(7, 5)).astype(float), rng.integers(-3, 4, size=(7, 5)).astype(float))
    add_distance("unrelated-wide", rng.standard_normal((5, 60)), rng.standard_normal((5, 45)) * 100 + 7)

    def add_residual(name, a, b):
        res, rel = residual(a, b)
        out["residual"].append({
            "name": name, "a": a.tolist(), "b": b.tolist(),
            "gram_a": (a @ a.T).tolist(), "gram_b": (b @ b.T).tolist(),
            "res": res, "rel": rel,
        })

    add_residual("random", rng.standard_normal((5, 40)), rng.standard_normal((5, 40)))
    a = rng.standard_normal((4, 3))
    add_residual("small-p", a, a + 0.3 * rng.standard_normal((4, 3)))
    a = rng.standard_normal((6, 50))
    q, _ = np.linalg.qr(rng.standard_normal((50, 50)))
    add_residual("rotated-noisy", a, a @ q + 0.05 * rng.standard_normal((6, 50)))
    add_residual("padded", rng.standard_normal((5, 10)), rng.standard_normal((5, 7)))
    add_residual("integer", rng.integers(0, 3, size=(3, 8)).astype(float), rng.integers(0, 3, size=(3, 8)).astype(float))

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ref.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
