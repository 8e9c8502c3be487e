#!/usr/bin/python3
"""Check that numpy reads the sets Go writes (interoperability, by hand).

Tool: numpy 1.24.2 on Python 3.11.2 (Debian bookworm). Usage:

    ARTIFACTS_EXPORT=/tmp/x go test -run TestExportForNumPy ./lcka/artifacts/
    /usr/bin/python3 lcka/artifacts/testdata/check_numpy.py /tmp/x

TestExportForNumPy writes, for f = 0, 1, 2 (npz, compressed npz, npy folder),
the set models/org__export/lang<f>/activations/org__export_lang<f>_test with
3 layers of (5+f) x (3+f), element [i, j] of layer k = (1000k + 10i + j)/8.
"""
import json
import os
import sys
import zipfile

import numpy as np

root = sys.argv[1]
for f in range(3):
    lang = f"lang{f}"
    base = os.path.join(root, "models", "org__export", lang, "activations", f"org__export_{lang}_test")
    rows, cols, L = 5 + f, 3 + f, 3
    if f < 2:
        with zipfile.ZipFile(base + ".npz") as z:
            assert z.testzip() is None, "CRC error"
            methods = {i.compress_type for i in z.infolist()}
            assert methods == ({zipfile.ZIP_STORED} if f == 0 else {zipfile.ZIP_DEFLATED}), methods
        npz = np.load(base + ".npz")
        assert sorted(npz.files) == [f"layer_{k}" for k in range(1, L + 1)], npz.files
        arrays = {k: npz[f"layer_{k}"] for k in range(1, L + 1)}
    else:
        assert sorted(os.listdir(base)) == [f"layer_{k}.npy" for k in range(1, L + 1)]
        arrays = {k: np.load(os.path.join(base, f"layer_{k}.npy")) for k in range(1, L + 1)}
    for k, a in arrays.items():
        assert a.dtype == np.dtype("<f4") and a.shape == (rows, cols) and a.flags.c_contiguous, (a.dtype, a.shape)
        i, j = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        want = ((1000 * k + 10 * i + j) / 8).astype(np.float32)
        assert np.array_equal(a, want), (k, a, want)
    with open(base + ".meta.json") as fh:
        meta = json.load(fh)
    assert meta["model_id"] == "org/model" and meta["num_layers"] == L and meta["texts_count"] == rows, meta
    assert meta["revision"] == "main" and meta["tokens_per_text"] == [1, 2, 3], meta
    with open(base + ".texts.json", encoding="utf-8") as fh:
        texts = json.load(fh)
    assert texts == [f"text {i} ü <&>" for i in range(rows)], texts
    print(f"ok: {base} ({'npz' if f == 0 else 'npz compressed' if f == 1 else 'npy folder'})")
