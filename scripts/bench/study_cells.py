#!/usr/bin/python3
"""The original study's Analysis cells on an artifacts root, with numpy or torch.

For every layer of every model in both languages: standardize the columns,
take the Gram matrix, double-center it, flatten it and scale it to unit norm
(the "signature"); the CKA matrix of all layers is the signature matrix times
its transpose; the joint 3D embedding takes its top three eigenvectors
(uncentered). Per model, with A the Hindi and B the English signature stacks
(L x n^2), the study's Procrustes residual is

    res^2 = ||A||_F^2 + ||B||_F^2 - 2 * sum(svd(B @ A.T)),  rel = res / sqrt(||A||_F^2 + ||B||_F^2).

Run with Debian's python3 (numpy 1.24, torch 1.13 CPU) on OpenBLAS
(scripts/bench/blascheck.py: it refuses the reference BLAS, which Debian's
numpy and torch use by default, unless --allow-reference-blas):

    /usr/bin/python3 scripts/bench/study_cells.py ROOT [--langs en,hi] [--split test] [--torch] [--float64] [--json OUT] [--allow-reference-blas]

It prints the seconds of the signatures, the CKA matrix and the embedding
(reading the files is not timed) and, per model, the Procrustes residual of
the study next to the signature-space one (||A^T B||_* instead of
||B A^T||_*). --json writes those figures to OUT.
"""
import argparse
import glob
import json
import os
import time

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("root")
ap.add_argument("--langs", default="en,hi")
ap.add_argument("--split", default="test")
ap.add_argument("--torch", action="store_true", help="compute with torch on CPU, as the study's notebook does")
ap.add_argument("--float64", action="store_true", help="signatures in float64 (default float32, as the study)")
ap.add_argument("--json", help="write the Procrustes figures here")
ap.add_argument("--allow-reference-blas", action="store_true", help="time on the reference BLAS too (not what a user runs)")
args = ap.parse_args()
langs = args.langs.split(",")
dtype = np.float64 if args.float64 else np.float32


def load(slug, lang):
    path = os.path.join(args.root, "models", slug, lang, "activations", f"{slug}_{lang}_{args.split}.npz")
    with np.load(path) as z:
        keys = sorted((k for k in z.files if k.startswith("layer_")), key=lambda k: int(k[6:]))
        return [z[k] for k in keys]


slugs = sorted(os.path.basename(p) for p in glob.glob(os.path.join(args.root, "models", "*")))
layers = {(s, l): load(s, l) for s in slugs for l in langs}
n = min(x.shape[0] for v in layers.values() for x in v)

if args.torch:
    import torch
    torch.set_num_threads(os.cpu_count())
    tdt = torch.float64 if args.float64 else torch.float32

    def signature(x):
        z = torch.from_numpy(x[:n]).to(tdt)
        z = (z - z.mean(0)) / z.std(0, unbiased=False)
        g = z @ z.T
        g = g - g.mean(0, keepdim=True) - g.mean(1, keepdim=True) + g.mean()
        s = g.reshape(-1)
        return s / torch.linalg.norm(s)
else:
    def signature(x):
        z = x[:n].astype(dtype)
        z = (z - z.mean(0)) / z.std(0)
        g = z @ z.T
        g = g - g.mean(0, keepdims=True) - g.mean(1, keepdims=True) + g.mean()
        s = g.ravel()
        return s / np.linalg.norm(s)

from blascheck import require_fast_blas  # noqa: E402 (after numpy and torch are loaded)

require_fast_blas(allow_reference=args.allow_reference_blas)
start = time.perf_counter()
order = [(s, l, k) for s in slugs for l in langs for k in range(len(layers[(s, l)]))]
sigs = [signature(layers[(s, l)][k]) for s, l, k in order]
t_sig = time.perf_counter() - start
if args.torch:
    S = torch.stack(sigs)
    C = (S @ S.T).double().numpy()
else:
    S = np.stack(sigs)
    C = (S @ S.T).astype(np.float64)
t_cka = time.perf_counter() - start
w, v = np.linalg.eigh(C)
top = np.argsort(w)[::-1][:3]
xyz = v[:, top] * np.sqrt(np.maximum(w[top], 0))
t_all = time.perf_counter() - start
print(f"signatures {t_sig:.3f} s, + CKA matrix {t_cka:.3f} s, + embedding {t_all:.3f} s "
      f"({len(order)} layers, n={n}, {'torch' if args.torch else 'numpy'} {np.dtype(dtype).name})")

out = {"n": n, "langs": langs, "models": {}}
for s in slugs:
    rows = {l: [i for i, (s2, l2, _) in enumerate(order) if s2 == s and l2 == l] for l in langs}
    B = np.stack([np.asarray(sigs[i], dtype=np.float64) for i in rows[langs[0]]])  # English
    A = np.stack([np.asarray(sigs[i], dtype=np.float64) for i in rows[langs[1]]])  # Hindi
    na, nb = np.sum(A * A), np.sum(B * B)
    total = na + nb
    res = np.sqrt(max(0.0, total - 2 * np.linalg.svd(B @ A.T, compute_uv=False).sum()))
    # The signature-space residual: a rotation of the n^2 coordinates,
    # res^2 = |A|^2 + |B|^2 - 2 |A^T B|_*. A^T B is n^2 x n^2; its nonzero
    # singular values are the square roots of the nonzero eigenvalues of
    # B^T A A^T B, which are those of (A A^T)(B B^T), L x L: this route
    # (eigenvalues of a product of Gram matrices) is not the one layersim
    # takes (factors of each Gram matrix, then an SVD).
    ga, gb = A @ A.T, B @ B.T
    ev = np.real(np.linalg.eigvals(ga @ gb))
    sres = np.sqrt(max(0.0, total - 2 * np.sqrt(np.clip(ev, 0, None)).sum()))
    out["models"][s] = {"procrustes_res": float(res), "procrustes_rel": float(res / np.sqrt(total)),
                        "procrustes_signature_res": float(sres), "procrustes_signature_rel": float(sres / np.sqrt(total))}
    print(f"{s}: study Procrustes res {res:.6f} rel {res / np.sqrt(total):.6f}; signature-space res {sres:.6f} rel {sres / np.sqrt(total):.6f}")
if args.json:
    with open(args.json, "w") as f:
        json.dump(out, f, indent=1)
