#!/usr/bin/python3
"""Checks `driftd reference build` against numpy on random training data.

Usage: check_reference_build.py PATH/TO/driftd
Edges must equal numpy.quantile (unique, method "linear") or numpy.histogram_bin_edges (uniform);
counts must equal numpy.histogram over those edges, plus the underflow/overflow/missing bins;
categorical counts must equal a plain Counter.
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

REL_TOL = 1e-12


def build(driftd, path, out, *extra):
    subprocess.run([driftd, "reference", "build", "--input", path, "--output", out,
                    "--model", "train", *extra], check=True, capture_output=True, text=True)
    with open(out) as f:
        return json.load(f)


def close(a, b):
    return len(a) == len(b) and all(abs(x - y) <= REL_TOL * max(abs(x), abs(y), 1e-300)
                                    for x, y in zip(a, b))


def check_numeric(name, values, feature, bins, strategy, failures):
    finite = values[np.isfinite(values)]
    if strategy == "quantile":
        want_edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)))
    else:
        want_edges = np.histogram_bin_edges(finite, bins=bins)
    edges = np.array(feature["edges"], dtype=np.float64)
    if not close(edges, want_edges):
        failures.append(f"{name} ({strategy}, {bins}): edges {edges[:5]}... != numpy {want_edges[:5]}...")
        return
    # Counts are checked over driftd's own edges, so one ulp of edge difference cannot hide a
    # binning bug (numpy.histogram: last bin closed, like driftd).
    want_counts, _ = np.histogram(finite, bins=edges)
    if list(want_counts) != feature["counts"]:
        failures.append(f"{name} ({strategy}): counts {feature['counts']} != numpy {list(want_counts)}")
    if feature["underflow"] != int(np.sum(values == -np.inf)):
        failures.append(f"{name}: underflow {feature['underflow']}")
    if feature["overflow"] != int(np.sum(values == np.inf)):
        failures.append(f"{name}: overflow {feature['overflow']}")
    if feature["missing"] != int(np.sum(np.isnan(values))):
        failures.append(f"{name}: missing {feature['missing']} != {int(np.sum(np.isnan(values)))}")


def main():
    driftd = sys.argv[1]
    rng = np.random.default_rng(42)
    failures = []
    checks = 0
    with tempfile.TemporaryDirectory() as tmp:
        for trial in range(6):
            n = int(rng.integers(50, 20000))
            cols = {
                "normal": rng.normal(100, 15, n),
                "lognormal": rng.lognormal(3, 1, n),
                "ints": rng.integers(0, 7, n).astype(np.float64),  # few distinct values
                "heavy": rng.standard_cauchy(n),
            }
            cols["normal"][rng.random(n) < 0.05] = np.nan
            cols["heavy"][rng.random(n) < 0.01] = np.inf
            cols["heavy"][rng.random(n) < 0.01] = -np.inf
            cats = rng.choice(["US", "DE", "FR", "a,b", 'q"t'], size=n, p=[.5, .2, .15, .1, .05])
            missing_cat = rng.random(n) < 0.03
            csv = os.path.join(tmp, f"train{trial}.csv")
            ndjson = os.path.join(tmp, f"train{trial}.ndjson")
            with open(csv, "w") as f:
                f.write("normal,lognormal,ints,heavy,country\n")
                for i in range(n):
                    cells = []
                    for c in ("normal", "lognormal", "ints", "heavy"):
                        v = cols[c][i]
                        cells.append("" if np.isnan(v) else ("inf" if v == np.inf else
                                                             "-inf" if v == -np.inf else repr(float(v))))
                    cat = "" if missing_cat[i] else '"' + cats[i].replace('"', '""') + '"'
                    f.write(",".join(cells + [cat]) + "\n")
            with open(ndjson, "w") as f:
                for i in range(n):
                    rec = {c: (None if np.isnan(cols[c][i]) else float(cols[c][i]))
                           for c in ("normal", "lognormal", "ints")}
                    rec = {"features": rec} if i % 2 else rec
                    rec_c = None if missing_cat[i] else str(cats[i])
                    (rec["features"] if i % 2 else rec)["country"] = rec_c
                    f.write(json.dumps(rec) + "\n")
            for strategy in ("quantile", "uniform"):
                bins = int(rng.integers(2, 40))
                for path in (csv, ndjson):
                    ref = build(driftd, path, os.path.join(tmp, "out.json"),
                                "--bins", str(bins), "--strategy", strategy)
                    feats = ref["features"]
                    names = ("normal", "lognormal", "ints") + (("heavy",) if path == csv else ())
                    for c in names:
                        if feats[c]["type"] != "numeric":
                            failures.append(f"{c} should be numeric")
                            continue
                        checks += 1
                        check_numeric(c, cols[c], feats[c], bins, strategy, failures)
                    country = feats["country"]
                    want = collections.Counter(str(x) for x, m in zip(cats, missing_cat) if not m)
                    checks += 1
                    if country["type"] != "categorical" or country["categories"] != dict(want) \
                            or country["missing"] != int(missing_cat.sum()) or country["other"] != 0:
                        failures.append(f"country: {country} != {dict(want)}")
    for f in failures[:20]:
        print("FAIL", f)
    print(f"{checks} features checked against numpy, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
