#!/usr/bin/python3
"""Reference values for the measures of issue 15 in `layersim compare`.

Run with Debian bookworm's python3 (numpy 1.24.2):
    cd cmd/layersim/testdata && /usr/bin/python3 gen_compare15.py
It reads x.npy and y.npy (written by gen_compare.py) and writes
compare15_ref.json, using the numpy references committed with the packages:
lcka/knn/testdata/gen_ref.py (platonic-rep's mutual_knn and cknna on
L2-normalised rows), lcka/cca/testdata/gen_ref.py (SVCCA, PWCCA),
lcka/shape/testdata/gen_ref.py (netrep's LinearMetric, angular) and
lcka/rsa/testdata/gen_ref_extended.py (rsatoolbox's tau-b, rho-a and
whitened comparisons).
"""
import importlib.util
import json
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..", "..", "..")


def load(name, rel):
    spec = importlib.util.spec_from_file_location(name, os.path.join(root, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


knn = load("knn_ref", "lcka/knn/testdata/gen_ref.py")
cca = load("cca_ref", "lcka/cca/testdata/gen_ref.py")
shape = load("shape_ref", "lcka/shape/testdata/gen_ref.py")
rsa = load("rsa_ref", "lcka/rsa/testdata/gen_ref_extended.py")

X = np.load(os.path.join(here, "x.npy")).astype(np.float64)
Y = np.load(os.path.join(here, "y.npy")).astype(np.float64)
Xn, Yn = knn.prep(X, "cosine"), knn.prep(Y, "cosine")
values = {}
for k in (3, 8):
    values[f"mutual-knn:{k}"] = knn.mutual_knn(Xn, Yn, k)
    kl, kk, ll = knn.cknna_parts(Xn, Yn, k)
    values[f"cknna:{k}"] = float(kl / np.sqrt(kk * ll))
kept = {}
for name, keep in (("svcca", 0.99), ("svcca:0.9", 0.9), ("svcca:5", 5)):
    v, rx, ry, _ = cca.svcca(X, Y, keep)
    values[name] = v
    kept[name] = [rx, ry]
values["pwcca"] = cca.pwcca(X, Y)[0]
for a in (0, 0.5, 1):
    values[f"shape:{a}"] = shape.angular(X, Y, float(a))
n = X.shape[0]
for dis in ("cosine", "correlation", "euclidean"):
    s = rsa.scores(rsa.rdm(X, dis), rsa.rdm(Y, dis), n)
    for c, v in s.items():
        values[f"rsa-{c}:{dis}"] = v
with open(os.path.join(here, "compare15_ref.json"), "w") as f:
    json.dump({"provenance": "gen_compare15.py with numpy " + np.__version__ + " (Debian bookworm python3)",
               "values": values, "svcca_kept": kept}, f, indent=1, sort_keys=True)
    f.write("\n")
