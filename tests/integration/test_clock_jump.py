"""A wall-clock step while driftd runs (libfaketime moves CLOCK_REALTIME only; CLOCK_BOOTTIME and
CLOCK_MONOTONIC stay real): the jump is detected, logged and counted, the windows move with it, so
their counts are kept and arrival-time records are never late."""
import os
import unittest

from driftd_harness import Driftd, TempDir, metric

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
TSAN_SUPPRESSIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                 "tsan-libfaketime.supp")


@unittest.skipUnless(os.path.exists(FAKETIME_LIB),
                     f"libfaketime is not installed ({FAKETIME_LIB}; Debian package faketime)")
class ClockJumpTest(unittest.TestCase):
    def test_jump_forward_past_the_window_and_back(self):
        with TempDir() as tmp:
            offset_file = os.path.join(tmp, "faketime")

            def set_offset(seconds):
                # Replaced atomically: driftd re-reads the file at every clock reading.
                with open(offset_file + ".tmp", "w") as f:
                    f.write(f"{seconds:+d}\n")
                os.replace(offset_file + ".tmp", offset_file)

            set_offset(0)
            env = {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME_TIMESTAMP_FILE": offset_file,
                   "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                   # Under ThreadSanitizer: the library's own races are not driftd's.
                   "TSAN_OPTIONS": " ".join(filter(None, [os.environ.get("TSAN_OPTIONS"),
                                                          f"suppressions={TSAN_SUPPRESSIONS}"]))}
            # A 10-minute window of 60 s slices: the jump threshold is one slice (60 s).
            d = Driftd(tmp, {"window": {"length_seconds": 600, "slices": 10}}, env=env)
            try:
                batch = "".join('{"model": "m", "features": {"x": 1.5, "c": "a"}}\n'
                                for _ in range(50))
                d.send("tcp", batch)
                d.wait_samples("x", 50)

                set_offset(7200)  # two hours ahead: far more than the window
                d.send("tcp", batch)
                d.wait_samples("x", 100)  # kept the first 50, counted the next 50
                m = d.wait_for(
                    lambda: (lambda ms: ms if metric(ms, "driftd_clock_jumps_total",
                                                     direction="forward") == 1 else None)(
                        d.metrics()),
                    "the forward jump to be counted")
                self.assertEqual(metric(m, "driftd_clock_jumps_total", direction="backward"), 0)

                set_offset(0)  # and back
                d.send("tcp", batch)
                d.wait_samples("x", 150)
                m = d.wait_for(
                    lambda: (lambda ms: ms if metric(ms, "driftd_clock_jumps_total",
                                                     direction="backward") == 1 else None)(
                        d.metrics()),
                    "the backward jump to be counted")
                self.assertEqual(metric(m, "driftd_clock_jumps_total", direction="forward"), 1)
                self.assertIn(metric(m, "driftd_ingest_errors_total", reason="late"), (None, 0))
                self.assertIn(metric(m, "driftd_ingest_errors_total", reason="future"), (None, 0))
                self.assertEqual(d.status()["models"][0]["late_total"], 0)

                jumps = [e for e in d.log_entries()
                         if e.get("msg") == "wall clock jumped; windows moved with it"]
                self.assertEqual([e["direction"] for e in jumps], ["forward", "backward"], jumps)
                self.assertEqual([e["level"] for e in jumps], ["warning", "warning"])
                # Measured against CLOCK_BOOTTIME: within a second of the step.
                self.assertAlmostEqual(jumps[0]["seconds"], 7200, delta=1)
                self.assertAlmostEqual(jumps[1]["seconds"], -7200, delta=1)
            finally:
                self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
