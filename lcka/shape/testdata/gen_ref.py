#!/usr/bin/python3
"""Reference values for package shape, written to testdata/ref.json.

Run with Debian's python3 (numpy 1.24.2):

    /usr/bin/python3 lcka/shape/testdata/gen_ref.py

A numpy transcription of netrep's LinearMetric(alpha, center_columns=True,
zero_pad=True, score_method="angular").fit_score(X, Y) (github.com/ahwillia/
netrep at 0186b8a7, netrep/metrics/linear.py and netrep/utils.py: whiten
with eigval_tol=1e-7 and preserve_variance=True, angular_distance):
zero-pad the narrower matrix, centre, whiten by the eigendecomposition of
X.T @ X, align by the SVD of Xw.T @ Yw, transform, and take the arccos of
the normalised Frobenius inner product. It forms d x d matrices, unlike the
Go code's n x r route.
"""
import json
import os

import numpy as np


def whiten(X, alpha, eigval_tol=1e-7):
    if alpha > (1 - eigval_tol):
        return X, np.eye(X.shape[1])
    lam, V = np.linalg.eigh(X.T @ X)
    lam = np.maximum(lam, eigval_tol)
    d = alpha + (1 - alpha) * lam ** (-1 / 2)
    new_var = np.sum((alpha ** 2) * lam + 2 * alpha * (1 - alpha) * (lam ** 0.5)
                     + ((1 - alpha) ** 2) * np.ones_like(lam))
    d *= np.sqrt(np.sum(lam) / new_var)
    Z = (V * d[None, :]) @ V.T
    return X @ Z, Z


def angular(X, Y, alpha):
    n = max(X.shape[1], Y.shape[1])
    X = np.pad(X, ((0, 0), (0, n - X.shape[1])))
    Y = np.pad(Y, ((0, 0), (0, n - Y.shape[1])))
    mx, my = X.mean(axis=0), Y.mean(axis=0)
    Xw, Zx = whiten(X - mx, alpha)
    Yw, Zy = whiten(Y - my, alpha)
    U, _, Vt = np.linalg.svd(Xw.T @ Yw)
    tX = (X - mx) @ (Zx @ U)
    tY = (Y - my) @ (Zy @ Vt.T)
    corr = np.dot(tX.ravel(), tY.ravel()) / (np.linalg.norm(tX.ravel()) * np.linalg.norm(tY.ravel()))
    return float(np.arccos(np.clip(corr, -1.0, 1.0)))


def main():
    rng = np.random.default_rng(15)
    n = 60
    x = rng.standard_normal((n, 10)) * np.geomspace(3, 0.3, 10)
    ind = rng.standard_normal((n, 14))
    rel = x @ rng.standard_normal((10, 14)) + 0.5 * rng.standard_normal((n, 14))
    cases = []
    for yname, y in (("independent", ind), ("related", rel)):
        for alpha in (0.0, 0.25, 0.5, 0.9, 1.0):
            cases.append({"y": yname, "alpha": alpha, "value": angular(x, y, alpha)})
    # Wider than tall, as layers are (n prompts < d features): 20 x 40
    # against 20 x 35, related.
    wrng = np.random.default_rng(16)
    wx = wrng.standard_normal((20, 40))
    wy = wx @ wrng.standard_normal((40, 35)) + 2.0 * wrng.standard_normal((20, 35))
    wide = [{"alpha": a, "value": angular(wx, wy, a)} for a in (0.0, 0.5, 1.0)]
    out = {
        "provenance": "gen_ref.py with numpy " + np.__version__ + " (Debian bookworm python3), seeds 15 and 16",
        "x": x.tolist(), "independent": ind.tolist(), "related": rel.tolist(),
        "cases": cases,
        "wide_x": wx.tolist(), "wide_y": wy.tolist(), "wide": wide,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ref.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
