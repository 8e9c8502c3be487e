#!/usr/bin/python3
"""Reference values for rsa.CompareWith and CompareRDMsWith, written to
testdata/ref_extended.json.

Run with Debian's python3 (numpy 1.24.2):

    /usr/bin/python3 lcka/rsa/testdata/gen_ref_extended.py

Definitions of rsatoolbox (github.com/rsagroup/rsatoolbox at f1f83cad,
src/rsatoolbox/rdm/compare.py), written in numpy alone:

- kendall-tau-b: (n_c - n_d) / sqrt((n0 - t_u)(n0 - t_v)), naive O(m^2) sums
  of sign products and tied pairs (what scipy.stats.kendalltau computes and
  compare_kendall_tau calls).
- rho-a: compare_rho_a: average ranks (rankdata), centred,
  12 * sum(r_u * r_v) / (m^3 - m).
- whitened-cosine / whitened-correlation: compare_cosine_cov_weighted /
  compare_correlation_cov_weighted with sigma_k=None, transcribing
  _cov_weighting: vector_w = -0.5 * [v, zeros(n)], row/column indicator
  matrices, subtract row and column means and add the overall mean, weight
  the off-diagonal entries by sqrt(2), then the cosine (_cosine). The
  correlation variant first subtracts the mean of v.

RDMs of representations: 1 - cosine of rows, 1 - correlation of rows,
squared Euclidean distance, all in numpy.
"""
import json
import os

import numpy as np


def avg_rank(v):
    order = np.argsort(v, kind="stable")
    r = np.empty(len(v))
    s = 0
    while s < len(v):
        e = s + 1
        while e < len(v) and v[order[e]] == v[order[s]]:
            e += 1
        r[order[s:e]] = (s + 1 + e) / 2
        s = e
    return r


def tied(v):
    _, c = np.unique(v, return_counts=True)
    return int(np.sum(c * (c - 1) // 2))


def tau_b(u, v):
    m = len(u)
    i, j = np.triu_indices(m, 1)
    s = float(np.sum(np.sign(u[i] - u[j]) * np.sign(v[i] - v[j])))
    n0 = m * (m - 1) / 2
    return s / np.sqrt((n0 - tied(u)) * (n0 - tied(v)))


def rho_a(u, v):
    ru, rv = avg_rank(u), avg_rank(v)
    ru, rv = ru - ru.mean(), rv - rv.mean()
    m = len(u)
    return float(np.sum(ru * rv) / (m ** 3 - m) * 12)


def indicators(n):
    rows, cols = np.triu_indices(n, 1)
    m = len(rows)
    rowI = np.zeros((m + n, n))
    colI = np.zeros((m + n, n))
    rowI[np.arange(m), rows] = 1
    colI[np.arange(m), cols] = 1
    rowI[m + np.arange(n), np.arange(n)] = 1
    colI[m + np.arange(n), np.arange(n)] = 1
    return rowI, colI


def cov_weighting(v, n):
    vw = -0.5 * np.r_[v, np.zeros(n)]
    rowI, colI = indicators(n)
    sumI = rowI + colI
    mcol = vw @ sumI / n
    mm = np.sum(vw * 2) / (n * n)
    vw = vw - mcol @ sumI.T + mm
    vw[:len(v)] *= np.sqrt(2)
    return vw


def whitened(u, v, n, corr):
    if corr:
        u, v = u - u.mean(), v - v.mean()
    a, b = cov_weighting(u, n), cov_weighting(v, n)
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def scores(u, v, n):
    return {
        "kendall-tau-b": tau_b(u, v),
        "rho-a": rho_a(u, v),
        "whitened-cosine": whitened(u, v, n, False),
        "whitened-correlation": whitened(u, v, n, True),
    }


def upper(D):
    return D[np.triu_indices(D.shape[0], 1)]


def rdm(x, dis):
    if dis == "correlation":
        x = x - x.mean(axis=1, keepdims=True)
    if dis in ("cosine", "correlation"):
        xn = x / np.linalg.norm(x, axis=1, keepdims=True)
        return upper(1 - xn @ xn.T)
    sq = np.sum(x * x, axis=1)
    d = sq[:, None] + sq[None, :] - 2 * x @ x.T
    return upper(np.maximum(d, 0))


def main():
    rng = np.random.default_rng(15)
    n = 8
    A = rng.integers(0, 4, (n, n)).astype(float)
    A = np.triu(A, 1)
    A = A + A.T
    B = rng.integers(0, 3, (n, n)).astype(float)
    B = np.triu(B, 1)
    B = B + B.T
    rdms = {"a": A.tolist(), "b": B.tolist(), "values": scores(upper(A), upper(B), n)}
    x = rng.standard_normal((12, 5))
    y = x @ rng.standard_normal((5, 7)) + rng.standard_normal((12, 7))
    reps = []
    for dis in ("cosine", "correlation", "euclidean"):
        reps.append({"dissimilarity": dis, "values": scores(rdm(x, dis), rdm(y, dis), 12)})
    out = {
        "provenance": "gen_ref_extended.py with numpy " + np.__version__ + " (Debian bookworm python3), seed 15",
        "rdms": rdms, "x": x.tolist(), "y": y.tolist(), "reps": reps,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ref_extended.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
