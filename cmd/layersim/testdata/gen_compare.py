#!/usr/bin/python3
"""Inputs and reference values for `layersim compare`, computed with numpy/scipy.

Run with Debian bookworm's python3 (numpy 1.24.2, scipy 1.10.1):
    cd cmd/layersim/testdata && /usr/bin/python3 gen_compare.py
It writes x.npy, y.npy (float32) and compare_ref.json. CKA follows Kornblith
et al.'s reference code; RSA uses scipy.spatial.distance.pdist and
scipy.stats.spearmanr; Procrustes uses scipy.linalg.orthogonal_procrustes on
centered, unit-Frobenius-norm matrices (squared residual).
"""
import json
import numpy as np
from scipy.linalg import orthogonal_procrustes
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr, pearsonr

rng = np.random.RandomState(42)
x = rng.randn(32, 20).astype(np.float32)
y = (np.tanh(x @ rng.randn(20, 12)) + 0.3 * rng.randn(32, 12)).astype(np.float32)
np.save("x.npy", x)
np.save("y.npy", y)
X, Y = x.astype(np.float64), y.astype(np.float64)


def center_gram(g, unbiased=False):
    g = g.copy()
    n = g.shape[0]
    if unbiased:
        np.fill_diagonal(g, 0)
        means = np.sum(g, 0) / (n - 2)
        means -= np.sum(means) / (2 * (n - 1))
        g -= means[:, None]
        g -= means[None, :]
        np.fill_diagonal(g, 0)
        return g
    h = np.eye(n) - 1.0 / n
    return h @ g @ h


def cka(gx, gy, unbiased=False):
    gx, gy = center_gram(gx, unbiased), center_gram(gy, unbiased)
    return float(gx.ravel() @ gy.ravel() / (np.linalg.norm(gx) * np.linalg.norm(gy)))


def hsic1(k, l):
    """Unbiased HSIC (Song et al. 2012, eq. 5) of two Gram matrices."""
    n = k.shape[0]
    k, l = k.copy(), l.copy()
    np.fill_diagonal(k, 0)
    np.fill_diagonal(l, 0)
    one = np.ones(n)
    return float((np.trace(k @ l) + (one @ k @ one) * (one @ l @ one) / ((n - 1) * (n - 2))
                  - 2 / (n - 2) * (one @ k @ l @ one)) / (n * (n - 3)))


def minibatch(a, b, size):
    """Minibatch CKA (Nguyen et al. 2021): means of unbiased HSIC over
    consecutive batches of `size` rows; a last batch under 4 rows is left out."""
    xy = xx = yy = 0.0
    nb = 0
    for s in range(0, a.shape[0], size):
        ba, bb = a[s:s + size], b[s:s + size]
        if ba.shape[0] < 4:
            break
        ka, kb = ba @ ba.T, bb @ bb.T
        xy += hsic1(ka, kb); xx += hsic1(ka, ka); yy += hsic1(kb, kb); nb += 1
    return float((xy / nb) / np.sqrt((xx / nb) * (yy / nb)))


def rbf(a, t):
    d2 = np.sum((a[:, None, :] - a[None, :, :]) ** 2, -1)
    return np.exp(-d2 / (2 * t * t * np.median(d2)))


def z(a):
    return (a - a.mean(0)) / a.std(0)


def proc(a, b):
    a = a - a.mean(0); b = b - b.mean(0)
    a /= np.linalg.norm(a); b /= np.linalg.norm(b)
    b = np.hstack([b, np.zeros((b.shape[0], a.shape[1] - b.shape[1]))])  # pad to equal width
    r, _ = orthogonal_procrustes(a, b)
    return float(np.linalg.norm(a @ r - b) ** 2)


ref = {
    "cka": cka(X @ X.T, Y @ Y.T),
    "cka-standardized": cka(z(X) @ z(X).T, z(Y) @ z(Y).T),
    "cka-debiased": cka((X - X.mean(0)) @ (X - X.mean(0)).T, (Y - Y.mean(0)) @ (Y - Y.mean(0)).T, True),
    "cka-rbf:0.8": cka(rbf(X, 0.8), rbf(Y, 0.8)),
    "rsa-spearman:correlation": float(spearmanr(pdist(X, "correlation"), pdist(Y, "correlation"))[0]),
    "rsa-pearson:euclidean": float(pearsonr(pdist(X, "sqeuclidean"), pdist(Y, "sqeuclidean"))[0]),
    "procrustes": proc(X, Y),
    "cka-minibatch:8": minibatch(X, Y, 8),
    "cka-minibatch:10": minibatch(X, Y, 10),  # batches of 10, 10, 10; the last 2 rows left out
}
json.dump({"generator": "numpy %s, scipy (Debian bookworm)" % np.__version__, "values": ref}, open("compare_ref.json", "w"), indent=1)
