#!/usr/bin/python3
"""The HTTP server's bounds against the real binary (issue 9): connections that never finish a
request header, a process out of file descriptors, and /api/v1/status at a few thousand features
with clients that never read. Through all of it /metrics and /healthz answer within 100 ms (99th
percentile; none takes a second).

Run: DRIFTD_BIN=build/daemon/driftd /usr/bin/python3 -m unittest -v test_http_limits
"""
import json
import os
import resource
import socket
import threading
import time
import unittest

from driftd_harness import NEEDS_FDS_OF_ITS_OWN, SANITIZED, Driftd, TempDir, metric

# What a scrape may take while the server is under attack: the 100 ms, held in the plain
# build. The sanitizers slow every allocation and lock two to three times over (a 140 ms probe was
# seen under ASan with a fuzzer running beside it), so their builds are allowed three times as
# long: they are there to find memory and thread errors, not to time driftd.
SCRAPE_BUDGET = 0.300 if SANITIZED else 0.100
# Thousands of probes on 2 shared cores: one of them may lose the CPU to another process for a
# scheduler quantum or two (a single 205 ms probe out of 5,982 was seen in CI, every other one
# under 100 ms). The budget holds for the 99th percentile; no probe may take a second, which is
# what the defects this guards against cost (a 7 s scrape behind stuck status readers).
STALL = 1.0


def assert_within_budget(test, times):
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"  p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms over {len(ordered)}")
    test.assertLess(p99, SCRAPE_BUDGET)
    test.assertLess(ordered[-1], STALL)
HALF_SENT = b"GET /metrics HTTP/1.1\r\nHost: x\r\n"  # no blank line: the header never ends


def http_addr(d):
    host, port = d.addresses["http"].rsplit(":", 1)
    return host, int(port)


def timed_get(d, path, timeout=10):
    """(status, body bytes, seconds) of one GET on a new connection, read to the end."""
    start = time.monotonic()
    with socket.create_connection(http_addr(d), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    elapsed = time.monotonic() - start
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    return status, body, elapsed


def cpu_seconds(pid):
    """utime + stime of `pid`, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def open_connections(d, n, payload=b""):
    socks = []
    for _ in range(n):
        s = socket.create_connection(http_addr(d), timeout=10)
        if payload:
            s.sendall(payload)
        socks.append(s)
    return socks


def closed_by_peer(s, timeout=5):
    """True once the server has closed `s` (EOF or reset)."""
    s.settimeout(timeout)
    try:
        while s.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def errors(d, reason):
    return metric(d.metrics(), "driftd_ingest_errors_total", transport="http", reason=reason)


class SlowClientTest(unittest.TestCase):
    def assert_scrapes_fast(self, d, paths=("/metrics", "/healthz"), rounds=60):
        # 120 probes by default, so that the 99th percentile is the second slowest: with 20 it
        # was the slowest, and one probe that lost the CPU failed the thread-sanitizer build
        # (315 ms, the other 19 with a median of 2.3 ms).
        times = []
        for _ in range(rounds):
            for path in paths:
                status, _, elapsed = timed_get(d, path)
                self.assertEqual(status, 200, path)
                times.append(elapsed)
        print(f"  scrapes: {len(times)}, max {max(times) * 1000:.1f} ms, "
              f"median {sorted(times)[len(times) // 2] * 1000:.1f} ms")
        assert_within_budget(self, times)

    def test_half_sent_requests_do_not_stop_a_scrape(self):
        """2,000 requests that never finish their header, against the default max_connections
        of 128: each new connection evicts the one waiting longest, so a scrape always gets in."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < 2200:
            self.skipTest(f"needs 2,200 file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        with TempDir() as tmp:
            # Timeouts far beyond the test: every half-sent request leaves by eviction, however
            # slowly 2,000 connections open on a busy or instrumented machine.
            d = Driftd(tmp, {"http.max_connections": 128, "http.header_timeout_seconds": 300,
                             "http.request_timeout_seconds": 300})
            try:
                socks = open_connections(d, 2000, HALF_SENT)
                self.assert_scrapes_fast(d)
                # 2,000 half-sent + 20 scrapes went through 128 places: at least 1,872
                # evictions, and none of a connection being answered (every scrape got its 200).
                evicted = errors(d, "too_many_connections")
                print(f"  too_many_connections: {evicted:.0f}")
                self.assertGreaterEqual(evicted, 1872)
                self.assertLessEqual(evicted, 2000)
                # The evicted are the oldest: the first half-sent connections were closed.
                self.assertTrue(closed_by_peer(socks[0]))
                for s in socks:
                    s.close()
            finally:
                self.assertEqual(d.stop(), 0)

    def test_header_timeout_closes_slow_clients(self):
        """With header_timeout 1 s: half-sent requests and connections that never send are closed
        and counted as slow_client; an idle keep-alive connection is closed but is no error."""
        with TempDir() as tmp:
            d = Driftd(tmp, {"http.header_timeout_seconds": 1})
            try:
                half = open_connections(d, 100, HALF_SENT)
                silent = open_connections(d, 5)
                keep = socket.create_connection(http_addr(d), timeout=10)
                keep.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertIn(b"200 OK", keep.recv(4096))
                start = time.monotonic()
                for s in half + silent + [keep]:
                    self.assertTrue(closed_by_peer(s))
                waited = time.monotonic() - start
                print(f"  all closed after {waited:.2f} s")
                self.assertLess(waited, 3)
                self.assertEqual(errors(d, "slow_client"), 105)
                self.assertEqual(errors(d, "too_many_connections"), 0)
                for s in half + silent + [keep]:
                    s.close()
                self.assert_scrapes_fast(d, rounds=3)
            finally:
                self.assertEqual(d.stop(), 0)

    def test_slow_body_is_cut_at_the_request_timeout(self):
        """A body dripped slower than request_timeout allows: closed, counted as slow_client."""
        with TempDir() as tmp:
            d = Driftd(tmp, {"http.header_timeout_seconds": 1, "http.request_timeout_seconds": 2})
            try:
                s = socket.create_connection(http_addr(d), timeout=10)
                s.sendall(b"POST /api/v1/ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
                start = time.monotonic()
                closed = False
                while time.monotonic() - start < 5:
                    try:
                        s.sendall(b"m")
                    except OSError:
                        closed = True
                        break
                    s.settimeout(0.5)
                    try:
                        if s.recv(4096) == b"":
                            closed = True
                            break
                    except socket.timeout:
                        pass
                self.assertTrue(closed)
                elapsed = time.monotonic() - start
                self.assertGreater(elapsed, 1.5)
                self.assertLess(elapsed, 4)
                self.assertEqual(errors(d, "slow_client"), 1)
                s.close()
            finally:
                self.assertEqual(d.stop(), 0)

    def test_body_limit(self):
        with TempDir() as tmp:
            d = Driftd(tmp, {"http.max_body_bytes": 1024})
            try:
                code, _ = d.post("/api/v1/ingest", b"m x=0.5\n" * 128)  # 1024 bytes: fits
                self.assertEqual(code, 204)
                code, body = d.post("/api/v1/ingest", b"m x=0.5\n" * 129)
                self.assertEqual((code, body), (413, "body too large\n"))
                self.assertEqual(errors(d, "body_too_large"), 1)
                # The InfluxDB write endpoints answer with InfluxDB's error bodies, for its
                # clients' error handling: 1.x {"error"}, 2.x {"code", "message"}.
                code, body = d.post("/write?db=m", b"m x=0.5\n" * 129)
                self.assertEqual(code, 413)
                self.assertIn("http.max_body_bytes (1024 bytes)", json.loads(body)["error"])
                code, body = d.post("/api/v2/write?org=o&bucket=b", b"m x=0.5\n" * 129)
                self.assertEqual(code, 413)
                self.assertEqual(json.loads(body)["code"], "request too large")
                self.assertEqual(errors(d, "body_too_large"), 3)
                d.wait_samples("x", 128)
            finally:
                self.assertEqual(d.stop(), 0)


# docs/architecture.md, "Memory and time bounds: HTTP": what one open HTTP connection may cost,
# idle or halfway through its request header.
HTTP_CONNECTION_BOUND_BYTES = 16 * 1024


class ConnectionMemoryTest(unittest.TestCase):
    @unittest.skipIf(SANITIZED, "the sanitizers' allocators distort RSS")
    def test_idle_and_half_sent_connections_cost_at_most_their_bound(self):
        """1,000 connections, half of them idle after a keep-alive request, half holding a header
        sent in part: RSS grows by at most HTTP_CONNECTION_BOUND_BYTES each, and a scrape
        still answers."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < 2200:
            self.skipTest(f"needs 2,200 file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        with TempDir() as tmp:
            d = Driftd(tmp, {"http.max_connections": 1100})
            try:
                for _ in range(3):  # the first requests' one-off allocations, before measuring
                    timed_get(d, "/metrics")
                time.sleep(0.5)
                before = rss_bytes(d.proc.pid)
                socks = []
                for i in range(1000):
                    s = socket.create_connection(http_addr(d), timeout=10)
                    if i % 2 == 0:  # a whole request answered, then idle on keep-alive
                        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                        self.assertIn(b" 200 ", s.recv(4096))
                    else:  # half a header
                        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: " +
                                  b"y" * 2000)
                    socks.append(s)
                time.sleep(0.5)
                grew = rss_bytes(d.proc.pid) - before
                status, _, _ = timed_get(d, "/metrics")
                self.assertEqual(status, 200)
                print(f"\n1,000 HTTP connections: RSS +{grew / 1e6:.2f} MB, "
                      f"{grew / 1000:.0f} bytes each (bound {HTTP_CONNECTION_BOUND_BYTES})")
                self.assertLessEqual(grew, 1000 * HTTP_CONNECTION_BOUND_BYTES)
                for s in socks:
                    s.close()
            finally:
                self.assertEqual(d.stop(), 0)


def limit_fds(n):
    def preexec():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return preexec


class FileDescriptorTest(unittest.TestCase):
    @unittest.skipIf(NEEDS_FDS_OF_ITS_OWN, "UBSan needs descriptors of its own (see the harness)")
    def test_out_of_descriptors_backs_off(self):
        """With 64 descriptors and 150 idle connections, accept fails with EMFILE: counted,
        logged, retried after a back-off (not in a busy loop), and the scrape still answers."""
        with TempDir() as tmp:
            d = Driftd(tmp, preexec_fn=limit_fds(64))
            try:
                started = [e for e in d.log_entries() if e.get("msg") == "open file limit"]
                self.assertEqual(len(started), 1)
                self.assertEqual((started[0]["soft"], started[0]["hard"]), (64, 64))
                cpu_before = cpu_seconds(d.proc.pid)
                socks = open_connections(d, 150)
                time.sleep(3)
                cpu = cpu_seconds(d.proc.pid) - cpu_before
                print(f"  CPU over 3 s with 150 idle connections and 64 fds: {cpu:.2f} s")
                self.assertLess(cpu, 0.5)
                # Out of descriptors, a scrape takes the place of the oldest idle connection.
                status, _, elapsed = timed_get(d, "/metrics")
                self.assertEqual(status, 200)
                print(f"  a scrape while out of descriptors: {elapsed * 1000:.0f} ms")
                m = d.metrics()
                accept_errors = metric(m, "driftd_ingest_errors_total", transport="http",
                                       reason="accept_error")
                evicted = metric(m, "driftd_ingest_errors_total", transport="http",
                                 reason="too_many_connections")
                print(f"  accept_error {accept_errors:.0f}, too_many_connections {evicted:.0f}")
                self.assertGreater(accept_errors, 0)
                self.assertGreater(evicted, 0)
                logged = [e for e in d.log_entries() if e.get("msg") == "accept error"]
                self.assertGreater(len(logged), 0)
                self.assertIn("Too many open files", logged[0]["error"])
                # Rate-limited: at most one line a second (plus one).
                self.assertLessEqual(len(logged), 6)
                for s in socks:
                    s.close()
                time.sleep(0.5)
                for _ in range(5):
                    status, _, elapsed = timed_get(d, "/metrics")
                    self.assertEqual(status, 200)
                    self.assertLess(elapsed, SCRAPE_BUDGET)
            finally:
                self.assertEqual(d.stop(), 0)


def many_features_reference(features, interior_bins):
    """A reference of `features` numeric features of interior_bins + 3 bins each."""
    edges = list(range(interior_bins + 1))
    return {
        "model": "m",
        "version": "big",
        "features": {
            f"f{i:05d}": {"type": "numeric", "edges": edges,
                          "counts": [10 + (i + b) % 7 for b in range(interior_bins)]}
            for i in range(features)
        },
    }


class StatusAtScaleTest(unittest.TestCase):
    FEATURES = 2000
    READERS = 8  # clients that ask for the whole document and never read it

    def test_status_does_not_hold_up_health_and_metrics(self):
        ref = many_features_reference(self.FEATURES, 29)  # 32 bins with under/overflow, missing
        with TempDir() as tmp:
            d = Driftd(tmp, {"evaluation": {"interval_seconds": 1, "min_samples": 10}},
                       reference=ref)
            pid = d.proc.pid
            try:
                record = "m " + ",".join(f"f{i:05d}={i % 30}" for i in range(self.FEATURES)) + "\n"
                d.post("/api/v1/ingest", record * 20)
                rss_start = rss_bytes(pid)
                # The size of one document, read by a client that reads.
                status, doc, elapsed = timed_get(d, "/api/v1/status?bins=true")
                self.assertEqual(status, 200)
                parsed = json.loads(doc)
                self.assertEqual(len(parsed["models"][0]["features"]), self.FEATURES)
                self.assertEqual(len(parsed["models"][0]["features"][0]["bins"]), 32)
                status, small, _ = timed_get(d, "/api/v1/status")
                print(f"  status document, {self.FEATURES} features x 32 bins: "
                      f"{len(doc) / 1e6:.1f} MB with bins ({elapsed:.2f} s), "
                      f"{len(small) / 1e6:.2f} MB without")
                # Eight clients ask for it with bins and never read.
                stuck = []
                for _ in range(self.READERS):
                    s = socket.socket()
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                    s.connect(http_addr(d))
                    s.sendall(b"GET /api/v1/status?bins=true HTTP/1.1\r\nHost: x\r\n\r\n")
                    stuck.append(s)
                # Meanwhile the probes and the scrapes: each within the budget. Evaluations run
                # every second, so the status document is rendered again meanwhile.
                times = []
                deadline = time.monotonic() + 4
                while time.monotonic() < deadline:
                    for path in ("/healthz", "/metrics"):
                        status, _, elapsed = timed_get(d, path)
                        self.assertEqual(status, 200)
                        times.append(elapsed)
                rss_held = rss_bytes(pid)
                print(f"  {len(times)} probes and scrapes: max {max(times) * 1000:.1f} ms")
                print(f"  RSS: {rss_start / 1e6:.0f} MB before, {rss_held / 1e6:.0f} MB with "
                      f"{self.READERS} stuck readers")
                assert_within_budget(self, times)
                # Four responses are held (http.max_status_responses), the others refused.
                self.assertEqual(errors(d, "too_many_requests"), self.READERS - 4)
                # Documented bound: the stuck responses share one rendering; RSS grows by at most
                # a few documents (the held one, the next evaluation's, the allocator's slack).
                if not SANITIZED:  # shadow memory and quarantine hold freed documents
                    self.assertLess(rss_held, rss_start + 4 * len(doc))
                for s in stuck:
                    s.close()
                # The slots are given back once their connections are gone.
                d.wait_for(lambda: timed_get(d, "/api/v1/status?feature=f00000")[0] == 200,
                           "a status slot")
                m = d.metrics()
                self.assertGreater(metric(m, "driftd_http_requests_total",
                                          handler="/api/v1/status", code="503"), 0)
                self.assertGreater(metric(m, "driftd_http_requests_total",
                                          handler="/healthz", code="200"), 0)
            finally:
                self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
