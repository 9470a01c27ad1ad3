// The HTTP listener (Boost.Beast) and the router in front of the endpoints (endpoints.h): /metrics,
// /healthz, /readyz, /api/v1/status, / and POST /api/v1/ingest. Requests are answered from the
// latest published evaluation, so a scrape never waits on ingest or on an evaluation in progress.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "daemon/asio.h"
#include "daemon/http/context.h"
#include "daemon/log.h"

namespace driftd {

// Answers one request with the endpoint of the target's path (the query is ignored). Otherwise:
// 405 "use POST" for another method on /api/v1/ingest, 405 for anything but GET or HEAD on any
// other path (known or not), 404 for an unknown path. HEAD is answered like GET; the session
// drops the body.
// Thread-safe (the ingest path keeps its own LineProcessor per call).
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
