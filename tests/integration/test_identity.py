#!/usr/bin/python3
"""The identity test: replaying the training data into driftd reads as no drift at all.

A training set is generated with numeric categories written in several spellings (10115.0,
10115, 1.0115e4, 1.50 and 1.5, -0), booleans, strings, numeric features and missing values. It is
built into a reference with `driftd reference build` from CSV and from NDJSON, then the same
records are sent to driftd in NDJSON and in InfluxDB line protocol (floats, `i` / `u` integers,
booleans, tags), over TCP, UDP, the Unix socket and HTTP, each combination into a model of its own.
For every combination the window must hold exactly the reference's counts, bin for bin, so KL, PSI,
JS and Hellinger are exactly 0.

Run: DRIFTD_BIN=build/daemon/driftd /usr/bin/python3 -m unittest -v test_identity
"""
import csv
import io
import json
import os
import random
import subprocess
import unittest

from driftd_harness import DRIFTD, Driftd, TempDir

RECORDS = 400
BUILDERS = ("csv", "ndjson")
WIRES = ("ndjson", "influx")
TRANSPORTS = ("tcp", "udp", "unix", "http")
FORCED_CATEGORICAL = ("zip", "rate", "code")

# Logical values per feature; None is missing. The spellings vary per record and per side.
ZIPS = [10115, 20095, 80331, 1067]
RATES = [1.5, 2.25, 0.1, 3.0, 1e-7]
CODES = [-3, 0, 7, 42]
COUNTRIES = ["US", "DE", "FR"]


def number_spellings(v):
    """Ways to write the number v that JSON, CSV and line-protocol floats all accept."""
    if v == int(v):
        i = int(v)
        out = [str(i), f"{i}.0", f"{i}.00", f"{v:e}", f"{v:E}"]
        if i == 0:
            out += ["-0", "-0.0"]
    else:
        out = [repr(v), f"{v:e}", f"{v:.12e}"]
        if "e" not in repr(v):
            out.append(repr(v) + "0")  # 1.50
    return [s for s in out if float(s) == v]


def expected_category(v):
    """The canonical category text docs/reference-format.md promises, for the values above."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if v == int(v):
        return str(int(v))
    return repr(v)  # shortest round trip; Python writes 1e-07 as driftd does


def generate(rng):
    """RECORDS training records: {feature: logical value or None}."""
    records = []
    for _ in range(RECORDS):
        def maybe(v, p_missing=0.1):
            return None if rng.random() < p_missing else v
        records.append({
            "amount": maybe(round(rng.lognormvariate(3, 1), 2)),
            "age": maybe(rng.randint(18, 90), 0.05),
            "zip": maybe(rng.choice(ZIPS)),
            "rate": maybe(rng.choice(RATES)),
            "code": maybe(rng.choice(CODES)),
            "flag": maybe(rng.random() < 0.3),
            "country": maybe(rng.choice(COUNTRIES), 0.05),
        })
    return records


def csv_cell(rng, v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return rng.choice(["true", "True", "TRUE"] if v else ["false", "False", "FALSE"])
    if isinstance(v, str):
        return v
    spellings = number_spellings(v)
    if v >= 0:
        spellings.append("+" + spellings[0])  # a sign JSON does not allow, but CSV may hold
    return rng.choice(spellings)


def json_value(rng, v):
    """v as the text of a JSON value, in a random spelling."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    return rng.choice(number_spellings(v))


def json_object(rng, record):
    """A JSON object text; a missing value is null or left out."""
    items = []
    for k, v in record.items():
        if v is None and rng.random() < 0.5:
            continue
        items.append(f'"{k}": {json_value(rng, v)}')
    return "{" + ", ".join(items) + "}"


def training_csv(rng, records):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    names = list(records[0])
    w.writerow(names)
    for r in records:
        w.writerow([csv_cell(rng, r[k]) for k in names])
    return out.getvalue()


def training_ndjson(rng, records):
    return "".join(json_object(rng, r) + "\n" for r in records)


def wire_ndjson(rng, model, records):
    return "".join(f'{{"model": "{model}", "features": {json_object(rng, r)}}}\n' for r in records)


def influx_field(rng, v):
    """A line-protocol field value for v."""
    if isinstance(v, bool):
        return rng.choice(["t", "T", "true", "True", "TRUE"] if v else
                          ["f", "F", "false", "False", "FALSE"])
    if isinstance(v, str):
        return json.dumps(v)
    if v == int(v):
        i = int(v)
        choices = number_spellings(v) + [f"{i}i"] + ([f"{i}u"] if i >= 0 else [])
        return rng.choice(choices)
    return rng.choice(number_spellings(v))


def wire_influx(rng, model, records):
    lines = []
    for r in records:
        tags, fields = [], []
        for k, v in r.items():
            if v is None:
                continue  # line protocol has no null: a missing value is left out
            # Categorical features may come as tags; numeric ones only as fields.
            as_tag = k in ("zip", "rate", "code", "flag", "country") and rng.random() < 0.3
            if as_tag:
                if isinstance(v, bool):
                    text = rng.choice(["true", "True", "TRUE"] if v else
                                      ["false", "False", "FALSE"])
                else:
                    text = v if isinstance(v, str) else rng.choice(number_spellings(v))
                tags.append(f"{k}={text}")
            else:
                fields.append(f"{k}={influx_field(rng, v)}")
        if not fields:
            fields.append("unused=1i")  # a line needs a field: an unknown one, counted as such
        lines.append(model + "".join("," + t for t in tags) + " " + ",".join(fields))
    return "\n".join(lines) + "\n"


def build_reference(tmp, fmt, text):
    path = os.path.join(tmp, f"train.{fmt}")
    with open(path, "w") as f:
        f.write(text)
    out = os.path.join(tmp, f"ref-{fmt}.json")
    subprocess.run([DRIFTD, "reference", "build", "--input", path, "--output", out, "--model",
                    "x", "--bins", "8", "--categorical", ",".join(FORCED_CATEGORICAL)],
                   check=True, capture_output=True, text=True)
    with open(out) as f:
        return json.load(f)


def reference_bins(feature):
    """The reference's counts in driftd's bin order (interior or categories, then specials)."""
    if feature["type"] == "numeric":
        return feature["counts"] + [feature.get("underflow", 0), feature.get("overflow", 0),
                                    feature.get("missing", 0)]
    return list(feature["categories"].values()) + [feature.get("other", 0),
                                                   feature.get("missing", 0)]


class IdentityTest(unittest.TestCase):
    def test_replaying_the_training_data_reads_as_no_drift(self):
        rng = random.Random(11)
        records = generate(rng)
        with TempDir() as tmp:
            references = {
                "csv": build_reference(tmp, "csv", training_csv(rng, records)),
                "ndjson": build_reference(tmp, "ndjson", training_ndjson(rng, records)),
            }
            for builder, ref in references.items():
                with self.subTest(builder=builder, check="categories"):
                    self.check_categories(ref, records)
            models = []
            os.makedirs(os.path.join(tmp, "references"), exist_ok=True)
            for builder in BUILDERS:
                for wire in WIRES:
                    for transport in TRANSPORTS:
                        name = f"{builder}_{wire}_{transport}"
                        ref = dict(references[builder], model=name)
                        with open(os.path.join(tmp, "references", name + ".json"), "w") as f:
                            json.dump(ref, f)
                        models.append({"name": name, "reference": f"references/{name}.json"})
            d = Driftd(tmp, {"models": models})
            try:
                for builder in BUILDERS:
                    for wire in WIRES:
                        for transport in TRANSPORTS:
                            name = f"{builder}_{wire}_{transport}"
                            encode = wire_ndjson if wire == "ndjson" else wire_influx
                            d.send(transport, encode(rng, name, records))
                status = d.wait_for(lambda: self.all_counted(d.status(), len(models)),
                                    f"every model to hold {RECORDS} records")
                for m in status["models"]:
                    builder = m["model"].split("_")[0]
                    ref = references[builder]
                    for f in m["features"]:
                        with self.subTest(model=m["model"], feature=f["feature"]):
                            window = [b["window_count"] for b in f["bins"]]
                            reference = [b["reference_count"] for b in f["bins"]]
                            self.assertEqual(reference, reference_bins(ref["features"][f["feature"]]))
                            labels = [b["bin"] for b in f["bins"]]
                            self.assertEqual(dict(zip(labels, window)), dict(zip(labels, reference)))
                            for key in ("kl_divergence", "psi", "js_divergence",
                                        "hellinger_distance"):
                                self.assertEqual(f[key], 0.0, key)
                            self.assertEqual(f["drift"], "ok")
            finally:
                self.assertEqual(d.stop(), 0)

    @staticmethod
    def all_counted(status, n_models):
        done = [m for m in status["models"]
                if all(f["samples"] == RECORDS for f in m["features"])]
        return status if len(done) == n_models else None

    def check_categories(self, ref, records):
        """The builder merged every spelling of a value into its canonical category."""
        for name, feature in ref["features"].items():
            values = [r[name] for r in records]
            missing = sum(v is None for v in values)
            self.assertEqual(feature.get("missing", 0), missing, name)
            if feature["type"] != "categorical":
                continue
            want = {}
            for v in values:
                if v is not None:
                    want[expected_category(v)] = want.get(expected_category(v), 0) + 1
            self.assertEqual(feature["categories"], want, name)


if __name__ == "__main__":
    unittest.main()
