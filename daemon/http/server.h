// The HTTP listener (Boost.Beast) and the router in front of the endpoints (endpoints.h): /metrics,
// /healthz, /readyz, /api/v1/status, / and the ingest paths (POST /api/v1/ingest, /write and
// /api/v2/write). Requests are answered from the
// latest published evaluation, so a scrape never waits on ingest or on an evaluation in progress.
//
// Bounds (docs/architecture.md, "Memory and time bounds: HTTP"): at most http.max_connections
// connections, a new one evicting the connection that has waited longest for a request header;
// a header (or a keep-alive idle wait) within http.header_timeout_seconds, the whole request
// within http.request_timeout_seconds; accept errors back off (AcceptBackoff). Large status
// documents are rendered on a thread of their own ("status"), so the HTTP thread only moves bytes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.h"
#include "daemon/asio.h"
#include "daemon/http/context.h"
#include "daemon/log.h"

namespace driftd {

// Answers one request with the endpoint of the target's path (the query goes to the endpoint).
// Otherwise: 405 "use POST" for another method on the ingest paths, 405 for anything but GET or
// HEAD on any other path (known or not), 404 for an unknown path. HEAD is answered like GET; the
// session drops the body. Counts the answer in ctx->requests (handler: the route's path, or
// "other"; code), when set; a response left to `render` is counted with its status as returned.
// Thread-safe (the ingest path keeps its own LineProcessor per call).
// `content_encoding` is the request's Content-Encoding field (the write endpoints inflate gzip).
HttpResponse HandleHttp(HttpContext* ctx, std::string_view method, std::string_view target,
                        std::string_view body, LogRateLimiter* limiter,
                        std::string_view content_encoding = {});

struct HttpSecurity;  // daemon/http/security.h

// The main listener (http.listen: everything, the ingest paths unless http.ingest is false or
// http.ingest_listen is set) or the ingest one (http.ingest_listen: the ingest paths and health).
enum class HttpRole { kMain, kIngest };

// 401 for `target` when its request carried no or the wrong credentials: InfluxDB's error body on
// the write paths, "Unauthorized" elsewhere, with `WWW-Authenticate: Basic`; counted in
// ctx->requests (when set) like HandleHttp's answers.
HttpResponse UnauthorizedResponse(HttpContext* ctx, std::string_view target);

class HttpServer {
 public:
  // Will listen on `config.listen` (port 0: one the kernel picks) within config's bounds;
  // `ctx.max_body_bytes`, `ctx.status_responses` and `ctx.requests` are set from `config` here.
  // `role` kIngest listens on config.ingest_listen and names itself "http_ingest HOST:PORT".
  HttpServer(boost::asio::io_context* io, const HttpConfig& config, HttpContext ctx,
             HttpRole role = HttpRole::kMain);
  // Stops the renderer thread if Stop did not.
  ~HttpServer();
  // The TLS context, users and headers of --web.config.file (null: plain HTTP, no
  // authentication) for the connections accepted from now on; those open keep theirs. Before
  // Start, or on the io_context's thread. With users, every request needs their credentials
  // (401 and driftd_http_auth_failures_total otherwise).
  void SetSecurity(std::shared_ptr<const HttpSecurity> security);
  // Binds, starts the renderer thread and starts accepting; false with *error on failure.
  bool Start(std::string* error);
  // "http 127.0.0.1:9470", with the port actually bound.
  const std::string& bound() const { return bound_; }
  // Stops accepting, closes every connection and joins the renderer thread. Run on the
  // io_context's thread.
  void Stop();

  // A reload, in two steps run on the io_context's thread, so that it can fail before anything
  // changed. Prepare binds config.listen when it is not the address listened on (the new
  // listener does not accept yet): false with *error when it cannot bind. Then either Commit
  // applies `config`'s bounds to the requests read from now on, moves to the prepared listener
  // (the old one's queued connections are admitted first, and every open connection is answered
  // to its end) and reports the listeners in *stopped and *started; or Abandon closes the
  // prepared listener. `max_line_bytes` (ingest.max_line_bytes) and `refresh_seconds` (the
  // evaluation interval) are the endpoints' settings from the other sections.
  bool Prepare(const HttpConfig& config, std::string* error);
  void Commit(const HttpConfig& config, size_t max_line_bytes, double refresh_seconds,
              std::vector<std::string>* started, std::vector<std::string>* stopped);
  void Abandon();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
  HostPort listen_;    // as configured
  std::string bound_;  // set by Start, from the acceptor's local endpoint
  // The renderer: slow responses (HttpResponse::render) run here, off the HTTP thread.
  boost::asio::io_context render_io_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
      render_guard_;
  std::thread render_thread_;
};

}  // namespace driftd
