#!/usr/bin/python3
"""The inputs of the tutorial in Kornblith et al.'s demo notebook.

"Similarity of Neural Network Representations Revisited" (Kornblith, Norouzi,
Lee, Hinton, ICML 2019) ships a demo notebook, representation_similarity/
Demo.ipynb in the google-research/google-research repository, whose tutorial
cells draw

    np.random.seed(1337)
    X = np.random.randn(100, 10)
    Y = np.random.randn(100, 10) + X

and print (outputs saved in the notebook):

    Linear CKA from Examples: 0.55761
    RBF CKA: 0.65483                       (gram_rbf threshold 0.5)
    Linear CKA from Examples (Debiased): 0.51346

numpy's legacy seeded generator (np.random.seed / randn) is frozen by numpy's
compatibility policy, so this script, run with Debian's python3-numpy,
recreates those inputs; kornblith_demo.json holds them and the published
values, which TestKornblithDemo checks to the printed 5 decimals.
"""
import json
import numpy as np

np.random.seed(1337)
X = np.random.randn(100, 10)
Y = np.random.randn(100, 10) + X
json.dump({
    "source": "Kornblith et al. 2019, representation_similarity/Demo.ipynb (google-research), printed outputs",
    "x": X.tolist(), "y": Y.tolist(),
    "published": {"linear": 0.55761, "rbf_0.5": 0.65483, "debiased": 0.51346},
}, open("kornblith_demo.json", "w"))
