#include "daemon/http/endpoints.h"

namespace driftd {

HttpResponse ReloadEndpoint(HttpContext* ctx, const HttpRequest&) {
  if (!ctx->reload) {
    return {403, "text/plain; charset=utf-8",
            "the lifecycle API is not enabled (start driftd with --web.enable-lifecycle)\n"};
  }
  HttpResponse r(200, "text/plain; charset=utf-8", "");
  // Reading and checking every reference may take a while: not on the HTTP thread.
  r.render = [reload = ctx->reload](HttpResponse* out) {
    std::string error;
    if (reload(&error)) {
      out->body = "configuration reloaded\n";
    } else {
      out->status = 500;
      out->body = "configuration reload failed; the running configuration is kept:\n" + error;
    }
  };
  return r;
}

}  // namespace driftd
