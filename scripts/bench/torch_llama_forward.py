#!/usr/bin/python3
"""PyTorch side of the extraction benchmark: a Llama-3.2-1B-shaped model with
random weights (vocabulary cut to 32768, as BenchmarkLlama1BShapeForward in
lcka/llm), every hidden state of a padded batch of 8 × 64 tokens, float32 on
the CPU, with the same operations as transformers' LlamaModel (RMSNorm, llama3
RoPE, grouped-query attention with a causal and padding mask, SwiGLU).

Run with Debian bookworm's python3-torch (1.13):
    /usr/bin/python3 scripts/bench/torch_llama_forward.py [threads]
It prints tokens per second over 3 timed passes after one warm-up pass.
"""
import math
import sys
import time
import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
torch.manual_seed(7)
V, H, I, L, NH, KV, HD = 32768, 2048, 8192, 16, 32, 8, 64
B, T = 8, 64
g = torch.Generator().manual_seed(7)


def w(*shape):
    return torch.randn(*shape, generator=g) * 0.02


emb = w(V, H)
layers = [dict(q=w(NH * HD, H), k=w(KV * HD, H), v=w(KV * HD, H), o=w(H, NH * HD),
               gate=w(I, H), up=w(I, H), down=w(H, I), n1=torch.ones(H), n2=torch.ones(H)) for _ in range(L)]
norm = torch.ones(H)

# llama3 RoPE frequencies (factor 32, low 1, high 4, original 8192), theta 5e5
inv = 1.0 / (500000 ** (torch.arange(0, HD, 2).float() / HD))
wavelen = 2 * math.pi / inv
low_wl, high_wl = 8192 / 1, 8192 / 4
smooth = (8192 / wavelen - 1) / (4 - 1)
scaled = torch.where(wavelen > low_wl, inv / 32, inv)
mid = (wavelen <= low_wl) & (wavelen >= high_wl)
inv = torch.where(mid, (1 - smooth) * scaled / 32 + smooth * scaled, scaled)

tokens = torch.tensor([[(i * 7919 + j * 104729) % V for j in range(T)] for i in range(B)])
mask = torch.ones(B, T, dtype=torch.long)
for i in range(B):
    mask[i, : i % 4] = 0
pos = (mask.cumsum(1) - 1).clamp(min=0)


def rms(x, wt):
    return wt * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5))


def rot(x):
    a, b = x[..., : HD // 2], x[..., HD // 2:]
    return torch.cat((-b, a), -1)


@torch.no_grad()
def forward():
    f = pos[..., None].float() * inv
    e = torch.cat((f, f), -1)
    cos, sin = e.cos()[:, None], e.sin()[:, None]
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    allowed = causal[None, None] & mask[:, None, None, :].bool()
    bias = torch.zeros(B, 1, T, T).masked_fill(~allowed, float("-inf"))
    x = emb[tokens]
    states = [x]
    for p in layers:
        h = rms(x, p["n1"])
        q = (h @ p["q"].T).view(B, T, NH, HD).transpose(1, 2)
        k = (h @ p["k"].T).view(B, T, KV, HD).transpose(1, 2)
        v = (h @ p["v"].T).view(B, T, KV, HD).transpose(1, 2)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        k = k.repeat_interleave(NH // KV, 1)
        v = v.repeat_interleave(NH // KV, 1)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(HD) + bias, -1).nan_to_num()
        x = x + (a @ v).transpose(1, 2).reshape(B, T, H) @ p["o"].T
        h = rms(x, p["n2"])
        x = x + (torch.nn.functional.silu(h @ p["gate"].T) * (h @ p["up"].T)) @ p["down"].T
        states.append(x)
    states[-1] = rms(x, norm)
    last = mask.sum(1) - 1  # right-aligned real tokens: the last column holds the last token
    return [s[:, -1] for s in states]


forward()
times = []
for _ in range(3):
    t = time.perf_counter()
    forward()
    times.append(time.perf_counter() - t)
best = min(times)
print(f"torch {torch.__version__} threads={threads}: {B * T / best:.1f} tokens/s (best of 3: {best:.3f} s per pass)")
