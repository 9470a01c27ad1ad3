#!/usr/bin/python3
"""End-to-end drift alerting with the real servers: driftd, Prometheus (Debian's `prometheus`) and
Alertmanager (Debian's `prometheus-alertmanager`), all on 127.0.0.1 in temporary directories.

Prometheus scrapes driftd every second and evaluates the shipped rules
(deploy/prometheus/driftd.rules.yml, unchanged); Alertmanager routes the alerts to a webhook
receiver in this process, which records every notification. Three phases:

1. no drift: records drawn from the reference distribution; no alert may fire;
2. drift: x and c drift (y does not); FeatureDriftCritical{model="m",feature=~"x|c"} and
   ModelRetrainingRecommended{model="m"} must arrive firing;
3. back to reference: once the drifted records leave the 20 s window, every alert must arrive
   resolved.

Run: cd tests/integration && DRIFTD_BIN=/path/to/driftd /usr/bin/python3 -m unittest -v test_alerting_e2e
Skips when prometheus or alertmanager is not installed (PROMETHEUS_BIN / ALERTMANAGER_BIN override).
"""
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from driftd_harness import DRIFTD, Driftd, metric

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES = os.path.join(ROOT, "deploy", "prometheus", "driftd.rules.yml")

RATE = 2000               # records per second, in every phase
NO_DRIFT_SECONDS = 12     # phase 1
WINDOW_SECONDS = 20
DRIFT_TIMEOUT = 60        # phase 2: from the first drifted record to the last firing notification
RESOLVE_TIMEOUT = 90      # phase 3: from the first reference record to the last resolved one

DRIFT_ALERTS = ("FeatureDriftWarning", "FeatureDriftCritical", "ModelRetrainingRecommended")
ALL_ALERTS = DRIFT_ALERTS + ("DriftdDown", "DriftdIngestErrors", "DriftdNoData")

# A reference with enough observations that the smoothing of its histogram is negligible.
REFERENCE = {
    "model": "m",
    "version": "e2e-1",
    "features": {
        "x": {"type": "numeric", "edges": [0, 1, 2, 3, 4], "counts": [1000, 2000, 3000, 4000],
              "underflow": 100, "overflow": 200, "missing": 300},
        "c": {"type": "categorical", "categories": {"a": 5000, "b": 3000, "c": 2000},
              "other": 0, "missing": 0},
        "y": {"type": "numeric", "edges": [0, 10, 20, 50, 100], "counts": [4000, 3000, 2000, 1000],
              "underflow": 0, "overflow": 0, "missing": 0},
    },
}
# The drifted distributions of x and c (same layout as a reference); y never drifts.
DRIFTED = {
    "x": {"type": "numeric", "edges": [0, 1, 2, 3, 4], "counts": [3, 3, 4, 30],
          "underflow": 0, "overflow": 60, "missing": 0},
    "c": {"type": "categorical", "categories": {"a": 20, "b": 5, "c": 5}, "other": 70,
          "missing": 0},
}
DRIFTING = ("x", "c")

ALERTS_CONFIG = {"metric": "kl", "warning": 0.05, "critical": 0.2, "max_p_value": 0.01,
                 "for_evaluations": 2, "resolve_ratio": 0.8, "retrain": {"critical_features": 1}}

T0 = time.monotonic()


def log(msg):
    print(f"[e2e {time.strftime('%H:%M:%S')} +{time.monotonic() - T0:6.1f}s] {msg}",
          file=sys.stderr, flush=True)


def find_binary(env, *names):
    if os.environ.get(env):
        return os.environ[env]
    for name in names:
        path = shutil.which(name) or (os.path.exists(f"/usr/bin/{name}") and f"/usr/bin/{name}")
        if path:
            return path
    return None


def free_port():
    """A port that was free a moment ago (for servers that need a fixed --listen flag)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read().decode())


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


# --- data ----------------------------------------------------------------------------------------

def sampler(spec):
    """A function rng -> one value drawn from the histogram `spec` (a reference feature): the bin
    by its count, the value uniform within the bin."""
    choices, weights = [], []
    if spec["type"] == "numeric":
        edges = spec["edges"]
        span = edges[-1] - edges[0]
        for lo, hi, n in zip(edges, edges[1:], spec["counts"]):
            choices.append(lambda r, lo=lo, hi=hi: lo + r.random() * (hi - lo))
            weights.append(n)
        choices.append(lambda r: edges[0] - 0.001 - r.random() * span)
        weights.append(spec.get("underflow", 0))
        choices.append(lambda r: edges[-1] + 0.001 + r.random() * span)
        weights.append(spec.get("overflow", 0))
    else:
        for name, n in spec["categories"].items():
            choices.append(lambda r, name=name: name)
            weights.append(n)
        unseen = [f"unseen-{i}" for i in range(5)]
        choices.append(lambda r: r.choice(unseen))
        weights.append(spec.get("other", 0))
    choices.append(lambda r: None)
    weights.append(spec.get("missing", 0))
    cumulative, total = [], 0
    for w in weights:
        total += w
        cumulative.append(total)

    def draw(r):
        u = r.random() * total
        for i, c in enumerate(cumulative):
            if u < c:
                return choices[i](r)
        return choices[-1](r)
    return draw


REFERENCE_SAMPLERS = {f: sampler(s) for f, s in REFERENCE["features"].items()}
DRIFTED_SAMPLERS = dict(REFERENCE_SAMPLERS, **{f: sampler(s) for f, s in DRIFTED.items()})


class Streamer(threading.Thread):
    """Streams NDJSON records to driftd's TCP listener at RATE records/s, in small batches, from
    the reference or the drifted distributions (`mode`), over one connection."""

    BATCH_SECONDS = 0.05

    def __init__(self, address, rate=RATE, seed=1):
        super().__init__(daemon=True)
        self.address = address
        self.rate = rate
        self.rng = random.Random(seed)
        self.mode = "reference"
        self.sent = {"reference": 0, "drift": 0}
        self.error = None
        self.halt = threading.Event()

    def run(self):
        host, port = self.address.rsplit(":", 1)
        per_batch = max(1, int(self.rate * self.BATCH_SECONDS))
        try:
            with socket.create_connection((host, int(port)), timeout=10) as sock:
                next_at = time.monotonic()
                while not self.halt.is_set():
                    mode = self.mode
                    samplers = DRIFTED_SAMPLERS if mode == "drift" else REFERENCE_SAMPLERS
                    lines = []
                    for _ in range(per_batch):
                        features = {f: draw(self.rng) for f, draw in samplers.items()}
                        lines.append(json.dumps({"model": "m", "features": features}))
                    sock.sendall(("\n".join(lines) + "\n").encode())
                    self.sent[mode] += per_batch
                    next_at += self.BATCH_SECONDS
                    delay = next_at - time.monotonic()
                    if delay > 0:
                        self.halt.wait(delay)
                    elif delay < -1:  # fell behind (a slow machine): do not burst to catch up
                        next_at = time.monotonic()
        except Exception as e:  # reported by the test
            self.error = repr(e)

    def stop(self):
        self.halt.set()
        self.join(10)


# --- the webhook receiver -----------------------------------------------------------------------

class Webhook:
    """Records every Alertmanager notification: (time, payload)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.notifications = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {"unparsable": body.decode("utf-8", "replace")}
                with outer.lock:
                    outer.notifications.append((time.monotonic(), payload))
                for a in payload.get("alerts", []):
                    log(f"webhook: {a.get('status')} {a.get('labels', {}).get('alertname')} "
                        f"{json.dumps(a.get('labels', {}), sort_keys=True)}")
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def alerts(self, since=None):
        """[(time, status, labels)] of every alert in every notification, in arrival order."""
        with self.lock:
            notes = list(self.notifications)
        return [(t, a.get("status"), a.get("labels", {})) for t, p in notes
                if since is None or t >= since for a in p.get("alerts", [])]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


# --- servers ------------------------------------------------------------------------------------

class Server:
    """A child process with its output in a log file; ready when GET ready_url answers 200."""

    def __init__(self, name, argv, workdir, ready_url, timeout=30):
        self.name = name
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.ready_url = ready_url
        with open(self.log_path, "w") as out:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, cwd=workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerExited(f"{name} exited with {self.proc.returncode}:\n{self.tail()}")
            if http_ok(ready_url):
                return
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"{name} not ready after {timeout}s:\n{self.tail()}")

    def tail(self, n=25):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class ServerExited(AssertionError):
    pass


def start_on_free_port(name, make, attempts=3):
    """make(port) -> Server; retried with another port when the one picked was taken meanwhile."""
    for attempt in range(attempts):
        try:
            return make(free_port())
        except ServerExited as e:
            if "address already in use" not in str(e) or attempt == attempts - 1:
                raise
            log(f"{name}: port taken, retrying")
    raise AssertionError("unreachable")


# --- the test -----------------------------------------------------------------------------------

class AlertingEndToEndTest(unittest.TestCase):
    def setUp(self):
        self.prometheus_bin = find_binary("PROMETHEUS_BIN", "prometheus")
        if not self.prometheus_bin:
            self.skipTest("prometheus not installed (Debian package prometheus)")
        self.alertmanager_bin = find_binary("ALERTMANAGER_BIN", "prometheus-alertmanager",
                                            "alertmanager")
        if not self.alertmanager_bin:
            self.skipTest("alertmanager not installed (Debian package prometheus-alertmanager)")
        self.assertTrue(os.path.isfile(RULES), f"the shipped rules file is missing: {RULES}")
        tmp = tempfile.TemporaryDirectory(prefix="driftd-e2e-")
        self.addCleanup(tmp.cleanup)  # last: after every server stopped
        self.tmp = tmp.name
        self.driftd = self.webhook = self.alertmanager = self.prometheus = self.streamer = None

    # -- setup steps --

    def start_driftd(self):
        overrides = {
            "window": {"length_seconds": WINDOW_SECONDS, "slices": 20},
            "evaluation": {"interval_seconds": 1, "min_samples": 200},
            "models": [{"name": "m", "reference": "references/m.json", "alerts": ALERTS_CONFIG}],
        }
        d = Driftd(self.tmp, overrides, reference=REFERENCE, start=False)
        r = subprocess.run([DRIFTD, "check-config", "--config", d.config_path],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0,
                         f"driftd check-config rejects the alerting config:\n{r.stderr}")
        d.start()
        self.addCleanup(lambda: d.proc.stderr.close())  # after the stop below
        self.addCleanup(d.stop)
        self.driftd = d
        log(f"driftd up: http {d.addresses['http']}, tcp {d.addresses['tcp']}")

    def start_webhook(self):
        self.webhook = Webhook()
        self.addCleanup(self.webhook.stop)
        log(f"webhook receiver at {self.webhook.url}")

    def start_alertmanager(self):
        config = {
            "route": {"receiver": "webhook", "group_by": ["alertname", "model", "feature"],
                      "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "webhook",
                           "webhook_configs": [{"url": self.webhook.url, "send_resolved": True}]}],
        }
        path = os.path.join(self.tmp, "alertmanager.yml")
        with open(path, "w") as f:
            json.dump(config, f, indent=1)  # YAML is a superset of JSON
        storage = os.path.join(self.tmp, "alertmanager-data")

        def make(port):
            return Server("alertmanager", [
                self.alertmanager_bin, f"--config.file={path}", f"--storage.path={storage}",
                f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                "--log.level=info"], self.tmp, f"http://127.0.0.1:{port}/-/ready")
        self.alertmanager = start_on_free_port("alertmanager", make)
        self.addCleanup(self.alertmanager.stop)
        self.alertmanager_address = self.alertmanager.ready_url.split("/")[2]
        log(f"alertmanager up at {self.alertmanager_address}")

    def start_prometheus(self):
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                       "evaluation_interval": "1s"},
            "rule_files": [RULES],
            "alerting": {"alertmanagers": [
                {"static_configs": [{"targets": [self.alertmanager_address]}]}]},
            "scrape_configs": [{"job_name": "driftd",
                                "static_configs": [{"targets": [self.driftd.addresses["http"]]}]}],
        }
        path = os.path.join(self.tmp, "prometheus.yml")
        with open(path, "w") as f:
            json.dump(config, f, indent=1)
        storage = os.path.join(self.tmp, "prometheus-data")

        def make(port):
            return Server("prometheus", [
                self.prometheus_bin, f"--config.file={path}", f"--storage.tsdb.path={storage}",
                f"--web.listen-address=127.0.0.1:{port}"],
                self.tmp, f"http://127.0.0.1:{port}/-/ready")
        self.prometheus = start_on_free_port("prometheus", make)
        self.addCleanup(self.prometheus.stop)
        self.prom = self.prometheus.ready_url.rsplit("/-/", 1)[0]
        log(f"prometheus up at {self.prom}")

        def target_up():
            targets = http_json(self.prom + "/api/v1/targets")["data"]["activeTargets"]
            return any(t["labels"].get("job") == "driftd" and t["health"] == "up" for t in targets)
        self.wait_until(target_up, "prometheus to scrape driftd (target up)", 30)

        def rules_loaded():
            groups = http_json(self.prom + "/api/v1/rules")["data"]["groups"]
            return {r["name"] for g in groups for r in g["rules"] if r["type"] == "alerting"}
        loaded = self.wait_until(rules_loaded, "prometheus to load the rules", 30)
        missing = set(ALL_ALERTS) - loaded
        self.assertFalse(missing, f"alerts missing from {RULES}: {sorted(missing)}")

        def alertmanager_known():
            return http_json(self.prom + "/api/v1/alertmanagers")["data"]["activeAlertmanagers"]
        self.wait_until(alertmanager_known, "prometheus to know the alertmanager", 30)
        log(f"prometheus: target up, {len(loaded)} alerting rules loaded, alertmanager known")

    # -- helpers --

    def wait_until(self, predicate, what, timeout):
        deadline = time.monotonic() + timeout
        last_error = None
        while True:
            try:
                result = predicate()
            except (urllib.error.URLError, OSError, KeyError, ValueError) as e:
                result = None
                last_error = e
            if result:
                return result
            if time.monotonic() > deadline:
                extra = f" (last error: {last_error!r})" if last_error else ""
                self.fail(f"timed out after {timeout}s waiting for {what}{extra}")
            if self.streamer is not None and self.streamer.error:
                self.fail(f"the record streamer failed: {self.streamer.error}")
            time.sleep(0.25)

    def prometheus_alerts(self):
        """[(alertname, state, labels)] Prometheus holds now (pending or firing)."""
        alerts = http_json(self.prom + "/api/v1/alerts")["data"]["alerts"]
        return [(a["labels"].get("alertname"), a["state"], a["labels"]) for a in alerts]

    def query(self, expr):
        q = urllib.parse.urlencode({"query": expr})
        return http_json(f"{self.prom}/api/v1/query?{q}")["data"]["result"]

    def driftd_state(self):
        """The alerting metrics driftd exports, for progress lines and messages."""
        m = self.driftd.metrics()
        parts = []
        for f in REFERENCE["features"]:
            kl = metric(m, "driftd_feature_kl_divergence", model="m", feature=f)
            sev = metric(m, "driftd_feature_drift_severity", model="m", feature=f)
            n = metric(m, "driftd_feature_window_samples", model="m", feature=f)
            parts.append(f"{f}: n={n and int(n)} kl={kl if kl is None else round(kl, 4)} "
                         f"severity={sev}")
        parts.append(f"retrain={metric(m, 'driftd_model_retrain_recommended', model='m')}")
        parts.append(f"drifted={metric(m, 'driftd_model_drifted_features', model='m')}")
        return "; ".join(parts)

    def diagnostics(self):
        out = ["", "--- diagnostics ---"]
        if self.driftd:
            try:
                out.append("driftd: " + self.driftd_state())
            except Exception as e:  # the diagnostics must not hide the failure
                out.append(f"driftd metrics: {e!r}")
        if self.webhook:
            out.append("webhook notifications:")
            out += [f"  +{t - T0:6.1f}s {s} {json.dumps(l, sort_keys=True)}"
                    for t, s, l in self.webhook.alerts()]
        if self.prometheus:
            try:
                out.append(f"prometheus alerts: {self.prometheus_alerts()}")
            except Exception as e:
                out.append(f"prometheus alerts: {e!r}")
        for server in (self.prometheus, self.alertmanager):
            if server:
                out.append(f"--- {server.name} log (tail) ---\n{server.tail()}")
        if self.driftd:
            out.append("--- driftd log (tail) ---\n" + "".join(self.driftd.logs[-15:]))
        return "\n".join(out)

    def received(self, status, alertname, since, **labels):
        return [l for _, s, l in self.webhook.alerts(since) if s == status and
                l.get("alertname") == alertname and
                all(l.get(k) == v for k, v in labels.items())]

    # -- the test --

    def test_drift_fires_and_resolves_through_prometheus_and_alertmanager(self):
        try:
            self.run_phases()
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.diagnostics()}") from None

    def run_phases(self):
        log("starting driftd, webhook receiver, alertmanager, prometheus")
        self.start_driftd()
        self.start_webhook()
        self.start_alertmanager()
        self.start_prometheus()

        # Phase 1: no drift.
        log(f"phase 1: {NO_DRIFT_SECONDS}s of reference data at {RATE} records/s")
        self.streamer = Streamer(self.driftd.addresses["tcp"])
        self.streamer.start()
        self.addCleanup(self.streamer.stop)
        phase1 = time.monotonic()
        while time.monotonic() - phase1 < NO_DRIFT_SECONDS:
            time.sleep(3)
            self.assertIsNone(self.streamer.error, "the record streamer failed")
            log("phase 1: " + self.driftd_state())
        m = self.driftd.metrics()
        for f in REFERENCE["features"]:
            self.assertEqual(metric(m, "driftd_feature_drift_severity", model="m", feature=f), 0,
                             f"severity of {f} on reference data")
        self.assertEqual(metric(m, "driftd_model_evaluable_features", model="m"), 3)
        self.assertEqual(metric(m, "driftd_model_drifted_features", model="m"), 0)
        self.assertEqual(metric(m, "driftd_model_retrain_recommended", model="m"), 0)
        # Prometheus has been scraping the severities all along (else "no alert" proves nothing).
        scraped = self.query('driftd_feature_drift_severity{job="driftd",model="m"}')
        self.assertEqual(sorted(s["metric"]["feature"] for s in scraped), ["c", "x", "y"])
        self.assertEqual({s["value"][1] for s in scraped}, {"0"})
        firing = [(s, l) for _, s, l in self.webhook.alerts() if s == "firing"]
        self.assertEqual(firing, [], "alerts fired on reference data")
        held = [a for a in self.prometheus_alerts() if a[0] in DRIFT_ALERTS]
        self.assertEqual(held, [], "prometheus holds drift alerts on reference data")
        log("phase 1: no alert, as expected")

        # Phase 2: drift.
        log("phase 2: drifted x and c")
        phase2 = time.monotonic()
        self.streamer.mode = "drift"
        wanted = [("FeatureDriftCritical", {"model": "m", "feature": f}) for f in DRIFTING]
        wanted.append(("ModelRetrainingRecommended", {"model": "m"}))
        last_report = [phase2]

        def all_firing():
            if time.monotonic() - last_report[0] >= 3:
                last_report[0] = time.monotonic()
                log("phase 2: " + self.driftd_state())
            return all(self.received("firing", name, phase2, **labels) for name, labels in wanted)
        self.wait_until(all_firing, "firing FeatureDriftCritical for x and c and "
                        "ModelRetrainingRecommended through the webhook", DRIFT_TIMEOUT)
        log(f"phase 2: all alerts fired after {time.monotonic() - phase2:.1f}s")
        for f in DRIFTING:
            note = self.received("firing", "FeatureDriftCritical", phase2, model="m", feature=f)[0]
            self.assertEqual(note.get("severity"), "critical", note)
        note = self.received("firing", "ModelRetrainingRecommended", phase2, model="m")[0]
        self.assertIn("severity", note)
        m = self.driftd.metrics()
        self.assertEqual(metric(m, "driftd_model_retrain_recommended", model="m"), 1)
        self.assertEqual(metric(m, "driftd_feature_drift_severity", model="m", feature="y"), 0)

        # Phase 3: back to the reference distribution; the window must roll over.
        log("phase 3: reference data again, waiting for the drifted records to leave the window")
        phase3 = time.monotonic()
        self.streamer.mode = "reference"
        last_report[0] = phase3

        def all_resolved():
            if time.monotonic() - last_report[0] >= 3:
                last_report[0] = time.monotonic()
                log("phase 3: " + self.driftd_state())
            if not all(self.received("resolved", name, phase3, **labels)
                       for name, labels in wanted):
                return False
            # Every alert that fired ends resolved (FeatureDriftWarning may pass by on the way
            # down), and Prometheus holds none any more.
            last = {}
            for _, s, l in self.webhook.alerts():
                last[json.dumps(l, sort_keys=True)] = s
            return (all(s == "resolved" for s in last.values()) and
                    not [a for a in self.prometheus_alerts() if a[0] in DRIFT_ALERTS])
        self.wait_until(all_resolved, "every drift alert resolved through the webhook",
                        RESOLVE_TIMEOUT)
        log(f"phase 3: all alerts resolved after {time.monotonic() - phase3:.1f}s")
        m = self.driftd.metrics()
        self.assertEqual(metric(m, "driftd_model_retrain_recommended", model="m"), 0)
        for f in REFERENCE["features"]:
            self.assertEqual(metric(m, "driftd_feature_drift_severity", model="m", feature=f), 0)

        # No alert ever named the feature that did not drift, and nothing but drift alerts fired.
        for _, s, l in self.webhook.alerts():
            self.assertNotEqual(l.get("feature"), "y", f"an alert for the stable feature: {l}")
            self.assertIn(l.get("alertname"), DRIFT_ALERTS, f"unexpected alert: {s} {l}")
        self.assertIsNone(self.streamer.error)
        log(f"sent {self.streamer.sent['reference']} reference and "
            f"{self.streamer.sent['drift']} drifted records")


if __name__ == "__main__":
    unittest.main()
