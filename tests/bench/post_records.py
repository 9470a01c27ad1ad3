#!/usr/bin/python3
"""Posts a file of records to driftd over one keep-alive HTTP connection, in bodies of BATCH
lines, as a client library would: NDJSON to /api/v1/ingest, line protocol to /write. Prints the
records sent and the wall time. The sender's own cost does not matter: the benchmark reads
driftd's CPU time from /proc.

Usage: post_records.py HOST:PORT PATH FILE RECORDS [BATCH]
"""
import http.client
import sys
import time


def main():
    address, path, file_name, records = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    batch = int(sys.argv[5]) if len(sys.argv) > 5 else 5000
    with open(file_name, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    bodies = [b"".join(lines[i:i + batch]) for i in range(0, len(lines), batch)]
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    sent = 0
    start = time.perf_counter()
    while sent < records:
        for body in bodies:
            n = min(batch, records - sent)
            if n < batch:
                body = b"".join(body.splitlines(keepends=True)[:n])
            conn.request("POST", path, body=body)
            response = conn.getresponse()
            response.read()
            if response.status not in (200, 204):
                sys.exit(f"POST {path}: HTTP {response.status}")
            sent += n
            if sent >= records:
                break
    took = time.perf_counter() - start
    print(f"posted {sent} records in {took:.3f} s over HTTP {path}, bodies of {batch} lines: "
          f"{sent / took:.0f} records/s")


if __name__ == "__main__":
    main()
