#!/usr/bin/python3
"""Fleet-wide drift computed by Prometheus (issue 12): three driftd instances, each fed a disjoint
third of one stream and exporting their bin counts (models[].export_bins), are scraped by a real
Prometheus with the shipped deploy/prometheus/driftd.fleet.rules.yml; a fourth driftd is fed the
whole stream. Every fleet divergence the rules compute must equal the fourth driftd's own value to
a relative error of 1e-9. The same through two levels: two Prometheus servers each scrape part of
the fleet, and a global one federates the counts (/federate) and runs the rules. Skips when
prometheus is not installed (PROMETHEUS_BIN overrides).

Run: DRIFTD_BIN=build/daemon/driftd /usr/bin/python3 -m unittest -v test_fleet
"""
import json
import os
import random
import unittest
import urllib.parse

from driftd_harness import Driftd, TempDir, metric
from test_alerting_e2e import Server, find_binary, http_json, start_on_free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES = os.path.join(ROOT, "deploy", "prometheus", "driftd.fleet.rules.yml")
RECORDS = 3000

# Each fleet recording rule and the driftd gauge it must equal.
PAIRS = {
    "driftd_fleet:window_samples:sum": "driftd_feature_window_samples",
    "driftd_fleet:kl_divergence_window_to_reference": "driftd_feature_kl_divergence",
    "driftd_fleet:entropy": "driftd_feature_entropy",
    "driftd_fleet:cross_entropy": "driftd_feature_cross_entropy",
    "driftd_fleet:psi": "driftd_feature_psi",
    "driftd_fleet:js_divergence": "driftd_feature_js_divergence",
    "driftd_fleet:hellinger_distance": "driftd_feature_hellinger_distance",
    "driftd_fleet:total_variation_distance": "driftd_feature_total_variation_distance",
    "driftd_fleet:linf_distance": "driftd_feature_linf_distance",
    "driftd_fleet:kl_noise_floor": "driftd_feature_kl_noise_floor",
}


def stream():
    """RECORDS records that drift from the reference: x shifted, c with a new category, some
    missing."""
    rng = random.Random(12)
    lines = []
    for _ in range(RECORDS):
        features = {"x": round(rng.gauss(2.6, 1.1), 3), "c": rng.choice("aabbczz")}
        if rng.random() < 0.05:
            del features["x"]
        lines.append(json.dumps({"model": "m", "features": features}) + "\n")
    return lines


def query(prom, expr):
    answer = http_json(f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def start_prometheus(binary, tmp, name, config):
    """A real Prometheus named `name` with `config` (a dict), on a free port; returns the Server
    and its base URL."""
    path = os.path.join(tmp, f"{name}.yml")
    with open(path, "w") as f:
        json.dump(config, f)

    def make(port):
        return Server(name, [
            binary, f"--config.file={path}",
            f"--storage.tsdb.path={os.path.join(tmp, name + '-data')}",
            f"--web.listen-address=127.0.0.1:{port}"],
            tmp, f"http://127.0.0.1:{port}/-/ready")
    server = start_on_free_port(name, make)
    return server, server.ready_url.rsplit("/-/", 1)[0]


GLOBAL = {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
# What the global level federates: the counts and the two settings, never the recorded
# divergences (they do not add).
FEDERATED = ['{__name__=~"driftd_feature_(window|reference)_bin_count|'
             'driftd_evaluation_(smoothing_alpha|log_base)"}']


class FleetTest(unittest.TestCase):
    def start_fleet(self, tmp, lines):
        """Three exporting driftd, each fed a third of `lines`, and one fed them all."""
        fleet = []
        for i in range(3):
            os.makedirs(os.path.join(tmp, f"d{i}"))
            d = Driftd(os.path.join(tmp, f"d{i}"), start=False)
            d.config["models"][0]["export_bins"] = True
            d.write_config()
            d.start()
            fleet.append(d)
        os.makedirs(os.path.join(tmp, "single"))
        single = Driftd(os.path.join(tmp, "single"))
        for i, d in enumerate(fleet):
            d.send("tcp", "".join(lines[i::3]))
        single.send("tcp", "".join(lines))
        single.wait_for(lambda: metric(single.metrics(), "driftd_feature_window_samples",
                                       feature="c") == RECORDS, "the whole stream")
        return fleet, single

    def assert_fleet_equals_single(self, prom, single):
        def fleet_complete():
            r = query(prom, 'driftd_fleet:window_samples:sum{feature="c"}')
            return r and float(r[0]["value"][1]) == RECORDS
        single.wait_for(fleet_complete, "the fleet's window in Prometheus", 60)
        own = single.metrics()
        worst, compared = 0.0, 0
        for record, gauge in PAIRS.items():
            for feature in ("x", "c"):
                result = query(prom, f'{record}{{job="fleet",model="m",feature="{feature}",'
                                     f'window="1h"}}')
                self.assertEqual(len(result), 1, (record, feature, result))
                got = float(result[0]["value"][1])
                want = metric(own, gauge, model="m", feature=feature, window="1h")
                self.assertIsNotNone(want, (gauge, feature))
                rel = abs(got - want) / max(abs(want), 1e-300)
                worst = max(worst, rel)
                compared += 1
                self.assertLessEqual(rel, 1e-9, (record, feature, got, want))
        print(f"  {compared} fleet values against one process: largest relative error "
              f"{worst:.3g}")
        self.assertEqual(float(query(prom, 'driftd_fleet:instances:count{feature="x"}')
                               [0]["value"][1]), 3)

    def test_two_levels_through_federation(self):
        """Two Prometheus servers each scrape part of the fleet; a global one federates the
        counts and runs the rules."""
        binary = find_binary("PROMETHEUS_BIN", "prometheus")
        if binary is None:
            self.skipTest("prometheus not installed (Debian package prometheus)")
        with TempDir() as tmp:
            fleet, single, servers = [], None, []
            try:
                fleet, single = self.start_fleet(tmp, stream())
                lower = []
                for name, members in (("prometheus-a", fleet[:2]), ("prometheus-b", fleet[2:])):
                    server, url = start_prometheus(binary, tmp, name, {
                        "global": GLOBAL,
                        "scrape_configs": [{"job_name": "fleet", "static_configs": [
                            {"targets": [d.addresses["http"] for d in members]}]}]})
                    servers.append(server)
                    lower.append(url)
                server, prom = start_prometheus(binary, tmp, "prometheus-global", {
                    "global": GLOBAL,
                    "rule_files": [RULES],
                    "scrape_configs": [{
                        "job_name": f"federate-{i}", "honor_labels": True,
                        "metrics_path": "/federate", "params": {"match[]": FEDERATED},
                        "static_configs": [{"targets": [url.split("//", 1)[1]]}]}
                        for i, url in enumerate(lower)]})
                servers.append(server)
                self.assert_fleet_equals_single(prom, single)
            finally:
                for server in servers:
                    server.stop()
                for d in fleet + ([single] if single else []):
                    self.assertEqual(d.stop(), 0)

    def test_three_sidecars_equal_one_process(self):
        binary = find_binary("PROMETHEUS_BIN", "prometheus")
        if binary is None:
            self.skipTest("prometheus not installed (Debian package prometheus)")
        with TempDir() as tmp:
            fleet, single, prometheus = [], None, None
            try:
                fleet, single = self.start_fleet(tmp, stream())
                prometheus, prom = start_prometheus(binary, tmp, "prometheus", {
                    "global": GLOBAL,
                    "rule_files": [RULES],
                    "scrape_configs": [{"job_name": "fleet", "static_configs": [
                        {"targets": [d.addresses["http"] for d in fleet]}]}]})
                self.assert_fleet_equals_single(prom, single)
            finally:
                if prometheus is not None:
                    prometheus.stop()
                for d in fleet + ([single] if single else []):
                    self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
