#include "daemon/http/endpoints.h"

namespace driftd {

namespace {

constexpr char kIndex[] = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>driftd</title></head>
<body><h1>driftd</h1>
<p>Data-drift monitor. Version %VERSION%.</p>
<ul>
<li><a href="/metrics">/metrics</a> &mdash; Prometheus metrics</li>
<li><a href="/api/v1/status">/api/v1/status</a> &mdash; every feature's divergences
(<a href="/api/v1/status?bins=true">with bins</a>)</li>
<li><a href="/healthz">/healthz</a> &mdash; liveness</li>
<li><a href="/readyz">/readyz</a> &mdash; readiness</li>
</ul>
<p>Send records with <code>POST /api/v1/ingest</code> (NDJSON or InfluxDB line protocol).</p>
</body></html>
)";

}  // namespace

HttpResponse IndexEndpoint(HttpContext* ctx, const HttpRequest&) {
  std::string page = kIndex;
  page.replace(page.find("%VERSION%"), 9, ctx->version);
  return {200, "text/html; charset=utf-8", std::move(page)};
}

}  // namespace driftd
