#!/usr/bin/python3
"""Reference for TestFisherLDAAgainstNumpy of package study (lda_ref.json).

Run with Debian bookworm's python3 (numpy 1.24.2), from this folder:

    /usr/bin/python3 gen_lda.py

Draws 4 groups of 3D points (sizes 20, 25, 30, 15; means and covariances
below, seed 15) and solves Fisher's problem S_B w = lambda S_W w as the
eigenproblem of inv(S_W) @ S_B (numpy.linalg.eig), a route independent of the
Cholesky one of FisherLDA. Writes the points, the labels, the eigenvalues in
decreasing order and the unit eigenvectors (directions up to sign).
"""
import json

import numpy as np

rng = np.random.default_rng(15)
sizes = [20, 25, 30, 15]
means = np.array([[0, 0, 0], [1.5, 0.5, -0.3], [-0.5, 2.0, 0.4], [0.8, -1.0, 1.5]])
a = rng.normal(size=(3, 3))
cov = a @ a.T + 0.5 * np.eye(3)
x, label = [], []
for g, n in enumerate(sizes):
    x.append(rng.multivariate_normal(means[g], cov, size=n))
    label += [g] * n
x = np.vstack(x)
label = np.array(label)
mu = x.mean(axis=0)
sw = np.zeros((3, 3))
sb = np.zeros((3, 3))
for g in range(len(sizes)):
    xg = x[label == g]
    mg = xg.mean(axis=0)
    sw += (xg - mg).T @ (xg - mg)
    sb += len(xg) * np.outer(mg - mu, mg - mu)
vals, vecs = np.linalg.eig(np.linalg.solve(sw, sb))
vals, vecs = vals.real, vecs.real
order = np.argsort(-vals)
vals, vecs = vals[order], vecs[:, order]
vecs /= np.linalg.norm(vecs, axis=0)
with open("lda_ref.json", "w") as f:
    json.dump({"x": x.tolist(), "label": label.tolist(), "ratio": vals.tolist(),
               "directions": vecs.T.tolist(), "numpy": np.__version__}, f, indent=1)
