#!/usr/bin/python3
"""Checks driftd's divergences against numpy/scipy on randomised histograms.

Usage: check_divergences.py PATH/TO/divergence_tool
Independent computation: scipy.stats.entropy (entropy and KL), scipy.spatial.distance.jensenshannon
(squared, for the divergence), numpy for cross-entropy, PSI, Hellinger, total variation and
L-infinity distance. Relative error <= 1e-9.
"""
import json
import subprocess
import sys

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2, entropy

REL_TOL = 1e-9
ABS_TOL = 1e-15  # for values that are 0 in exact arithmetic (P == Q)


def random_cases(rng):
    cases = []
    for _ in range(400):
        k = int(rng.integers(3, 70))
        shape = rng.choice(["uniform", "sparse", "large", "tiny", "same", "empty", "one_bin"])
        ref = rng.integers(0, 5000, size=k)
        if shape == "uniform":
            win = rng.integers(0, 5000, size=k)
        elif shape == "sparse":
            win = rng.integers(0, 50, size=k) * (rng.random(k) < 0.3)
        elif shape == "large":
            win = rng.integers(0, 2**40, size=k)
            ref = rng.integers(0, 2**40, size=k)
        elif shape == "tiny":
            win = rng.integers(0, 3, size=k)
        elif shape == "same":
            win = ref.copy()
        elif shape == "empty":
            win = np.zeros(k, dtype=np.int64)
        else:
            win = np.zeros(k, dtype=np.int64)
            win[rng.integers(0, k)] = rng.integers(1, 10**6)
        if ref.sum() == 0:
            ref[0] = 1
        cases.append({"window": [int(x) for x in win], "reference": [int(x) for x in ref]})
    return cases


def expected(case, alpha, base):
    w = np.array(case["window"], dtype=np.float64)
    r = np.array(case["reference"], dtype=np.float64)
    k = len(w)
    p = (w + alpha) / (w.sum() + alpha * k)
    q = (r + alpha) / (r.sum() + alpha * k)
    b = np.e if base == "e" else 2.0
    lg = np.log if base == "e" else np.log2
    # The G-test: unsmoothed window frequencies against the smoothed reference renormalised
    # over the bins the reference saw (unseen bins keep their smoothed probability), in nats.
    n = w.sum()
    phat = w / n
    nz = phat > 0
    seen = r > 0
    qg = np.where(seen, q / q[seen].sum(), q)
    g = 2 * n * np.sum(phat[nz] * np.log(phat[nz] / qg[nz]))
    dof = int(np.sum(r > 0)) - 1
    # G sums terms of both signs that nearly cancel when the window matches the reference: its
    # condition number is sum|terms| / |G|, so G is compared to within REL_TOL of sum|terms|, and
    # the p-value to within that error times the chi-square density.
    g_scale = 2 * n * np.sum(np.abs(phat[nz] * np.log(phat[nz] / qg[nz])))
    k = dof + 1
    williams = 1 + (k * k - 1) / (6 * n * (k - 1)) if k > 1 else 1
    tolerance = {"g": REL_TOL * g_scale,
                 "p_value": REL_TOL * g_scale * (chi2.pdf(g / williams, dof) if dof > 0 else 0)}
    return tolerance, {
        "g": g,
        "p_value": chi2.sf(g / williams, dof) if dof > 0 else float(g <= 0),
        "kl_noise_floor": dof / (2 * n),
        "kl": entropy(p, q, base=b),
        "kl_reverse": entropy(q, p, base=b),
        "entropy": entropy(p, base=b),
        "cross_entropy": -np.sum(p * lg(q)),
        "reference_entropy": entropy(q, base=b),
        "reference_cross_entropy": -np.sum(q * lg(p)),
        "psi": np.sum((p - q) * np.log(p / q)),
        "js": jensenshannon(p, q, base=b) ** 2,
        "hellinger": np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)),
        "tvd": 0.5 * np.sum(np.abs(p - q)),
        "linf": np.max(np.abs(p - q)),
    }


def main():
    tool = sys.argv[1]
    rng = np.random.default_rng(20261120)
    failures = 0
    checked = 0
    worst = 0.0
    for alpha in (0.5, 1.0, 0.01):
        for base in ("e", "2"):
            cases = random_cases(rng)
            request = {"alpha": alpha, "base": base, "cases": cases}
            got = json.loads(subprocess.run([tool], input=json.dumps(request), text=True,
                                            capture_output=True, check=True).stdout)
            assert len(got) == len(cases)
            for case, g in zip(cases, got):
                n = sum(case["window"])
                if n == 0:
                    if g["has_data"]:
                        print(f"FAIL empty window reported as data: {g}")
                        failures += 1
                    continue
                if not g["has_data"] or g["samples"] != n:
                    print(f"FAIL samples {g['samples']} != {n}")
                    failures += 1
                tolerance, values = expected(case, alpha, base)
                for key, want in values.items():
                    checked += 1
                    have = g[key]
                    if key in tolerance:
                        if abs(have - want) > max(REL_TOL * abs(want), tolerance[key], ABS_TOL):
                            failures += 1
                            print(f"FAIL {key}: driftd {have!r} scipy {want!r}")
                        continue
                    if abs(want) > ABS_TOL:
                        worst = max(worst, abs(have - want) / abs(want))
                    if not np.isfinite(have) or abs(have - want) > max(REL_TOL * abs(want), ABS_TOL):
                        failures += 1
                        if failures <= 20:
                            print(f"FAIL alpha={alpha} base={base} {key}: driftd {have!r} "
                                  f"scipy {want!r} rel {abs(have - want) / max(abs(want), 1e-300):.3g}"
                                  f" k={len(case['window'])}")
                # The identity the metrics rely on.
                checked += 1
                if abs(g["cross_entropy"] - (g["entropy"] + g["kl"])) > 1e-12 * max(1, g["cross_entropy"]):
                    failures += 1
                    print(f"FAIL H(P,Q) != H(P) + KL: {g}")
    print(f"{checked} values checked against numpy/scipy, {failures} failures, "
          f"largest relative error {worst:.3g} (limit {REL_TOL:g})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
