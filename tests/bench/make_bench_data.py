#!/usr/bin/python3
"""Writes the benchmark inputs: a training CSV with 10 numeric features (for `driftd reference
build`), and a reference with N features x 32 bins for the memory and scrape benchmark.

Usage: make_bench_data.py OUT_DIR
"""
import json
import os
import sys

import numpy as np


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1)
    n = 200_000
    cols = {f"f{i}": rng.lognormal(i % 4, 0.5 + 0.1 * i, n) for i in range(10)}
    with open(os.path.join(out, "train10.csv"), "w") as f:
        f.write(",".join(cols) + "\n")
        data = np.column_stack(list(cols.values()))
        np.savetxt(f, data, fmt="%.6g", delimiter=",")
    # 10,000 features, each 29 interior bins + underflow + overflow + missing = 32 bins.
    feats = {}
    edges = list(np.linspace(0, 100, 30))
    for i in range(10_000):
        counts = [int(c) for c in rng.integers(100, 1000, 29)]
        feats[f"feature_{i:05d}"] = {"type": "numeric", "edges": edges, "counts": counts,
                                     "underflow": 1, "overflow": 1, "missing": 1}
    with open(os.path.join(out, "wide.json"), "w") as f:
        json.dump({"model": "wide", "version": "bench", "features": feats}, f)


if __name__ == "__main__":
    main()
