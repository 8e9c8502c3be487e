#!/usr/bin/python3
"""Generate the numpy-written fixtures of package lcka/artifacts.

Tool: numpy 1.24.2 on Python 3.11.2 (Debian bookworm packages python3-numpy
1:1.24.2-1+deb12u1 and python3.11). Run from this directory:

    /usr/bin/python3 gen_fixtures.py

It writes, with numpy's own writers (np.savez, np.savez_compressed, np.save,
np.lib.format.write_array):

  root/models/...            an artifacts tree in the study layout (see ../doc.go):
                             np.savez and np.savez_compressed archives of
                             float16/32/64 layers (C and Fortran order), one
                             with zip64 records, and a folder of .npy files
  ref.json                   every layer of every set in root/, as numpy sees it
                             after .astype(np.float32) (exact: float32 -> Python
                             float is exact and json writes the shortest repr)
  f16_special.npy            a [2, 8] float16 array of edge values
  f16_special.json           numpy's float32 bit patterns of those values
  c_order_f32.npy            np.save of a [3, 4] float32 array (byte reference
                             for the Go npy encoder)
"""
import json
import os
import shutil

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "root")
rng = np.random.default_rng(20240607)


def actdir(slug, lang):
    d = os.path.join(ROOT, "models", slug, lang, "activations")
    os.makedirs(d, exist_ok=True)
    return d


def layers(n_layers, n, d, dtype, fortran=False):
    out = []
    for _ in range(n_layers):
        a = rng.standard_normal((n, d)).astype(dtype)
        if fortran:
            a = np.asfortranarray(a)
            assert a.flags.f_contiguous and not a.flags.c_contiguous
        out.append(a)
    return out


def write_meta(path, model_id, n_layers, n, subset="global-mmlu-lite", **extra):
    meta = {
        "model_id": model_id,
        "num_layers": n_layers,
        "dtype": "bfloat16",
        "max_length": 512,
        "texts_count": n,
        "subset": subset,
    }
    meta.update(extra)
    with open(path, "w") as f:
        json.dump(meta, f, indent=2)


refs = []


def record(slug, lang, split, arrs):
    refs.append({
        "slug": slug, "lang": lang, "split": split,
        "layers": [a.astype(np.float32).tolist() for a in arrs],
    })


shutil.rmtree(ROOT, ignore_errors=True)

# 1. np.savez (stored, uncompressed), float32, an extra non-layer key, texts.
slug, lang, split = "org__tiny_f32", "en", "test"
d = actdir(slug, lang)
arrs = layers(3, 4, 5, np.float32)
base = os.path.join(d, f"{slug}_{lang}_{split}")
np.savez(base + ".npz", **{f"layer_{i+1}": a for i, a in enumerate(arrs)},
         sample_ids=np.arange(4))
write_meta(base + ".meta.json", "org/tiny_f32", 3, 4,
           revision="abc123", pooling="last", tokens_per_text=[7, 3, 12, 5])
with open(base + ".texts.json", "w") as f:
    json.dump(["first text", "second\nline", "third \"quoted\"", "fourth"], f)
record(slug, lang, split, arrs)

# 2. np.savez_compressed (deflate), float32, Hindi texts written as UTF-8.
lang = "hi"
d = actdir(slug, lang)
arrs = layers(3, 4, 5, np.float32)
base = os.path.join(d, f"{slug}_{lang}_{split}")
np.savez_compressed(base + ".npz", **{f"layer_{i+1}": a for i, a in enumerate(arrs)})
write_meta(base + ".meta.json", "org/tiny_f32", 3, 4, revision="abc123")
with open(base + ".texts.json", "w", encoding="utf-8") as f:
    json.dump(["पहला", "दूसरा", "तीसरा", "चौथा"], f, ensure_ascii=False, indent=2)
record(slug, lang, split, arrs)

# 3. np.savez, float16, no texts file.
slug, lang, split = "tiny-f16", "en", "test"
d = actdir(slug, lang)
arrs = layers(2, 3, 4, np.float16)
base = os.path.join(d, f"{slug}_{lang}_{split}")
np.savez(base + ".npz", **{f"layer_{i+1}": a for i, a in enumerate(arrs)})
write_meta(base + ".meta.json", "tiny/f16", 2, 3)
record(slug, lang, split, arrs)

# 4. np.savez_compressed, float64, Fortran-ordered, split "dev".
slug, lang, split = "tiny-f64", "en", "dev"
d = actdir(slug, lang)
arrs = layers(2, 5, 3, np.float64, fortran=True)
base = os.path.join(d, f"{slug}_{lang}_{split}")
np.savez_compressed(base + ".npz", **{f"layer_{i+1}": a for i, a in enumerate(arrs)})
write_meta(base + ".meta.json", "tiny/f64", 2, 5)
record(slug, lang, split, arrs)

# 5. A folder of .npy files, one per layer, in mixed encodings.
slug, lang, split = "tiny-npy", "en", "test"
d = actdir(slug, lang)
base = os.path.join(d, f"{slug}_{lang}_{split}")
os.makedirs(base)
a1 = rng.standard_normal((3, 2)).astype(np.float32)                    # '<f4', C order
a2 = np.asfortranarray(rng.standard_normal((3, 2)).astype(np.float32))  # '<f4', Fortran order
a3 = rng.standard_normal((3, 2)).astype(">f4")                         # big-endian
a4 = rng.standard_normal((3, 2)).astype(np.float16)                    # '<f2', format 2.0
np.save(os.path.join(base, "layer_1.npy"), a1)
np.save(os.path.join(base, "layer_2.npy"), a2)
np.save(os.path.join(base, "layer_3.npy"), a3)
with open(os.path.join(base, "layer_4.npy"), "wb") as f:
    np.lib.format.write_array(f, a4, version=(2, 0))
write_meta(base + ".meta.json", "tiny/npy", 4, 3)
with open(base + ".texts.json", "w") as f:
    json.dump(["a", "b", "c"], f)
record(slug, lang, split, [a1, a2, a3, a4])

# 6. np.savez with zip64 records: zipfile's limits are lowered so that it
#    writes the zip64 extra fields and end records it writes for files over
#    4 GiB (numpy already forces zip64 local headers).
import zipfile
slug, lang, split = "tiny-zip64", "en", "test"
d = actdir(slug, lang)
arrs = layers(2, 4, 3, np.float32)
base = os.path.join(d, f"{slug}_{lang}_{split}")
saved = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 64, 1
try:
    np.savez(base + ".npz", **{f"layer_{i+1}": a for i, a in enumerate(arrs)})
finally:
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = saved
with open(base + ".npz", "rb") as f:
    raw = f.read()
assert b"PK\x06\x06" in raw and b"PK\x06\x07" in raw, "no zip64 end records"
write_meta(base + ".meta.json", "tiny/zip64", 2, 4)
record(slug, lang, split, arrs)

with open(os.path.join(HERE, "ref.json"), "w") as f:
    json.dump({"generator": "gen_fixtures.py, numpy " + np.__version__, "sets": refs}, f)

# float16 edge values: zeros, smallest/largest subnormal, smallest normal,
# largest finite, infinities, NaN, and ordinary values.
special = np.array([
    [0.0, -0.0, 2.0**-24, 2.0**-14 - 2.0**-24, 2.0**-14, 65504.0, -65504.0, 1.0 / 3.0],
    [np.inf, -np.inf, np.nan, 1.0, -2.5, 0.1, 1000.0, -3.140625],
]).astype(np.float16)
np.save(os.path.join(HERE, "f16_special.npy"), special)
with open(os.path.join(HERE, "f16_special.json"), "w") as f:
    json.dump({
        "generator": "gen_fixtures.py, numpy " + np.__version__,
        "f16_bits": special.view(np.uint16).ravel().tolist(),
        "f32_bits": special.astype(np.float32).view(np.uint32).ravel().tolist(),
    }, f)

np.save(os.path.join(HERE, "c_order_f32.npy"),
        np.arange(12, dtype=np.float32).reshape(3, 4) / 8 - 0.75)
