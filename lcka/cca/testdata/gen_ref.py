#!/usr/bin/python3
"""Reference values for package cca, written to testdata/ref.json.

Run with Debian's python3 (numpy 1.24.2):

    /usr/bin/python3 lcka/cca/testdata/gen_ref.py

Written from the papers' definitions by the covariance route, independent of
the Go code's orthonormal-basis route:

- SVCCA (Raghu et al. 2017, as google/svcca's SVCCA tutorial does it): centre,
  np.linalg.svd, keep the fewest directions whose s^2 reach 99% of the total
  (or a stated count), reduced data U_r S_r; then CCA as the singular values
  of Sxx^{-1/2} Sxy Syy^{-1/2} from np.cov, inverse square roots by eigh;
  SVCCA = their mean.
- PWCCA (Morcos et al. 2018): the same CCA on the centred data, canonical
  directions a_i = Sxx^{-1/2} u_i, variates h_i = Xc a_i scaled to unit
  norm, weights alpha_i = sum_j |<h_i, x_j>| over the centred columns x_j,
  taken on the side with fewer columns (x on a tie),
  PWCCA = sum(alpha * rho) / sum(alpha).
"""
import json
import os

import numpy as np


def inv_sqrt(c):
    w, v = np.linalg.eigh(c)
    return v @ np.diag(w ** -0.5) @ v.T


def cca(x, y):
    """Canonical correlations and the x-side left singular vectors."""
    n = x.shape[0]
    c = np.cov(x.T, y.T)
    dx = x.shape[1]
    sxx, sxy, syy = c[:dx, :dx], c[:dx, dx:], c[dx:, dx:]
    ix, iy = inv_sqrt(sxx), inv_sqrt(syy)
    u, s, vt = np.linalg.svd(ix @ sxy @ iy)
    return s, u, ix


def reduce(x, keep):
    xc = x - x.mean(axis=0)
    u, s, vt = np.linalg.svd(xc, full_matrices=False)
    if isinstance(keep, float):
        frac = np.cumsum(s ** 2) / np.sum(s ** 2)
        r = int(np.argmax(frac >= keep * (1 - 1e-12))) + 1
    else:
        r = keep
    return u[:, :r] * s[:r], r


def svcca(x, y, keep):
    xr, rx = reduce(x, keep)
    yr, ry = reduce(y, keep)
    s, _, _ = cca(xr, yr)
    s = s[:min(rx, ry)]
    return float(np.mean(s)), rx, ry, s.tolist()


def pwcca(x, y):
    if y.shape[1] < x.shape[1]:
        x, y = y, x
    s, u, ix = cca(x, y)
    m = min(x.shape[1], y.shape[1])
    xc = x - x.mean(axis=0)
    h = xc @ (ix @ u[:, :m])
    h /= np.linalg.norm(h, axis=0)
    alpha = np.abs(h.T @ xc).sum(axis=1)
    alpha /= alpha.sum()
    return float(np.sum(alpha * s[:m])), alpha.tolist()


def main():
    rng = np.random.default_rng(15)
    n = 80
    # x has decaying column scales so that 99% of the variance needs fewer
    # than all 12 directions.
    x = rng.standard_normal((n, 12)) * np.geomspace(1, 0.01, 12)
    ind = rng.standard_normal((n, 20)) * np.geomspace(1, 0.05, 20)
    rel = x @ rng.standard_normal((12, 20)) + 0.3 * rng.standard_normal((n, 20))
    cases = []
    for yname, y in (("independent", ind), ("related", rel)):
        for keep in (0.99, 0.9, 5):
            v, rx, ry, s = svcca(x, y, keep)
            cases.append({"y": yname, "measure": "svcca", "keep": keep, "value": v,
                          "kept_x": rx, "kept_y": ry, "correlations": s})
        v, w = pwcca(x, y)
        cases.append({"y": yname, "measure": "pwcca", "value": v, "weights": w})
        v, w = pwcca(y, x)
        cases.append({"y": yname, "measure": "pwcca-yx", "value": v, "weights": w})
    # Layers whose variance is spread: 99% of it needs nearly all n - 1
    # directions, so two layers' kept spans must share directions (many
    # correlations are 1). SVCCA of every pair, for AllPairs.
    srng = np.random.default_rng(16)
    sn = 30
    spread = [srng.standard_normal((sn, 50)), srng.standard_normal((sn, 45))]
    spread.append(spread[0] @ srng.standard_normal((50, 60)) + 0.5 * srng.standard_normal((sn, 60)))
    spread_svcca = [[svcca(a, b, 0.99)[0] for b in spread] for a in spread]
    spread_kept = [reduce(a, 0.99)[1] for a in spread]
    out = {
        "provenance": "gen_ref.py with numpy " + np.__version__ + " (Debian bookworm python3), seeds 15 and 16",
        "x": x.tolist(), "independent": ind.tolist(), "related": rel.tolist(),
        "cases": cases,
        "spread": [a.tolist() for a in spread], "spread_svcca": spread_svcca, "spread_kept": spread_kept,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ref.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
