#!/usr/bin/python3
"""The Grafana dashboard's queries against the real servers: a real Prometheus (Debian's
`prometheus`) scrapes a real driftd fed with known data; every template variable is resolved as
Grafana resolves it (label_values through the Prometheus API), and every panel's PromQL, with the
variables filled in, must parse and return data. Skips when prometheus is not installed
(PROMETHEUS_BIN overrides).

Run: DRIFTD_BIN=build/daemon/driftd /usr/bin/python3 -m unittest -v test_dashboard
"""
import json
import os
import re
import threading
import time
import unittest
import urllib.parse

from driftd_harness import Driftd, TempDir
from test_alerting_e2e import Server, find_binary, http_json, start_on_free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "driftd-dashboard.json")
# What Grafana gives $__rate_interval with a 1 s scrape interval is 4 s; a little more, so that
# a loaded machine's late scrape still leaves two samples in every range.
RATE_INTERVAL = "15s"


def panels(items):
    """Every panel, rows' collapsed panels included."""
    for p in items:
        yield p
        yield from panels(p.get("panels", []))


def label_values(prom, definition):
    """Grafana's label_values(METRIC{MATCHERS}, LABEL) through /api/v1/label/LABEL/values."""
    m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", definition)
    if m is None:
        raise AssertionError(f"unsupported variable query: {definition}")
    selector, label = m.groups()
    url = (f"{prom}/api/v1/label/{label}/values?" +
           urllib.parse.urlencode({"match[]": selector}))
    return http_json(url)["data"]


def fill(expr, values):
    for name, value in sorted(values.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace("$" + name, value)
    return expr


class DashboardQueriesTest(unittest.TestCase):
    def test_every_panel_query_returns_data(self):
        prometheus_bin = find_binary("PROMETHEUS_BIN", "prometheus")
        if prometheus_bin is None:
            self.skipTest("prometheus not installed (Debian package prometheus)")
        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        with TempDir() as tmp:
            d = Driftd(tmp, start=False)
            d.config.pop("window")
            d.config["windows"] = [{"name": "1m", "length_seconds": 60, "slices": 30},
                                   {"name": "10m", "length_seconds": 600, "slices": 60}]
            d.write_config()
            d.start()
            stop = threading.Event()

            def feed():  # good records that drift, and a bad line, every 0.1 s
                i = 0
                while not stop.is_set():
                    lines = "".join(f'{{"model": "m", "features": {{"x": {3.5 if i % 3 else 0.5},'
                                    f' "c": "{"abc"[i % 3]}"}}}}\n' for i in range(i, i + 20))
                    d.send("tcp", lines + "this is not a record\n")
                    i += 20
                    stop.wait(0.1)

            feeder = threading.Thread(target=feed)
            feeder.start()
            prometheus = None
            try:
                config = {"global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
                          "scrape_configs": [{"job_name": "driftd", "static_configs": [
                              {"targets": [d.addresses["http"]]}]}]}
                path = os.path.join(tmp, "prometheus.yml")
                with open(path, "w") as f:
                    json.dump(config, f)

                def make(port):
                    return Server("prometheus", [
                        prometheus_bin, f"--config.file={path}",
                        f"--storage.tsdb.path={os.path.join(tmp, 'prometheus-data')}",
                        f"--web.listen-address=127.0.0.1:{port}"],
                        tmp, f"http://127.0.0.1:{port}/-/ready")
                prometheus = start_on_free_port("prometheus", make)
                prom = prometheus.ready_url.rsplit("/-/", 1)[0]
                d.wait_for(lambda: any(
                    t["health"] == "up" for t in
                    http_json(prom + "/api/v1/targets")["data"]["activeTargets"]),
                    "prometheus to scrape driftd", 30)
                time.sleep(6)  # a few scrapes, so that every rate() has two samples

                # The variables, in order, each from the ones before it.
                values = {"__rate_interval": RATE_INTERVAL}
                for var in dashboard["templating"]["list"]:
                    if var["type"] != "query":
                        continue
                    query = var["definition"]
                    found = label_values(prom, fill(query, values))
                    self.assertTrue(found, f"variable {var['name']}: {query} found nothing")
                    # As Grafana's Prometheus datasource writes a multi-value: each value
                    # regex-escaped, the backslash doubled for the PromQL string.
                    values[var["name"]] = "|".join(re.escape(v).replace("\\", "\\\\")
                                                   for v in found) \
                        if var.get("multi") else found[0]
                self.assertEqual(values["job"], "driftd")
                self.assertEqual(set(values["feature"].split("|")), {"x", "c"})
                self.assertEqual(set(values["window"].split("|")), {"1m", "10m"})

                queried = 0
                for panel in panels(dashboard["panels"]):
                    for target in panel.get("targets", []):
                        expr = fill(target["expr"], values)
                        self.assertNotIn("$", expr, f"{panel['title']}: unfilled variable")
                        answer = http_json(f"{prom}/api/v1/query?" +
                                           urllib.parse.urlencode({"query": expr}))
                        self.assertEqual(answer["status"], "success", expr)
                        self.assertTrue(answer["data"]["result"],
                                        f"panel {panel['title']!r}: no data for {expr}")
                        queried += 1
                print(f"  {queried} panel queries, every one with data")
                self.assertGreaterEqual(queried, 10)
            finally:
                stop.set()
                feeder.join()
                if prometheus is not None:
                    prometheus.stop()
                self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
