#!/usr/bin/python3
"""The original study's way of computing a layer map, with numpy, for timing.

For every layer: standardize the columns, take the Gram matrix, double-center
it, flatten it and scale it to unit norm (the "signature"); then the CKA matrix
is the signature matrix times its transpose. Run with Debian's python3-numpy
on OpenBLAS (scripts/bench/blascheck.py: it refuses the reference BLAS,
which Debian's numpy uses by default, unless --allow-reference-blas):

    /usr/bin/python3 scripts/bench/study_allpairs.py N D L DTYPE [--allow-reference-blas]

It prints the seconds of the computation (the random layers are made first and
not timed) and, if N*N*L*8 bytes exceed 20 GB, says the signatures cannot be held.
"""
import sys
import time
import numpy as np

from blascheck import require_fast_blas

argv = [a for a in sys.argv[1:] if a != "--allow-reference-blas"]
require_fast_blas(allow_reference=len(argv) < len(sys.argv) - 1)
n, d, L = (int(a) for a in argv[0:3])
dtype = np.dtype(argv[3] if len(argv) > 3 else "float32")
need = n * n * L * dtype.itemsize
if need > 20e9:
    print(f"signatures need {need / 1e9:.0f} GB: does not fit")
    sys.exit(0)
rng = np.random.default_rng(0)
layers = [rng.standard_normal((n, d), dtype=np.float32) for _ in range(L)]

start = time.perf_counter()
sigs = np.empty((L, n * n), dtype=dtype)
for k, x in enumerate(layers):
    x = x.astype(dtype, copy=False)
    z = (x - x.mean(0)) / x.std(0)
    g = z @ z.T
    g = g - g.mean(0, keepdims=True) - g.mean(1, keepdims=True) + g.mean()
    s = g.ravel()
    sigs[k] = s / np.linalg.norm(s)
S = sigs @ sigs.T
elapsed = time.perf_counter() - start
print(f"{elapsed:.3f} s  (n={n} d={d} L={L} {dtype}; S[0,1]={S[0, 1]:.6f})")
