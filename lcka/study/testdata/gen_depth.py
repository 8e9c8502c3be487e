#!/usr/bin/python3
"""Reference for TestFindChangePointsAgainstNumpy of package study (depth_ref.json).

Run with Debian bookworm's python3 (numpy 1.24.2), from this folder:

    /usr/bin/python3 gen_depth.py

Draws a curve of 16 layers (a drop at layer 5, a ramp from layer 10, noise
with sd 0.01; seed 16) and 300 "bootstrap" curves around it (a bias of 0.04
plus noise correlated across layers, AR(1) with coefficient 0.6), and
segments it as the package documentation defines, written here from the
definition: gains from the sums of squared deviations computed directly
(not the closed form FindChangePoints uses), the threshold the 95th
percentile (numpy.percentile, linear) of the best gain on the bootstrap
curves centred on their per-layer means and multiplied by scale = 0.8,
segments examined first in, first out. Writes the inputs and, per change
point, index, effect, effect_ci95, gain, threshold, segment and step.
"""
import json

import numpy as np

rng = np.random.default_rng(16)
L, B, scale = 16, 300, 0.8
truth = np.full(L, 0.8)
truth[5:] = 0.55
truth[10:] = 0.55 - 0.04 * np.arange(1, L - 9)
curve = truth + 0.01 * rng.normal(size=L)
boot = np.empty((B, L))
for b in range(B):
    e = np.empty(L)
    e[0] = rng.normal()
    for k in range(1, L):
        e[k] = 0.6 * e[k - 1] + np.sqrt(1 - 0.36) * rng.normal()
    boot[b] = curve + 0.04 + 0.012 * e
centred = (boot - boot.mean(axis=0)) * scale


def ssd(x):
    return float(((x - x.mean()) ** 2).sum()) if len(x) else 0.0


def best(x, s, e):
    gains = [ssd(x[s:e]) - ssd(x[s:t]) - ssd(x[t:e]) for t in range(s + 1, e)]
    i = int(np.argmax(gains))  # the first maximum
    return s + 1 + i, gains[i]


def interval(center, vals):
    m = vals.mean()
    return [center + (np.percentile(vals, 2.5) - m) * scale, center + (np.percentile(vals, 97.5) - m) * scale]


out, queue = [], [(0, L)]
while queue:
    s, e = queue.pop(0)
    if e - s < 2:
        continue
    t, g = best(curve, s, e)
    null = np.array([best(c, s, e)[1] for c in centred])
    thr = float(np.percentile(null, 95))
    if not g > thr:
        continue
    eff = curve[t:e].mean() - curve[s:t].mean()
    effs = boot[:, t:e].mean(axis=1) - boot[:, s:t].mean(axis=1)
    out.append({"index": t, "effect": eff, "effect_ci95": interval(eff, effs), "gain": g, "threshold": thr,
                "segment": [s, e], "step": len(out) + 1})
    queue += [(s, t), (t, e)]
out.sort(key=lambda c: c["index"])
with open("depth_ref.json", "w") as f:
    json.dump({"scale": scale, "curve": curve.tolist(), "boot": boot.tolist(), "change_points": out}, f)
print([(c["index"], round(c["effect"], 4), c["step"]) for c in out])
