#!/usr/bin/python3
"""Several windows per model against the real binary (issue 11): records stamped at three ages
land in the windows that cover them, every window's divergences equal numpy/scipy's on the
histogram of the records it should hold, each value is counted once, and the windows survive a
restart (checkpoint) and answer a snapshot.

Run: DRIFTD_BIN=build/daemon/driftd /usr/bin/python3 -m unittest -v test_windows
"""
import json
import os
import subprocess
import time
import unittest

from driftd_harness import (DRIFTD, Driftd, TempDir, bin_of_c, bin_of_x, expected_divergences,
                            metric, reference_counts)

# 10 s in 2 s slices, a minute in 10 s slices, ten minutes in 1 min slices.
WINDOWS = [
    {"name": "10s", "length_seconds": 10, "slices": 5},
    {"name": "1m", "length_seconds": 60, "slices": 6},
    {"name": "10m", "length_seconds": 600, "slices": 10},
]
# Ages (seconds before now) of three groups of records, and the windows each falls in.
GROUPS = [
    # (age, x values, c values, windows)
    (0, [0.5] * 60 + [1.5] * 20, ["a"] * 70 + ["b"] * 10, ("10s", "1m", "10m")),
    (30, [2.5] * 50 + [3.5] * 40, ["c"] * 90, ("1m", "10m")),
    (300, [-1, 5, 0.5, 1.5, 2.5, 3.5] * 25, ["a", "b", "zz"] * 50, ("10m",)),
]


def histogram(values, bin_of, k):
    h = [0] * k
    for v in values:
        h[bin_of(v)] += 1
    return h


def expected_windows():
    """{window: {"x": counts, "c": counts}} from the groups: the independent count."""
    out = {}
    for w in WINDOWS:
        xs, cs = [], []
        for _, gx, gc, windows in GROUPS:
            if w["name"] in windows:
                xs += gx
                cs += gc
        out[w["name"]] = {"x": histogram(xs, bin_of_x, 7), "c": histogram(cs, bin_of_c, 5)}
    return out


def payload(now):
    lines = []
    for age, xs, cs, _ in GROUPS:
        for x, c in zip(xs, cs):
            record = {"model": "m", "features": {"x": x, "c": c}}
            if age:
                record["timestamp"] = now - age
            lines.append(json.dumps(record))
    return "\n".join(lines) + "\n"


def window_counts(status):
    """{window: {feature: [window_count per bin]}} from /api/v1/status?bins=true."""
    out = {}
    for f in status["models"][0]["features"]:
        out.setdefault(f["window"], {})[f["feature"]] = [b["window_count"] for b in f["bins"]]
    return out


class WindowsTest(unittest.TestCase):
    def config(self, tmp):
        return {"window": None, "windows": WINDOWS,
                "evaluation": {"interval_seconds": 0.2, "min_samples": 10},
                "state": {"directory": os.path.join(tmp, "state"), "checkpoint_seconds": 30}}

    def start(self, tmp):
        d = Driftd(tmp, start=False)
        d.config.pop("window")
        d.config.update({k: v for k, v in self.config(tmp).items() if v is not None})
        d.write_config()
        d.start()
        return d

    def check_windows(self, d, expected, windows):
        m = d.metrics()
        ref = reference_counts()
        for name in windows:
            for feature in ("x", "c"):
                counts = expected[name][feature]
                want = expected_divergences(counts, ref[feature])
                self.assertEqual(metric(m, "driftd_feature_window_samples", model="m",
                                        feature=feature, window=name), sum(counts))
                for key, value in want.items():
                    got = metric(m, "driftd_feature_" + key, model="m", feature=feature,
                                 window=name)
                    self.assertIsNotNone(got, (key, name, feature))
                    self.assertAlmostEqual(got, value, delta=1e-12 * max(1, abs(value)),
                                           msg=(key, name, feature))

    def test_each_window_against_numpy_and_across_a_restart(self):
        expected = expected_windows()
        with TempDir() as tmp:
            d = self.start(tmp)
            try:
                d.send("tcp", payload(time.time()))
                d.wait_for(lambda: window_counts(d.status()) == expected, "every window's counts")
                self.check_windows(d, expected, [w["name"] for w in WINDOWS])
                st = d.status()
                self.assertEqual([w["name"] for w in st["windows"]], ["10s", "1m", "10m"])
                model = st["models"][0]
                # Each record once per window that covers it, and once in the engine: the
                # longest window holds every record, each shorter one a subset.
                self.assertEqual(model["window_records"], {"10s": 80, "1m": 170, "10m": 320})
                self.assertEqual(metric(d.metrics(), "driftd_ingest_records_total"), 320)
                # The default policy: warning on the longest window, critical on the shortest.
                self.assertEqual((model["warning_window"], model["critical_window"]),
                                 ("10m", "10s"))
                # One alert state per feature, without a window label.
                self.assertIsNotNone(metric(d.metrics(), "driftd_feature_drift_severity",
                                            model="m", feature="x"))
                self.assertFalse(any(n == "driftd_feature_drift_severity" and
                                     any(k == "window" for k, _ in ls)
                                     for n, ls in d.metrics()))
                # The status filter and the page's selector name a window.
                code, body = d.get("/api/v1/status?window=1m")
                self.assertEqual(code, 200)
                self.assertEqual({f["window"] for f in json.loads(body)["models"][0]["features"]},
                                 {"1m"})
                code, page = d.get("/?window=1m")
                self.assertEqual(code, 200)
                self.assertIn('<option value="1m" selected>', page)
                self.assertIn("170 records in window 1m", page)
                # The snapshot of the minute window is that window's counts.
                out = os.path.join(tmp, "snap.json")
                run = subprocess.run([DRIFTD, "reference", "snapshot", "--url",
                                      "http://" + d.addresses["http"], "--model", "m",
                                      "--window", "1m", "--output", out],
                                     capture_output=True, text=True)
                self.assertEqual(run.returncode, 0, run.stderr)
                with open(out) as f:
                    snap = json.load(f)
                x = snap["features"]["x"]
                self.assertEqual(x["counts"] + [x["underflow"], x["overflow"], x["missing"]],
                                 expected["1m"]["x"])
            finally:
                self.assertEqual(d.stop(), 0)
            # Restarted from the checkpoint: the minute and the ten minutes are as they were (the
            # ten seconds may have moved on meanwhile).
            d.start()
            try:
                d.wait_for(lambda: {w: c for w, c in window_counts(d.status()).items()
                                    if w != "10s"} ==
                           {w: expected[w] for w in ("1m", "10m")}, "the restored windows")
                self.check_windows(d, expected, ["1m", "10m"])
            finally:
                self.assertEqual(d.stop(), 0)

    def test_a_record_older_than_the_short_window_is_not_late(self):
        with TempDir() as tmp:
            d = self.start(tmp)
            try:
                now = time.time()
                lines = [json.dumps({"model": "m", "features": {"x": 0.5, "c": "a"},
                                     "timestamp": now - age}) for age in (30, 300, 900)]
                d.send("tcp", "\n".join(lines) + "\n")
                d.wait_for(lambda: metric(d.metrics(), "driftd_feature_window_samples",
                                          model="m", feature="x", window="10m") == 2,
                           "two records in the ten minutes")
                m = d.metrics()
                self.assertEqual(metric(m, "driftd_feature_window_samples", model="m",
                                        feature="x", window="1m"), 1)
                self.assertEqual(metric(m, "driftd_feature_window_samples", model="m",
                                        feature="x", window="10s"), 0)
                # Only the one older than the longest window is late.
                self.assertEqual(metric(m, "driftd_ingest_errors_total", reason="late"), 1)
            finally:
                self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
