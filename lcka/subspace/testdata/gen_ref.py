#!/usr/bin/python3
"""Reference values for package subspace, written to testdata/ref.json.

Run with Debian's python3 (numpy 1.24.2):

    /usr/bin/python3 lcka/subspace/testdata/gen_ref.py

For each case, A and B (n x d, float64) are drawn with numpy's PCG64 from the
case's seed; B = A + u c^T + noise (a per-prompt language offset along c)
plus an independent shift. The directions are the top right singular vectors
of Dc = (A - B) - mean(A - B, axis=0), from np.linalg.svd (full_matrices=
False); the variance fraction of the first k is sum(s[:k]**2) / sum(s**2);
the projections are A - (A V) V^T and B - (B V) V^T. Standardized CKA is the
study's: columns standardized (mean 0, ddof-0 std 1, constant columns set to
0), then ||Ys^T Xs||_F^2 / (||Xs^T Xs||_F ||Ys^T Ys||_F). The cross-fitted
curve estimates V on one half (rows `halves[k]`), evaluates on the other,
both ways, and averages; `fraction` there is the held-out share
||Dc_eval V||_F^2 / ||Dc_eval||_F^2 with Dc_eval centred on its own mean.
Singular vectors are compared up to sign.
"""
import json
import os

import numpy as np


def std_cka(x, y):
    def st(m):
        m = m - m.mean(axis=0)
        sd = np.sqrt((m * m).mean(axis=0))
        const = (sd == 0) | (sd <= 1e-12 * np.abs(m.mean(axis=0)))
        sd = np.where(const, 1.0, sd)
        m = m / sd
        m[:, const] = 0
        return m
    xs, ys = st(x), st(y)
    return float(np.linalg.norm(ys.T @ xs) ** 2 / (np.linalg.norm(xs.T @ xs) * np.linalg.norm(ys.T @ ys)))


def directions(a, b, r):
    d = a - b
    dc = d - d.mean(axis=0)
    _, s, vt = np.linalg.svd(dc, full_matrices=False)
    return vt[:r].T, s, d.mean(axis=0)


def project(x, v):
    return x - (x @ v) @ v.T


def held(a, b, v):
    dc = (a - b) - (a - b).mean(axis=0)
    return float(np.linalg.norm(dc @ v) ** 2 / np.linalg.norm(dc) ** 2)


def curve(ea, eb, a, b, rs):
    v, _, _ = directions(ea, eb, max(rs))
    after = [std_cka(project(a, v[:, :r]), project(b, v[:, :r])) for r in rs]
    frac = [held(a, b, v[:, :r]) for r in rs]
    return std_cka(a, b), after, frac


def case(name, n, d, seed, rs):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, d)) @ np.diag(np.linspace(1.0, 3.0, d))
    u = rng.standard_normal(n) * 2.0 + 1.0
    c = rng.standard_normal(d)
    c /= np.linalg.norm(c)
    b = a + np.outer(u, c) + 0.3 * rng.standard_normal((n, d)) + rng.standard_normal(d)
    v, s, mean = directions(a, b, max(rs))
    total = float(np.sum(s ** 2))
    cum = [float(np.sum(s[:k + 1] ** 2) / total) for k in range(max(rs))]
    before, after, frac = curve(a, b, a, b, rs)
    perm = rng.permutation(n)
    halves = [sorted(perm[: n // 2].tolist()), sorted(perm[n // 2:].tolist())]
    cf_before, cf_after, cf_frac = 0.0, [0.0] * len(rs), [0.0] * len(rs)
    for k in range(2):
        fit, ev = halves[k], halves[1 - k]
        bb, aa, ff = curve(a[fit], b[fit], a[ev], b[ev], rs)
        cf_before += bb / 2
        cf_after = [x + y / 2 for x, y in zip(cf_after, aa)]
        cf_frac = [x + y / 2 for x, y in zip(cf_frac, ff)]
    return {
        "name": name, "n": n, "d": d, "rs": rs,
        "a": a.ravel().tolist(), "b": b.ravel().tolist(),
        "v": v.ravel().tolist(), "singular": s[:max(rs)].tolist(),
        "cumulative": cum, "mean": mean.tolist(),
        "projected": [{"r": r, "a": project(a, v[:, :r]).ravel().tolist(),
                       "b": project(b, v[:, :r]).ravel().tolist()} for r in rs],
        "before": before, "after": after, "fraction": frac,
        "halves": halves,
        "crossfit": {"before": cf_before, "after": cf_after, "fraction": cf_frac},
    }


def main():
    out = {
        "provenance": "lcka/subspace/testdata/gen_ref.py, numpy " + np.__version__,
        "cases": [
            case("tall n=24 d=7", 24, 7, 1, [0, 1, 2, 3]),
            case("wide n=10 d=16", 10, 16, 2, [0, 1, 2, 4]),
            case("square n=12 d=12", 12, 12, 3, [1, 3]),
        ],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ref.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
