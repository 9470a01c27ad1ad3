"""Starts a real `driftd run` on ephemeral ports for a test, and talks to it.

Every server binds 127.0.0.1 port 0; the addresses come from driftd's log ("listening"), which is
in the default text format unless a test asks for JSON (DRIFTD_TEST_LOG_FORMAT=json makes that the
default). The process is stopped (SIGTERM, then SIGKILL) when the test ends.
"""
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy

DRIFTD = os.environ.get("DRIFTD_BIN", "driftd")

# Set by scripts/test for the sanitizer builds. They distort RSS and CPU figures, and UBSan's
# vptr check needs descriptors of its own (it probes memory through a pipe), so a process run out
# of descriptors reports a false "invalid vptr" and exits.
SANITIZERS = os.environ.get("DRIFTD_SANITIZE", "")
SANITIZED = bool(SANITIZERS)
NEEDS_FDS_OF_ITS_OWN = "undefined" in SANITIZERS

REFERENCE = {
    "model": "m",
    "version": "test-1",
    "features": {
        "x": {"type": "numeric", "edges": [0, 1, 2, 3, 4], "counts": [10, 20, 30, 40],
              "underflow": 1, "overflow": 2, "missing": 3},
        "c": {"type": "categorical", "categories": {"a": 50, "b": 30, "c": 20}, "other": 0,
              "missing": 0},
    },
}


def bin_of_x(v):
    """The bin index of x in driftd's layout: 4 interior, underflow, overflow, missing."""
    if v is None:
        return 6
    if v < 0:
        return 4
    if v > 4:
        return 5
    return min(int(v), 3)


def bin_of_c(v):
    return {"a": 0, "b": 1, "c": 2}.get(v, 3) if v is not None else 4


def reference_counts():
    f = REFERENCE["features"]
    x = f["x"]["counts"] + [f["x"]["underflow"], f["x"]["overflow"], f["x"]["missing"]]
    c = [f["c"]["categories"][k] for k in ("a", "b", "c")] + [f["c"]["other"], f["c"]["missing"]]
    return {"x": x, "c": c}


def expected_divergences(window, reference, alpha=0.5, base="e"):
    """The independent computation: numpy/scipy on the same bins."""
    w = np.array(window, dtype=np.float64)
    r = np.array(reference, dtype=np.float64)
    k = len(w)
    p = (w + alpha) / (w.sum() + alpha * k)
    q = (r + alpha) / (r.sum() + alpha * k)
    b = np.e if base == "e" else 2.0
    lg = np.log if base == "e" else np.log2
    return {
        "kl_divergence": entropy(p, q, base=b),
        "entropy": entropy(p, base=b),
        "cross_entropy": -np.sum(p * lg(q)),
        "psi": np.sum((p - q) * np.log(p / q)),
        "js_divergence": jensenshannon(p, q, base=b) ** 2,
        "hellinger_distance": np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)),
        "total_variation_distance": 0.5 * np.sum(np.abs(p - q)),
        "linf_distance": np.max(np.abs(p - q)),
    }


def parse_metrics(text):
    """{(name, frozenset(labels)): value} from the text exposition format."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        if not m:
            raise AssertionError(f"unparsable metrics line: {line!r}")
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


_TEXT_FIELD = r'[A-Za-z_][A-Za-z0-9_.]*=(?:"(?:[^"\\]|\\.)*"|[^ "]*)'
_TEXT_FIELDS = re.compile(r'(?: ' + _TEXT_FIELD + r')*')
_TEXT_ONE = re.compile(r' ([A-Za-z_][A-Za-z0-9_.]*)=("(?:[^"\\]|\\.)*"|[^ "]*)')
_NUMBER = re.compile(r'^-?\d+(\.\d+)?([eE][-+]?\d+)?$')


def parse_log_line(line):
    """One log line, JSON or text ("ts level msg key=value ..."), as a dict; None if neither.

    Text values keep driftd's escapes (\\xff, \\u0085) except for \\" and \\\\; bare numbers
    become numbers, as they are in JSON."""
    line = line.rstrip("\n")
    if line.startswith("{"):
        try:
            return json.loads(line)
        except ValueError:
            return None
    parts = line.split(" ", 2)
    if len(parts) < 3 or not re.match(r"^\d{4}-\d\d-\d\dT", parts[0]):
        return None
    entry = {"ts": parts[0], "level": parts[1]}
    rest = " " + parts[2]
    # The message ends where a run of key=value fields reaching the end of the line starts.
    cut = len(rest)
    for m in re.finditer(r" [A-Za-z_][A-Za-z0-9_.]*=", rest):
        if _TEXT_FIELDS.fullmatch(rest, m.start()):
            cut = m.start()
            break
    entry["msg"] = rest[1:cut]
    for m in _TEXT_ONE.finditer(rest, cut):
        value = m.group(2)
        if value.startswith('"'):
            value = re.sub(r'\\(["\\])', r"\1", value[1:-1])
        elif _NUMBER.match(value):
            value = float(value) if any(c in value for c in ".eE") else int(value)
        entry[m.group(1)] = value
    return entry


def metric(metrics, name, **labels):
    want = set(labels.items())
    total, found = 0.0, False
    for (n, ls), v in metrics.items():
        if n == name and want <= set(ls):
            total += v
            found = True
    return total if found else None


class Driftd:
    def __init__(self, tmp, config_overrides=None, reference=None, start=True, log_format=None,
                 preexec_fn=None, env=None, args=()):
        """`env`: variables added to driftd's environment (LD_PRELOAD, ...); `args`: more flags
        for `driftd run`."""
        self.env = env
        self.args = list(args)
        self.log_format = log_format or os.environ.get("DRIFTD_TEST_LOG_FORMAT", "text")
        self.preexec_fn = preexec_fn  # run in the child before exec (resource limits)
        self.tmp = tmp
        self.ref_path = os.path.join(tmp, "references", "m.json")
        os.makedirs(os.path.dirname(self.ref_path), exist_ok=True)
        with open(self.ref_path, "w") as f:
            json.dump(reference or REFERENCE, f)
        self.config = {
            "ingest": {"tcp": "127.0.0.1:0", "udp": "127.0.0.1:0",
                       "unix": os.path.join(tmp, "ingest.sock")},
            "http": {"listen": "127.0.0.1:0"},
            "window": {"length_seconds": 3600, "slices": 60},
            "evaluation": {"interval_seconds": 0.2, "min_samples": 10},
            "models": [{"name": "m", "reference": "references/m.json"}],
        }
        for key, value in (config_overrides or {}).items():
            section, _, sub = key.partition(".")
            if sub:
                self.config[section][sub] = value
            else:
                self.config[section] = value
        self.config_path = os.path.join(tmp, "driftd.json")
        self.write_config()
        self.proc = None
        self.logs = []
        if start:
            self.start()

    def write_config(self):
        """Writes self.config to the configuration file (read again at a reload or start)."""
        with open(self.config_path, "w") as f:
            json.dump(self.config, f)

    def start(self):
        args = [DRIFTD, "run", "--config", self.config_path] + self.args
        if self.log_format != "text":  # text is the default: run it as users do
            args += ["--log.format", self.log_format]
        # Bytes, not text: a test can check that what driftd writes is valid UTF-8 (raw_logs).
        env = dict(os.environ, **self.env) if self.env else None
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, preexec_fn=self.preexec_fn,
                                     env=env)
        self.addresses = {}
        self.raw_logs = []
        self._ready = threading.Event()
        # The pump and log_entries() both read the pipe, one at a time: log_entries() reads what
        # is left in it first, so it sees every line driftd wrote before the call (driftd flushes
        # each line), not only the ones the pump has got to.
        self._log_lock = threading.Lock()
        self._partial = b""
        os.set_blocking(self.proc.stderr.fileno(), False)

        def pump():
            fd = self.proc.stderr.fileno()
            while True:
                try:
                    select.select([fd], [], [], 0.1)
                except (OSError, ValueError):  # closed by stop()
                    pass
                with self._log_lock:
                    if self.proc.stderr.closed or not self._read_logs():
                        return

        self.pump = threading.Thread(target=pump, daemon=True)
        self.pump.start()
        if not self._ready.wait(15):
            self.stop()
            raise AssertionError("driftd did not start:\n" + "".join(self.logs))

    def _read_logs(self):
        """Takes every whole line the pipe holds now (with self._log_lock held); False at its
        end, where a last line without a newline is taken too."""
        while True:
            try:
                chunk = os.read(self.proc.stderr.fileno(), 65536)
            except BlockingIOError:
                return True
            if not chunk:
                if self._partial:
                    self._take_log_line(self._partial)
                    self._partial = b""
                return False
            *lines, self._partial = (self._partial + chunk).split(b"\n")
            for raw in lines:
                self._take_log_line(raw + b"\n")

    def _take_log_line(self, raw):
        self.raw_logs.append(raw)
        line = raw.decode("utf-8", errors="backslashreplace")
        self.logs.append(line)
        entry = parse_log_line(line)
        if entry is None:
            return
        if entry.get("msg") == "listening":
            kind, addr = entry["address"].split(" ", 1)
            self.addresses[kind] = addr
        if entry.get("msg") == "driftd started":
            self._ready.set()

    def log_entries(self):
        """Every line driftd has written so far, parsed."""
        with self._log_lock:
            if not self.proc.stderr.closed:
                self._read_logs()
            lines = list(self.logs)
        return [e for e in map(parse_log_line, lines) if e is not None]

    def url(self, path):
        return f"http://{self.addresses['http']}{path}"

    def get(self, path):
        try:
            with urllib.request.urlopen(self.url(path), timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def post(self, path, body):
        data = body if isinstance(body, bytes) else body.encode()
        req = urllib.request.Request(self.url(path), data=data, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metrics(self):
        status, text = self.get("/metrics")
        assert status == 200, status
        return parse_metrics(text)

    def status(self, bins=True):
        """/api/v1/status, with every feature's bins unless bins=False."""
        code, body = self.get("/api/v1/status" + ("?bins=true" if bins else ""))
        assert code == 200, code
        return json.loads(body)

    def send(self, transport, payload):
        data = payload.encode() if isinstance(payload, str) else payload
        if transport == "tcp":
            host, port = self.addresses["tcp"].rsplit(":", 1)
            with socket.create_connection((host, int(port))) as s:
                s.sendall(data)
        elif transport == "unix":
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(self.addresses["unix"])
                s.sendall(data)
        elif transport == "udp":
            host, port = self.addresses["udp"].rsplit(":", 1)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                # Datagrams of whole lines.
                chunk = b""
                for line in data.splitlines(keepends=True):
                    if len(chunk) + len(line) > 8000:
                        s.sendto(chunk, (host, int(port)))
                        chunk = b""
                    chunk += line
                if chunk:
                    s.sendto(chunk, (host, int(port)))
        elif transport == "http":
            code, body = self.post("/api/v1/ingest", data)
            assert code in (204, 400), (code, body)
        else:
            raise ValueError(transport)

    def wait_for(self, predicate, what, timeout=15):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; logs:\n" + "".join(self.logs[-20:]))

    def wait_samples(self, feature, n, timeout=15):
        def check():
            st = self.status()
            for m in st["models"]:
                for f in m["features"]:
                    if f["feature"] == feature and f["samples"] == n:
                        return f
            return None
        return self.wait_for(check, f"{feature} to hold {n} samples", timeout)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        killed = False
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            killed = True
        self.pump.join(5)
        if killed:
            # The test fails on the exit status; say where driftd was when it had to be killed.
            tail = "".join(self.logs[-20:])
            print(f"driftd did not exit within {timeout} s of {signal.Signals(sig).name}; "
                  f"killed. Its last log lines:\n{tail}", file=sys.stderr, flush=True)
        with self._log_lock:
            self.proc.stderr.close()
        return self.proc.returncode


class TempDir:
    def __enter__(self):
        self.t = tempfile.TemporaryDirectory()
        return self.t.name

    def __exit__(self, *a):
        self.t.cleanup()
