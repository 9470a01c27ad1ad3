// Sends points to driftd through the InfluxDB JavaScript client's write API, as a Node service
// would: batched, gzip-compressed, millisecond precision. Used by test_influx_clients.py.
//   node write_influx.mjs URL POINTS.json [TOKEN]
// POINTS.json: [{"model", "fields": {name: number|string}, "tags": {name: string}, "ms"}].
// Prints {"written": N, "error": null | {"status", "body"}} on stdout.
import { readFileSync } from 'node:fs';
import { InfluxDB, Point } from '@influxdata/influxdb-client';

const [url, file, token] = process.argv.slice(2);
const points = JSON.parse(readFileSync(file, 'utf8'));
const influx = new InfluxDB({ url, token: token ?? '' });
const writeApi = influx.getWriteApi('driftd-org', 'driftd-bucket', 'ms', {
  batchSize: 100,
  flushInterval: 50,
  gzipThreshold: 0, // every batch gzip-compressed
  maxRetries: 0,
});
let error = null;
for (const p of points) {
  const point = new Point(p.model).timestamp(p.ms);
  for (const [k, v] of Object.entries(p.fields)) {
    if (typeof v === 'number') point.floatField(k, v);
    else point.stringField(k, v);
  }
  for (const [k, v] of Object.entries(p.tags ?? {})) point.tag(k, v);
  writeApi.writePoint(point);
}
try {
  await writeApi.close();
} catch (e) {
  error = { status: e.statusCode ?? null, body: e.body ?? String(e) };
}
process.stdout.write(JSON.stringify({ written: points.length, error }) + '\n');
