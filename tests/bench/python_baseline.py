#!/usr/bin/python3
"""What a team would otherwise write: json.loads per line, a numpy histogram per feature over the
reference's edges, and scipy's KL against the reference. Reports records/s on the same file
driftd is fed.

Usage: python_baseline.py RECORDS.ndjson REFERENCE.json
"""
import json
import sys
import time

import numpy as np
from scipy.stats import entropy


def main():
    path, ref_path = sys.argv[1], sys.argv[2]
    with open(ref_path) as f:
        ref = json.load(f)["features"]
    start = time.perf_counter()
    columns = {name: [] for name in ref}
    n = 0
    with open(path) as f:
        for line in f:
            rec = json.loads(line)["features"]
            for name, v in rec.items():
                columns[name].append(v)
            n += 1
    kl = {}
    for name, spec in ref.items():
        counts, _ = np.histogram(np.array(columns[name], dtype=float), bins=spec["edges"])
        q = np.array(spec["counts"], dtype=float) + 0.5
        p = counts.astype(float) + 0.5
        kl[name] = entropy(p / p.sum(), q / q.sum())
    seconds = time.perf_counter() - start
    print(f"python baseline: {n} records in {seconds:.3f} s: {n / seconds:.0f} records/s "
          f"(json.loads + numpy.histogram + scipy KL, {len(ref)} features)")


if __name__ == "__main__":
    main()
