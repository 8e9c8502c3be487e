#!/usr/bin/python3
"""transformers side of the extraction benchmark: every layer's hidden state
of a decoder-only model, pooled at the last real token, computed by
transformers' own base model (AutoModel, i.e. <Family>Model without lm_head,
attn_implementation="eager") on the CPU, on token ids made by layersim's
tokenizer, batched as `layersim extract` batches them (longest first, stable
by index; right padding with id 0; attention_mask; position_ids =
cumsum(mask) - 1 with padding set to 1).

Setup: Debian bookworm's python3-torch (1.13) and the transformers v4.55.4
source tree with import shims of /work/tf (see /work/tf/README.md):

    export PYTHONPATH=/work/tf/shims:/work/tf/v4.55.4/src TRANSFORMERS_OFFLINE=1 HF_HUB_OFFLINE=1

1. Texts: the first N questions of Global-MMLU-Lite (test split), as
   `layersim extract --data global-mmlu-lite` builds them (question only):

    /usr/bin/python3 scripts/bench/transformers_extract.py texts --lang en --n 64 --out /tmp/bench/texts_en64.json

   (reads /work/shared/data/global-mmlu-lite/test_<lang>.json; --data DIR
   for another folder). The same texts for layersim:
   `--data /work/shared/data/global-mmlu-lite/test_{lang}.json --langs en --n 64`.

2. Token ids, with layersim's tokenizer (BOS added; truncated to 256 ids as
   `layersim extract`'s default --max-length):

    GOEXPERIMENT=simd go run ./cmd/layersim tokenize --tokenizer MODEL/tokenizer.json \\
        --special --max-length 256 --texts /tmp/bench/texts_en64.json > /tmp/bench/ids_en64.jsonl

   (one JSON array per line; a JSON list of lists is read too).

3. The forward passes:

    /usr/bin/python3 scripts/bench/transformers_extract.py run --model MODEL \\
        --ids /tmp/bench/ids_en64.jsonl --dtype float32 --batch 16 [--threads 2] [--save out.npz] \\
        [--moe-branch eval|loop]

   MODEL is a Hugging Face folder with config.json and safetensors weights
   (for example one written by scripts/bench/bigmodels). It prints the load
   time (config to a ready model), tokens/s (real tokens / wall time of all
   forward passes, pooling included, the first pass included), the peak RSS
   (getrusage ru_maxrss) after loading and at the end, and a final line
   `RESULT {json}`. --save writes the pooled states as hidden_states
   [L+1, n, hidden] float32 in text order (index 0: the embedding output,
   k: block k), with lengths [n] (real tokens per text). --moe-branch picks
   which of GPT-OSS's two expert branches runs (see set_moe_branch) and is
   recorded in RESULT.

Loading: the safetensors package here is an import-level stand-in (its Rust
core is not installable offline), so from_pretrained cannot read the
weights. The script does what from_pretrained does on this path: the model
is built with AutoModel.from_config(config, torch_dtype=..., attn_implementation=
"eager") under transformers' no_init_weights, and each tensor of the
checkpoint (single file or sharded with model.safetensors.index.json) is read
from disk and copied into its parameter ("model." prefix dropped, lm_head
ignored), one tensor at a time, so peak memory is the model plus one tensor.
GPT-OSS's MXFP4 experts are dequantized with transformers'
integrations.mxfp4.convert_moe_packed_tensors then transposed (1, 2), as its
dequantize path does on a machine without a GPU.

BLAS: Debian's python3-torch does its float32 matrix products through
libblas.so.3, which on a default install is the reference (netlib) BLAS:
about 5 GFLOPS here, 30 times slower than OpenBLAS. For a fair comparison,
run with OpenBLAS, e.g. unpacked without touching the system:

    apt-get download libopenblas0-pthread && dpkg -x libopenblas0-pthread_*.deb /tmp/openblas
    export LD_LIBRARY_PATH=/tmp/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=2

(or `apt-get install libopenblas0-pthread`, which switches the system's
libblas.so.3). The libraries in use are printed. torch 1.13's bfloat16
products do not use BLAS and are slow on CPUs without AVX512-BF16.
"""
import argparse
import json
import os
import resource
import sys
import time


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def loaded_blas():
    """The BLAS libraries mapped into this process (torch's float32 matrix
    products go through libblas.so.3: Debian's default is the unoptimized
    reference BLAS, see the note at the top)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and ".so" in line}
    except OSError:
        return []
    return sorted(os.path.realpath(p) for p in libs if p.startswith("/"))


# ---------------------------------------------------------------- texts
def cmd_texts(args):
    path = os.path.join(args.data, "test_%s.json" % args.lang)
    with open(path, encoding="utf-8") as f:
        texts = json.load(f)
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        sys.exit("%s: want a JSON array of strings" % path)
    if args.n > 0:
        if args.n > len(texts):
            sys.exit("%s has %d texts, fewer than --n %d" % (path, len(texts), args.n))
        texts = texts[: args.n]
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(texts, f, ensure_ascii=False, indent=0)
        f.write("\n")
    os.replace(tmp, args.out)
    print("%s: %d %s texts from %s" % (args.out, len(texts), args.lang, path))


# ---------------------------------------------------------------- token ids
def read_ids(path):
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    try:
        ids = json.loads(raw)
    except ValueError:
        ids = [json.loads(line) for line in raw.splitlines() if line.strip()]
    if not isinstance(ids, list) or not all(isinstance(r, list) and r and all(isinstance(i, int) for i in r) for r in ids):
        sys.exit("%s: want non-empty lists of token ids (a JSON list of lists, or one JSON array per line)" % path)
    return ids


# ---------------------------------------------------------------- safetensors
ST_DTYPES = {"F32": ("float32", 4), "BF16": ("bfloat16", 2), "F16": ("float16", 2), "U8": ("uint8", 1),
             "I8": ("int8", 1), "I32": ("int32", 4), "I64": ("int64", 8), "F64": ("float64", 8)}


def safetensors_files(model_dir):
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            return sorted(set(json.load(f)["weight_map"].values()))
    if os.path.exists(os.path.join(model_dir, "model.safetensors")):
        return ["model.safetensors"]
    files = sorted(n for n in os.listdir(model_dir) if n.endswith(".safetensors"))
    if len(files) != 1:
        sys.exit("%s: no model.safetensors.index.json, no model.safetensors and %d *.safetensors" % (model_dir, len(files)))
    return files


def read_tensors(path):
    """Yields (name, torch tensor) for each tensor of a safetensors file, read
    from disk one at a time (not memory-mapped)."""
    import numpy as np
    import torch

    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        header.pop("__metadata__", None)
        base = 8 + n
        for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
            dt, size = ST_DTYPES[e["dtype"]]
            begin, end = e["data_offsets"]
            count = (end - begin) // size
            np_dt = {"bfloat16": np.int16, "float16": np.float16}.get(dt, dt)
            buf = np.empty(count, dtype=np_dt)
            f.seek(base + begin)
            if f.readinto(memoryview(buf).cast("B")) != end - begin:
                sys.exit("%s: tensor %s is truncated" % (path, name))
            t = torch.from_numpy(buf)
            if dt == "bfloat16":
                t = t.view(torch.bfloat16)
            yield name, t.reshape(e["shape"])


# ---------------------------------------------------------------- model
def load_model(model_dir, dtype):
    import torch
    from transformers import AutoConfig, AutoModel
    from transformers.modeling_utils import no_init_weights

    config = AutoConfig.from_pretrained(model_dir)
    with no_init_weights():
        model = AutoModel.from_config(config, torch_dtype=dtype, attn_implementation="eager")
    model.eval()
    params = dict(model.named_parameters())
    prefix = model.base_model_prefix + "."
    loaded = set()
    pending = {}  # MXFP4 blocks and scales waiting for their pair

    def put(key, value):
        if key not in params:
            sys.exit("checkpoint tensor %s has no parameter in %s" % (key, type(model).__name__))
        p = params[key]
        if tuple(p.shape) != tuple(value.shape):
            sys.exit("%s: checkpoint shape %s, model shape %s" % (key, tuple(value.shape), tuple(p.shape)))
        with torch.no_grad():
            p.copy_(value)
        loaded.add(key)

    for fname in safetensors_files(model_dir):
        for name, t in read_tensors(os.path.join(model_dir, fname)):
            if name.startswith("lm_head."):
                continue
            key = name[len(prefix):] if name.startswith(prefix) else name
            if key.endswith("_blocks") or key.endswith("_scales"):
                stem, kind = key.rsplit("_", 1)
                pending.setdefault(stem, {})[kind] = t
                if len(pending[stem]) == 2:
                    from transformers.integrations.mxfp4 import convert_moe_packed_tensors

                    pair = pending.pop(stem)
                    deq = convert_moe_packed_tensors(pair["blocks"], pair["scales"]).transpose(1, 2)
                    put(stem, deq)
                continue
            put(key, t)
    if pending:
        sys.exit("MXFP4 tensors without their pair: %s" % sorted(pending))
    missing = sorted(set(params) - loaded)
    if missing:
        sys.exit("parameters not in the checkpoint: %s" % missing[:10])
    return config, model


def set_moe_branch(model, branch):
    """GPT-OSS experts (GptOssExperts.forward in transformers 4.55.4) take one
    of two branches: with module.training False (eval) every expert runs on
    every token with bmm and the outputs are weighted by the routing scores
    (zero for experts a token did not pick); with training True, a loop over
    the experts that received tokens, each on its own tokens only. 'loop'
    sets .training = True on the GptOssExperts modules only, after
    model.eval(): those modules hold only parameters (no dropout, no
    submodules) and training is read nowhere else in their forward, so
    nothing else changes; attention dropout and gradient checkpointing look
    at their own modules, which stay in eval mode. Returns the number of
    experts modules switched."""
    experts = [m for m in model.modules() if type(m).__name__ == "GptOssExperts"]
    if branch == "eval":
        return 0
    if not experts:
        sys.exit("--moe-branch %s: %s has no GptOssExperts modules" % (branch, type(model).__name__))
    for m in experts:
        if any(True for _ in m.children()):
            sys.exit("--moe-branch: %s has submodules; refusing to switch it to training mode" % type(m).__name__)
        m.training = True
    return len(experts)


# ---------------------------------------------------------------- run
def cmd_run(args):
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[args.dtype]
    ids = read_ids(args.ids)
    if args.max_length > 0:
        ids = [r[: args.max_length] for r in ids]
    n = len(ids)

    t0 = time.perf_counter()
    config, model = load_model(args.model, dtype)
    switched = set_moe_branch(model, args.moe_branch)
    load_s = time.perf_counter() - t0
    rss_load = peak_rss_mb()
    vocab = config.vocab_size
    bad = [i for i, r in enumerate(ids) if max(r) >= vocab or min(r) < 0]
    if bad:
        sys.exit("texts %s have token ids outside the vocabulary (%d)" % (bad[:5], vocab))
    num_layers = config.num_hidden_layers
    hidden = config.hidden_size
    blas = loaded_blas()
    print("loaded %s (%s, %d layers, hidden %d) as %s in %.1fs; peak RSS %.0f MB; torch %s, %d threads; BLAS %s"
          % (args.model, config.model_type, num_layers, hidden, args.dtype, load_s, rss_load,
             torch.__version__, torch.get_num_threads(), ", ".join(blas) or "?"), flush=True)
    if switched:
        print("MoE branch %s: %d GptOssExperts modules in training mode, every other module in eval mode"
              % (args.moe_branch, switched), flush=True)

    # Longest first, ties by index (Python's sort is stable).
    order = sorted(range(n), key=lambda i: -len(ids[i]))
    pooled = np.zeros((num_layers + 1, n, hidden), dtype=np.float32) if args.save else None
    tokens_total = sum(len(r) for r in ids)
    batch_times = []
    with torch.inference_mode():
        t_run = time.perf_counter()
        for pos in range(0, n, args.batch):
            rows = order[pos: pos + args.batch]
            seq = len(ids[rows[0]])
            tok = torch.zeros((len(rows), seq), dtype=torch.long)
            mask = torch.zeros((len(rows), seq), dtype=torch.long)
            for b, r in enumerate(rows):
                tok[b, : len(ids[r])] = torch.tensor(ids[r])
                mask[b, : len(ids[r])] = 1
            positions = (mask.cumsum(1) - 1).masked_fill(mask == 0, 1)
            tb = time.perf_counter()
            out = model(input_ids=tok, attention_mask=mask, position_ids=positions,
                        output_hidden_states=True, use_cache=False, return_dict=True)
            states = out.hidden_states
            if len(states) != num_layers + 1:
                sys.exit("model returned %d hidden states, want %d" % (len(states), num_layers + 1))
            last = mask.sum(1) - 1
            ar = torch.arange(len(rows))
            p = torch.stack([h[ar, last] for h in states]).float()  # [L+1, B, H]
            batch_times.append(time.perf_counter() - tb)
            if pooled is not None:
                pooled[:, rows, :] = p.numpy()
            del out, states
            if args.verbose:
                print("batch %d: %d x %d tokens in %.2fs" % (len(batch_times), len(rows), seq, batch_times[-1]), flush=True)
        run_s = time.perf_counter() - t_run

    tps = tokens_total / run_s
    rss_end = peak_rss_mb()
    print("%d texts, %d real tokens (%d padded) in %d batches of <= %d: %.2fs of forward passes, %.1f tokens/s "
          "(first batch %.2fs); peak RSS %.0f MB"
          % (n, tokens_total, sum(len(ids[order[p]]) * len(order[p:p + args.batch]) for p in range(0, n, args.batch)),
             len(batch_times), args.batch, run_s, tps, batch_times[0] if batch_times else 0, rss_end), flush=True)
    if pooled is not None:
        if not np.isfinite(pooled).all():
            print("warning: some pooled states are not finite", file=sys.stderr)
        np.savez(args.save, hidden_states=pooled, lengths=np.array([len(r) for r in ids], dtype=np.int64))
        print("wrote %s: hidden_states %s" % (args.save, pooled.shape))
    result = {
        "model": args.model, "model_type": config.model_type, "dtype": args.dtype, "batch": args.batch,
        "threads": torch.get_num_threads(), "texts": n, "tokens": tokens_total, "load_s": round(load_s, 3),
        "forward_s": round(run_s, 3), "tokens_per_s": round(tps, 2), "peak_rss_load_mb": round(rss_load),
        "peak_rss_mb": round(rss_end), "batch_s": [round(t, 3) for t in batch_times],
        "torch": torch.__version__, "blas": blas, "moe_branch": args.moe_branch,
    }
    try:
        import transformers

        result["transformers"] = transformers.__version__
    except Exception:  # noqa: BLE001
        pass
    print("RESULT " + json.dumps(result), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("texts", help="write the first N Global-MMLU-Lite questions as a JSON array")
    t.add_argument("--data", default="/work/shared/data/global-mmlu-lite", help="folder with test_<lang>.json")
    t.add_argument("--lang", default="en")
    t.add_argument("--n", type=int, default=64, help="number of texts (0: all)")
    t.add_argument("--out", required=True)
    r = sub.add_parser("run", help="pooled hidden states of every layer with transformers")
    r.add_argument("--model", required=True, help="Hugging Face model folder (config.json, safetensors)")
    r.add_argument("--ids", required=True, help="token ids: JSON list of lists, or one JSON array per line")
    r.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    r.add_argument("--batch", type=int, default=16)
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--max-length", type=int, default=0, help="cut each text to this many ids (0: as given)")
    r.add_argument("--save", help="write the pooled states to this .npz")
    r.add_argument("--moe-branch", choices=["eval", "loop"], default="eval",
                   help="GPT-OSS experts: eval = every expert on every token with bmm (transformers' inference "
                        "branch); loop = per-expert loop over the experts that received tokens (its training "
                        "branch, chosen by setting .training on the GptOssExperts modules only)")
    r.add_argument("-v", "--verbose", action="store_true", help="print each batch's time")
    args = ap.parse_args()
    if args.cmd == "texts":
        cmd_texts(args)
    else:
        if args.batch < 1 or args.threads < 1:
            sys.exit("--batch and --threads must be positive")
        cmd_run(args)


if __name__ == "__main__":
    main()
