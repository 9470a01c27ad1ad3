#!/usr/bin/python3
"""docs/examples/model_server.py, run as docs/clients.md tells: the features of its predictions
reach driftd through the InfluxDB Python client (divergences against numpy/scipy), and with
driftd gone its requests are still answered at once while the sender counts what it lost.

Run: DRIFTD_BIN=build/daemon/driftd /usr/bin/python3 -m unittest test_client_example
"""
import json
import os
import random
import subprocess
import sys
import time
import unittest
import urllib.request

import test_daemon
from driftd_harness import Driftd, TempDir, bin_of_c, bin_of_x, metric

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                       "examples", "model_server.py")


def call(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as r:
        return json.loads(r.read())


class ModelServerExampleTest(unittest.TestCase):
    def setUp(self):
        try:
            import influxdb  # noqa: F401
        except ImportError:
            self.skipTest("python3-influxdb is not installed (scripts/install-deps installs it)")

    def test_features_reach_driftd_and_requests_never_wait(self):
        rng = random.Random(21)
        window = {"x": [0] * 7, "c": [0] * 5}
        with TempDir() as tmp:
            d = Driftd(tmp)
            server = subprocess.Popen(
                [sys.executable, EXAMPLE, "--port", "0", "--model", "m", "--flush-seconds", "0.2"],
                env=dict(os.environ, DRIFTD_URL=d.url("")), stdout=subprocess.PIPE, text=True)
            try:
                line = server.stdout.readline()
                self.assertTrue(line.startswith("listening on "), line)
                base = "http://" + line.split()[-1]
                # Every bin, missing values included (a record with no value at all cannot be
                # sent as line protocol: the example counts it as "empty").
                values = [v for v in test_daemon.random_values(rng, 420) if v != (None, None)][:400]
                self.assertEqual(len(values), 400)
                for x, c in values:
                    self.assertIn("score", call(base + "/predict", {"x": x, "c": c}))
                    window["x"][bin_of_x(x)] += 1
                    window["c"][bin_of_c(c)] += 1
                ref = test_daemon.reference_counts()
                fx = d.wait_samples("x", 400)
                test_daemon.DivergenceTest.check_feature(self, d, "x", fx, window["x"], ref["x"])
                fc = d.wait_samples("c", 400)
                test_daemon.DivergenceTest.check_feature(self, d, "c", fc, window["c"], ref["c"])
                self.assertEqual(call(base + "/stats"),
                                 {"queued": 400, "sent": 400, "dropped": 0, "failed": 0, "empty": 0})
                self.assertEqual(metric(d.metrics(), "driftd_ingest_records_total",
                                        transport="http"), 400)

                # driftd stops: predictions go on, each answered without waiting for it.
                self.assertEqual(d.stop(), 0)
                slowest = 0
                for x, c in values[:50]:
                    start = time.monotonic()
                    call(base + "/predict", {"x": x, "c": c})
                    slowest = max(slowest, time.monotonic() - start)
                self.assertLess(slowest, 0.5)
                deadline = time.monotonic() + 30
                while call(base + "/stats")["failed"] < 50 and time.monotonic() < deadline:
                    time.sleep(0.1)
                stats = call(base + "/stats")
                self.assertEqual((stats["queued"], stats["sent"], stats["failed"]), (450, 400, 50))
            finally:
                server.kill()
                server.wait()
                d.stop()


if __name__ == "__main__":
    unittest.main()
