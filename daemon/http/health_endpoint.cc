#include "daemon/http/endpoints.h"

namespace driftd {

HttpResponse HealthzEndpoint(HttpContext*, const HttpRequest&) {
  return {200, "text/plain; charset=utf-8", "ok\n"};
}

HttpResponse ReadyzEndpoint(HttpContext* ctx, const HttpRequest&) {
  return ctx->ready->load() ? HttpResponse{200, "text/plain; charset=utf-8", "ready\n"}
                            : HttpResponse{503, "text/plain; charset=utf-8", "not ready\n"};
}

}  // namespace driftd
