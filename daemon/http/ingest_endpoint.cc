#include <nlohmann/json.hpp>

#include "daemon/http/endpoints.h"
#include "daemon/ingest/line_processor.h"

namespace driftd {

HttpResponse IngestEndpoint(HttpContext* ctx, const HttpRequest& req) {
  // A LineProcessor per request: concurrent requests share nothing but the monitor and counters.
  LineProcessor proc(ctx->monitor, &ctx->metrics->transport(Transport::kHttp),
                     ctx->metrics->values(), req.limiter, ctx->max_line_bytes);
  const double now = ctx->clock();
  proc.Feed(req.body, now);
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
