#!/usr/bin/python3
"""Reference values for package knn, written to testdata/ref.json.

Run with Debian's python3 (numpy 1.24.2):

    /usr/bin/python3 lcka/knn/testdata/gen_ref.py

A dense numpy transcription of platonic-rep's metrics.py (github.com/
minyoungg/platonic-rep at dcd76ba3): compute_nearest_neighbors (diagonal set
to -1e8, argsort descending, first k), mutual_knn (row masks, mean of
|intersection|/k) and cknna with unbiased=True (diagonal -inf, top-k masks,
mask = mask_K * mask_L, hsic_unbiased(mask*K, mask*L) with
sum(K~ * L~.T) + sum(K~)sum(L~)/((m-1)(m-2)) - 2 sum(K~ @ L~)/(m-2), over
m(m-3)). Features are L2-normalised per row first for "cosine" (as
measure_alignment.py does) and used as given for "inner". Sorting is stable
(ties to the lower index); the data are continuous, so there are no ties.
cknna is written both without and with platonic-rep's +1e-6 in the
denominator ("cknna" and "cknna_platonic").
"""
import json
import os

import numpy as np


def topk_mask(K, k):
    n = K.shape[0]
    Kh = K.copy()
    np.fill_diagonal(Kh, -np.inf)
    idx = np.argsort(-Kh, axis=1, kind="stable")[:, :k]
    M = np.zeros((n, n))
    M[np.arange(n)[:, None], idx] = 1.0
    return M


def hsic_unbiased(K, L):
    m = K.shape[0]
    Kt, Lt = K.copy(), L.copy()
    np.fill_diagonal(Kt, 0)
    np.fill_diagonal(Lt, 0)
    v = (np.sum(Kt * Lt.T) + np.sum(Kt) * np.sum(Lt) / ((m - 1) * (m - 2))
         - 2 * np.sum(Kt @ Lt) / (m - 2))
    return v / (m * (m - 3))


def prep(x, sim):
    if sim == "cosine":
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
    return x


def mutual_knn(x, y, k):
    MA, MB = topk_mask(x @ x.T, k), topk_mask(y @ y.T, k)
    return float(np.mean((MA * MB).sum(axis=1) / k))


def cknna_parts(x, y, k):
    K, L = x @ x.T, y @ y.T

    def sim(K, L):
        M = topk_mask(K, k) * topk_mask(L, k)
        return hsic_unbiased(M * K, M * L)

    return sim(K, L), sim(K, K), sim(L, L)


def main():
    rng = np.random.default_rng(15)
    n = 48
    x = rng.standard_normal((n, 12))
    ind = rng.standard_normal((n, 20))
    # related: a linear map of x plus noise, in 20 dimensions
    rel = x @ rng.standard_normal((12, 20)) + 0.5 * rng.standard_normal((n, 20))
    cases = []
    for yname, y in (("independent", ind), ("related", rel)):
        for sim in ("cosine", "inner"):
            for k in (2, 5, 10, n - 1):
                xp, yp = prep(x, sim), prep(y, sim)
                kl, kk, ll = cknna_parts(xp, yp, k)
                cases.append({
                    "y": yname, "similarity": sim, "k": k,
                    "mutual_knn": mutual_knn(xp, yp, k),
                    "cknna": float(kl / np.sqrt(kk * ll)),
                    "cknna_platonic": float(kl / (np.sqrt(kk * ll) + 1e-6)),
                })
    out = {
        "provenance": "gen_ref.py with numpy " + np.__version__ + " (Debian bookworm python3), seed 15",
        "x": x.tolist(), "independent": ind.tolist(), "related": rel.tolist(),
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ref.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
