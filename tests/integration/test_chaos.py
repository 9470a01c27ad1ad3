"""Chaos: hostile and careless clients on every transport at once, for a bounded time.

For DRIFTD_CHAOS_SECONDS (60 by default; 20 under the sanitizers, which slow everything), clients
on TCP, Unix, UDP and HTTP send good records mixed with garbage, over-long lines, binary lines,
records for unknown models, slow drips (finished and unfinished), half lines and abrupt
disconnects; others open and abandon HTTP connections, and read /api/v1/status in a loop (some
hanging up mid-response); a scraper reads /metrics throughout. Every client keeps its own tally of
what it sent. Afterwards:
  - every good record is in the window (the samples of x) and counted under its transport and
    format; every bad line is counted under its transport and reason, exactly;
  - no scrape of /metrics took more than 100 ms, and driftd's RSS stayed under the bound
    docs/architecture.md states for this configuration (both skipped under the sanitizers);
  - driftd exits 0 on SIGTERM.
"""
import collections
import os
import random
import resource
import socket
import struct
import threading
import time
import unittest
import urllib.request

from driftd_harness import SANITIZED, Driftd, TempDir, metric

SECONDS = float(os.environ.get("DRIFTD_CHAOS_SECONDS", "20" if SANITIZED else "60"))
MAX_LINE = 4096
LINE_TIMEOUT = 2
HEADER_TIMEOUT = 2
SCRAPE_BOUND = 0.100
RSS_BOUND_MB = 64  # docs/architecture.md, "Memory bounds": this configuration under chaos


class Tally:
    """What the clients sent: good records by (transport, format), bad lines by (transport, reason)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.good = collections.Counter()
        self.bad = collections.Counter()
        self.records = collections.Counter()  # decoded records (good + unknown model) by format

    def add(self, transport, good=(), bad=()):
        with self.lock:
            for fmt in good:
                self.good[(transport, fmt)] += 1
                self.records[(transport, fmt)] += 1
            for reason in bad:
                self.bad[(transport, reason)] += 1
                if reason == "unknown_model":
                    self.records[(transport, "line_protocol")] += 1


def good_line(rng):
    x = rng.uniform(-1, 5)
    c = rng.choice(["a", "b", "c", "zz"])
    if rng.random() < 0.5:
        return f'{{"model": "m", "features": {{"x": {x!r}, "c": "{c}"}}}}\n'.encode(), "json"
    return f"m,c={c} x={x!r}\n".encode(), "line_protocol"


BAD_LINES = {
    "malformed_json": b'{"model": "m", "features": {"x": }\n',
    "malformed_line_protocol": b"m x=\n",
    "line_too_long": b"m x=1," + b"y" * (MAX_LINE + 10) + b"=1\n",
    "binary": b"m x=1\x00\x01\x02\n",
    "unknown_model": b"nosuchmodel x=1\n",
}


def batch(rng, tally, transport, lines=40, bad_share=0.3):
    """A chunk of mixed lines, tallied as sent."""
    out, good, bad = [], [], []
    for _ in range(lines):
        if rng.random() < bad_share:
            reason = rng.choice(sorted(BAD_LINES))
            out.append(BAD_LINES[reason])
            bad.append(reason)
        else:
            line, fmt = good_line(rng)
            out.append(line)
            good.append(fmt)
    return b"".join(out), good, bad


class ChaosTest(unittest.TestCase):
    def test_chaos(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        with TempDir() as tmp:
            d = Driftd(tmp, {"ingest.max_line_bytes": MAX_LINE,
                             "ingest.line_timeout_seconds": LINE_TIMEOUT,
                             "http.header_timeout_seconds": HEADER_TIMEOUT,
                             "evaluation.interval_seconds": 0.5})
            try:
                self.run_chaos(d)
            finally:
                d.stop(timeout=10)

    def run_chaos(self, d):
        tally = Tally()
        stop = threading.Event()
        failures = []
        scrapes = []  # (seconds, rss_mb)
        http_counts = collections.Counter()  # abandoned connections, by what happened
        tcp_host, tcp_port = d.addresses["tcp"].rsplit(":", 1)
        udp_host, udp_port = d.addresses["udp"].rsplit(":", 1)
        http_host, http_port = d.addresses["http"].rsplit(":", 1)
        tcp_addr = (tcp_host, int(tcp_port))
        http_addr = (http_host, int(http_port))

        def worker(fn):
            def run(seed):
                rng = random.Random(seed)
                try:
                    while not stop.is_set():
                        fn(rng)
                except Exception as e:  # a client's own failure fails the test
                    failures.append(f"{fn.__name__}: {e!r}")
            return run

        def stream_connection(rng, transport):
            if transport == "tcp":
                s = socket.create_connection(tcp_addr)
            else:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(d.addresses["unix"])
            with s:
                for _ in range(rng.randint(1, 20)):
                    data, good, bad = batch(rng, tally, transport)
                    # Split anywhere: lines cross writes.
                    cut = rng.randint(0, len(data))
                    s.sendall(data[:cut])
                    s.sendall(data[cut:])
                    tally.add(transport, good, bad)
                if rng.random() < 0.3:  # ends in the middle of a line that does not decode
                    s.sendall(b'{"model": "m", "features": {"x": 1')
                    tally.add(transport, bad=["truncated_line"])
                s.shutdown(socket.SHUT_WR)
                s.recv(1)  # until driftd has read everything and closed

        def tcp_client(rng):
            stream_connection(rng, "tcp")

        def unix_client(rng):
            stream_connection(rng, "unix")

        def dripper(rng):
            # One good record a byte at a time, well inside line_timeout: counted.
            line, fmt = good_line(rng)
            with socket.create_connection(tcp_addr) as s:
                for i in range(len(line)):
                    s.sendall(line[i:i + 1])
                    time.sleep(min(0.02, LINE_TIMEOUT / 4 / len(line)))
                    if stop.is_set() and i < len(line) - 1:
                        s.sendall(line[i + 1:])
                        break
                tally.add("tcp", good=[fmt])
                s.shutdown(socket.SHUT_WR)
                s.recv(1)

        def staller(rng):
            # Half a line, then nothing: closed after line_timeout as slow_client.
            with socket.create_connection(tcp_addr) as s:
                s.sendall(b"m,c=a x=1")
                tally.add("tcp", bad=["slow_client"])
                s.settimeout(LINE_TIMEOUT + 10)
                self.assertEqual(s.recv(1), b"")  # driftd closed it

        def aborter(rng):
            # Connects and resets at once (SO_LINGER 0): nothing to count.
            s = socket.create_connection(tcp_addr)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            time.sleep(0.01)

        def udp_client(rng):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                data, good, bad = batch(rng, tally, "udp", lines=rng.randint(1, 10))
                data = data.replace(BAD_LINES["line_too_long"], b"")  # datagrams stay small
                bad = [r for r in bad if r != "line_too_long"]
                s.sendto(data, (udp_host, int(udp_port)))
                tally.add("udp", good, bad)
                time.sleep(0.005)

        def http_ingest(rng):
            data, good, bad = batch(rng, tally, "http", lines=rng.randint(1, 100))
            req = urllib.request.Request(f"http://{d.addresses['http']}/api/v1/ingest",
                                         data=data, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    code = r.status
            except urllib.error.HTTPError as e:
                code = e.code
            self.assertEqual(code, 400 if bad else 204)
            tally.add("http", good, bad)

        def http_abandoner(rng):
            # Half a request header, then either hang up or wait to be timed out.
            s = socket.create_connection(http_addr)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            if rng.random() < 0.5:
                time.sleep(rng.uniform(0, 0.5))
                s.close()
                http_counts["hung_up"] += 1
            else:
                s.settimeout(HEADER_TIMEOUT + 10)
                self.assertEqual(s.recv(1), b"")
                s.close()
                http_counts["timed_out"] += 1

        def status_reader(rng):
            with urllib.request.urlopen(f"http://{d.addresses['http']}/api/v1/status",
                                        timeout=10) as r:
                if rng.random() < 0.3:
                    r.read(100)  # hangs up mid-response
                else:
                    self.assertIn(b'"models"', r.read())

        def scraper(rng):
            start = time.monotonic()
            with urllib.request.urlopen(f"http://{d.addresses['http']}/metrics", timeout=10) as r:
                r.read()
            took = time.monotonic() - start
            with open(f"/proc/{d.proc.pid}/status") as f:
                rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024
            scrapes.append((took, rss))
            time.sleep(0.2)

        clients = ([tcp_client] * 3 + [unix_client] * 2 + [dripper] * 2 + [staller] * 2 +
                   [aborter, udp_client, http_ingest, http_abandoner, http_abandoner,
                    status_reader, scraper])
        threads = [threading.Thread(target=worker(fn), args=(i,), daemon=True)
                   for i, fn in enumerate(clients)]
        for t in threads:
            t.start()
        time.sleep(SECONDS)
        stop.set()
        for t in threads:
            t.join(LINE_TIMEOUT + HEADER_TIMEOUT + 30)
            self.assertFalse(t.is_alive(), "a client hung")
        self.assertEqual(failures, [])

        good_total = sum(tally.good.values())
        print(f"\nchaos: {SECONDS:.0f} s; good records {good_total} "
              f"({dict(tally.good)}); bad lines {dict(tally.bad)}; http {dict(http_counts)}; "
              f"{len(scrapes)} scrapes, slowest {max(s for s, _ in scrapes) * 1000:.1f} ms, "
              f"RSS max {max(r for _, r in scrapes):.1f} MB")

        def settled():
            m = d.metrics()
            for (transport, fmt), n in tally.records.items():
                if metric(m, "driftd_ingest_records_total", transport=transport,
                          format=fmt) != n:
                    return None
            for (transport, reason), n in tally.bad.items():
                if metric(m, "driftd_ingest_errors_total", transport=transport,
                          reason=reason) != n:
                    return None
            return m

        try:
            m = d.wait_for(settled, "every record and error counted", timeout=20)
        except AssertionError:
            m = d.metrics()
            for (transport, fmt), n in sorted(tally.records.items()):
                self.assertEqual(metric(m, "driftd_ingest_records_total", transport=transport,
                                        format=fmt), n, (transport, fmt))
            for (transport, reason), n in sorted(tally.bad.items()):
                self.assertEqual(metric(m, "driftd_ingest_errors_total", transport=transport,
                                        reason=reason), n, (transport, reason))
            raise
        self.assertEqual(metric(m, "driftd_ingest_errors_total", transport="udp",
                                reason="udp_dropped"), 0)
        # Every good record is in the window once: x is in every good record.
        d.wait_samples("x", good_total, timeout=10)
        # Abandoned HTTP requests: each one held open past the header timeout was counted.
        self.assertGreaterEqual(metric(m, "driftd_ingest_errors_total", transport="http",
                                       reason="slow_client"), http_counts["timed_out"])
        self.assertEqual(metric(m, "driftd_internal_errors_total") or 0, 0)

        if not SANITIZED:
            slowest = max(s for s, _ in scrapes)
            self.assertLessEqual(slowest, SCRAPE_BOUND, f"slowest scrape {slowest * 1000:.1f} ms")
            self.assertLessEqual(max(r for _, r in scrapes), RSS_BOUND_MB)
        self.assertEqual(d.stop(timeout=10), 0)


if __name__ == "__main__":
    unittest.main()
