#!/usr/bin/python3
"""--web.config.file (exporter-toolkit's format): TLS and basic authentication, against the real
Prometheus scraping over TLS with basic auth, curl-like clients with and without credentials and
client certificates, and both InfluxDB clients writing with credentials. Certificates are made
with the openssl command, bcrypt hashes with Python's crypt module (libxcrypt).

Run: DRIFTD_BIN=build/daemon/driftd /usr/bin/python3 -m unittest test_web_security
"""
import base64
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request
import warnings

from driftd_harness import Driftd, TempDir, metric, parse_metrics
from test_alerting_e2e import find_binary
from test_fleet import start_prometheus

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS = os.path.join(HERE, "clients")
JS_CLIENT = os.path.join(CLIENTS, "node_modules", "@influxdata", "influxdb-client")


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(d):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, in `d`."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
            "-keyout", "ca.key", "-out", "ca.crt", cwd=d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", f"{name}.crt",
                cwd=d)


def bcrypt(password):
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))


def request(url, ca=None, user=None, password=None, cert=None, data=None, headers=None):
    """(status, body, response headers) of a request over HTTPS (or HTTP)."""
    ctx = None
    if url.startswith("https"):
        ctx = ssl.create_default_context(cafile=ca)
        if cert:
            ctx.load_cert_chain(*cert)
    req = urllib.request.Request(url, data=data, headers=dict(headers or {}))
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


class WebSecurityTest(unittest.TestCase):
    def setUp(self):
        self.tmp_ctx = TempDir()
        self.tmp = self.tmp_ctx.__enter__()
        self.addCleanup(self.tmp_ctx.__exit__, None, None, None)
        make_pki(self.tmp)
        self.ca = os.path.join(self.tmp, "ca.crt")
        self.client_cert = (os.path.join(self.tmp, "client.crt"),
                            os.path.join(self.tmp, "client.key"))

    def start(self, web, overrides=None):
        path = os.path.join(self.tmp, "web.yml")
        with open(path, "w") as f:
            json.dump(web, f)  # JSON is YAML
        d = Driftd(self.tmp, overrides, args=["--web.config.file", path])
        self.addCleanup(d.stop)
        return d

    def base(self, d, key="http"):
        return "https://" + d.addresses[key]

    def failures(self, d, reason):
        _, body, _ = request(self.base(d) + "/metrics", self.ca, "alice", "hunter2")
        return metric(parse_metrics(body), "driftd_http_auth_failures_total", reason=reason)

    def test_tls_and_basic_auth(self):
        d = self.start({
            "tls_server_config": {"cert_file": "server.crt", "key_file": "server.key"},
            "basic_auth_users": {"alice": bcrypt("hunter2")},
            "http_server_config": {"headers": {"X-Frame-Options": "deny"}},
        })
        base = self.base(d)
        status, body, headers = request(base + "/metrics", self.ca, "alice", "hunter2")
        self.assertEqual(status, 200)
        self.assertIn("driftd_build_info", body)
        self.assertEqual(headers.get("X-Frame-Options"), "deny")
        # No credentials, a wrong password, an unknown user: 401 with a Basic challenge, counted.
        status, _, headers = request(base + "/metrics", self.ca)
        self.assertEqual(status, 401)
        self.assertEqual(headers.get("WWW-Authenticate"), 'Basic realm="driftd"')
        self.assertEqual(request(base + "/healthz", self.ca, "alice", "hunter3")[0], 401)
        self.assertEqual(request(base + "/api/v1/status", self.ca, "mallory", "hunter2")[0], 401)
        self.assertEqual(self.failures(d, "no_credentials"), 1)
        self.assertEqual(self.failures(d, "wrong_credentials"), 2)
        # Plain HTTP to the TLS port: the handshake fails, and is counted.
        with self.assertRaises((urllib.error.URLError, ConnectionError, OSError)):
            urllib.request.urlopen("http://" + d.addresses["http"] + "/metrics", timeout=5).read()
        deadline = time.monotonic() + 5
        while self.failures(d, "tls_handshake") < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.failures(d, "tls_handshake"), 1)
        # The InfluxDB 1.x write API's 401 body, and its ?u=&p= credentials.
        status, body, _ = request(base + "/write", self.ca, data=b"m x=0.5\n")
        self.assertEqual((status, json.loads(body)), (401, {"error": "authorization failed"}))
        self.assertEqual(request(base + "/write?u=alice&p=hunter2", self.ca,
                                 data=b"m x=0.5\n")[0], 204)
        status, body, _ = request(base + "/api/v2/write", self.ca, data=b"m x=0.5\n",
                                  headers={"Authorization": "Token alice:nope"})
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(body)["code"], "unauthorized")
        self.assertEqual(request(base + "/api/v2/write", self.ca, data=b"m x=0.5\n",
                                 headers={"Authorization": "Token alice:hunter2"})[0], 204)

    def test_client_certificate_required(self):
        d = self.start({"tls_server_config": {
            "cert_file": "server.crt", "key_file": "server.key", "client_ca_file": "ca.crt",
            "client_auth_type": "RequireAndVerifyClientCert", "min_version": "TLS12"}})
        base = self.base(d)
        self.assertEqual(request(base + "/healthz", self.ca, cert=self.client_cert)[0], 200)
        with self.assertRaises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
            request(base + "/healthz", self.ca)
        # A certificate from another CA is refused like none at all.
        other = os.path.join(self.tmp, "other")
        os.makedirs(other)
        make_pki(other)
        with self.assertRaises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
            request(base + "/healthz", self.ca, cert=(os.path.join(other, "client.crt"),
                                                      os.path.join(other, "client.key")))
        status, body, _ = request(base + "/metrics", self.ca, cert=self.client_cert)
        self.assertEqual(metric(parse_metrics(body), "driftd_http_auth_failures_total",
                                reason="tls_handshake"), 2)

    def test_prometheus_scrapes_over_tls_with_basic_auth(self):
        binary = find_binary("PROMETHEUS_BIN", "prometheus")
        if binary is None:
            self.skipTest("prometheus not installed (Debian package prometheus)")
        d = self.start({
            "tls_server_config": {"cert_file": "server.crt", "key_file": "server.key"},
            "basic_auth_users": {"prometheus": bcrypt("scrape-secret")},
        })
        job = {"scheme": "https", "tls_config": {"ca_file": self.ca},
               "static_configs": [{"targets": [d.addresses["http"]]}]}
        config = {"global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
                  "scrape_configs": [
                      dict(job, job_name="good",
                           basic_auth={"username": "prometheus", "password": "scrape-secret"}),
                      dict(job, job_name="bad",
                           basic_auth={"username": "prometheus", "password": "wrong"})]}
        server, prom = start_prometheus(binary, self.tmp, "prometheus", config)
        self.addCleanup(server.stop)
        up = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with urllib.request.urlopen(prom + "/api/v1/query?query=up", timeout=5) as r:
                result = json.loads(r.read())["data"]["result"]
            up = {s["metric"]["job"]: s["value"][1] for s in result}
            if up.get("good") == "1" and up.get("bad") == "0":
                break
            time.sleep(0.5)
        self.assertEqual(up, {"good": "1", "bad": "0"})
        # Prometheus' scrapes with the wrong password were refused and counted.
        status, body, _ = request(self.base(d) + "/metrics", self.ca, "prometheus", "scrape-secret")
        self.assertGreaterEqual(metric(parse_metrics(body), "driftd_http_auth_failures_total",
                                       reason="wrong_credentials"), 1)

    def test_influxdb_clients_with_credentials(self):
        try:
            from influxdb import InfluxDBClient
            from influxdb.exceptions import InfluxDBClientError
        except ImportError:
            self.skipTest("python3-influxdb is not installed (scripts/install-deps installs it)")
        d = self.start({
            "tls_server_config": {"cert_file": "server.crt", "key_file": "server.key"},
            "basic_auth_users": {"sender": bcrypt("w-secret")},
        })
        host, port = d.addresses["http"].rsplit(":", 1)
        ok = InfluxDBClient(host=host, port=int(port), username="sender", password="w-secret",
                            ssl=True, verify_ssl=self.ca, database="driftd")
        self.assertTrue(ok.write_points([{"measurement": "m", "fields": {"x": 0.5}}] * 5))
        bad = InfluxDBClient(host=host, port=int(port), username="sender", password="nope",
                             ssl=True, verify_ssl=self.ca, database="driftd")
        with self.assertRaises(InfluxDBClientError) as caught:
            bad.write_points([{"measurement": "m", "fields": {"x": 0.5}}])
        self.assertEqual(caught.exception.code, 401)
        written = 5
        if not (os.path.isdir(JS_CLIENT) and shutil.which("node")):
            # The Python half above ran; say plainly that the JavaScript half did not.
            print(f"\nskipping the JavaScript client's writes: node or {JS_CLIENT} missing "
                  "(scripts/install-deps installs them)", file=sys.stderr)
        else:
            points = os.path.join(self.tmp, "points.json")
            with open(points, "w") as f:
                json.dump([{"model": "m", "fields": {"x": 1.5}, "tags": {},
                            "ms": int(time.time() * 1000)}] * 7, f)
            env = dict(os.environ, NODE_EXTRA_CA_CERTS=self.ca)
            for token, want in (("sender:w-secret", None), ("sender:nope", 401)):
                out = subprocess.run(["node", os.path.join(CLIENTS, "write_influx.mjs"),
                                      self.base(d), points, token], capture_output=True,
                                     text=True, timeout=60, check=True, env=env)
                result = json.loads(out.stdout)
                self.assertEqual(None if result["error"] is None else result["error"]["status"],
                                 want, result)
            written += 7
        # Everything written with the right credentials arrived, nothing with the wrong ones.
        deadline = time.monotonic() + 10
        while True:
            _, body, _ = request(self.base(d) + "/metrics", self.ca, "sender", "w-secret")
            got = metric(parse_metrics(body), "driftd_ingest_records_total", transport="http")
            if got == written or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(got, written)


class IngestListenerTest(unittest.TestCase):
    """http.ingest_listen and http.ingest: metrics on one listener, ingest on another or off,
    changed by reloads."""

    def post(self, url, body=b"m x=0.5\n"):
        return request(url, data=body)[0]

    def test_ingest_on_its_own_listener_and_off(self):
        with TempDir() as tmp:
            d = Driftd(tmp, {"http.ingest_listen": "127.0.0.1:0"}, args=["--web.enable-lifecycle"])
            try:
                main = "http://" + d.addresses["http"]
                ingest = "http://" + d.addresses["http_ingest"]
                for path in ("/api/v1/ingest", "/write", "/api/v2/write"):
                    self.assertEqual(self.post(main + path), 403, path)
                    self.assertEqual(self.post(ingest + path), 204, path)
                self.assertEqual(request(ingest + "/metrics")[0], 404)
                self.assertEqual(request(ingest + "/api/v1/status")[0], 404)
                self.assertEqual(request(ingest + "/healthz")[0], 200)
                self.assertEqual(request(ingest + "/readyz")[0], 200)
                d.wait_samples("x", 3)
                self.assertEqual(metric(d.metrics(), "driftd_ingest_records_total",
                                        transport="http"), 3)

                # A reload without it: the ingest listener closes, http.listen serves ingest.
                del d.config["http"]["ingest_listen"]
                d.write_config()
                self.assertEqual(self.post(main + "/-/reload", b""), 200)
                self.assertEqual(self.post(main + "/api/v1/ingest"), 204)
                with self.assertRaises((urllib.error.URLError, ConnectionError)):
                    request(ingest + "/healthz")
                # Ingest off.
                d.config["http"]["ingest"] = False
                d.write_config()
                self.assertEqual(self.post(main + "/-/reload", b""), 200)
                self.assertEqual(self.post(main + "/write"), 403)
                # And an ingest listener again, started by the reload.
                d.config["http"].update({"ingest": True, "ingest_listen": "127.0.0.1:0"})
                d.write_config()
                before = d.addresses["http_ingest"]
                self.assertEqual(self.post(main + "/-/reload", b""), 200)
                deadline = time.monotonic() + 5
                while d.addresses["http_ingest"] == before and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.assertNotEqual(d.addresses["http_ingest"], before)
                self.assertEqual(self.post("http://" + d.addresses["http_ingest"] + "/write"), 204)
                d.wait_samples("x", 5)
            finally:
                self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
