#!/usr/bin/python3
"""The ingest listeners' bounds against the real binary (issue 9): what an idle or once-busy
connection costs, senders that drip or stall, TCP and Unix limits apart, the unix socket's path
and mode, and UDP datagrams the kernel dropped.

Run: DRIFTD_BIN=build/daemon/driftd /usr/bin/python3 -m unittest -v test_ingest_limits
"""
import os
import resource
import signal
import socket
import stat
import subprocess
import time
import unittest

from driftd_harness import DRIFTD, NEEDS_FDS_OF_ITS_OWN, SANITIZED, Driftd, TempDir, metric

# docs/architecture.md, "Memory bounds: per connection": 1,000 idle connections cost at most this.
IDLE_BOUND_MB = 32


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024


def tcp_addr(d):
    host, port = d.addresses["tcp"].rsplit(":", 1)
    return host, int(port)


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        raise unittest.SkipTest(f"needs {need} file descriptors, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def errors(d, reason, transport="tcp"):
    return metric(d.metrics(), "driftd_ingest_errors_total", transport=transport,
                  reason=reason) or 0


class ConnectionMemoryTest(unittest.TestCase):
    @unittest.skipIf(SANITIZED, "the sanitizers' shadow memory distorts RSS")
    def test_a_thousand_idle_connections(self):
        """1,000 connections that sent nothing, then the same 1,000 after each sent a 60 KB line
        (complete, so its buffer is given back) and a half line: RSS grows by at most 32 MB."""
        raise_fd_limit(2200)
        with TempDir() as tmp:
            d = Driftd(tmp, {"ingest.max_connections": 2000})
            try:
                for _ in range(5):  # the daemon's own allocations settle first
                    d.metrics()
                base = rss_mb(d.proc.pid)
                conns = [socket.create_connection(tcp_addr(d)) for _ in range(1000)]
                d.wait_for(lambda: metric(d.metrics(), "driftd_ingest_connections",
                                          transport="tcp") == 1000, "1,000 connections")
                idle = rss_mb(d.proc.pid) - base
                long_line = ('{"model": "m", "features": {"x": 0.5, "pad": "' + "p" * 60000 +
                             '"}}\n').encode()
                for s in conns:
                    s.sendall(long_line + b'{"model": "m"')  # a long line, then a half one
                d.wait_for(lambda: metric(d.metrics(), "driftd_ingest_records_total",
                                          transport="tcp", format="json") == 1000,
                           "1,000 long lines counted")
                after = rss_mb(d.proc.pid) - base
                print(f"\n1,000 connections: idle +{idle:.1f} MB; after a 60 KB line each "
                      f"+{after:.1f} MB (RSS at start {base:.1f} MB)")
                self.assertLessEqual(idle, IDLE_BOUND_MB)
                self.assertLessEqual(after, IDLE_BOUND_MB)
                for s in conns:
                    s.close()
                d.wait_for(lambda: metric(d.metrics(), "driftd_ingest_connections",
                                          transport="tcp") == 0, "all closed")
                self.assertEqual(errors(d, "truncated_line"), 1000)
            finally:
                self.assertEqual(d.stop(), 0)


class SlowSenderTest(unittest.TestCase):
    def test_a_stalled_line_is_closed_at_the_line_timeout(self):
        with TempDir() as tmp:
            d = Driftd(tmp, {"ingest.line_timeout_seconds": 1})
            try:
                start = time.monotonic()
                with socket.create_connection(tcp_addr(d)) as s:
                    s.sendall(b'{"model": "m", "features": {"x": 0.5}}\nm,c=a x=1')
                    s.settimeout(15)
                    self.assertEqual(s.recv(1), b"")  # driftd closed it
                took = time.monotonic() - start
                self.assertGreaterEqual(took, 0.9)
                self.assertLess(took, 5)
                d.wait_samples("x", 1)  # the finished line before it counts
                self.assertEqual(errors(d, "slow_client"), 1)
                self.assertEqual(errors(d, "truncated_line"), 0)  # dropped, not decoded
                self.assertEqual(errors(d, "idle_timeout"), 0)
            finally:
                self.assertEqual(d.stop(), 0)

    def test_a_drip_that_never_ends_a_line_is_closed(self):
        """A byte every 0.2 s keeps the connection from being idle, but the line never ends."""
        with TempDir() as tmp:
            d = Driftd(tmp, {"ingest.line_timeout_seconds": 1,
                             "ingest.idle_timeout_seconds": 60})
            try:
                with socket.create_connection(tcp_addr(d)) as s:
                    start = time.monotonic()
                    closed = False
                    while time.monotonic() - start < 10:
                        try:
                            s.sendall(b"9")
                        except OSError:
                            closed = True
                            break
                        s.settimeout(0.2)
                        try:
                            if s.recv(1) == b"":
                                closed = True
                                break
                        except socket.timeout:
                            pass
                        except OSError:  # reset: closed while our byte was unread
                            closed = True
                            break
                    self.assertTrue(closed, "driftd kept a connection whose line never ended")
                    self.assertLess(time.monotonic() - start, 5)
                d.wait_for(lambda: errors(d, "slow_client") == 1, "slow_client counted")
            finally:
                self.assertEqual(d.stop(), 0)

    def test_a_drip_of_newlines_does_not_hold_a_slot(self):
        """Blank lines, comments and garbage every 0.2 s end each line in time but deliver no
        record: the connection is closed at the idle timeout, while one beside it sending a
        record as often stays open."""
        with TempDir() as tmp:
            d = Driftd(tmp, {"ingest.idle_timeout_seconds": 2})
            try:
                drip = socket.create_connection(tcp_addr(d))
                busy = socket.create_connection(tcp_addr(d))
                # Records the monitor refuses (a model not configured yet) are traffic too.
                unknown = socket.create_connection(tcp_addr(d))
                start = time.monotonic()
                closed_after = None
                sent = 0
                while time.monotonic() - start < 6:
                    busy.sendall(b'{"model": "m", "features": {"x": 0.5}}\n')
                    unknown.sendall(b'{"model": "later", "features": {"x": 0.5}}\n')
                    sent += 1
                    if closed_after is None:
                        try:
                            drip.sendall((b"\n", b"# c\n", b"x\n")[sent % 3])
                            drip.settimeout(0.2)
                            if drip.recv(1) == b"":
                                closed_after = time.monotonic() - start
                        except socket.timeout:
                            pass
                        except OSError:  # reset: closed while our newline was unread
                            closed_after = time.monotonic() - start
                    else:
                        time.sleep(0.2)
                self.assertIsNotNone(closed_after, "a drip of no records kept its connection open")
                self.assertGreaterEqual(closed_after, 1.8)
                self.assertLess(closed_after, 4)
                for s in (busy, unknown):
                    s.settimeout(0.2)
                    with self.assertRaises(socket.timeout):  # still open: nothing to read, no EOF
                        s.recv(1)
                    s.close()
                drip.close()
                d.wait_samples("x", sent)
                self.assertEqual(errors(d, "idle_timeout"), 1)
                d.wait_for(lambda: errors(d, "unknown_model") == sent, "unknown_model counted")
            finally:
                self.assertEqual(d.stop(), 0)

    def test_slow_lines_that_end_in_time_are_counted(self):
        with TempDir() as tmp:
            d = Driftd(tmp, {"ingest.line_timeout_seconds": 2})
            try:
                with socket.create_connection(tcp_addr(d)) as s:
                    for _ in range(3):
                        for b in b"m,c=a x=1.5\n":
                            s.sendall(bytes([b]))
                            time.sleep(0.05)
                d.wait_samples("x", 3)
                self.assertEqual(errors(d, "slow_client"), 0)
            finally:
                self.assertEqual(d.stop(), 0)


class ListenerLimitTest(unittest.TestCase):
    def test_tcp_and_unix_limits_are_apart(self):
        """TCP at its limit does not stop a local producer on the unix socket, and vice versa."""
        with TempDir() as tmp:
            d = Driftd(tmp, {"ingest.max_connections": 2, "ingest.max_unix_connections": 1})
            try:
                held = [socket.create_connection(tcp_addr(d)) for _ in range(2)]
                d.wait_for(lambda: metric(d.metrics(), "driftd_ingest_connections",
                                          transport="tcp") == 2, "two tcp connections")
                extra = socket.create_connection(tcp_addr(d))
                extra.settimeout(5)
                self.assertEqual(extra.recv(1), b"")  # refused
                extra.close()
                local = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                local.connect(d.addresses["unix"])
                local.sendall(b"m,c=a x=0.5\n")
                d.wait_samples("x", 1)  # the unix producer got in
                second = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                second.connect(d.addresses["unix"])
                second.settimeout(5)
                self.assertEqual(second.recv(1), b"")  # the unix limit is 1
                second.close()
                m = d.metrics()
                self.assertEqual(metric(m, "driftd_ingest_errors_total", transport="tcp",
                                        reason="too_many_connections"), 1)
                self.assertEqual(metric(m, "driftd_ingest_errors_total", transport="unix",
                                        reason="too_many_connections"), 1)
                for s in held + [local]:
                    s.close()
            finally:
                self.assertEqual(d.stop(), 0)

    @unittest.skipIf(NEEDS_FDS_OF_ITS_OWN, "UBSan needs descriptors of its own (see the harness)")
    def test_accept_errors_back_off_and_are_counted(self):
        """Out of file descriptors, the TCP listener backs off instead of spinning, counts
        accept_error, and takes connections again once descriptors are free."""
        with TempDir() as tmp:
            d = Driftd(tmp, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                                  (64, 64)))
            try:
                with open(f"/proc/{d.proc.pid}/limits") as f:
                    self.assertIn("64", next(l for l in f if "open files" in l))
                conns = []
                for _ in range(80):  # more than the daemon has descriptors for
                    conns.append(socket.create_connection(tcp_addr(d)))
                cpu0 = cpu_seconds(d.proc.pid)
                time.sleep(2)
                cpu = cpu_seconds(d.proc.pid) - cpu0
                self.assertLess(cpu, 0.5, f"{cpu:.2f} CPU-seconds in 2 s out of descriptors")
                for s in conns:  # descriptors free again (a scrape needs one too)
                    s.close()
                self.assertGreater(errors(d, "accept_error"), 0)
                d.send("tcp", "m,c=a x=0.5\n")
                d.wait_samples("x", 1, timeout=10)
            finally:
                self.assertEqual(d.stop(), 0)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class UnixSocketTest(unittest.TestCase):
    def start_failure(self, tmp):
        d = Driftd(tmp, start=False)
        proc = subprocess.run([DRIFTD, "run", "--config", d.config_path], capture_output=True,
                              text=True, timeout=20, stdin=subprocess.DEVNULL)
        return d, proc

    def test_a_regular_file_at_the_path_is_never_removed(self):
        with TempDir() as tmp:
            victim = os.path.join(tmp, "ingest.sock")
            with open(victim, "w") as f:
                f.write("precious")
            d, proc = self.start_failure(tmp)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertIn("not a socket", proc.stderr)
            with open(victim) as f:
                self.assertEqual(f.read(), "precious")

    def test_a_socket_in_use_is_not_taken_over(self):
        with TempDir() as tmp:
            path = os.path.join(tmp, "ingest.sock")
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as other:
                other.bind(path)
                other.listen(1)
                d, proc = self.start_failure(tmp)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertIn("another process is listening", proc.stderr)
                self.assertTrue(stat.S_ISSOCK(os.lstat(path).st_mode))

    def test_a_stale_socket_is_replaced_and_the_mode_applied(self):
        with TempDir() as tmp:
            path = os.path.join(tmp, "ingest.sock")
            stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            stale.bind(path)
            stale.close()  # the file stays; nobody listens: an earlier run's leftover
            d = Driftd(tmp)
            try:
                self.assertEqual(stat.S_IMODE(os.lstat(path).st_mode), 0o660)
                d.send("unix", "m,c=a x=0.5\n")
                d.wait_samples("x", 1)
            finally:
                self.assertEqual(d.stop(), 0)
            self.assertFalse(os.path.exists(path))  # its own socket is removed at exit
        with TempDir() as tmp:
            d = Driftd(tmp, {"ingest.unix_mode": "0600"})
            try:
                self.assertEqual(stat.S_IMODE(os.lstat(d.addresses["unix"]).st_mode), 0o600)
            finally:
                self.assertEqual(d.stop(), 0)


class UdpDropTest(unittest.TestCase):
    def test_kernel_drops_are_counted(self):
        """driftd is stopped (SIGSTOP) while more datagrams arrive than its receive buffer holds;
        after SIGCONT every datagram sent is either counted as a record or as udp_dropped."""
        with TempDir() as tmp:
            d = Driftd(tmp)
            try:
                m = d.metrics()
                host, port = d.addresses["udp"].rsplit(":", 1)
                line = b"m,c=a x=0.5 " + b" " * 900 + b"\n"  # ~1 KB datagrams fill it fast
                sent = 0
                os.kill(d.proc.pid, signal.SIGSTOP)
                try:
                    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                        for _ in range(30000):
                            s.sendto(line, (host, int(port)))
                            sent += 1
                finally:
                    os.kill(d.proc.pid, signal.SIGCONT)
                time.sleep(0.5)
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.sendto(line, (host, int(port)))  # carries the drop count to driftd
                    sent += 1

                def settled():
                    m = d.metrics()
                    got = metric(m, "driftd_ingest_records_total", transport="udp",
                                 format="line_protocol") or 0
                    dropped = metric(m, "driftd_ingest_errors_total", transport="udp",
                                     reason="udp_dropped") or 0
                    return (got, dropped) if got + dropped == sent else None

                got, dropped = d.wait_for(settled, "records + udp_dropped == sent", timeout=20)
                print(f"\nudp: {sent} sent, {got:.0f} counted, {dropped:.0f} dropped by the kernel")
                self.assertGreater(dropped, 0)
                d.wait_samples("x", got)
                self.assertTrue(any(e.get("msg", "").startswith("udp receive buffer")
                                    and "effective_bytes" in e for e in d.log_entries()))
            finally:
                self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
