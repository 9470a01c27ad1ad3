// libFuzzer entry point for HTTP request handling: bytes as they come off a connection, parsed by
// Beast's request parser (driftd's header and body limits) into requests, each answered by
// HandleHttp against a real context (a model, a published evaluation, the ingest counters).
// Whatever the bytes: no crash, no over-read, and every answer is one of the statuses driftd
// documents, with a content type and, for 200 on /metrics, the exposition's families.
#include <prometheus/registry.h>

#include <atomic>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/export/metrics.h"
#include "daemon/http/server.h"
#include "daemon/log.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

void CheckAt(bool ok, int line) {
  if (!ok) {
    std::fprintf(stderr, "http_fuzz.cc:%d: check failed\n", line);
    std::abort();
  }
}
#define Check(ok) CheckAt((ok), __LINE__)

constexpr double kNow = 1700000000;

struct Context {
  Context() : metrics(&registry) {
    std::vector<std::string> errors;
    auto ref = driftd::ParseReference(R"({"model": "m", "version": "1", "features": {
        "x": {"type": "numeric", "edges": [0, 1, 2], "counts": [5, 5]},
        "c": {"type": "categorical", "categories": {"a": 5, "b": 5}}}})",
                                      "m.json", &errors);
    Check(ref.has_value());
    driftd::MonitorOptions o;
    o.windows = {{"w", {600, 10}}};
    o.min_samples = 2;
    monitor = std::make_unique<driftd::Monitor>(o, std::vector<driftd::Reference>{*ref}, kNow);
    ctx.published = &published;
    ctx.registry = &registry;
    ctx.monitor = monitor.get();
    ctx.metrics = &metrics;
    ctx.clock = [] { return kNow; };
    ctx.ready = &ready;
    ctx.max_line_bytes = 256;
    ctx.max_body_bytes = 4096;
    ctx.version = "fuzz";
    auto eval = monitor->Evaluate(kNow);
    std::string text = driftd::RenderEvaluation(*eval);
    published.Set(std::move(eval), std::move(text));
  }
  prometheus::Registry registry;
  driftd::IngestMetrics metrics;
  std::unique_ptr<driftd::Monitor> monitor;
  driftd::Published published;
  std::atomic<bool> ready{true};
  driftd::LogRateLimiter limiter{0};
  driftd::HttpContext ctx;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = driftd::SetupLogging("off", driftd::LogFormat::kText);
  (void)quiet;
  static Context* c = new Context();
  // An exact-size copy: ASan sees a read one past the input.
  const std::unique_ptr<char[]> copy(new char[size]);
  std::copy(data, data + size, copy.get());
  std::string_view rest(copy.get(), size);
  for (int requests = 0; requests < 8 && !rest.empty(); ++requests) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(8192);
    parser.body_limit(c->ctx.max_body_bytes);
    parser.eager(true);
    beast::error_code ec;
    const size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    if (ec || !parser.is_done()) return 0;  // a bad or unfinished request: the session closes
    Check(used > 0 && used <= rest.size());
    rest.remove_prefix(used);
    const auto& req = parser.get();
    const std::string_view method(req.method_string().data(), req.method_string().size());
    const std::string_view target(req.target().data(), req.target().size());
    const auto encoding = req[http::field::content_encoding];
    driftd::HttpResponse r = driftd::HandleHttp(&c->ctx, method, target, req.body(), &c->limiter,
                                                std::string_view(encoding.data(), encoding.size()));
    if (r.render) {  // what the server's renderer thread runs (the status document, the page)
      auto render = std::move(r.render);
      r.render = nullptr;
      render(&r);
    }
    // 403: /-/reload without the lifecycle API; 409: a snapshot of an empty window; 413 and
    // 415: a write body that inflates past the limit, or another Content-Encoding.
    Check(r.status == 200 || r.status == 202 || r.status == 204 || r.status == 400 ||
          r.status == 403 || r.status == 404 || r.status == 405 || r.status == 409 ||
          r.status == 413 || r.status == 415 || r.status == 503);
    Check(!r.content_type.empty());
    const std::string_view path = target.substr(0, target.find('?'));
    if (r.status == 200 && path == "/metrics" && method == "GET") {
      std::string wire = r.body;
      for (const auto& piece : r.shared) wire += *piece;
      Check(wire.find("driftd_ingest_records_total") != std::string::npos);
    }
  }
  return 0;
}
