// The HTTP listener (Boost.Beast): /metrics, /healthz, /readyz, /api/v1/status, / and
// POST /api/v1/ingest. Requests are answered from the latest published evaluation, so a scrape
// never waits on ingest or on an evaluation in progress.
#pragma once

#include <prometheus/registry.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/asio.h"
#include "daemon/ingest/line_processor.h"

namespace driftd {

// What the evaluation thread publishes and the HTTP thread reads. Thread-safe.
class Published {
 public:
  void Set(std::shared_ptr<const Evaluation> eval, std::string metrics_text);
  std::shared_ptr<const Evaluation> evaluation() const;
  std::shared_ptr<const std::string> metrics_text() const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Evaluation> eval_;           // guarded by mu_
  std::shared_ptr<const std::string> metrics_text_;  // guarded by mu_
};

struct HttpContext {
  Published* published = nullptr;
  prometheus::Registry* registry = nullptr;
  Monitor* monitor = nullptr;
  IngestMetrics* metrics = nullptr;
  std::function<double()> clock;
  std::atomic<bool>* ready = nullptr;
  size_t max_line_bytes = 65536;
  size_t max_body_bytes = 64 << 20;
  std::string version;
};

// A response, before it meets the socket (so handlers are testable without one).
struct HttpResponse {
  HttpResponse() = default;
  HttpResponse(int s, std::string type, std::string text)
      : status(s), content_type(std::move(type)), body(std::move(text)) {}
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Shared, immutable text sent after `body` without being copied (the rendered metrics of an
  // evaluation run to megabytes with 10,000s of features).
  std::vector<std::shared_ptr<const std::string>> shared;
};

// Answers one request. Thread-safe (the ingest path keeps its own LineProcessor per call).
HttpResponse HandleHttp(HttpContext* ctx, std::string_view method, std::string_view target,
                        std::string_view body, LogRateLimiter* limiter);

class HttpServer {
 public:
  // Will listen on `config.listen` (port 0: one the kernel picks).
  HttpServer(boost::asio::io_context* io, const HttpConfig& config, HttpContext ctx);
  ~HttpServer();
  // Binds and starts accepting; false with *error on failure.
  bool Start(std::string* error);
  // "http 127.0.0.1:9470", with the port actually bound.
  const std::string& bound() const { return bound_; }
  // Stops accepting and closes idle connections. Run on the io_context's thread.
  void Stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
  HostPort listen_;    // as configured
  std::string bound_;  // set by Start, from the acceptor's local endpoint
};

}  // namespace driftd
