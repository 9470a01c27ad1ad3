"""Every command's bad flag or bad value: one line on stderr, nothing on stdout, exit status 64
(EX_USAGE), and never a crash (issue 7, point 6). Nothing here needs a running driftd: a bad
value must be refused before loadgen connects or run binds anything."""
import os
import subprocess
import unittest

from driftd_harness import DRIFTD

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = os.path.join(ROOT, "config", "examples", "driftd.json")
REFERENCE = os.path.join(ROOT, "config", "examples", "references", "fraud.json")
LOADGEN = ["loadgen", "--target", "tcp://127.0.0.1:1", "--reference", REFERENCE]
BUILD = ["reference", "build", "--input", REFERENCE, "--output", "/nonexistent/out.json",
         "--model", "m"]

# (arguments, the start of the expected line: the rest is " (see --help)" or similar)
CASES = [
    (["frobnicate"], 'driftd: unknown command "frobnicate"'),
    (["--records", "x"], 'driftd: unknown command "--records"'),
    (["reference"], "driftd reference: expected 'build'"),
    (["reference", "list"], "driftd reference: expected 'build'"),
    (["run"], "driftd run: missing required flag --config"),
    (["run", "--config"], "driftd run: --config: missing value"),
    (["run", "--config", CONFIG, "--nope"], "driftd run: unknown flag --nope"),
    (["run", "--config", CONFIG, "extra"], 'driftd run: unexpected argument "extra"'),
    (["run", "--config", CONFIG, "--log.format", "xml"], "driftd run: --log.format: expected text or json"),
    (["run", "--config", CONFIG, "--log.level", "loud"], "driftd run: --log.level: expected trace"),
    (["check-config"], "driftd check-config: missing required flag --config"),
    (["check-config", "--config", CONFIG, "--verbose"],
     "driftd check-config: unknown flag --verbose"),
    (BUILD + ["--bins", "x"],
     'driftd reference build: --bins: expected an integer from 1 to 10000, got "x"'),
    (BUILD + ["--bins", "0"],
     'driftd reference build: --bins: expected an integer from 1 to 10000, got "0"'),
    (BUILD + ["--bins", "99999999999999999999"],
     'driftd reference build: --bins: expected an integer from 1 to 10000,'),
    (BUILD + ["--max-categories", "-1"],
     'driftd reference build: --max-categories: expected an integer from 1 to 10000, '
     'got "-1"'),
    (BUILD + ["--strategy", "median"],
     'driftd reference build: --strategy: expected quantile or uniform, got "median"'),
    (BUILD + ["--format", "xml"],
     'driftd reference build: --format: expected auto, csv or ndjson, got "xml"'),
    (["reference", "build", "--input", REFERENCE],
     "driftd reference build: missing required flag --output"),
    (LOADGEN + ["--records", "x"],
     'driftd loadgen: --records: expected a non-negative integer, got "x" (see --help)'),
    (LOADGEN + ["--records", "-5"],
     'driftd loadgen: --records: expected a non-negative integer, got "-5"'),
    (LOADGEN + ["--records=1e6"],
     'driftd loadgen: --records: expected a non-negative integer, got "1e6"'),
    (LOADGEN + ["--rate", "fast"], 'driftd loadgen: --rate: expected a number >= 0, got "fast"'),
    (LOADGEN + ["--rate", "-1"], 'driftd loadgen: --rate: expected a number >= 0, got "-1"'),
    (LOADGEN + ["--duration", "nan"],
     'driftd loadgen: --duration: expected a number >= 0, got "nan"'),
    (LOADGEN + ["--drift", "2"], 'driftd loadgen: --drift: expected a number from 0 to 1, got "2"'),
    (LOADGEN + ["--drift-after", "soon"],
     'driftd loadgen: --drift-after: expected a number >= -1, got "soon"'),
    (LOADGEN + ["--seed", "1.5"], 'driftd loadgen: --seed: expected a non-negative integer'),
    (LOADGEN + ["--format", "csv"],
     'driftd loadgen: --format: expected ndjson or influx, got "csv"'),
    (LOADGEN + ["--metrics-url", "localhost:9470"], "driftd loadgen: --metrics-url: expected"),
    (["loadgen", "--target", "ftp://x:1", "--reference", REFERENCE],
     "driftd loadgen: --target: expected tcp://host:port"),
    (["loadgen", "--target", "tcp://nohostport", "--reference", REFERENCE],
     "driftd loadgen: --target: expected tcp://host:port"),
    (["loadgen", "--target", "tcp://127.0.0.1:1"],
     "driftd loadgen: give either --reference or --input"),
    (LOADGEN + ["--input", REFERENCE], "driftd loadgen: give either --reference or --input"),
    (["loadgen", "--reference", REFERENCE], "driftd loadgen: missing required flag --target"),
]


class UsageErrorTest(unittest.TestCase):
    def test_bad_flags_and_values_exit_64_with_one_line(self):
        for args, want in CASES:
            with self.subTest(args=args[:1] + args[-2:]):
                r = subprocess.run([DRIFTD] + args, capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 64, f"{args}: {r.stderr!r}")
                self.assertEqual(r.stdout, "", args)
                lines = r.stderr.splitlines()
                self.assertEqual(len(lines), 1, f"{args}: {r.stderr!r}")
                self.assertTrue(lines[0].startswith(want), f"{args}: {lines[0]!r}")

    def test_help_is_not_an_error(self):
        for args in (["--help"], ["loadgen", "--help"], ["reference", "build", "--help"]):
            r = subprocess.run([DRIFTD] + args, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, args)
            self.assertEqual(r.stderr, "", args)

    def test_no_command_lists_the_commands(self):
        r = subprocess.run([DRIFTD], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 64)
        self.assertIn("commands:", r.stderr)


if __name__ == "__main__":
    unittest.main()
