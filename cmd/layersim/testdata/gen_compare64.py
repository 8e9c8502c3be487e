#!/usr/bin/python3
"""Float64 inputs and float64 reference values for `layersim compare`.

Run with Debian bookworm's python3 (numpy 1.24.2):
    cd cmd/layersim/testdata && /usr/bin/python3 gen_compare64.py
It writes x64.npy (float64, C order), y64.npy (float64, Fortran order) and
compare64_ref.json: linear, debiased and standardized CKA computed in float64
with the formulas of gen_compare.py (Kornblith et al.'s reference code; the
unbiased HSIC of Song et al. 2012). The values are not representable in
float32, so a float32 pass moves the results by about 1e-8.
"""
import json
import numpy as np

rng = np.random.RandomState(64)
x = rng.randn(24, 9) * 3.0 + 1.0 / 3.0
y = np.tanh(x @ rng.randn(9, 7)) + 0.3 * rng.randn(24, 7)
np.save("x64.npy", x)
np.save("y64.npy", np.asfortranarray(y))


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


def cka(a, b, unbiased=False):
    gx, gy = center_gram(a @ a.T, unbiased), center_gram(b @ b.T, unbiased)
    return float(gx.ravel() @ gy.ravel() / (np.linalg.norm(gx) * np.linalg.norm(gy)))


def z(a):
    return (a - a.mean(0)) / a.std(0)


xc, yc = x - x.mean(0), y - y.mean(0)
values = {"cka": cka(xc, yc), "cka-debiased": cka(xc, yc, True), "cka-standardized": cka(z(x), z(y))}
with open("compare64_ref.json", "w") as f:
    json.dump({"generator": "numpy " + np.__version__ + " (Debian bookworm), float64", "values": values}, f, indent=1)
print(values)
