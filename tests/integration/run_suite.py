#!/usr/bin/python3
"""Runs unittest modules or classes as CTest does (python3 run_suite.py -v test_x.Class): exit 0
when they passed, 1 when one failed, and 77 (CTest's SKIP_RETURN_CODE) when every test skipped,
so that a suite missing its binaries (Prometheus, Chromium, a client library) shows as "Skipped",
with the reason in its output, not as "Passed"."""
import sys
import unittest

if __name__ == "__main__":
    result = unittest.main(module=None, argv=[sys.argv[0]] + sys.argv[1:], exit=False).result
    if not result.wasSuccessful():
        sys.exit(1)
    # Skipped tests, not subtests (a skipped subtest is listed under its test, which still ran);
    # a class skipped in setUpClass runs no test at all and is listed as one skip.
    skipped = {test.id() for test, _ in result.skipped if not hasattr(test, "test_case")}
    ran = result.testsRun
    if skipped and (ran == 0 or len(skipped) >= ran):
        sys.exit(77)
    sys.exit(0)
