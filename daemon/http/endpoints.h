// The endpoints behind HandleHttp's routing table, one file each (or per closely related group).
// Each is called only for its path and an allowed method; the router answers 404 and 405.
// All are thread-safe: they read the context's shared state and keep nothing of their own.
#pragma once

#include <string_view>

#include "daemon/http/context.h"
#include "daemon/ingest/line_processor.h"

namespace driftd {

class LogRateLimiter;  // daemon/log.h

// One request as the router hands it on: the path, its query (after '?', undecoded), the body.
struct HttpRequest {
  std::string_view method;
  std::string_view path;
  std::string_view query;
  std::string_view body;
  LogRateLimiter* limiter = nullptr;  // for the ingest path's error logs
  std::string_view content_encoding;  // the Content-Encoding field ("gzip"), empty when absent
};

// GET /metrics: the registry's counters, the process metrics, then the published evaluation's
// families (shared, not copied). Text exposition format 0.0.4.
HttpResponse MetricsEndpoint(HttpContext* ctx, const HttpRequest& req);

// GET /api/v1/status: the published evaluation as JSON, every feature's divergences; each
// feature's bins only with `bins=true`. `model=NAME` and `feature=NAME` (each repeatable) keep
// those models and features (a model with none of the features is left out). 400 for an unknown
// parameter, a bad bins value or a bad %-escape; 404 for a model, or a feature, in no (selected)
// model; 503 with Retry-After when ctx->status_responses are all in use (TakeLargeResponseSlot;
// the live page and snapshots share them). `"models": []` and a null `evaluated_at` before the
// first evaluation. The unfiltered "models" arrays are rendered once per evaluation and shared
// (Published); everything large is left to the response's `render`, to run off the HTTP thread.
HttpResponse StatusEndpoint(HttpContext* ctx, const HttpRequest& req);

// POST /api/v1/ingest: the body's lines applied to the monitor, counted under transport "http",
// ctx->ingest_chunk_bytes at a time (the model's lock is released between chunks).
// 204 when every record was accepted; otherwise 400 with {"accepted","rejected","last_error"}.
HttpResponse IngestEndpoint(HttpContext* ctx, const HttpRequest& req);

// The InfluxDB write API (write_endpoint.cc), on the same pipeline as POST /api/v1/ingest (the
// measurement names the model; records counted under transport "http"). POST /write is 1.x
// (`db`, `rp`, `precision` in n/ns, u/us/µ, ms, s, m or h, `u`, `p`, `consistency`), POST
// /api/v2/write is 2.x (`org`, `orgID`, `bucket`, `precision` in ns, us, ms or s); the database,
// bucket and organisation are accepted and not used. `Content-Encoding: gzip` bodies are inflated
// and held to ctx->max_body_bytes inflated. Answers as InfluxDB does: 204 when every line was
// applied; 400 with InfluxDB's error body (1.x {"error"}, 2.x {"code","message","line"}) naming
// the first line rejected, the others applied (a partial write); 400 for a bad parameter, 413
// for a body that inflates past the limit, 415 for another Content-Encoding, before anything is
// applied (counted as bad_request or body_too_large).
// 413 for a request whose body is over `limit` (http.max_body_bytes), refused before it was read:
// InfluxDB's error body on the write endpoints, plain text on the others.
HttpResponse BodyTooLargeResponse(std::string_view target, size_t limit);
HttpResponse WriteV1Endpoint(HttpContext* ctx, const HttpRequest& req);
HttpResponse WriteV2Endpoint(HttpContext* ctx, const HttpRequest& req);

// For the ingest endpoints: a processor for one request's body, and `bytes` of it fed through
// it ctx->ingest_chunk_bytes at a time, flushed (the model's lock released) after each chunk.
LineProcessor NewBodyProcessor(HttpContext* ctx, const HttpRequest& req);
void FeedBody(HttpContext* ctx, LineProcessor* proc, std::string_view bytes, double now);

// GET /healthz: always 200 "ok". GET /readyz: 200 "ready" or 503 "not ready", from ctx->ready.
HttpResponse HealthzEndpoint(HttpContext* ctx, const HttpRequest& req);
HttpResponse ReadyzEndpoint(HttpContext* ctx, const HttpRequest& req);

// POST /-/reload: reloads the configuration (Daemon::Reload) through ctx->reload; 200 when it
// was applied, 500 with the problems when the running configuration was kept, 403 when started
// without --web.enable-lifecycle (ctx->reload null). The reload runs off the HTTP thread.
HttpResponse ReloadEndpoint(HttpContext* ctx, const HttpRequest& req);

// GET /api/v1/snapshot?model=NAME[&version=TEXT]: the model's current window as a reference
// file (docs/reference-format.md): its features and bins, the window's counts, `version` (by
// default "snapshot-" and the time) and created_at. 404 for an unknown model, 409 when the
// window holds nothing yet, 400 for other parameters.
HttpResponse SnapshotEndpoint(HttpContext* ctx, const HttpRequest& req);

// GET /: the live page (page_endpoint.cc). Per model, its features worst first (drift level, then
// the alert metric), each with the window's and the reference's bin probabilities drawn side by
// side (inline SVG), its divergences, p-value, noise floor, samples, missing and out-of-range
// shares, and its alert metric over the last evaluations (MetricHistory). `model=NAME`, `q=TEXT`
// (features whose name contains it), `page=N` and `per_page=N` (default 50, at most 500) select;
// 400 for anything else. Rendered off the HTTP thread; reloads itself every evaluation interval.
HttpResponse PageEndpoint(HttpContext* ctx, const HttpRequest& req);

}  // namespace driftd
