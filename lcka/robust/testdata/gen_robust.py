"""Reference values for lcka/robust, computed with numpy on the same inputs.

Run from lcka/robust:  /usr/bin/python3 testdata/gen_robust.py
(writes testdata/robust_ref.json; numpy and Python versions are recorded in it).

The inputs (float32 states of 2 roots x 2 languages x L layers, and texts) are
generated here and stored in the JSON; the Go test writes them as artifacts
roots and runs robust.Compare on them. The measures follow the package
documentation, written out independently of the Go code:
standardized CKA (columns to mean 0, sd 1, constant columns zeroed, then
linear CKA), the map movement over the upper triangle i < j, and the
length-matched subset by numpy's default quantile of log(len1/len0).
"""
import json
import platform
import sys

import numpy as np

rng = np.random.default_rng(15)
n, d, L = 30, 5, 3
langs = ["en", "hi"]
Q = 0.25


def std_cka(x, y):
    def prep(m):
        m = m.astype(np.float64)
        m = m - m.mean(axis=0)
        sd = m.std(axis=0)
        const = sd <= 1e-12 * np.maximum(1, np.abs(m).max(axis=0))
        sd[const] = 1
        m = m / sd
        m[:, const] = 0
        return m
    x, y = prep(x), prep(y)
    hxy = np.linalg.norm(y.T @ x) ** 2
    return float(hxy / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)))


# States: a shared question signal z, language- and layer-specific mixing,
# format B a perturbation of A that grows with depth.
z = rng.standard_normal((n, d))
states = {}
for li, lang in enumerate(langs):
    base = z + 0.5 * rng.standard_normal((n, d))
    for k in range(L):
        w = rng.standard_normal((d, d))
        a = np.tanh(base @ w) + 0.1 * rng.standard_normal((n, d))
        b = a + (0.3 + 0.4 * k) * rng.standard_normal((n, d))
        if lang == "hi" and k == 1:
            b[:, 2] = 0.75  # a constant feature under B: standardized CKA zeroes it
        states[("a", lang, k)] = a.astype(np.float32)
        states[("b", lang, k)] = b.astype(np.float32)

# Texts: English words and Devanagari syllables with per-question length
# ratios that vary; B is the question with options, as layersim extract
# --with-options writes it.
words = ["alpha", "beta", "gamma", "delta", "question", "layer", "model", "moon", "star", "theory"]
syll = ["क", "कि", "मा", "नी", "रा", "ते", "सो", "हि", "लु", "पा"]
texts = {"a": {"en": [], "hi": []}, "b": {"en": [], "hi": []}}
for i in range(n):
    m = int(rng.integers(3, 12))
    en = " ".join(words[j] for j in rng.integers(0, len(words), m))
    h = int(max(2, round(m * rng.uniform(0.6, 2.2))))
    hi = " ".join("".join(syll[j] for j in rng.integers(0, len(syll), 3)) for _ in range(h))
    for lang, q in (("en", en), ("hi", hi)):
        texts["a"][lang].append(q)
        opts = ["one", "two", "three", "four"] if lang == "en" else ["एक", "दो", "तीन", "चार"]
        texts["b"][lang].append("Question: " + q + "\nA. " + opts[0] + "\nB. " + opts[1] + "\nC. " + opts[2] + "\nD. " + opts[3] + "\nAnswer:")


def block(root, lang):
    return [states[(root, lang, k)] for k in range(L)]


def cmap(ms):
    return [[std_cka(ms[i], ms[j]) for j in range(L)] for i in range(L)]


def movement(ma, mb):
    iu = np.triu_indices(L, 1)
    x, y = np.array(ma)[iu], np.array(mb)[iu]
    diff = np.abs(y - x)
    at = int(np.argmax(diff))
    return {"pairs": len(x), "corr": float(np.corrcoef(x, y)[0, 1]), "max_abs": float(diff.max()),
            "mean_abs": float(diff.mean()), "max_at": [int(iu[0][at]) + 1, int(iu[1][at]) + 1]}


def select(root, q):
    l0 = np.array([len(t) for t in texts[root]["en"]], dtype=np.float64)
    l1 = np.array([len(t) for t in texts[root]["hi"]], dtype=np.float64)
    rho = np.log(l1 / l0)
    lo, hi = np.quantile(rho, q), np.quantile(rho, 1 - q)
    rows = [int(i) for i in np.nonzero((rho >= lo) & (rho <= hi))[0]]
    return rows, float(np.exp(lo)), float(np.exp(hi)), float(np.exp(np.quantile(rho, 0.5))), l0, l1


ref = {"languages": {}, "length_matched": {}}
for lang in langs:
    ma, mb = cmap(block("a", lang)), cmap(block("b", lang))
    ref["languages"][lang] = {
        "ab": [std_cka(states[("a", lang, k)], states[("b", lang, k)]) for k in range(L)],
        "map_a": ma, "map_b": mb, "movement": movement(ma, mb)}
for root in ("a", "b"):
    ref["cross_" + root] = [std_cka(states[(root, "en", k)], states[(root, "hi", k)]) for k in range(L)]
    rows, lo, hi, med, l0, l1 = select(root, Q)
    ref["length_matched"][root] = {
        "rows": rows, "ratio_lo": lo, "ratio_hi": hi, "median_ratio": med,
        "mean_length": [float(l0.mean()), float(l1.mean())],
        "subset_mean_length": [float(l0[rows].mean()), float(l1[rows].mean())],
        "matched": [std_cka(states[(root, "en", k)][rows], states[(root, "hi", k)][rows]) for k in range(L)],
        "rows_q10": select(root, 0.1)[0]}

out = {
    "provenance": {"script": "lcka/robust/testdata/gen_robust.py", "command": "cd lcka/robust && /usr/bin/python3 testdata/gen_robust.py",
                   "numpy": np.__version__, "python": platform.python_version(), "seed": 15},
    "n": n, "d": d, "layers": L, "quantile": Q, "langs": langs,
    "states": {root: {lang: [states[(root, lang, k)].astype(np.float64).ravel().tolist() for k in range(L)] for lang in langs} for root in ("a", "b")},
    "texts": texts,
    "ref": ref,
}
with open("testdata/robust_ref.json", "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False, indent=1)
print("wrote testdata/robust_ref.json", file=sys.stderr)
