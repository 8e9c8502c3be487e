#!/usr/bin/python3
"""Reference values for lcka/cka, computed with numpy on the inputs it writes.

Run with Debian bookworm's python3 (numpy 1.24.2):
    /usr/bin/python3 lcka/cka/testdata/gen_ref.py > lcka/cka/testdata/ref.json

The formulas follow Kornblith et al.'s CKA reference code (ICML 2019):
gram_linear, gram_rbf (sigma^2 = threshold^2 * median of squared distances over
all n^2 pairs), center_gram (biased, and unbiased = Song et al. 2012), cka; and
Nguyen et al. 2021 for minibatch CKA (means of unbiased HSIC over batches).
They are written independently of the Go code, on float64.
"""
import json
import numpy as np


def gram_linear(x):
    return x @ x.T


def gram_rbf(x, threshold):
    dot = x @ x.T
    sq = np.diag(dot)
    d2 = -2 * dot + sq[:, None] + sq[None, :]
    med = np.median(d2)
    return np.exp(-d2 / (2 * threshold ** 2 * med))


def center_gram(g, unbiased=False):
    g = g.copy()
    if unbiased:
        n = g.shape[0]
        np.fill_diagonal(g, 0)
        means = np.sum(g, 0) / (n - 2)
        means -= np.sum(means) / (2 * (n - 1))
        g -= means[:, None]
        g -= means[None, :]
        np.fill_diagonal(g, 0)
    else:
        h = np.eye(g.shape[0]) - np.ones(g.shape) / g.shape[0]
        g = h @ g @ h
    return g


def cka(gx, gy, debiased=False):
    gx = center_gram(gx, debiased)
    gy = center_gram(gy, debiased)
    s = gx.ravel() @ gy.ravel()
    return s / (np.linalg.norm(gx) * np.linalg.norm(gy))


def hsic1(k, l):
    # Song et al. 2012, eq. (5), written out directly.
    n = k.shape[0]
    k = k.copy(); l = l.copy()
    np.fill_diagonal(k, 0); np.fill_diagonal(l, 0)
    one = np.ones(n)
    return (np.trace(k @ l) + (one @ k @ one) * (one @ l @ one) / ((n - 1) * (n - 2))
            - 2 / (n - 2) * (one @ k @ l @ one)) / (n * (n - 3))


def standardize(x):
    mu = x.mean(0)
    sd = x.std(0)
    z = np.zeros_like(x)
    ok = sd > 0
    z[:, ok] = (x[:, ok] - mu[ok]) / sd[ok]
    return z


def case(name, x, y, batch):
    xc, yc = x - x.mean(0), y - y.mean(0)
    xs, ys = standardize(x), standardize(y)
    out = {
        "name": name, "x": x.tolist(), "y": y.tolist(),
        "linear": cka(gram_linear(x), gram_linear(y)),
        # feature-space form as a second route, on centered features
        "linear_feature": float(np.linalg.norm(xc.T @ yc) ** 2 /
                                (np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc))),
        "standardized": cka(gram_linear(xs), gram_linear(ys)),
        "debiased": cka(gram_linear(xc), gram_linear(yc), debiased=True),
        "rbf_0.5": cka(gram_rbf(x, 0.5), gram_rbf(y, 0.5)),
        "rbf_1": cka(gram_rbf(x, 1.0), gram_rbf(y, 1.0)),
        "rbf_2": cka(gram_rbf(x, 2.0), gram_rbf(y, 2.0)),
        "minibatch_size": batch,
    }
    xy = xx = yy = 0.0
    nb = 0
    for s in range(0, x.shape[0], batch):
        bx, by = x[s:s + batch], y[s:s + batch]
        kx, ky = gram_linear(bx), gram_linear(by)
        xy += hsic1(kx, ky); xx += hsic1(kx, kx); yy += hsic1(ky, ky); nb += 1
    out["minibatch"] = (xy / nb) / np.sqrt((xx / nb) * (yy / nb))
    sig = lambda z: (lambda k: (k / np.linalg.norm(k)).ravel())(gram_linear(standardize(z)))
    out["signature_x_head"] = sig(x)[:5].tolist()
    return out


rng = np.random.RandomState(20261127)
cases = []
x = rng.randn(30, 10); y = x @ rng.randn(10, 50) + 0.5 * rng.randn(30, 50)
cases.append(case("related_n30_d10_d50", x, y, 10))
x = rng.randn(40, 60); y = rng.randn(40, 8)
cases.append(case("independent_n40_d60_d8", x, y, 8))
x = rng.randint(-3, 4, size=(24, 6)).astype(float); x[:, 2] = 7.0  # a constant column
y = np.tanh(x @ rng.randn(6, 6)) * 3 + 1
cases.append(case("integers_constant_column_n24", x, y, 6))
x = rng.standard_t(3, size=(50, 20)) * np.linspace(0.1, 10, 20); y = x[:, :15] ** 2
cases.append(case("heavy_tailed_scaled_n50", x, y, 10))
print(json.dumps({"generator": "numpy " + np.__version__ + " (Debian bookworm python3-numpy)",
                  "cases": cases}))
