#include <algorithm>
#include <nlohmann/json.hpp>

#include "daemon/http/endpoints.h"
#include "daemon/ingest/line_processor.h"

namespace driftd {

LineProcessor NewBodyProcessor(HttpContext* ctx, const HttpRequest& req) {
  // A LineProcessor per request: concurrent requests share nothing but the monitor and counters.
  return LineProcessor(ctx->monitor, &ctx->metrics->transport(Transport::kHttp),
                       ctx->metrics->values(), req.limiter, ctx->max_line_bytes);
}

void FeedBody(HttpContext* ctx, LineProcessor* proc, std::string_view bytes, double now) {
  // A chunk at a time: Flush() releases the model's lock (held across a chunk's records), so the
  // other transports and the evaluation wait at most one chunk, not a whole 64 MiB body. A line
  // cut by a chunk boundary is joined by the processor's splitter.
  const size_t chunk = std::max<size_t>(ctx->ingest_chunk_bytes, 1);
  for (size_t at = 0; at < bytes.size(); at += chunk) {
    proc->Feed(bytes.substr(at, chunk), now);
    proc->Flush();
    if (ctx->after_ingest_chunk) ctx->after_ingest_chunk();
  }
}

HttpResponse IngestEndpoint(HttpContext* ctx, const HttpRequest& req) {
  LineProcessor proc = NewBodyProcessor(ctx, req);
  const double now = ctx->clock();
  FeedBody(ctx, &proc, req.body, now);
  proc.EndMessage(now);  // the body ends the last line
  proc.Flush();
  if (proc.rejected() == 0) return {204, "text/plain; charset=utf-8", ""};
  nlohmann::json j = {{"accepted", proc.accepted()},
                      {"rejected", proc.rejected()},
                      {"last_error", proc.last_error()}};
  return {400, "application/json",
          j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

}  // namespace driftd
