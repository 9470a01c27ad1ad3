"""`driftd loadgen`'s synthetic traffic is a sample of its reference (issue 7, point 2).

The shipped demo (config/examples/driftd.json and its fraud reference) is run on ephemeral ports
with a short window and evaluation interval. Without drift, loadgen at several rates must leave
every feature `ok` and every KL within sampling noise of the reference; with --drift-after, the
drifted features must reach `critical`. A second test counts the window bin by bin: the missing,
underflow, overflow and other bins come at the reference's rates, in both record formats.
"""
import json
import math
import os
import subprocess
import time
import unittest

from scipy.stats import binom, chi2

from driftd_harness import DRIFTD, Driftd, TempDir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "config", "examples")

with open(os.path.join(EXAMPLES, "driftd.json")) as f:
    DEMO_CONFIG = json.load(f)
with open(os.path.join(EXAMPLES, "references", "fraud.json")) as f:
    DEMO_REFERENCE = json.load(f)
FEATURES = sorted(DEMO_REFERENCE["features"])


def demo_driftd(tmp, window_seconds, slices, interval):
    """The demo configuration, but on ephemeral ports with a short window and interval."""
    evaluation = dict(DEMO_CONFIG["evaluation"], interval_seconds=interval)
    model = dict(DEMO_CONFIG["models"][0], reference="references/m.json")
    return Driftd(tmp, reference=DEMO_REFERENCE, config_overrides={
        "ingest": {"tcp": "127.0.0.1:0"},
        "window": {"length_seconds": window_seconds, "slices": slices},
        "evaluation": evaluation,
        "models": [model],
    })


def loadgen(d, *flags):
    return subprocess.Popen(
        [DRIFTD, "loadgen", "--target", "tcp://" + d.addresses["tcp"],
         "--reference", d.ref_path] + list(flags),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kl_bound(feature):
    """The largest KL a window drawn from the reference itself may show, given its bins.

    A sample's KL is its no-noise value (what smoothing alone gives when the window's counts are
    exactly n times the reference's proportions) plus sampling noise of about chi-square(K-1) /
    2n, whose mean is the noise floor (K-1)/2n. The noise must stay below three noise floors,
    or below the chi-square quantile that a sample exceeds once in 10,000 windows when that is
    higher: with few bins (device: K-1 = 3) a faithful sample passes three floors in 3-10% of
    windows, so three floors alone would make this test fail by chance.
    """
    dof = feature["degrees_of_freedom"]
    n = feature["samples"]
    bins = feature["bins"]
    k = len(bins)
    total = sum(b["reference_count"] for b in bins)
    alpha = 0.5  # the demo's evaluation.smoothing, checked in the test
    ideal = 0.0
    for b in bins:
        p = (n * b["reference_count"] / total + alpha) / (n + alpha * k)
        ideal += p * math.log(p / b["reference_probability"])
    noise = max(3.0, chi2.ppf(1 - 1e-4, dof) / dof) * feature["kl_noise_floor"]
    return ideal + noise


class LoadgenSampleTest(unittest.TestCase):
    def test_demo_is_ok_at_every_rate_then_drifts(self):
        self.assertEqual(DEMO_CONFIG["evaluation"]["smoothing"], 0.5)
        self.assertEqual(DEMO_CONFIG["evaluation"]["log_base"], "e")
        with TempDir() as tmp:
            d = demo_driftd(tmp, window_seconds=6, slices=12, interval=0.2)
            try:
                evaluations = {}  # evaluated_at -> status, every evaluation seen
                ratios = {name: [] for name in FEATURES}
                # Rates from a record every 5 ms (batches of one) to 10,000/s; ndjson and influx.
                for rate, fmt in ((200, "ndjson"), (2000, "influx"), (10000, "ndjson")):
                    seen = 0
                    lg = loadgen(d, "--rate", str(rate), "--duration", "13", "--records", "0",
                                 "--format", fmt, "--seed", str(rate))
                    while lg.poll() is None:
                        st = d.status()
                        m = st["models"][0] if st["models"] else None
                        if (m and st["evaluated_at"] not in evaluations
                                and all(f["status"] == "ok" for f in m["features"])):
                            evaluations[st["evaluated_at"]] = st
                            seen += 1
                            for f in m["features"]:
                                self.assertEqual(
                                    f["drift"], "ok",
                                    f"{fmt} at {rate}/s: {f['feature']} is {f['drift']}: "
                                    f"KL {f['kl_divergence']:.4g}, noise floor "
                                    f"{f['kl_noise_floor']:.3g}, p {f['p_value']:.3g}, "
                                    f"{f['samples']} samples")
                                bound = kl_bound(f)
                                ratios[f["feature"]].append(
                                    f["kl_divergence"] / f["kl_noise_floor"])
                                self.assertLess(
                                    f["kl_divergence"], bound,
                                    f"{fmt} at {rate}/s: {f['feature']}: KL "
                                    f"{f['kl_divergence']:.4g} over {bound:.4g} (noise floor "
                                    f"{f['kl_noise_floor']:.3g}, {f['samples']} samples)")
                        time.sleep(0.05)
                    out, err = lg.communicate()
                    self.assertEqual(lg.returncode, 0, err)
                    self.assertGreaterEqual(seen, 30, f"{fmt} at {rate}/s: evaluations seen")
                self.assertGreaterEqual(len(evaluations), 60)
                # The evaluations the polling missed: no state change above ok was logged.
                for e in d.log_entries():
                    if e.get("msg") == "feature drift state changed":
                        self.assertNotIn(e["to"], ("warning", "critical"), e)
                    if e.get("msg") == "model retraining recommendation changed":
                        self.fail(f"retraining recommended without drift: {e}")
                for name in FEATURES:
                    r = ratios[name]
                    # Averaged over the evaluations, a sample's KL is about one noise floor.
                    self.assertLess(sum(r) / len(r), 3.0, name)
                    print(f"{name}: KL / noise floor over {len(r)} evaluations: "
                          f"mean {sum(r) / len(r):.2f}, max {max(r):.2f}")

                # Now drift: every feature of the demo reference moves.
                lg = loadgen(d, "--rate", "2000", "--duration", "12", "--records", "0",
                             "--drift-after", "1")
                critical = d.wait_for(
                    lambda: all(f["drift"] == "critical"
                                for f in d.status()["models"][0]["features"]),
                    "every drifted feature to reach critical", timeout=11)
                self.assertTrue(critical)
                self.assertTrue(d.status()["models"][0]["retrain_recommended"])
                lg.kill()
                lg.communicate()
            finally:
                d.stop()

    def test_every_bin_at_its_reference_rate(self):
        """200,000 records at full speed: each bin's count, the special bins included, is what
        a binomial draw with the reference's proportion gives (two-sided, 1e-6 each)."""
        for fmt in ("ndjson", "influx"):
            with TempDir() as tmp:
                d = demo_driftd(tmp, window_seconds=3600, slices=60, interval=0.2)
                try:
                    n = 200000
                    lg = loadgen(d, "--records", str(n), "--format", fmt,
                                 "--metrics-url", d.url("/metrics"))
                    out, err = lg.communicate(timeout=120)
                    self.assertEqual(lg.returncode, 0, out + err)
                    d.wait_samples(FEATURES[0], n, timeout=30)
                    d.wait_for(lambda: all(f["samples"] == n
                                           for f in d.status()["models"][0]["features"]),
                               "every feature to hold every record")
                    for f in d.status()["models"][0]["features"]:
                        total = sum(b["reference_count"] for b in f["bins"])
                        for b in f["bins"]:
                            p = b["reference_count"] / total
                            lo, hi = binom.ppf(1e-6, n, p), binom.isf(1e-6, n, p)
                            self.assertTrue(
                                lo <= b["window_count"] <= hi,
                                f"{fmt}: {f['feature']} bin {b['bin']}: {b['window_count']} of "
                                f"{n}, expected {lo:.0f}..{hi:.0f} (reference {p:.5f})")
                finally:
                    d.stop()


if __name__ == "__main__":
    unittest.main()
