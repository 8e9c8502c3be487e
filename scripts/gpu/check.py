#!/usr/bin/env python3
"""The steps of scripts/gpu/check (read that file first): layersim on the XLA
backend against transformers on the same device.

  1. hidden states of small random Llama (layersim's tiny-a) and Qwen3
     models, float32 and bfloat16: relative error per layer,
     ||layersim - transformers|| / ||transformers|| of the last-token states;
  2. speed: a random Llama-3.2-1B-shaped model (dry run: a small one) on 400
     English prompts, layersim extract against transformers
     (output_hidden_states=True, bfloat16, the same batches), as a ratio and
     as a fraction of the card's bfloat16 peak;
  3. all-pairs CKA of 200 layers (a model of 100 layers in two languages) at
     n = 20,000 (dry run: n = 400) with `layersim analyze`;
  4. batch halving: a batch that cannot fit (GPU: the device's
     RESOURCE_EXHAUSTED; dry run: --memory-limit-mb).

Each step records its figures or why it failed or was skipped; the results go
to OUT/check.json and OUT/check.md. Needs numpy; torch and transformers for
the reference sides (missing: those parts are skipped, and say so).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

# Dense bfloat16 peak (FLOP/s) of the cards the check may meet (NVIDIA data
# sheets, SXM parts, without sparsity).
BF16_PEAK = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12}


def run(cmd, log):
    """Runs cmd, appending its output to log; returns (seconds, stdout+stderr)."""
    t = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with open(log, "a") as f:
        f.write("$ " + " ".join(cmd) + "\n" + p.stdout + "\n")
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed ({p.returncode}): {p.stdout[-2000:]}")
    return time.time() - t, p.stdout


def torch_or_none():
    try:
        import torch
        import transformers  # noqa: F401
        return torch
    except Exception as e:  # any import failure: the reference side is skipped
        return str(e)


def read_set(root, slug, lang="en", split="test"):
    d = os.path.join(root, "models", slug, lang, "activations")
    z = np.load(os.path.join(d, f"{slug}_{lang}_{split}.npz"))
    with open(os.path.join(d, f"{slug}_{lang}_{split}.texts.json")) as f:
        texts = json.load(f)
    L = len(z.files)
    return [z[f"layer_{k}"] for k in range(1, L + 1)], texts


def token_ids(a, model, texts):
    tf = os.path.join(a.out, "texts.json")
    with open(tf, "w") as f:
        json.dump(texts, f)
    _, outp = run([a.layersim, "tokenize", "--tokenizer", os.path.join(model, "tokenizer.json"),
                   "--special", "--max-length", "256", "--texts", tf], a.log)
    return [json.loads(l) for l in outp.splitlines() if l.startswith("[")]


def reference_states(torch, model, ids, dtype, device, batch=16, timed=False):
    """Last-token hidden states of every block (hidden_states[1:]) by
    transformers, batched as layersim batches (longest first, right padding
    with id 0, position_ids = cumsum(mask) - 1)."""
    from transformers import AutoModel
    dt = {"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype]
    m = AutoModel.from_pretrained(model, torch_dtype=dt, attn_implementation="eager").to(device).eval()
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    out = None
    if timed and device == "cuda":
        torch.cuda.synchronize()
    t = time.time()
    with torch.no_grad():
        for s in range(0, len(order), batch):
            rows = order[s:s + batch]
            S = max(len(ids[r]) for r in rows)
            tok = torch.zeros((len(rows), S), dtype=torch.long)
            mask = torch.zeros((len(rows), S), dtype=torch.long)
            for b, r in enumerate(rows):
                tok[b, :len(ids[r])] = torch.tensor(ids[r])
                mask[b, :len(ids[r])] = 1
            pos = (mask.cumsum(1) - 1).clamp(min=0)
            hs = m(input_ids=tok.to(device), attention_mask=mask.to(device), position_ids=pos.to(device),
                   output_hidden_states=True).hidden_states[1:]
            last = torch.tensor([len(ids[r]) - 1 for r in rows], device=device)
            ar = torch.arange(len(rows), device=device)
            pooled = [h[ar, last].float().cpu().numpy() for h in hs]
            if out is None:
                out = [np.zeros((len(ids), p.shape[1]), np.float32) for p in pooled]
            for k, p in enumerate(pooled):
                out[k][rows] = p
    if timed and device == "cuda":
        torch.cuda.synchronize()
    return out, time.time() - t


def write_qwen3(torch, dst, tokenizer):
    """A small random Qwen3 folder (q/k norms, head_dim 32), the tokenizer of
    layersim's tiny-a."""
    from transformers import Qwen3Config, Qwen3Model
    n_vocab = len(json.load(open(tokenizer))["model"]["vocab"]) + 8
    cfg = Qwen3Config(vocab_size=n_vocab, hidden_size=128, intermediate_size=256, num_hidden_layers=3,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=32, max_position_embeddings=512,
                      tie_word_embeddings=False, torch_dtype="float32")
    torch.manual_seed(3)
    Qwen3Model(cfg).save_pretrained(dst, safe_serialization=True)
    shutil.copy(tokenizer, os.path.join(dst, "tokenizer.json"))


def write_llama(torch, dst, tokenizer, shape):
    from transformers import LlamaConfig, LlamaModel
    cfg = LlamaConfig(torch_dtype="bfloat16", **shape)
    torch.manual_seed(1)
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        m = LlamaModel(cfg).to(torch.bfloat16)
    m.save_pretrained(dst, safe_serialization=True)
    shutil.copy(tokenizer, os.path.join(dst, "tokenizer.json"))


def step_states(a, R, torch):
    models = os.path.join(a.out, "models")
    run([a.layersim, "make-models", "--out", models, "--sizes", "tiny-a"], a.log)
    todo = {"llama-tiny-a": os.path.join(models, "tiny-a")}
    if isinstance(torch, str):
        R["states"] = {"skipped": "transformers side: " + torch}
    else:
        q = os.path.join(models, "qwen3-small")
        write_qwen3(torch, q, os.path.join(models, "tiny-a", "tokenizer.json"))
        todo["qwen3-small"] = q
    res = {}
    for name, model in todo.items():
        for dt in ("float32", "bfloat16"):
            root = os.path.join(a.out, "states-" + dt)
            secs, _ = run([a.layersim, "extract", "--model", model, "--data", "builtin", "--langs", "en", "--n", "64",
                           "--dtype", dt, "--backend", a.backend, "--out", root, "--slug", name, "--quiet"], a.log)
            ours, texts = read_set(root, name)
            entry = {"layers": len(ours), "n": len(texts), "layersim_s": round(secs, 2)}
            if not isinstance(torch, str):
                ref, _ = reference_states(torch, model, token_ids(a, model, texts), dt, a.device)
                entry["rel_err"] = [float(np.linalg.norm(x - y) / np.linalg.norm(y)) for x, y in zip(ours, ref)]
            res[f"{name} {dt}"] = entry
    R.setdefault("states", {}).update(res)


def step_speed(a, R, torch):
    if isinstance(torch, str):
        R["speed"] = {"skipped": "transformers side: " + torch}
        return
    shape = dict(vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                 num_attention_heads=32, num_key_value_heads=8, head_dim=64, tie_word_embeddings=True,
                 rope_theta=500000.0, max_position_embeddings=131072)
    n = 400
    if a.mode == "dry":
        shape.update(vocab_size=1024, hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2, head_dim=64)
        n = 32
    model = os.path.join(a.out, "models", "llama-1b-shaped" if a.mode == "gpu" else "llama-small")
    write_llama(torch, model, os.path.join(a.out, "models", "tiny-a", "tokenizer.json"), shape)
    data = a.data if os.path.exists(a.data) else "builtin"
    root = os.path.join(a.out, "speed")
    secs, _ = run([a.layersim, "extract", "--model", model, "--data", data, "--langs", "en", "--n", str(n),
                   "--dtype", "bfloat16", "--batch-size", "16", "--backend", a.backend, "--out", root,
                   "--slug", "speed", "--quiet"], a.log)
    ours, texts = read_set(root, "speed")
    ids = token_ids(a, model, texts)
    tokens = sum(len(i) for i in ids)
    _, ref_s = reference_states(torch, model, ids, "bfloat16", a.device, batch=16, timed=True)
    H, I, L = shape["hidden_size"], shape["intermediate_size"], shape["num_hidden_layers"]
    kv = shape["num_key_value_heads"] * shape["head_dim"]
    flops = 2 * tokens * L * (H * H * 2 + 2 * H * kv + 3 * H * I)  # linear layers only
    peak = next((v for k, v in BF16_PEAK.items() if k in R.get("device", "")), None)
    R["speed"] = {"texts": len(ids), "tokens": tokens, "data": data, "layersim_s_incl_load": round(secs, 2),
                  "transformers_s_forward": round(ref_s, 3), "ratio_transformers_over_layersim": round(ref_s / secs, 3),
                  "linear_flops": flops, "layersim_fraction_of_bf16_peak": (flops / secs / peak) if peak else None,
                  "note": "layersim's time is the whole command (start, weights, compile, forward); transformers' the forward passes alone"}


def step_cka(a, R):
    n, layers, d = (20000, 100, 256) if a.mode == "gpu" else (400, 12, 32)
    root = os.path.join(a.out, "cka-art")
    rng = np.random.default_rng(7)
    base = rng.standard_normal((n, d), dtype=np.float32)
    for lang in ("en", "hi"):
        dd = os.path.join(root, "models", "synth", lang, "activations")
        os.makedirs(dd, exist_ok=True)
        arrs = {}
        x = base.copy()
        for k in range(1, layers + 1):
            x = 0.9 * x + 0.3 * rng.standard_normal((n, d), dtype=np.float32)
            arrs[f"layer_{k}"] = x
        np.savez(os.path.join(dd, f"synth_{lang}_test.npz"), **arrs)
        json.dump({"model_id": "synth", "num_layers": layers, "texts_count": n, "dtype": "float32"},
                  open(os.path.join(dd, f"synth_{lang}_test.meta.json"), "w"))
    secs, _ = run([a.layersim, "analyze", "--artifacts", root, "--langs", "en,hi", "--out", os.path.join(a.out, "cka-out"),
                   "--bootstrap", "-1", "--permutations", "-1", "--rsa", "none", "--checkpoint", "none",
                   "--backend", a.backend, "--quiet"], a.log)
    R["cka"] = {"layers": 2 * layers, "n": n, "width": d, "analyze_s": round(secs, 2)}


def step_oom(a, R):
    model = os.path.join(a.out, "models", "tiny-a")
    args = [a.layersim, "extract", "--model", model, "--data", "builtin", "--langs", "en", "--n", "0",
            "--backend", a.backend, "--out", os.path.join(a.out, "oom"), "--slug", "oom", "--skip-memory-check"]
    if a.mode == "gpu":
        # Texts repeated to 4096 tokens in batches of 4096: far beyond the card.
        args += ["--batch-size", "4096", "--max-length", "4096", "--dtype", "float32"]
    else:
        args += ["--batch-size", "64", "--memory-limit-mb", "1"]
    secs, outp = run(args, a.log)
    lines = [l for l in outp.replace("\r", "\n").splitlines() if "→" in l and "batch size" in l]
    R["oom"] = {"halvings": len(lines), "notes": lines[:8], "seconds": round(secs, 2),
                "route": "device RESOURCE_EXHAUSTED" if a.mode == "gpu" else "--memory-limit-mb estimate"}


def markdown(R):
    out = [f"# GPU check ({R['mode']}): backend {R['backend']}, device {R.get('device', '?')}", ""]
    st = R.get("states", {})
    if "skipped" in st:
        out.append(f"Hidden states: skipped ({st['skipped']})")
    out += ["| model dtype | layers | max rel. error | per layer |", "| --- | --- | --- | --- |"]
    for k, v in st.items():
        if isinstance(v, dict) and "layers" in v:
            e = v.get("rel_err")
            out.append(f"| {k} | {v['layers']} | {max(e):.2e} | {' '.join(f'{x:.1e}' for x in e)} |" if e else
                       f"| {k} | {v['layers']} | (no reference) | |")
    for name in ("speed", "cka", "oom"):
        out += ["", f"**{name}**: `{json.dumps(R.get(name))}`"]
    if R.get("errors"):
        out += ["", "Errors:"] + [f"- {k}: {v}" for k, v in R["errors"].items()]
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["gpu", "dry"], default="gpu")
    p.add_argument("--layersim", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--budget-s", type=float, default=540)
    p.add_argument("--data", default="global-mmlu-lite-en.json",
                   help="the study's English questions as a JSON array (else the built-in prompts)")
    a = p.parse_args()
    a.log = os.path.join(a.out, "check.log")
    start = time.time()
    R = {"mode": a.mode, "errors": {}}
    if a.mode == "gpu":
        a.backend, a.device = "xla:cuda", "cuda"
        try:
            R["device"] = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                                         capture_output=True, text=True).stdout.strip()
        except OSError as e:
            R["device"] = f"unknown ({e})"
    else:
        cpu = any("cpu" in f for d in os.environ.get("PJRT_PLUGIN_LIBRARY_PATH", "").split(":") if os.path.isdir(d)
                  for f in os.listdir(d))
        a.backend, a.device, R["device"] = ("xla:cpu" if cpu else "go"), "cpu", "cpu"
    R["backend"] = a.backend
    torch = torch_or_none()
    for name, fn in (("states", lambda: step_states(a, R, torch)), ("oom", lambda: step_oom(a, R)),
                     ("speed", lambda: step_speed(a, R, torch)), ("cka", lambda: step_cka(a, R))):
        if time.time() - start > a.budget_s:
            R["errors"][name] = "not run: out of time"
            continue
        try:
            fn()
        except Exception as e:  # record and go on: a partial result is still a result
            R["errors"][name] = str(e)[-1500:]
    R["seconds"] = round(time.time() - start, 1)
    json.dump(R, open(os.path.join(a.out, "check.json"), "w"), indent=1)
    open(os.path.join(a.out, "check.md"), "w").write(markdown(R))
    print(markdown(R))
    return 1 if R["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
