#!/usr/bin/python3
"""Reference values for package rsa, written to testdata/ref.json.

Run with Debian's python3 (numpy 1.24.2, scipy 1.10.1 from Debian bookworm):

    /usr/bin/python3 lcka/rsa/testdata/gen_ref.py

RDMs come from scipy.spatial.distance.pdist (metrics "cosine", "correlation",
"sqeuclidean"); comparisons from scipy.stats.spearmanr and pearsonr. scipy has
no Kendall tau-a, so tau-a is a naive O(m^2) numpy sum of
sign(a_i - a_j) * sign(b_i - b_j) over i < j, divided by m(m-1)/2; its numerator
is checked against scipy.stats.kendalltau (tau-b) times
sqrt((n0 - n_a)(n0 - n_b)) before anything is written.
"""
import json
import os

import numpy as np
import scipy
from scipy.spatial.distance import pdist
from scipy.stats import kendalltau, pearsonr, spearmanr

METRICS = {"cosine": "cosine", "correlation": "correlation", "euclidean": "sqeuclidean"}


def tied_pairs(v):
    _, counts = np.unique(v, return_counts=True)
    return int(np.sum(counts * (counts - 1) // 2))


def tau_a(a, b):
    """Naive O(m^2) Kendall tau-a, checked against scipy's tau-b numerator."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    m = len(a)
    i, j = np.triu_indices(m, 1)
    s = int(np.sum(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])))
    n0 = m * (m - 1) // 2
    tb = kendalltau(a, b).correlation  # variant 'b'
    num = tb * np.sqrt(float(n0 - tied_pairs(a)) * float(n0 - tied_pairs(b)))
    assert abs(num - s) < 1e-9 * n0, (num, s)
    return s / n0, s, tb


def scores(a, b):
    t, _, _ = tau_a(a, b)
    return {
        "spearman": float(spearmanr(a, b).correlation),
        "pearson": float(pearsonr(a, b)[0]),
        "kendall-tau-a": float(t),
    }


def int_matrix(rng, n, d, hi):
    """Integer matrix with integer column means (so column centring is exact)
    and no constant rows."""
    while True:
        x = rng.integers(0, hi, size=(n, d)).astype(float)
        x[0] -= x.sum(axis=0) % n
        if all(np.ptp(r) > 0 for r in x):
            return x


def pipeline_case(name, x, y, exact):
    case = {"name": name, "x": x.tolist(), "y": y.tolist(), "rdms": {}}
    for dis, metric in METRICS.items():
        rx, ry = pdist(x, metric), pdist(y, metric)
        case["rdms"][dis] = {
            "x": rx.tolist(),
            "y": ry.tolist(),
            "scores": scores(rx, ry),
            # Whether Compare(x, y) must reproduce the scores: true where the
            # RDM values carry no ties that rounding could break differently
            # in the Gram-matrix route (continuous data, or squared
            # Euclidean distances of integer data, which are exact).
            "pipeline": exact[dis],
        }
    return case


def main():
    rng = np.random.default_rng(20240611)
    out = {
        "provenance": "gen_ref.py with numpy %s, scipy %s (Debian bookworm)" % (np.__version__, scipy.__version__),
        "cases": [],
        "vectors": [],
    }
    # Integer data: many tied dissimilarities.
    xi, yi = int_matrix(rng, 9, 4, 4), int_matrix(rng, 9, 6, 3)
    out["cases"].append(pipeline_case("integer", xi, yi, {"cosine": False, "correlation": False, "euclidean": True}))
    # Continuous data, d_y > d_x.
    xg, yg = rng.standard_normal((12, 5)), rng.standard_normal((12, 7))
    yg[:, :5] += 0.7 * xg  # related, so the scores are far from 0
    out["cases"].append(pipeline_case("gaussian", xg, yg, {"cosine": True, "correlation": True, "euclidean": True}))
    # Continuous data with an offset and d > n.
    xo, yo = rng.standard_normal((6, 20)) + 3.0, rng.standard_normal((6, 9)) - 1.0
    out["cases"].append(pipeline_case("offset", xo, yo, {"cosine": True, "correlation": True, "euclidean": True}))

    # Plain vectors with heavy ties.
    for m, hi in ((40, 5), (25, 3), (7, 2)):
        a = rng.integers(0, hi, size=m).astype(float)
        b = np.where(rng.random(m) < 0.5, a, rng.integers(0, hi, size=m)).astype(float)
        t, s, tb = tau_a(a, b)
        v = {"a": a.tolist(), "b": b.tolist()}
        v.update(scores(a, b))
        v["kendall-tau-b"] = float(tb)
        v["kendall-numerator"] = s
        out["vectors"].append(v)

    # All pairs over four related layers.
    base = rng.standard_normal((10, 6))
    reps = [base @ rng.standard_normal((6, d)) + 0.8 * rng.standard_normal((10, d)) for d in (6, 8, 5, 6)]
    ap = {"reps": [r.tolist() for r in reps], "expected": {}}
    for dis, metric in METRICS.items():
        rd = [pdist(r, metric) for r in reps]
        for cmp in ("spearman", "pearson", "kendall-tau-a"):
            mat = [[1.0 if i == j else scores(rd[i], rd[j])[cmp] for j in range(len(reps))] for i in range(len(reps))]
            ap["expected"]["rsa-%s:%s" % (cmp, dis)] = mat
    out["allpairs"] = ap

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ref.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
