#!/usr/bin/python3
"""Reference values for the joint embedding of package subspace, written to
testdata/embed_ref.json.

Run with Debian's python3 (numpy 1.24.2):

    /usr/bin/python3 lcka/subspace/testdata/gen_embed_ref.py

One model of L layers in two languages, drawn with numpy's PCG64 from the
case's seed and rounded to float32 (the precision the activation files and
the CKA engine hold): layer k of language A is a random linear map of a
shared latent plus noise; language B is A plus a per-prompt offset along a
random direction c_k (B = A + u c_k^T + noise). Per layer, the directions
are the top right singular vectors of the centred differences (as
gen_ref.py), projected out of both languages. The joint matrix is the
study's standardized CKA between every pair of the 2L rows (layers 1..L of
A, then of B). The embedding is the study's uncentered one: S = V diag(l)
V^T, eigenvalues descending, coordinates V_k sqrt(l_k) for the top 3, each
column signed so that its largest-magnitude entry is positive. Each "after"
embedding X is rotated onto the "before" one R by orthogonal Procrustes:
X^T R = U S W^T, Q = U W^T. Pair distances are the 3D distances between
row k and row L+k; eta2 is sum_g L |mu_g - mu|^2 / sum_i |x_i - mu|^2.
The cross-fitted case estimates the directions on one half (rows
halves[k]), computes the joint matrix on the other, both ways, and
averages the two matrices ("before": the mean of the two halves' matrices).
"""
import json
import os

import numpy as np

from gen_ref import std_cka  # the same standardized CKA as the per-layer fixture


def directions(a, b, r):
    d = a - b
    dc = d - d.mean(axis=0)
    _, _, vt = np.linalg.svd(dc, full_matrices=False)
    return vt[:r].T


def project(x, v):
    return x - (x @ v) @ v.T


def joint(a_layers, b_layers, fit_rows, eval_rows, r):
    mats = []
    for side in (0, 1):
        for a, b in zip(a_layers, b_layers):
            v = directions(a[fit_rows], b[fit_rows], r)
            x = (a, b)[side][eval_rows]
            mats.append(project(x, v))
    m = len(mats)
    s = np.eye(m)
    for i in range(m):
        for j in range(i + 1, m):
            s[i, j] = s[j, i] = std_cka(mats[i], mats[j])
    return s


def embedding(s, dims=3):
    w, v = np.linalg.eigh(s)
    order = np.argsort(-w, kind="stable")
    w, v = w[order], v[:, order]
    x = v[:, :dims] * np.sqrt(np.maximum(w[:dims], 0))
    for k in range(dims):
        big = np.argmax(np.abs(x[:, k]))
        if x[big, k] < 0:
            x[:, k] = -x[:, k]
    return x, w


def align(x, ref):
    u, _, wt = np.linalg.svd(x.T @ ref)
    q = u @ wt
    return q, x @ q


def separation(x):
    m = x.shape[0]
    l = m // 2
    pd = np.linalg.norm(x[:l] - x[l:], axis=1)
    mu = x.mean(axis=0)
    between = l * (np.sum((x[:l].mean(axis=0) - mu) ** 2) + np.sum((x[l:].mean(axis=0) - mu) ** 2))
    total = np.sum((x - mu) ** 2)
    return pd.tolist(), float(pd.mean()), float(between / total)


def case(name, n, d, layers, seed, rs, crossfit):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 4))
    a_layers, b_layers = [], []
    for k in range(layers):
        w = rng.standard_normal((4, d)) + 0.3 * k
        a = latent @ w + 0.5 * rng.standard_normal((n, d))
        c = rng.standard_normal(d)
        c /= np.linalg.norm(c)
        u = 4.0 * rng.standard_normal(n)
        b = a + np.outer(u, c) + 0.2 * rng.standard_normal((n, d))
        a_layers.append(a.astype(np.float32).astype(np.float64))
        b_layers.append(b.astype(np.float32).astype(np.float64))
    allrows = np.arange(n)
    halves = None
    if crossfit:
        perm = rng.permutation(n)
        halves = [sorted(perm[: n // 2].tolist()), sorted(perm[n // 2:].tolist())]

    def matrix(r):
        if halves is None:
            return joint(a_layers, b_layers, allrows, allrows, r)
        return (joint(a_layers, b_layers, halves[0], halves[1], r) +
                joint(a_layers, b_layers, halves[1], halves[0], r)) / 2

    maps = []
    ref = None
    for r in [0] + rs:
        s = matrix(r)
        x, w = embedding(s)
        if ref is None:
            ref = x
        q, xa = align(x, ref)
        pd, mpd, eta2 = separation(xa)
        maps.append({"r": r, "cka": s.ravel().tolist(), "coords": xa.ravel().tolist(),
                     "eigenvalues": w.tolist(), "pair_distance": pd,
                     "mean_pair_distance": mpd, "eta2": eta2})
    return {
        "name": name, "n": n, "d": d, "layers": layers, "rs": rs,
        "a": [m.ravel().tolist() for m in a_layers],
        "b": [m.ravel().tolist() for m in b_layers],
        "halves": halves, "before": maps[0], "after": maps[1:],
    }


def main():
    out = {
        "provenance": "lcka/subspace/testdata/gen_embed_ref.py, numpy " + np.__version__,
        "cases": [
            case("3 layers n=30 d=10", 30, 10, 3, 11, [1, 2], False),
            case("4 layers n=26 d=8 cross-fitted", 26, 8, 4, 12, [1], True),
        ],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "embed_ref.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
