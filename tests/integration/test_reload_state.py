#!/usr/bin/python3
"""Lifecycle without loss (issue 10), against the real binary: configuration reloads (SIGHUP and
POST /-/reload), reference swaps, `driftd reference snapshot`, and checkpoints in
state.directory across SIGTERM, kill -9 and unusable files. Divergences are checked with numpy.

Run: DRIFTD_BIN=build/daemon/driftd /usr/bin/python3 -m unittest -v test_reload_state
"""
import copy
import glob
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
import unittest

from driftd_harness import (DRIFTD, REFERENCE, Driftd, TempDir, bin_of_c, bin_of_x,
                            expected_divergences, metric, reference_counts)

RECORD = '{{"model": "m", "features": {{"x": {x}, "c": "{c}"}}}}\n'


def records(n, shift=0):
    """n records with known values: x cycles over 0.5..3.5 (+shift), c over a, b, c."""
    xs = [0.5 + (i % 4) + shift for i in range(n)]
    cs = ["abc"[i % 3] for i in range(n)]
    return xs, cs, "".join(RECORD.format(x=x, c=c) for x, c in zip(xs, cs))


def histogram(values, bin_of, k):
    h = [0] * k
    for v in values:
        h[bin_of(v)] += 1
    return h


def feature(status, name, model="m"):
    for m in status["models"]:
        if m["model"] == model:
            for f in m["features"]:
                if f["feature"] == name:
                    return f
    return None


def feature_lines(text):
    """Every per-feature sample of a scrape: what must be the same before and after a restart."""
    return sorted(line for line in text.splitlines()
                  if line.startswith("driftd_feature_") or line.startswith("driftd_model_"))


def wait_reloads(d, n):
    return d.wait_for(lambda: len([e for e in d.log_entries()
                                   if e.get("msg") == "configuration reloaded"]) >= n,
                      f"{n} reloads")


def wait_reload_status(d, value):
    return d.wait_for(lambda: metric(d.metrics(), "driftd_config_last_reload_successful") == value,
                      f"driftd_config_last_reload_successful {value}")


def write_reference(d, name, ref):
    path = os.path.join(d.tmp, "references", name)
    with open(path, "w") as f:
        json.dump(ref, f)
    return "references/" + name


class ReloadTest(unittest.TestCase):
    def test_sighup_under_load_loses_and_doubles_nothing(self):
        """A sender streams 30,000 records on one connection while ten SIGHUPs reload the
        unchanged configuration: every record is counted exactly once."""
        with TempDir() as tmp:
            d = Driftd(tmp)
            try:
                _, _, payload = records(500)
                host, port = d.addresses["tcp"].rsplit(":", 1)

                def send():
                    with socket.create_connection((host, int(port))) as s:
                        for _ in range(60):
                            s.sendall(payload.encode())
                            time.sleep(0.01)

                sender = threading.Thread(target=send)
                sender.start()
                # Each SIGHUP after the last reload is done: signals sent while one is handled
                # merge into one (as POSIX signals do), which a slow (sanitized) build shows.
                for i in range(10):
                    d.proc.send_signal(signal.SIGHUP)
                    wait_reloads(d, i + 1)
                    time.sleep(0.03)
                sender.join()
                d.wait_samples("x", 30000)
                d.wait_samples("c", 30000)
                m = d.metrics()
                self.assertEqual(metric(m, "driftd_config_last_reload_successful"), 1)
                self.assertEqual(metric(m, "driftd_ingest_records_total"), 30000)
                reloaded = [e for e in d.log_entries() if e.get("msg") == "configuration reloaded"]
                self.assertEqual({e["unchanged"] for e in reloaded}, {"m"})
            finally:
                self.assertEqual(d.stop(), 0)

    def test_unchanged_model_keeps_its_alert_states(self):
        """A model at warning stays at warning across a reload (no resolve and fire again)."""
        with TempDir() as tmp:
            d = Driftd(tmp)
            try:
                _, _, payload = records(400, shift=0.6)  # x leans to the upper bins: drift
                d.send("tcp", payload)
                d.wait_for(lambda: feature(d.status(bins=False), "x")["drift"] in
                           ("warning", "critical"), "x to drift")
                before = feature(d.status(bins=False), "x")["drift"]
                d.proc.send_signal(signal.SIGHUP)
                wait_reloads(d, 1)
                changes = [e for e in d.log_entries() if e.get("msg") ==
                           "feature drift state changed" and e.get("feature") == "x"]
                time.sleep(0.5)  # a few evaluations
                self.assertEqual(feature(d.status(bins=False), "x")["drift"], before)
                later = [e for e in d.log_entries() if e.get("msg") ==
                         "feature drift state changed" and e.get("feature") == "x"]
                self.assertEqual(len(later), len(changes), later)
            finally:
                self.assertEqual(d.stop(), 0)

    def test_invalid_reload_keeps_the_running_configuration(self):
        with TempDir() as tmp:
            d = Driftd(tmp)
            try:
                xs, cs, payload = records(100)
                d.send("tcp", payload)
                d.wait_samples("x", 100)
                good = copy.deepcopy(d.config)
                # A bad key, and a reference file that is no longer valid.
                d.config["evaluation"]["smoothing"] = -1
                d.write_config()
                d.proc.send_signal(signal.SIGHUP)
                wait_reload_status(d, 0)
                check = subprocess.run([DRIFTD, "check-config", "--config", d.config_path],
                                       capture_output=True, text=True)
                self.assertEqual(check.returncode, 1)
                logged = [e["error"] for e in d.log_entries() if e.get("msg") ==
                          "configuration reload failed; the running configuration is kept"]
                self.assertEqual(logged, check.stderr.splitlines())
                self.assertEqual(feature(d.status(), "x")["samples"], 100)  # still running
                self.assertEqual(d.status()["evaluation"]["smoothing"], 0.5)

                d.config = copy.deepcopy(good)
                bad_ref = copy.deepcopy(REFERENCE)
                bad_ref["features"]["x"]["edges"] = [0, 2, 1, 3, 4]
                d.config["models"][0]["reference"] = write_reference(d, "bad.json", bad_ref)
                d.write_config()
                d.proc.send_signal(signal.SIGHUP)
                d.wait_for(lambda: len([e for e in d.log_entries() if "edges" in
                                        str(e.get("error", ""))]) > 0, "the reference error")
                self.assertEqual(metric(d.metrics(), "driftd_config_last_reload_successful"), 0)
                self.assertEqual(feature(d.status(), "x")["samples"], 100)

                d.config = copy.deepcopy(good)
                d.write_config()
                d.proc.send_signal(signal.SIGHUP)
                wait_reload_status(d, 1)
                self.assertEqual(feature(d.status(), "x")["samples"], 100)
            finally:
                self.assertEqual(d.stop(), 0)

    def test_lifecycle_endpoint(self):
        with TempDir() as tmp:
            d = Driftd(tmp)
            try:
                code, body = d.post("/-/reload", b"")
                self.assertEqual(code, 403)
                self.assertIn("--web.enable-lifecycle", body)
            finally:
                self.assertEqual(d.stop(), 0)
        with TempDir() as tmp:
            d = Driftd(tmp, args=["--web.enable-lifecycle"])
            try:
                self.assertEqual(d.post("/-/reload", b""), (200, "configuration reloaded\n"))
                d.config["window"]["slices"] = 0
                d.write_config()
                code, body = d.post("/-/reload", b"")
                self.assertEqual(code, 500)
                self.assertIn("window.slices", body)
                self.assertEqual(metric(d.metrics(), "driftd_config_last_reload_successful"), 0)
            finally:
                self.assertEqual(d.stop(), 0)

    def test_new_reference_with_the_same_bins_keeps_the_counts(self):
        """The model was retrained: the new reference has the same bins and other counts. The
        window is kept and now compared with the new reference (checked with numpy)."""
        with TempDir() as tmp:
            d = Driftd(tmp)
            try:
                xs, cs, payload = records(300)
                d.send("tcp", payload)
                d.wait_samples("x", 300)
                new = copy.deepcopy(REFERENCE)
                new["version"] = "test-2"
                new["features"]["x"]["counts"] = [40, 30, 20, 10]
                new["features"]["c"]["categories"] = {"a": 10, "b": 10, "c": 80}
                d.config["models"][0]["reference"] = write_reference(d, "m2.json", new)
                d.write_config()
                d.proc.send_signal(signal.SIGHUP)
                wait_reloads(d, 1)
                d.wait_for(lambda: metric(d.metrics(), "driftd_reference_info",
                                          version="test-2") == 1, "the new reference's version")
                st = d.status()
                self.assertEqual(feature(st, "x")["samples"], 300)
                self.assertEqual(feature(st, "c")["samples"], 300)
                ref_x = [40, 30, 20, 10, 1, 2, 3]
                ref_c = [10, 10, 80, 0, 0]
                for name, window, ref in (("x", histogram(xs, bin_of_x, 7), ref_x),
                                          ("c", histogram(cs, bin_of_c, 5), ref_c)):
                    want = expected_divergences(window, ref)["kl_divergence"]
                    got = metric(d.metrics(), "driftd_feature_kl_divergence", feature=name)
                    self.assertAlmostEqual(got / want, 1, delta=1e-9, msg=name)
                entry = [e for e in d.log_entries() if e.get("msg") == "configuration reloaded"][0]
                self.assertEqual(entry["new_reference"], "m")
                self.assertEqual(entry["features_reset"], 0)
            finally:
                self.assertEqual(d.stop(), 0)

    def test_a_feature_whose_bins_changed_starts_empty(self):
        """x gets new edges: its window starts empty (logged), c keeps its counts. Records that
        came before the reload are not counted as missing x."""
        with TempDir() as tmp:
            d = Driftd(tmp)
            try:
                _, cs1, payload = records(200)
                d.send("tcp", payload)
                d.wait_samples("x", 200)
                new = copy.deepcopy(REFERENCE)
                new["features"]["x"]["edges"] = [0, 2, 4]
                new["features"]["x"]["counts"] = [30, 70]
                d.config["models"][0]["reference"] = write_reference(d, "m3.json", new)
                d.write_config()
                d.proc.send_signal(signal.SIGHUP)
                wait_reloads(d, 1)
                reset = [e for e in d.log_entries() if e.get("msg") ==
                         "feature window reset: its bins changed in the new reference"]
                self.assertEqual([(e["model"], e["feature"]) for e in reset], [("m", "x")])
                d.wait_samples("x", 0)
                self.assertEqual(feature(d.status(), "c")["samples"], 200)
                # 60 more records, 20 of them without x.
                xs2, cs2, payload = records(40)
                payload += '{"model": "m", "features": {"c": "a"}}\n' * 20
                d.send("tcp", payload)
                f = d.wait_samples("x", 60)
                self.assertEqual(feature(d.status(), "c")["samples"], 260)
                window = [sum(1 for x in xs2 if x < 2), sum(1 for x in xs2 if 2 <= x <= 4), 0, 0, 20]
                self.assertEqual([b["window_count"] for b in f["bins"]], window)
                want = expected_divergences(window, [30, 70, 1, 2, 3])["kl_divergence"]
                got = metric(d.metrics(), "driftd_feature_kl_divergence", feature="x")
                self.assertAlmostEqual(got / want, 1, delta=1e-9)
                self.assertAlmostEqual(f["missing_ratio"], 20 / 60, delta=1e-12)
            finally:
                self.assertEqual(d.stop(), 0)

    def test_models_come_and_go_with_their_series(self):
        with TempDir() as tmp:
            d = Driftd(tmp)
            try:
                other = copy.deepcopy(REFERENCE)
                other["model"] = "n"
                d.config["models"].append({"name": "n",
                                           "reference": write_reference(d, "n.json", other)})
                d.write_config()
                d.send("tcp", records(10)[2])
                d.wait_samples("x", 10)
                d.proc.send_signal(signal.SIGHUP)
                wait_reloads(d, 1)
                d.send("tcp", '{"model": "n", "features": {"x": 1.5}}\n')
                d.wait_for(lambda: metric(d.metrics(), "driftd_feature_window_samples",
                                          model="n", feature="x") == 1, "model n")
                self.assertEqual(metric(d.metrics(), "driftd_feature_window_samples", model="m",
                                        feature="x"), 10)
                d.config["models"] = d.config["models"][1:]  # only n
                d.write_config()
                d.proc.send_signal(signal.SIGHUP)
                wait_reloads(d, 2)
                d.wait_for(lambda: metric(d.metrics(), "driftd_feature_window_samples",
                                          model="m") is None, "model m's series to go")
                self.assertEqual(metric(d.metrics(), "driftd_feature_window_samples", model="n",
                                        feature="x"), 1)
                entries = [e for e in d.log_entries() if e.get("msg") == "configuration reloaded"]
                self.assertEqual((entries[0]["added"], entries[1]["removed"]), ("n", "m"))
            finally:
                self.assertEqual(d.stop(), 0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reload_onto_a_taken_port(test, d, use):
    """Holds a port another socket listens on (until the test ends), has `use(config, port)` put
    it into d's configuration, reloads with SIGHUP and returns the port and the logged failure,
    which must be the port's being in use."""
    blocker = socket.socket()
    test.addCleanup(blocker.close)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    use(d.config, taken)
    d.write_config()
    d.proc.send_signal(signal.SIGHUP)
    wait_reload_status(d, 0)
    entry = [e for e in d.log_entries() if e.get("msg") ==
             "configuration reload failed; the running configuration is kept"][-1]
    test.assertIn("Address already in use", entry["error"])
    return taken, entry


class ListenerReloadTest(unittest.TestCase):
    def test_listeners_move_and_open_connections_stay(self):
        with TempDir() as tmp:
            d = Driftd(tmp)
            try:
                old_tcp = d.addresses["tcp"]
                host, port = old_tcp.rsplit(":", 1)
                held = socket.create_connection((host, int(port)))
                held.sendall(records(10)[2].encode())
                d.wait_samples("x", 10)
                new_port = free_port()
                new_unix = os.path.join(tmp, "ingest2.sock")
                d.config["ingest"]["tcp"] = f"127.0.0.1:{new_port}"
                d.config["ingest"]["udp"] = None
                d.config["ingest"]["unix"] = new_unix
                d.write_config()
                d.proc.send_signal(signal.SIGHUP)
                wait_reloads(d, 1)
                stopped = [e["address"] for e in d.log_entries()
                           if e.get("msg") == "stopped listening"]
                self.assertIn("tcp " + old_tcp, stopped)
                self.assertEqual(len(stopped), 3, stopped)
                self.assertEqual(d.addresses["tcp"], f"127.0.0.1:{new_port}")
                self.assertEqual(d.addresses["unix"], new_unix)
                # The connection opened before the reload still delivers.
                held.sendall(records(5)[2].encode())
                d.wait_samples("x", 15)
                d.send("tcp", records(5)[2])  # the new address
                d.send("unix", records(5)[2])
                d.wait_samples("x", 25)
                with self.assertRaises(ConnectionRefusedError):
                    socket.create_connection((host, int(port)), timeout=2)
                self.assertFalse(os.path.exists(os.path.join(tmp, "ingest.sock")))
                held.close()
            finally:
                self.assertEqual(d.stop(), 0)

    def test_http_listener_moves_and_its_new_bounds_apply(self):
        """POST /-/reload on a keep-alive connection moves the HTTP listener: the answer comes
        back on that connection, which keeps being served; the old address refuses, the new one
        answers, and the new http limits hold there."""
        with TempDir() as tmp:
            d = Driftd(tmp, args=["--web.enable-lifecycle"])
            try:
                old_http = d.addresses["http"]
                host, port = old_http.rsplit(":", 1)
                held = http.client.HTTPConnection(host, int(port), timeout=10)
                held.request("GET", "/healthz")
                self.assertEqual(held.getresponse().read(), b"ok\n")
                new_port = free_port()
                d.config["http"]["listen"] = f"127.0.0.1:{new_port}"
                d.config["http"]["max_body_bytes"] = 1024
                d.write_config()
                held.request("POST", "/-/reload", body=b"")
                answer = held.getresponse()
                self.assertEqual((answer.status, answer.read()), (200, b"configuration reloaded\n"))
                wait_reloads(d, 1)
                stopped = [e["address"] for e in d.log_entries()
                           if e.get("msg") == "stopped listening"]
                self.assertEqual(stopped, ["http " + old_http])
                self.assertEqual(d.addresses["http"], f"127.0.0.1:{new_port}")
                # The connection that asked is still served, by the same server.
                held.request("GET", "/healthz")
                self.assertEqual(held.getresponse().read(), b"ok\n")
                with self.assertRaises(ConnectionRefusedError):
                    socket.create_connection((host, int(port)), timeout=2)
                # The new address takes records, within the new body limit only.
                self.assertEqual(d.post("/api/v1/ingest", records(5)[2])[0], 204)
                d.wait_samples("x", 5)
                code, body = d.post("/api/v1/ingest", records(40)[2])  # > 1,024 bytes
                self.assertEqual((code, body), (413, "body too large\n"))
                self.assertEqual(metric(d.metrics(), "driftd_ingest_errors_total",
                                        transport="http", reason="body_too_large"), 1)
                held.close()
            finally:
                self.assertEqual(d.stop(), 0)

    def test_an_http_address_in_use_fails_the_reload_and_changes_nothing(self):
        with TempDir() as tmp:
            d = Driftd(tmp)
            try:
                old_tcp = d.addresses["tcp"]

                def use(config, port):
                    config["http"]["listen"] = f"127.0.0.1:{port}"
                    config["ingest"]["tcp"] = f"127.0.0.1:{free_port()}"  # would move, does not
                taken, entry = reload_onto_a_taken_port(self, d, use)
                self.assertIn("http 127.0.0.1:%d" % taken, entry["error"])
                self.assertEqual(d.addresses["tcp"], old_tcp)
                d.send("tcp", records(5)[2])  # the old listeners still work
                d.wait_samples("x", 5)
            finally:
                self.assertEqual(d.stop(), 0)

    def test_an_address_in_use_fails_the_reload_and_changes_nothing(self):
        with TempDir() as tmp:
            d = Driftd(tmp)
            try:
                def use(config, port):
                    config["ingest"]["tcp"] = f"127.0.0.1:{port}"
                    config["evaluation"]["min_samples"] = 5
                reload_onto_a_taken_port(self, d, use)
                self.assertEqual(d.status()["evaluation"]["min_samples"], 10)  # not applied
                d.send("tcp", records(5)[2])  # the old listener still takes records
                d.wait_samples("x", 5)
            finally:
                self.assertEqual(d.stop(), 0)


class SnapshotTest(unittest.TestCase):
    def test_snapshot_round_trip(self):
        """The window frozen as a reference: its counts, check-config accepts it, and loaded as
        the reference it gives KL 0 against the window it was taken from."""
        with TempDir() as tmp:
            d = Driftd(tmp)
            try:
                xs, cs, payload = records(250)
                payload += '{"model": "m", "features": {"x": 9, "c": "zz"}}\n' * 5
                d.send("tcp", payload)
                d.wait_samples("x", 255)
                out = os.path.join(tmp, "references", "snap.json")
                url = "http://" + d.addresses["http"]
                run = subprocess.run([DRIFTD, "reference", "snapshot", "--url", url, "--model", "m",
                                      "--output", out, "--reference-version", "last-week"],
                                     capture_output=True, text=True)
                self.assertEqual(run.returncode, 0, run.stderr)
                self.assertIn("255 records", run.stdout)
                snap = json.load(open(out))
                self.assertEqual((snap["model"], snap["version"]), ("m", "last-week"))
                self.assertRegex(snap["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
                fx, fc = snap["features"]["x"], snap["features"]["c"]
                self.assertEqual(fx["edges"], REFERENCE["features"]["x"]["edges"])
                x_window = histogram(xs + [9] * 5, bin_of_x, 7)
                self.assertEqual(fx["counts"] + [fx["underflow"], fx["overflow"], fx["missing"]],
                                 x_window)
                c_window = histogram(cs + ["zz"] * 5, bin_of_c, 5)
                self.assertEqual([fc["categories"][k] for k in "abc"] + [fc["other"], fc["missing"]],
                                 c_window)
                d.config["models"][0]["reference"] = "references/snap.json"
                d.write_config()
                check = subprocess.run([DRIFTD, "check-config", "--config", d.config_path],
                                       capture_output=True, text=True)
                self.assertEqual(check.returncode, 0, check.stderr)
                d.proc.send_signal(signal.SIGHUP)
                wait_reloads(d, 1)
                d.wait_for(lambda: metric(d.metrics(), "driftd_reference_info",
                                          version="last-week") == 1, "the snapshot's version")
                m = d.metrics()
                for name in ("x", "c"):
                    self.assertEqual(metric(m, "driftd_feature_kl_divergence", feature=name), 0)
                    self.assertEqual(metric(m, "driftd_feature_window_samples", feature=name), 255)
            finally:
                self.assertEqual(d.stop(), 0)

    def test_snapshot_errors(self):
        with TempDir() as tmp:
            d = Driftd(tmp)
            try:
                url = "http://" + d.addresses["http"]
                out = os.path.join(tmp, "s.json")
                for model, answer in (("m", "409"), ("nope", "404")):
                    run = subprocess.run([DRIFTD, "reference", "snapshot", "--url", url,
                                          "--model", model, "--output", out],
                                         capture_output=True, text=True)
                    self.assertEqual(run.returncode, 1)
                    self.assertIn("answered " + answer, run.stderr)
                    self.assertFalse(os.path.exists(out))
                run = subprocess.run([DRIFTD, "reference", "snapshot", "--url", "localhost:1",
                                      "--model", "m", "--output", out], capture_output=True,
                                     text=True)
                self.assertEqual(run.returncode, 64)
                self.assertIn("expected http://HOST:PORT", run.stderr)
            finally:
                self.assertEqual(d.stop(), 0)


class StateTest(unittest.TestCase):
    def state_config(self, tmp, seconds=30):
        return {"state": {"directory": os.path.join(tmp, "state"), "checkpoint_seconds": seconds}}

    def test_sigterm_then_start_loses_nothing(self):
        with TempDir() as tmp:
            d = Driftd(tmp, self.state_config(tmp))
            try:
                _, _, payload = records(400, shift=0.4)
                d.send("tcp", payload)
                d.wait_samples("x", 400)
                time.sleep(1)  # alert states move on for a few evaluations
                before = feature_lines(d.get("/metrics")[1])
            finally:
                self.assertEqual(d.stop(), 0)
            d.start()
            try:
                d.wait_samples("x", 400)
                after = feature_lines(d.get("/metrics")[1])
                self.assertEqual(after, before)
                self.assertEqual(metric(d.metrics(), "driftd_state_restored_records", model="m"),
                                 400)
            finally:
                self.assertEqual(d.stop(), 0)

    def test_kill_9_loses_at_most_one_interval(self):
        with TempDir() as tmp:
            d = Driftd(tmp, self.state_config(tmp, seconds=1))
            sent = 0
            try:
                _, _, line = records(1)
                host, port = d.addresses["tcp"].rsplit(":", 1)
                with socket.create_connection((host, int(port))) as s:
                    start = time.monotonic()
                    while time.monotonic() - start < 3.5:
                        s.sendall((line * 50).encode())
                        sent += 50
                        time.sleep(0.01)
                    d.wait_samples("x", sent)
                    rate = sent / (time.monotonic() - start)
                    d.proc.kill()
                    d.proc.wait()
            finally:
                d.stop()
            d.start()
            try:
                restored = metric(d.metrics(), "driftd_state_restored_records", model="m")
                print(f"  kill -9 after {sent} records ({rate:.0f}/s): {restored:.0f} restored")
                self.assertLessEqual(restored, sent)
                # At most one checkpoint interval (1 s) of records, and the slack of a loaded
                # machine's timer.
                self.assertGreaterEqual(restored, sent - 1.5 * rate)
                self.assertEqual(feature(d.status(), "x")["samples"], restored)
            finally:
                self.assertEqual(d.stop(), 0)

    def test_unusable_checkpoints_are_set_aside(self):
        """Truncated, corrupt and foreign files: logged, counted, renamed; driftd starts empty."""
        with TempDir() as tmp:
            d = Driftd(tmp, self.state_config(tmp))
            d.send("tcp", records(50)[2])
            d.wait_samples("x", 50)
            self.assertEqual(d.stop(), 0)
            path = os.path.join(tmp, "state", "checkpoint")
            good = open(path, "rb").read()
            self.assertTrue(good.startswith(b"DRIFTDCK"))
            flipped = bytearray(good)
            flipped[-3] ^= 0x40
            cases = {"truncated": good[: len(good) // 2], "corrupt": bytes(flipped),
                     "foreign": b'{"not": "a checkpoint"}\n',
                     "newer format": good[:8] + b"\x07\x00\x00\x00" + good[12:]}
            for name, data in cases.items():
                with self.subTest(name):
                    with open(path, "wb") as f:
                        f.write(data)
                    for old in glob.glob(path + ".bad-*"):
                        os.remove(old)
                    d.start()
                    try:
                        self.assertEqual(feature(d.status(), "x")["samples"], 0)
                        self.assertEqual(metric(d.metrics(), "driftd_state_errors_total",
                                                reason="corrupt"), 1)
                        entry = [e for e in d.log_entries() if e.get("msg") ==
                                 "checkpoint unusable, set aside; starting empty"][-1]
                        print(f"  {name}: {entry['error']}")
                        aside = glob.glob(path + ".bad-*")
                        self.assertEqual(len(aside), 1)
                        self.assertEqual(open(aside[0], "rb").read(), data)
                    finally:
                        self.assertEqual(d.stop(), 0)

    def test_a_checkpoint_for_another_reference_is_not_restored(self):
        with TempDir() as tmp:
            d = Driftd(tmp, self.state_config(tmp))
            d.send("tcp", records(50)[2])
            d.wait_samples("x", 50)
            self.assertEqual(d.stop(), 0)
            new = copy.deepcopy(REFERENCE)
            new["features"]["x"]["counts"] = [1, 1, 1, 1]
            d.config["models"][0]["reference"] = write_reference(d, "other.json", new)
            d.write_config()
            d.start()
            try:
                self.assertEqual(feature(d.status(), "x")["samples"], 0)
                self.assertEqual(metric(d.metrics(), "driftd_state_errors_total",
                                        reason="mismatch"), 1)
                entry = [e for e in d.log_entries() if e.get("msg") ==
                         "model not restored from the checkpoint; its window starts empty"][-1]
                self.assertIn("reference changed", entry["reason"])
            finally:
                self.assertEqual(d.stop(), 0)

    def test_slices_that_left_the_window_are_dropped(self):
        with TempDir() as tmp:
            config = self.state_config(tmp)
            config["window"] = {"length_seconds": 2, "slices": 2}
            d = Driftd(tmp, config)
            d.send("tcp", records(50)[2])
            d.wait_samples("x", 50)
            self.assertEqual(d.stop(), 0)
            time.sleep(3.2)  # longer than the window
            d.start()
            try:
                self.assertEqual(metric(d.metrics(), "driftd_state_restored_records", model="m"),
                                 0)
                self.assertEqual(feature(d.status(), "x")["samples"], 0)
            finally:
                self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
