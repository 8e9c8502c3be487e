#!/usr/bin/python3
"""Reference values for the hf package tests.

Tools: Debian bookworm's python3 3.11, python3-numpy 1.24.2, python3-torch 1.13.1+dfsg-4.
Run from the package folder:  /usr/bin/python3 testdata/gen_ref.py

Writes
  testdata/floatref.json   - binary16 -> float32 for all 65536 bit patterns (numpy, as a sha256 of
                             the little-endian float32 bytes, plus a few spelled-out values);
                             float32 -> binary16 (numpy astype, round to nearest even) and
                             float32 -> bfloat16 (torch .to(torch.bfloat16), round to nearest even)
                             for edge cases and random inputs, as bit patterns.
  testdata/ref.safetensors - a small safetensors file laid out by hand here (struct + json, not by
  testdata/ref.json          the code under test) with F32, F16, BF16, F64, I32, I64 and U8 tensors;
                             ref.json holds the expected values as float32/int bit patterns.
"""
import hashlib
import json
import struct

import numpy as np
import torch

rng = np.random.default_rng(20240611)

# binary16 -> float32, every pattern.
all_h = np.arange(65536, dtype=np.uint32).astype(np.uint16)
f32 = all_h.view(np.float16).astype(np.float32)
table_sha = hashlib.sha256(f32.astype('<f4').tobytes()).hexdigest()
samples = [0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0xbc00, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x7c01, 0x3555, 0x8001]
f16_to_f32 = [[h, int(np.array([h], np.uint16).view(np.float16).astype(np.float32).view(np.uint32)[0])] for h in samples]

# float32 -> binary16 and bfloat16.
edges = np.array([0.0, -0.0, 1.0, -1.0, 65504.0, 65519.99, 65520.0, 1e10, -1e10, np.inf, -np.inf,
                  2**-24, 2**-25, 2**-25 * 1.0000001, 2**-26, 2**-14, 2**-14 * (1 - 2**-11), 3 * 2**-25,
                  1 + 2**-11, 1 + 3 * 2**-11, 1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 + 2**-20,
                  3.4028235e38, 1e-45, -1e-45, 1.17549435e-38, 0.1, 1 / 3, np.pi], dtype=np.float32)
rand = np.concatenate([
    rng.standard_normal(600).astype(np.float32),
    (rng.standard_normal(600) * 2.0 ** rng.integers(-30, 20, 600)).astype(np.float32),
    rng.integers(0, 2**32, 800, dtype=np.uint64).astype(np.uint32).view(np.float32),
])
rand = rand[~np.isnan(rand)]
xs = np.concatenate([edges, rand]).astype(np.float32)
with np.errstate(over='ignore'):
    h16 = xs.astype(np.float16).view(np.uint16)
b16 = torch.from_numpy(xs.copy()).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
round_ref = [[int(x), int(a), int(b)] for x, a, b in zip(xs.view(np.uint32), h16, b16)]

with open('testdata/floatref.json', 'w') as f:
    json.dump({
        'tool': 'numpy 1.24.2 and torch 1.13.1 (Debian bookworm), testdata/gen_ref.py',
        'f16_table_sha256': table_sha,
        'f16_to_f32_bits': f16_to_f32,
        'f32_to_f16_bf16_bits': round_ref,
    }, f, separators=(',', ':'))

# A hand-made safetensors file.
tensors = {}
f32v = np.array([[1.5, -2.25, 3.0], [0.1, 1e-8, -7.0]], dtype=np.float32)
f16v = np.array([1.0, -0.5, 65504.0, 2**-24, np.inf, 0.333], dtype=np.float16)
bfv = torch.tensor([1.0, -3.140625, 1e30, -1e-30], dtype=torch.float32).to(torch.bfloat16)
f64v = np.array([0.1, -1e300, 2.5], dtype=np.float64)
i32v = np.array([[-1, 2], [2147483647, -2147483648]], dtype=np.int32)
i64v = np.array([9007199254740993, -5], dtype=np.int64)
u8v = np.array([0, 17, 255, 128], dtype=np.uint8)
order = [('a.weight', 'F32', f32v.shape, f32v.astype('<f4').tobytes()),
         ('b.f16', 'F16', f16v.shape, f16v.astype('<f2').tobytes()),
         ('c.bf16', 'BF16', tuple(bfv.shape), bfv.view(torch.int16).numpy().astype('<i2').tobytes()),
         ('d.f64', 'F64', f64v.shape, f64v.astype('<f8').tobytes()),
         ('e.i32', 'I32', i32v.shape, i32v.astype('<i4').tobytes()),
         ('f.i64', 'I64', i64v.shape, i64v.astype('<i8').tobytes()),
         ('g.blocks', 'U8', u8v.shape, u8v.tobytes()),
         ('h.scalar', 'F32', (), np.array(42.0, np.float32).astype('<f4').tobytes())]
header = {'__metadata__': {'format': 'pt', 'note': 'hand-made'}}
body = b''
for name, dt, shape, raw in order:
    header[name] = {'dtype': dt, 'shape': list(shape), 'data_offsets': [len(body), len(body) + len(raw)]}
    body += raw
hj = json.dumps(header).encode()
with open('testdata/ref.safetensors', 'wb') as f:
    f.write(struct.pack('<Q', len(hj)) + hj + body)

expect = {
    'a.weight': {'shape': [2, 3], 'f32_bits': f32v.ravel().view(np.uint32).tolist()},
    'b.f16': {'shape': [6], 'f32_bits': f16v.astype(np.float32).view(np.uint32).tolist()},
    'c.bf16': {'shape': [4], 'f32_bits': bfv.to(torch.float32).numpy().view(np.uint32).tolist()},
    'd.f64': {'shape': [3], 'f64': f64v.tolist()},
    'e.i32': {'shape': [2, 2], 'ints': i32v.ravel().tolist()},
    'f.i64': {'shape': [2], 'ints': [str(v) for v in i64v.tolist()]},
    'g.blocks': {'shape': [4], 'ints': u8v.tolist()},
    'h.scalar': {'shape': [], 'f32_bits': [int(np.array(42.0, np.float32).view(np.uint32))]},
}
with open('testdata/ref.json', 'w') as f:
    json.dump({'tool': 'numpy 1.24.2 and torch 1.13.1 (Debian bookworm), testdata/gen_ref.py',
               'metadata': header['__metadata__'], 'tensors': expect}, f, indent=1)
