#include <prometheus/text_serializer.h>

#include "daemon/http/endpoints.h"

namespace driftd {

HttpResponse MetricsEndpoint(HttpContext* ctx, const HttpRequest&) {
  // The evaluation's families go out as they were rendered, shared rather than copied.
  HttpResponse r(
      200, "text/plain; version=0.0.4; charset=utf-8",
      prometheus::TextSerializer().Serialize(ctx->registry->Collect()) + RenderProcessMetrics());
  if (auto eval_text = ctx->published->metrics_text()) r.shared.push_back(std::move(eval_text));
  return r;
}

}  // namespace driftd
