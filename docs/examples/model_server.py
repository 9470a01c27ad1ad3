#!/usr/bin/python3
"""A model server that sends the features it serves to driftd with the InfluxDB Python client
(Debian's python3-influxdb), never blocking a request: docs/clients.md explains it.

    DRIFTD_URL=http://127.0.0.1:9470 python3 model_server.py --port 8000

POST /predict with {"amount": 12.5, "country": "de"} answers {"score": ...}. The features go
into a bounded queue (put_nowait: a full queue drops the record and counts it, the request never
waits); one background thread writes them to driftd's /write in gzip batches. GET /stats shows
what was sent, dropped and failed. Its test is tests/integration/test_client_example.py.
"""
import argparse
import json
import os
import queue
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from influxdb import InfluxDBClient


class DriftSender:
    """Sends feature records to driftd from a background thread, in batches."""

    def __init__(self, url, model, batch_size=500, flush_seconds=1.0, max_queued=100_000):
        u = urllib.parse.urlparse(url)
        self.client = InfluxDBClient(host=u.hostname, port=u.port or 9470,
                                     ssl=u.scheme == "https", verify_ssl=u.scheme == "https",
                                     gzip=True, timeout=5, retries=1)
        self.model = model
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.queue = queue.Queue(maxsize=max_queued)
        self.stats = {"queued": 0, "sent": 0, "dropped": 0, "failed": 0, "empty": 0}
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def record(self, features):
        """Called on the request path: O(1), never blocks, never raises."""
        point = {"measurement": self.model, "time": time.time_ns(), "tags": {}, "fields": {}}
        for name, value in features.items():
            if isinstance(value, str):
                point["tags"][name] = value  # categorical: a tag
            elif value is not None:
                point["fields"][name] = float(value)
        if not point["fields"] and not point["tags"]:
            self._count("empty")  # line protocol cannot carry a record with no value at all
            return
        if not point["fields"]:
            # A line needs a field: the tags become string fields (still categorical values).
            point["fields"], point["tags"] = point["tags"], {}
        try:
            self.queue.put_nowait(point)
            self._count("queued")
        except queue.Full:
            self._count("dropped")

    def _count(self, key, n=1):
        with self.lock:
            self.stats[key] += n

    def _run(self):
        while True:
            batch = [self.queue.get()]
            deadline = time.monotonic() + self.flush_seconds
            while len(batch) < self.batch_size:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    batch.append(self.queue.get(timeout=left))
                except queue.Empty:
                    break
            try:
                self.client.write_points(batch, time_precision="n")
                self._count("sent", len(batch))
            except Exception:  # driftd away or refusing: the features are lost, the model is not
                self._count("failed", len(batch))


def score(features):
    """Stands in for the model."""
    return min(1.0, float(features.get("amount") or 0) / 1000)


def make_server(port, sender):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            if self.path != "/predict":
                return self._reply(404, {"error": "not found"})
            features = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            sender.record(features)
            self._reply(200, {"score": score(features)})

        def do_GET(self):
            if self.path != "/stats":
                return self._reply(404, {"error": "not found"})
            with sender.lock:
                stats = dict(sender.stats)
            self._reply(200, stats)

        def _reply(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--model", default="fraud")
    ap.add_argument("--flush-seconds", type=float, default=1.0)
    args = ap.parse_args()
    sender = DriftSender(os.environ.get("DRIFTD_URL", "http://127.0.0.1:9470"), args.model,
                         flush_seconds=args.flush_seconds)
    server = make_server(args.port, sender)
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
