#!/usr/bin/python3
"""Reference joint embedding and language axis for lcka/embed, with numpy.

Run with Debian bookworm's python3 (numpy 1.24.2):
    /usr/bin/python3 lcka/embed/testdata/gen_ref.py > lcka/embed/testdata/ref.json

S is the Gram matrix of 12 random unit vectors (6 "en" and 6 "hi" layers of
two models), so it looks like a CKA matrix of signatures. Coordinates are
eigenvectors scaled by sqrt(eigenvalue), sign fixed so that each column's
largest-magnitude entry is positive; numpy.linalg.eigh does the work.
"""
import json
import numpy as np

rng = np.random.RandomState(7)
m = 12
lang = np.array([1] * 6 + [-1] * 6, dtype=float)
model = ["a", "a", "a", "b", "b", "b"] * 2
sig = rng.randn(m, 40) + 2.0 * lang[:, None] * np.linspace(-1, 1, 40)[None, :] + 1.5
sig /= np.linalg.norm(sig, axis=1, keepdims=True)
S = sig @ sig.T


def embed(A, dims=3):
    w, v = np.linalg.eigh(A)
    order = np.argsort(-w, kind="stable")
    w, v = w[order], v[:, order]
    out = v[:, :dims] * np.sqrt(np.maximum(w[:dims], 0))
    for k in range(dims):
        big = np.argmax(np.abs(out[:, k]))
        if out[big, k] < 0:
            out[:, k] = -out[:, k]
    return w, out


w, xyz = embed(S)
H = np.eye(m) - np.ones((m, m)) / m
wc, xyzc = embed(H @ S @ H)
corr = [float(np.corrcoef(xyz[:, k], lang)[0, 1]) for k in range(3)]
comp = int(np.argmax(np.abs(corr)))
per = {g: float(np.corrcoef(xyz[[i for i in range(m) if model[i] == g], comp],
                            lang[[i for i in range(m) if model[i] == g]])[0, 1]) for g in "ab"}
print(json.dumps({"generator": "numpy " + np.__version__, "S": S.tolist(), "lang": lang.tolist(),
                  "model": model, "eigenvalues": w.tolist(), "xyz": xyz.tolist(),
                  "classical_eigenvalues": wc.tolist(), "classical_xyz": xyzc.tolist(),
                  "corr": corr, "component": comp, "per_model": per}))
