#!/usr/bin/python3
"""Reference values for package outliers, written to testdata/ref.json.

Run with Debian's python3 (numpy 1.24.2, torch 1.13):

    /usr/bin/python3 lcka/outliers/testdata/gen_ref.py

The clipping is platonic-rep's remove_outliers (github.com/minyoungg/
platonic-rep, metrics.py) transcribed for torch float64 tensors: exact=True
sorts |X| flattened and takes element int(q * numel); exact=False takes
torch.quantile of each row's |X| (linear interpolation) and averages over
rows; then X.clamp(-t, t). Rows are then normalised with
torch.nn.functional.normalize(p=2, dim=-1) (measure_alignment.py). numpy
recomputes every threshold (np.sort, np.quantile "linear") and the script
stops if the two disagree. Top-variance columns: np.var per column, stable
argsort of -var. Linear CKA: centred columns,
||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F


def remove_outliers(feats, q, exact=False):
    if q == 1:
        return feats
    if exact:
        q_val = feats.view(-1).abs().sort().values[int(q * feats.numel())]
    else:
        q_val = torch.quantile(feats.abs().flatten(start_dim=1), q, dim=1).mean()
    return feats.clamp(-q_val, q_val), float(q_val)


def np_threshold(x, q, exact):
    a = np.abs(x)
    if exact:
        return np.sort(a.ravel())[int(q * a.size)]
    return np.quantile(a, q, axis=1, method="linear").mean()


def linear_cka(x, y):
    xc = x - x.mean(axis=0)
    yc = y - y.mean(axis=0)
    return np.linalg.norm(yc.T @ xc) ** 2 / (np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc))


def top_variance(x, k):
    return [int(j) for j in np.argsort(-x.var(axis=0), kind="stable")[:k]]


rng = np.random.default_rng(1502)
n, d = 12, 10
x = rng.standard_normal((n, d))
x[:, 3] *= 30.0  # rogue dimensions
x[:, 7] = 10.0 * x[:, 7] + 5.0
y = 0.5 * x @ rng.standard_normal((d, 8)) + rng.standard_normal((n, 8))
y[:, 1] *= 25.0

out = {"x": x.tolist(), "y": y.tolist(), "clip": [], "top_variance_x": top_variance(x, 4), "top_variance_y": top_variance(y, 4), "dependence": []}
for q in [0.5, 0.9, 0.95, 0.99]:
    for exact in [True, False]:
        clipped, t = remove_outliers(torch.tensor(x), q, exact)
        tn = np_threshold(x, q, exact)
        assert abs(t - tn) <= 1e-12 * abs(t), (q, exact, t, tn)
        prepared = F.normalize(clipped, p=2, dim=-1).numpy()
        out["clip"].append({"q": q, "method": "exact" if exact else "row-mean", "threshold": t, "prepared": prepared.tolist()})
for k in [0, 1, 2, 3]:
    xk = np.delete(x, top_variance(x, k), axis=1)
    yk = np.delete(y, top_variance(y, k), axis=1)
    out["dependence"].append({"k": k, "with": linear_cka(x, y), "without": linear_cka(xk, yk)})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ref.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path)
