#!/usr/bin/python3
"""The live page at / in a real browser: Debian's `chromium`, headless, loads it from a running
driftd fed with known data, and the test reads what a person would see from the rendered DOM:
one chart per feature, bars whose heights are the bins' probabilities (computed here with numpy),
the drifted feature first, and no console message. Skips when chromium is not installed
(CHROMIUM_BIN overrides).

Run: DRIFTD_BIN=build/daemon/driftd /usr/bin/python3 -m unittest -v test_page_browser
"""
import os
import shutil
import subprocess
import unittest
from html.parser import HTMLParser

import numpy as np

from driftd_harness import Driftd, TempDir, reference_counts

CHART_HEIGHT = 120  # the bar chart's plot height in daemon/http/page_endpoint.cc


def chromium():
    return os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or \
        shutil.which("chromium-browser")


class Page(HTMLParser):
    """The features in page order, each with its state and its bars."""

    def __init__(self):
        super().__init__()
        self.features = []  # [{"name", "state", "charts", "bars": [(kind, bin, p, height)]}]

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = a.get("class", "").split()
        if tag == "section" and "feature" in classes:
            self.features.append({"name": a["data-feature"], "state": a["data-state"],
                                  "charts": 0, "bars": []})
        elif tag == "svg" and "bins" in classes:
            self.features[-1]["charts"] += 1
            self.features[-1]["scale"] = float(a["data-scale"])
        elif tag == "rect" and "bar" in classes:
            kind = "window" if "window" in classes else "reference"
            self.features[-1]["bars"].append((kind, a["data-bin"], float(a["data-probability"]),
                                              float(a["height"])))


def smoothed(counts, alpha=0.5):
    c = np.array(counts, dtype=np.float64)
    return (c + alpha) / (c.sum() + alpha * len(c))


class LivePageTest(unittest.TestCase):
    def test_the_page_shows_the_drift(self):
        browser = chromium()
        if browser is None:
            self.skipTest("chromium not installed (Debian package chromium)")
        with TempDir() as tmp:
            d = Driftd(tmp)
            try:
                # x drifts: every value in its last interior bin; c as in its reference (5:3:2).
                lines = ['{"model": "m", "features": {"x": 3.5, "c": "%s"}}\n' % c
                         for c in ["a"] * 50 + ["b"] * 30 + ["c"] * 20]
                d.send("tcp", "".join(lines))
                d.wait_samples("x", 100)
                d.wait_for(lambda: [f["drift"] for f in d.status(bins=False)["models"][0]
                                    ["features"] if f["feature"] == "x"] == ["critical"],
                           "x to be critical")
                run = subprocess.run(
                    [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     f"--user-data-dir={os.path.join(tmp, 'chromium')}", "--enable-logging=stderr",
                     "--v=0", "--dump-dom", f"http://{d.addresses['http']}/"],
                    capture_output=True, text=True, timeout=120)
                self.assertEqual(run.returncode, 0, run.stderr[-2000:])
                console = [l for l in run.stderr.splitlines() if "CONSOLE" in l]
                self.assertEqual(console, [])
                page = Page()
                page.feed(run.stdout)
                names = [f["name"] for f in page.features]
                self.assertEqual(names, ["x", "c"])  # the drifted feature first
                self.assertEqual([f["state"] for f in page.features], ["critical", "ok"])
                self.assertEqual([f["charts"] for f in page.features], [1, 1])
                ref = reference_counts()
                window = {"x": [0, 0, 0, 100, 0, 0, 0], "c": [50, 30, 20, 0, 0]}
                for f in page.features:
                    want = {"window": smoothed(window[f["name"]]),
                            "reference": smoothed(ref[f["name"]])}
                    top = max(want["window"].max(), want["reference"].max())
                    self.assertAlmostEqual(f["scale"], top, delta=1e-12)
                    for kind in ("window", "reference"):
                        bars = [b for b in f["bars"] if b[0] == kind]
                        self.assertEqual(len(bars), len(want[kind]), (f["name"], kind))
                        for (_, label, p, height), expected in zip(bars, want[kind]):
                            self.assertAlmostEqual(p, expected, delta=1e-12, msg=label)
                            self.assertAlmostEqual(height, expected / top * CHART_HEIGHT,
                                                   delta=1e-9, msg=label)
                # The tallest bar is x's window bar of [3, 4]: full height.
                tallest = max((b for f in page.features for b in f["bars"]), key=lambda b: b[3])
                self.assertEqual((tallest[0], tallest[1], tallest[3]),
                                 ("window", "[3, 4]", CHART_HEIGHT))
            finally:
                self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
