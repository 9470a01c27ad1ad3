#include "daemon/http/server.h"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <list>
#include <unordered_map>

#include "daemon/accept_backoff.h"
#include "daemon/event_loop.h"
#include "daemon/http/endpoints.h"
#include "daemon/http/query.h"
#include "daemon/http/security.h"

namespace driftd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

// Which methods a route answers: reads (GET, and HEAD whose body the session drops) or POST.
enum class Methods { kRead, kPost };

// What a route is for, as HttpRoutes selects them.
enum class Kind { kIngest, kHealth, kOther };

struct Route {
  std::string_view path;
  Methods methods;
  Kind kind;
  HttpResponse (*handler)(HttpContext* ctx, const HttpRequest& req);
};

constexpr Route kRoutes[] = {
    {"/", Methods::kRead, Kind::kOther, PageEndpoint},
    {"/metrics", Methods::kRead, Kind::kOther, MetricsEndpoint},
    {"/healthz", Methods::kRead, Kind::kHealth, HealthzEndpoint},
    {"/readyz", Methods::kRead, Kind::kHealth, ReadyzEndpoint},
    {"/api/v1/status", Methods::kRead, Kind::kOther, StatusEndpoint},
    {"/api/v1/ingest", Methods::kPost, Kind::kIngest, IngestEndpoint},
    {"/write", Methods::kPost, Kind::kIngest, WriteV1Endpoint},
    {"/api/v2/write", Methods::kPost, Kind::kIngest, WriteV2Endpoint},
    {"/api/v1/snapshot", Methods::kRead, Kind::kOther, SnapshotEndpoint},
    {"/-/reload", Methods::kPost, Kind::kOther, ReloadEndpoint},
};

// The `handler` label of a path outside the routing table: one value, so a client cannot grow
// the metric's label set.
constexpr std::string_view kOtherHandler = "other";

// The `handler` label of `path`: its route's path, or kOtherHandler.
std::string_view HandlerOf(std::string_view path) {
  for (const Route& route : kRoutes) {
    if (route.path == path) return route.path;
  }
  return kOtherHandler;
}

HttpResponse Dispatch(HttpContext* ctx, std::string_view method, std::string_view target,
                      std::string_view body, LogRateLimiter* limiter,
                      std::string_view content_encoding, std::string_view* handler) {
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  const bool read = method == "GET" || method == "HEAD";
  for (const Route& route : kRoutes) {
    if (route.path != path) continue;
    if (ctx->routes == HttpRoutes::kIngestOnly && route.kind == Kind::kOther) break;
    *handler = route.path;
    if (ctx->routes == HttpRoutes::kNoIngest && route.kind == Kind::kIngest) {
      return {403, "text/plain; charset=utf-8",
              "ingest is not served on this listener (http.ingest, http.ingest_listen)\n"};
    }
    if (route.methods == Methods::kPost && method != "POST") {
      return {405, "text/plain; charset=utf-8", "use POST\n"};
    }
    if (route.methods == Methods::kRead && !read) break;
    return route.handler(ctx, HttpRequest{method, path, query, body, limiter, content_encoding});
  }
  // Any other method is refused before an unknown path is reported.
  if (!read) return {405, "text/plain; charset=utf-8", "method not allowed\n"};
  return {404, "text/plain; charset=utf-8", "not found\n"};
}

}  // namespace

HttpResponse HandleHttp(HttpContext* ctx, std::string_view method, std::string_view target,
                        std::string_view body, LogRateLimiter* limiter,
                        std::string_view content_encoding) {
  std::string_view handler = kOtherHandler;
  HttpResponse r = Dispatch(ctx, method, target, body, limiter, content_encoding, &handler);
  if (ctx->requests != nullptr) {
    ctx->requests->Add({{"handler", std::string(handler)}, {"code", std::to_string(r.status)}})
        .Increment();
  }
  return r;
}

HttpResponse UnauthorizedResponse(HttpContext* ctx, std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  HttpResponse r;
  // The InfluxDB write API answers as InfluxDB does, for its clients' error handling.
  if (path == "/write") {
    r = {401, "application/json; charset=utf-8", "{\"error\":\"authorization failed\"}\n"};
  } else if (path == "/api/v2/write") {
    r = {401, "application/json; charset=utf-8",
         "{\"code\":\"unauthorized\",\"message\":\"unauthorized access\"}\n"};
  } else {
    r = {401, "text/plain; charset=utf-8", "Unauthorized\n"};
  }
  r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"driftd\"");
  if (ctx->requests != nullptr) {
    ctx->requests->Add({{"handler", std::string(HandlerOf(path))}, {"code", "401"}}).Increment();
  }
  return r;
}

namespace {

// Room made in a connection's read buffer while a request body comes in: Beast reads that much
// at a time. Given back (shrink_to_fit) when the connection waits for its next request.
constexpr size_t kBodyReadBytes = 64 * 1024;

// A Beast body of a string plus shared strings, written as a sequence of buffers: no copy. The
// lease (a ResponseLimiter slot) is held until the response is destroyed.
struct PiecesBody {
  struct value_type {
    std::string head;
    std::vector<std::shared_ptr<const std::string>> shared;
    std::shared_ptr<const void> lease;
  };
  static std::uint64_t size(const value_type& v) {
    std::uint64_t n = v.head.size();
    for (const auto& piece : v.shared) n += piece->size();
    return n;
  }
  class writer {
   public:
    using const_buffers_type = asio::const_buffer;
    template <bool isRequest, class Fields>
    writer(const http::header<isRequest, Fields>&, const value_type& v) : v_(v) {}
    void init(error_code& ec) { ec = {}; }
    boost::optional<std::pair<const_buffers_type, bool>> get(error_code& ec) {
      ec = {};
      // Piece 0 is the head, then the shared pieces; empty ones are skipped.
      while (next_ <= v_.shared.size()) {
        const std::string& s = next_ == 0 ? v_.head : *v_.shared[next_ - 1];
        ++next_;
        if (!s.empty()) {
          return std::make_pair(asio::const_buffer(s.data(), s.size()), next_ <= v_.shared.size());
        }
      }
      return boost::none;
    }

   private:
    const value_type& v_;
    size_t next_ = 0;
  };
};

using Clock = std::chrono::steady_clock;

std::chrono::steady_clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// One HTTP connection. Touched only on the HTTP thread.
struct Connection {
  Connection(asio::ip::tcp::socket s, std::shared_ptr<const HttpSecurity> sec)
      : stream(std::move(s)), security(std::move(sec)) {
    if (security && security->tls) tls.emplace(stream, *security->tls);
  }

  // Runs `f` with the stream requests are read from and answers written to: the TLS layer over
  // `stream`, or `stream` itself.
  template <class F>
  void With(F&& f) {
    if (tls) {
      f(*tls);
    } else {
      f(stream);
    }
  }

  enum class State {
    kHeader,  // waiting for a request header (idle or mid-header): may be evicted
    kBody,    // reading the body
    kBusy,    // being answered (rendered or written)
    kClosed,
  };

  beast::tcp_stream stream;  // the TCP connection, with its deadline
  // The web configuration in force when it was accepted (null: none): TLS, users, headers.
  std::shared_ptr<const HttpSecurity> security;
  std::optional<asio::ssl::stream<beast::tcp_stream&>> tls;  // over `stream`, when serving TLS
  beast::flat_buffer buffer;
  std::optional<http::request_parser<http::string_body>> parser;
  State state = State::kHeader;
  bool answered = false;       // a request was answered: waiting now is keep-alive idle
  bool unread = false;         // answered before its body was read (413): close with a linger
  Clock::time_point deadline;  // the current request's (http.request_timeout)
  std::list<Connection*>::iterator waiting;  // its place in Impl::waiting while kHeader
};

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  using Acceptor = asio::ip::tcp::acceptor;

  Impl(asio::io_context* io, const HttpConfig& config, HttpContext c, HttpRole role)
      : role(role),
        io(io),
        acceptor(std::make_shared<Acceptor>(*io)),
        accept_timer(*io),
        ctx(std::move(c)),
        status_responses(config.max_status_responses) {
    ctx.status_responses = &status_responses;
    if (ctx.requests == nullptr) ctx.requests = HttpRequestsFamily(ctx.registry);
    auto& failures = prometheus::BuildCounter()
                         .Name("driftd_http_auth_failures_total")
                         .Help(
                             "HTTP requests refused for their credentials (401), and TLS "
                             "handshakes that failed (--web.config.file), by reason.")
                         .Register(*ctx.registry);
    no_credentials = &failures.Add({{"reason", "no_credentials"}});
    wrong_credentials = &failures.Add({{"reason", "wrong_credentials"}});
    tls_handshake = &failures.Add({{"reason", "tls_handshake"}});
    SetBounds(config);
  }

  using ConnectionPtr = std::shared_ptr<Connection>;

  const HttpRole role;
  asio::io_context* io;
  asio::io_context* render_io = nullptr;  // HttpServer's, set by Start
  // The listener; a reload that moves it swaps in another (the old one's connections stay).
  std::shared_ptr<Acceptor> acceptor;
  std::shared_ptr<Acceptor> prepared;  // bound by Prepare, not accepting until Commit
  asio::steady_timer accept_timer;
  AcceptBackoff backoff;
  HttpContext ctx;
  size_t max_connections = 0;
  Clock::duration header_timeout{}, request_timeout{};
  ResponseLimiter status_responses;
  LogRateLimiter limiter{5};                     // the ingest endpoint's error logs
  LogRateLimiter accept_limiter{1};              // accept errors
  LogRateLimiter tls_limiter{1};                 // failed TLS handshakes
  std::shared_ptr<const HttpSecurity> security;  // for connections accepted from now on
  // driftd_http_auth_failures_total, by reason.
  prometheus::Counter* no_credentials = nullptr;
  prometheus::Counter* wrong_credentials = nullptr;
  prometheus::Counter* tls_handshake = nullptr;
  std::string name;  // "http 127.0.0.1:9470"
  bool stopped = false;
  std::unordered_map<Connection*, ConnectionPtr> connections;
  // The connections waiting for a request header, the one waiting longest first.
  std::list<Connection*> waiting;

  TransportMetrics& counters() { return ctx.metrics->transport(Transport::kHttp); }

  // The bounds of `config`, for requests read from now on.
  void SetBounds(const HttpConfig& config) {
    max_connections = config.max_connections;
    header_timeout = Seconds(config.header_timeout_seconds);
    request_timeout = Seconds(config.request_timeout_seconds);
    ctx.max_body_bytes = config.max_body_bytes;
    status_responses.set_max(config.max_status_responses);
    if (role == HttpRole::kIngest) {
      ctx.routes = HttpRoutes::kIngestOnly;
    } else {
      ctx.routes =
          config.ingest && !config.ingest_listen ? HttpRoutes::kAll : HttpRoutes::kNoIngest;
    }
  }

  // Accepts on `a` for as long as it is the listener.
  void Accept(const std::shared_ptr<Acceptor>& a) {
    a->async_accept([self = shared_from_this(), a](error_code ec, asio::ip::tcp::socket s) {
      if (self->stopped || a != self->acceptor) return;  // stopped, or moved by a reload
      if (ec) {
        self->AcceptFailed(a, ec);
        return;
      }
      self->backoff.Success();
      self->Admit(std::move(s));
      self->Accept(a);
    });
  }

  // Counts and logs the error, and tries again after the back-off. Out of descriptors, the
  // longest-waiting connection goes first, so that the retry can take a scrape.
  void AcceptFailed(const std::shared_ptr<Acceptor>& a, const error_code& ec) {
    counters().Error(Reason::kAcceptError);
    if (ec == error_code(EMFILE, boost::system::system_category()) ||
        ec == error_code(ENFILE, boost::system::system_category())) {
      EvictLongestWaiting();
    }
    const AcceptBackoff::Duration delay = backoff.Failure();
    LogAcceptError(&accept_limiter, name, ec.message(), delay);
    accept_timer.expires_after(delay);
    accept_timer.async_wait([self = shared_from_this(), a](error_code wait_ec) {
      if (wait_ec || self->stopped || a != self->acceptor) return;
      self->Accept(a);
    });
  }

  void Admit(asio::ip::tcp::socket s) {
    if (connections.size() >= max_connections && !EvictLongestWaiting()) {
      // Every connection is reading a body or being answered: refuse the new one.
      counters().Error(Reason::kTooManyConnections);
      error_code ec;
      s.close(ec);
      return;
    }
    auto c = std::make_shared<Connection>(std::move(s), security);
    connections.emplace(c.get(), c);
    counters().connections->Set(static_cast<double>(connections.size()));
    if (c->tls) {
      Handshake(c);
    } else {
      ReadHeader(c);
    }
  }

  // The TLS handshake, within http.header_timeout_seconds; meanwhile the connection counts as
  // waiting for a header (it may be evicted). A failure is counted and closes the connection.
  void Handshake(const ConnectionPtr& c) {
    c->state = Connection::State::kHeader;
    c->waiting = waiting.insert(waiting.end(), c.get());
    c->stream.expires_after(header_timeout);
    c->tls->async_handshake(
        asio::ssl::stream_base::server, [self = shared_from_this(), c](error_code ec) {
          if (c->state == Connection::State::kClosed) return;
          self->waiting.erase(c->waiting);
          c->state = Connection::State::kBody;
          if (ec) {
            self->tls_handshake->Increment();
            uint64_t suppressed = 0;
            if (self->tls_limiter.Allow(&suppressed)) {
              Log(spdlog::level::warn, "TLS handshake failed",
                  {{"listener", self->name}, {"error", ec.message()}, {"suppressed", suppressed}});
            }
            self->Close(c.get());
            return;
          }
          self->ReadHeader(c);
        });
  }

  // Closes the connection that has waited longest for a request header, counted as
  // too_many_connections; false when no connection is waiting for one.
  bool EvictLongestWaiting() {
    if (waiting.empty()) return false;
    counters().Error(Reason::kTooManyConnections);
    Close(waiting.front());
    return true;
  }

  void ReadHeader(const ConnectionPtr& c) {
    c->state = Connection::State::kHeader;
    // An idle connection holds no body buffer.
    if (c->buffer.size() == 0) c->buffer.shrink_to_fit();
    c->waiting = waiting.insert(waiting.end(), c.get());
    c->parser.emplace();
    c->parser->body_limit(ctx.max_body_bytes);
    c->deadline = Clock::now() + request_timeout;
    c->stream.expires_after(header_timeout);
    c->With([&](auto& stream) {
      http::async_read_header(
          stream, c->buffer, *c->parser,
          [self = shared_from_this(), c](error_code ec, size_t) { self->OnHeader(c, ec); });
    });
  }

  void OnHeader(const ConnectionPtr& c, error_code ec) {
    if (c->state == Connection::State::kClosed) return;  // evicted or stopped
    waiting.erase(c->waiting);
    c->state = Connection::State::kBody;
    if (ec == beast::error::timeout) {
      // A keep-alive connection that sent nothing more is idle, not slow.
      if (c->parser->got_some() || !c->answered) counters().Error(Reason::kSlowClient);
      Close(c.get());
      return;
    }
    if (!ec && !c->parser->is_done()) {
      // Beast reads what the buffer has room for, at least 512 bytes: left at the header's size,
      // a body came in 512-byte reads, each a recvmsg and a timer update (5x the CPU per record
      // of the same records over TCP).
      c->buffer.reserve(kBodyReadBytes);
      c->stream.expires_at(c->deadline);
      c->With([&](auto& stream) {
        http::async_read(stream, c->buffer, *c->parser,
                         [self = shared_from_this(), c](error_code body_ec, size_t) {
                           self->OnRequest(c, body_ec);
                         });
      });
      return;
    }
    OnRequest(c, ec);
  }

  void OnRequest(const ConnectionPtr& c, error_code ec) {
    if (c->state == Connection::State::kClosed) return;
    if (ec == http::error::body_limit) {
      counters().Error(Reason::kBodyTooLarge);
      c->unread = true;
      Write(c, BodyTooLargeResponse(Text(c->parser->get().target()), ctx.max_body_bytes), false,
            false);
      return;
    }
    if (ec == beast::error::timeout) counters().Error(Reason::kSlowClient);
    if (ec) {
      Close(c.get());
      return;
    }
    c->state = Connection::State::kBusy;
    const BasicAuth* auth = c->security ? c->security->auth.get() : nullptr;
    if (auth == nullptr) {
      Answer(c);
      return;
    }
    const auto& req = c->parser->get();
    std::optional<Credentials> credentials =
        ParseAuthorization(Text(req[http::field::authorization]));
    const std::string_view target = Text(req.target());
    if (!credentials && target.substr(0, target.find('?')) == "/write") {
      credentials = QueryCredentials(target);  // InfluxDB 1.x: ?u=USER&p=PASSWORD
    }
    if (!credentials) {
      no_credentials->Increment();
      Refuse(c);
      return;
    }
    if (auth->Remembered(*credentials)) {
      Answer(c);
      return;
    }
    // bcrypt takes tens of milliseconds: on the renderer thread, so that the HTTP thread never
    // waits for it (a flood of wrong passwords cannot delay a scrape).
    // `c` holds its security, and so `auth`, until the answer.
    asio::post(*render_io,
               [self = shared_from_this(), c, auth, credentials = std::move(*credentials)] {
                 const bool ok = auth->Check(credentials) == BasicAuth::Outcome::kOk;
                 asio::post(*self->io, [self, c, ok] {
                   if (c->state == Connection::State::kClosed) return;
                   if (ok) {
                     self->Answer(c);
                   } else {
                     self->wrong_credentials->Increment();
                     self->Refuse(c);
                   }
                 });
               });
  }

  static std::string_view Text(boost::beast::string_view s) { return {s.data(), s.size()}; }

  // The u and p parameters of `target`'s query, when it has both.
  static std::optional<Credentials> QueryCredentials(std::string_view target) {
    const size_t question = target.find('?');
    if (question == std::string_view::npos) return std::nullopt;
    std::string error;
    const auto params = ParseQuery(target.substr(question + 1), &error);
    if (!params) return std::nullopt;
    std::optional<std::string> user, password;
    for (const auto& [key, value] : *params) {
      if (key == "u") user = value;
      if (key == "p") password = value;
    }
    if (!user || !password) return std::nullopt;
    return Credentials{*user, *password};
  }

  // 401 for the request of `c`, whose body (read) is dropped.
  void Refuse(const ConnectionPtr& c) {
    const auto& req = c->parser->get();
    HttpResponse r = UnauthorizedResponse(&ctx, Text(req.target()));
    const bool keep_alive = req.keep_alive();
    const bool head = req.method() == http::verb::head;
    c->parser.reset();
    Write(c, std::move(r), keep_alive, head);
  }

  // Answers the request of `c`, read and authorised.
  void Answer(const ConnectionPtr& c) {
    const auto& req = c->parser->get();
    const auto method = req.method_string();
    const auto target = req.target();
    const auto encoding = req[http::field::content_encoding];
    HttpResponse r = HandleHttp(&ctx, std::string_view(method.data(), method.size()),
                                std::string_view(target.data(), target.size()), req.body(),
                                &limiter, std::string_view(encoding.data(), encoding.size()));
    const bool keep_alive = req.keep_alive();
    const bool head = req.method() == http::verb::head;
    c->parser.reset();  // the request (its body may be large) is no longer needed
    if (!r.render) {
      Write(c, std::move(r), keep_alive, head);
      return;
    }
    // Made on the renderer thread, written from this one.
    asio::post(*render_io,
               [self = shared_from_this(), c, r = std::move(r), keep_alive, head]() mutable {
                 auto render = std::move(r.render);
                 r.render = nullptr;
                 render(&r);
                 asio::post(*self->io, [self, c, r = std::move(r), keep_alive, head]() mutable {
                   self->Write(c, std::move(r), keep_alive, head);
                 });
               });
  }

  void Write(const ConnectionPtr& c, HttpResponse r, bool keep_alive, bool head) {
    if (c->state == Connection::State::kClosed) return;
    c->state = Connection::State::kBusy;
    auto res =
        std::make_shared<http::response<PiecesBody>>(static_cast<http::status>(r.status), 11);
    res->set(http::field::server, "driftd");
    res->set(http::field::content_type, r.content_type);
    for (const auto& [field, value] : r.headers) res->set(field, value);
    if (c->security) {
      for (const auto& [field, value] : c->security->headers) res->set(field, value);
    }
    res->keep_alive(keep_alive && !stopped);
    if (!head) res->body() = {std::move(r.body), std::move(r.shared), std::move(r.lease)};
    res->prepare_payload();
    // A client that does not read its response holds it at most this long.
    c->stream.expires_after(request_timeout);
    c->With([&](auto& stream) {
      http::async_write(stream, *res, [self = shared_from_this(), c, res](error_code ec, size_t) {
        if (c->state == Connection::State::kClosed) return;
        if (!ec && c->unread) {
          self->Linger(c);
          return;
        }
        if (ec || !res->keep_alive()) {
          self->Close(c.get());
          return;
        }
        c->answered = true;
        self->ReadHeader(c);
      });
    });
  }

  // Closes `c` after an answer that left its request unread (413): stops sending and discards
  // what the client still sends, for a second at most, then closes. Closing at once with data
  // unread would reset the connection, and a reset can destroy the answer before it is read.
  void Linger(const ConnectionPtr& c) {
    error_code ec;
    c->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    c->stream.expires_after(std::chrono::seconds(1));
    Discard(c);
  }

  void Discard(const ConnectionPtr& c) {
    c->buffer.clear();
    c->With([&](auto& stream) {
      stream.async_read_some(c->buffer.prepare(4096),  // never committed: discarded
                             [self = shared_from_this(), c](error_code ec, size_t) {
                               if (c->state == Connection::State::kClosed) return;
                               if (ec) {
                                 self->Close(c.get());
                                 return;
                               }
                               self->Discard(c);
                             });
    });
  }

  // Closes `c` (its pending operation ends with an error) and forgets it. Idempotent.
  void Close(Connection* c) {
    if (c->state == Connection::State::kClosed) return;
    if (c->state == Connection::State::kHeader) waiting.erase(c->waiting);
    c->state = Connection::State::kClosed;
    error_code ec;
    c->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    c->stream.close();
    connections.erase(c);  // the pending handler still holds it
    counters().connections->Set(static_cast<double>(connections.size()));
  }
};

namespace {

// The address `role` listens on in `config`.
HostPort ListenOf(const HttpConfig& config, HttpRole role) {
  return role == HttpRole::kIngest ? config.ingest_listen.value_or(config.listen) : config.listen;
}

}  // namespace

HttpServer::HttpServer(asio::io_context* io, const HttpConfig& config, HttpContext ctx,
                       HttpRole role)
    : impl_(std::make_shared<Impl>(io, config, std::move(ctx), role)),
      listen_(ListenOf(config, role)) {}

HttpServer::~HttpServer() {
  render_guard_.reset();
  render_io_.stop();
  if (render_thread_.joinable()) render_thread_.join();
}

namespace {

// Binds `listen` on `acceptor`; false with *error ("http HOST:PORT: why") on failure.
bool BindHttp(asio::ip::tcp::acceptor* acceptor, const HostPort& listen, std::string* error) {
  error_code ec;
  auto addr = asio::ip::make_address(listen.host, ec);
  if (!ec) ec = Listen(acceptor, asio::ip::tcp::endpoint(addr, listen.port), true);
  if (ec) {
    *error = "http " + FormatHostPort(listen) + ": " + ec.message();
    return false;
  }
  return true;
}

std::string BoundName(const asio::ip::tcp::acceptor& acceptor, HttpRole role) {
  error_code ec;
  const auto local = acceptor.local_endpoint(ec);
  return (role == HttpRole::kIngest ? "http_ingest " : "http ") +
         FormatHostPort({local.address().to_string(), local.port()});
}

}  // namespace

void HttpServer::SetSecurity(std::shared_ptr<const HttpSecurity> security) {
  impl_->security = std::move(security);
}

bool HttpServer::Start(std::string* error) {
  if (!BindHttp(impl_->acceptor.get(), listen_, error)) return false;
  bound_ = BoundName(*impl_->acceptor, impl_->role);
  impl_->name = bound_;
  impl_->render_io = &render_io_;
  render_guard_.emplace(asio::make_work_guard(render_io_));
  render_thread_ =
      StartLoopThread(&render_io_, "status", InternalErrors(impl_->ctx.registry, "status"));
  impl_->Accept(impl_->acceptor);
  return true;
}

bool HttpServer::Prepare(const HttpConfig& config, std::string* error) {
  Abandon();
  const HostPort listen = ListenOf(config, impl_->role);
  if (listen == listen_) return true;
  auto next = std::make_shared<Impl::Acceptor>(*impl_->io);
  if (!BindHttp(next.get(), listen, error)) return false;
  impl_->prepared = std::move(next);
  return true;
}

void HttpServer::Abandon() {
  if (!impl_->prepared) return;
  error_code ec;
  impl_->prepared->close(ec);
  impl_->prepared.reset();
}

void HttpServer::Commit(const HttpConfig& config, size_t max_line_bytes, double refresh_seconds,
                        std::vector<std::string>* started, std::vector<std::string>* stopped) {
  impl_->SetBounds(config);
  impl_->ctx.max_line_bytes = max_line_bytes;
  impl_->ctx.refresh_seconds = refresh_seconds;
  if (!impl_->prepared) return;
  stopped->push_back(bound_);
  // Connections the kernel completed on the old listener are admitted first; every open
  // connection keeps being answered, whichever listener it came through.
  AcceptQueued(impl_->acceptor.get(), impl_->io,
               [this](asio::ip::tcp::socket s) { impl_->Admit(std::move(s)); });
  error_code ec;
  impl_->acceptor->close(ec);
  impl_->accept_timer.cancel();
  impl_->backoff.Success();
  impl_->acceptor = std::move(impl_->prepared);
  listen_ = ListenOf(config, impl_->role);
  bound_ = BoundName(*impl_->acceptor, impl_->role);
  impl_->name = bound_;
  started->push_back(bound_);
  impl_->Accept(impl_->acceptor);
}

void HttpServer::Stop() {
  impl_->stopped = true;
  Abandon();
  error_code ec;
  impl_->acceptor->close(ec);
  impl_->accept_timer.cancel();
  std::vector<Connection*> open;
  for (const auto& [c, owner] : impl_->connections) open.push_back(c);
  for (Connection* c : open) impl_->Close(c);
  render_guard_.reset();
  render_io_.stop();
  if (render_thread_.joinable()) render_thread_.join();
}

}  // namespace driftd
