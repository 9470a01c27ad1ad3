#!/usr/bin/python3
"""The InfluxDB write API (POST /write, POST /api/v2/write) with clients no one here wrote:
Debian's python3-influxdb (InfluxDBClient.write_points) and the npm registry's
@influxdata/influxdb-client (its batching, gzip-compressing write API), both installed by
scripts/install-deps. Each sends known histograms; the divergences are checked against
numpy/scipy as for the other transports, and a bad line comes back as InfluxDB reports it.

Run: DRIFTD_BIN=build/daemon/driftd /usr/bin/python3 -m unittest test_influx_clients
"""
import http.client
import http.server
import json
import os
import random
import shutil
import subprocess
import threading
import time
import unittest

import test_daemon
from driftd_harness import Driftd, TempDir, bin_of_c, bin_of_x, metric

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS = os.path.join(HERE, "clients")
JS_CLIENT = os.path.join(CLIENTS, "node_modules", "@influxdata", "influxdb-client")


def points_of(values, now):
    """(measurement, tags, fields) of the (x, c) pairs: c as a tag, x as a float field (a record
    without x gets an unknown field, as line protocol needs one)."""
    out = []
    for x, c in values:
        out.append(("m", {} if c is None else {"c": c},
                    {"unused": 1} if x is None else {"x": float(x)}))
    return out


class RecordingProxy:
    """An HTTP proxy on 127.0.0.1 in front of driftd that remembers each request's method, path
    and Content-Encoding: what the client really sent, not what it was configured to send."""

    def __init__(self, d):
        self.seen = []
        host, port = d.addresses["http"].rsplit(":", 1)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def read_body(self):
                if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                    return self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return body
                    body += self.rfile.read(size)
                    self.rfile.readline()  # the CRLF after the chunk

            def do_POST(self):
                body = self.read_body()
                proxy.seen.append((self.command, self.path, self.headers.get("Content-Encoding")))
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection", "transfer-encoding",
                                                "content-length")}
                conn.request("POST", self.path, body, headers)
                r = conn.getresponse()
                answer = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                conn.close()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def count(window, values):
    for x, c in values:
        window["x"][bin_of_x(x)] += 1
        window["c"][bin_of_c(c)] += 1


class PythonClientTest(unittest.TestCase):
    def setUp(self):
        try:
            import influxdb  # noqa: F401
        except ImportError:
            self.skipTest("python3-influxdb is not installed (scripts/install-deps installs it)")

    def test_write_points_in_every_precision(self):
        from influxdb import InfluxDBClient
        from influxdb.exceptions import InfluxDBClientError
        rng = random.Random(11)
        window = {"x": [0] * 7, "c": [0] * 5}
        ref = test_daemon.reference_counts()
        with TempDir() as tmp:
            d = Driftd(tmp)
            try:
                host, port = d.addresses["http"].rsplit(":", 1)
                total = 0
                scale = {"s": 1, "ms": 1e3, "u": 1e6, None: 1e9}
                for precision, gzip in (("s", False), ("ms", True), ("u", False), (None, True)):
                    client = InfluxDBClient(host=host, port=int(port), database="driftd",
                                            gzip=gzip)
                    values = test_daemon.random_values(rng, 300)
                    t = int(time.time() * scale[precision])
                    points = [{"measurement": m, "tags": tags, "fields": fields, "time": t}
                              for m, tags, fields in points_of(values, t)]
                    self.assertTrue(client.write_points(points, time_precision=precision,
                                                        batch_size=100))
                    count(window, values)
                    total += len(values)
                    with self.subTest(precision=precision, gzip=gzip):
                        fx = d.wait_samples("x", total)
                        test_daemon.DivergenceTest.check_feature(self, d, "x", fx, window["x"],
                                                                 ref["x"])
                        fc = d.wait_samples("c", total)
                        test_daemon.DivergenceTest.check_feature(self, d, "c", fc, window["c"],
                                                                 ref["c"])
                m = d.metrics()
                self.assertEqual(metric(m, "driftd_ingest_records_total", transport="http"), total)
                self.assertEqual(metric(m, "driftd_http_requests_total", handler="/write",
                                        code="204"), 12)
                # A partial write: InfluxDB's 400, naming the first bad line; the good ones count.
                with self.assertRaises(InfluxDBClientError) as caught:
                    client.write_points(["m x=0.5", "m x=", "m x=1.5"], protocol="line")
                self.assertEqual(caught.exception.code, 400)
                error = json.loads(caught.exception.content)["error"]
                self.assertTrue(error.startswith("partial write: unable to parse 'm x=' (line 2)"),
                                error)
                self.assertTrue(error.endswith(" dropped=1"), error)
                d.wait_samples("x", total + 2)
                self.assertEqual(metric(d.metrics(), "driftd_ingest_errors_total",
                                        transport="http", reason="malformed_line_protocol"), 1)
            finally:
                self.assertEqual(d.stop(), 0)


class JavaScriptClientTest(unittest.TestCase):
    def setUp(self):
        if shutil.which("node") is None or not os.path.isdir(JS_CLIENT):
            self.skipTest("node or @influxdata/influxdb-client is missing "
                          "(scripts/install-deps installs them in tests/integration/clients)")

    def write(self, url, tmp, points):
        path = os.path.join(tmp, "points.json")
        with open(path, "w") as f:
            json.dump(points, f)
        out = subprocess.run(["node", os.path.join(CLIENTS, "write_influx.mjs"), url, path],
                             capture_output=True, text=True, timeout=60, check=True)
        return json.loads(out.stdout)

    def test_batched_gzip_writes(self):
        rng = random.Random(12)
        window = {"x": [0] * 7, "c": [0] * 5}
        ref = test_daemon.reference_counts()
        with TempDir() as tmp:
            d = Driftd(tmp)
            try:
                values = test_daemon.random_values(rng, 300)
                ms = int(time.time() * 1000)
                points = [{"model": m, "tags": tags, "fields": fields, "ms": ms}
                          for m, tags, fields in points_of(values, ms)]
                proxy = RecordingProxy(d)
                try:
                    self.assertEqual(self.write(proxy.url, tmp, points),
                                     {"written": 300, "error": None})
                finally:
                    proxy.close()
                # The client batched and compressed: three gzip bodies to the 2.x endpoint.
                self.assertEqual([(m, p.split("?")[0], e) for m, p, e in proxy.seen],
                                 [("POST", "/api/v2/write", "gzip")] * 3)
                count(window, values)
                fx = d.wait_samples("x", 300)
                test_daemon.DivergenceTest.check_feature(self, d, "x", fx, window["x"], ref["x"])
                fc = d.wait_samples("c", 300)
                test_daemon.DivergenceTest.check_feature(self, d, "c", fc, window["c"], ref["c"])
                m = d.metrics()
                # Three batches of 100, each a request to the 2.x endpoint.
                self.assertEqual(metric(m, "driftd_http_requests_total", handler="/api/v2/write",
                                        code="204"), 3)
                self.assertEqual(metric(m, "driftd_ingest_records_total", transport="http"), 300)
                # A model driftd has no reference for: 400 with the 2.x error body.
                bad = points[:2] + [{"model": "zz", "tags": {}, "fields": {"x": 1.0}, "ms": ms}]
                result = self.write(d.url(""), tmp, bad)
                self.assertEqual(result["error"]["status"], 400, result)
                body = json.loads(result["error"]["body"])
                self.assertEqual(body["code"], "invalid")
                self.assertEqual(body["line"], 3)
                self.assertIn('unknown model "zz"', body["message"])
                self.assertEqual(metric(d.metrics(), "driftd_ingest_errors_total",
                                        transport="http", reason="unknown_model"), 1)
            finally:
                self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
