#include "daemon/http/server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <set>

#include "daemon/http/endpoints.h"

namespace driftd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

// Which methods a route answers: reads (GET, and HEAD whose body the session drops) or POST.
enum class Methods { kRead, kPost };

struct Route {
  std::string_view path;
  Methods methods;
  HttpResponse (*handler)(HttpContext* ctx, const HttpRequest& req);
};

constexpr Route kRoutes[] = {
    {"/", Methods::kRead, IndexEndpoint},
    {"/metrics", Methods::kRead, MetricsEndpoint},
    {"/healthz", Methods::kRead, HealthzEndpoint},
    {"/readyz", Methods::kRead, ReadyzEndpoint},
    {"/api/v1/status", Methods::kRead, StatusEndpoint},
    {"/api/v1/ingest", Methods::kPost, IngestEndpoint},
};

}  // namespace

HttpResponse HandleHttp(HttpContext* ctx, std::string_view method, std::string_view target,
                        std::string_view body, LogRateLimiter* limiter) {
  const std::string_view path = target.substr(0, target.find('?'));
  const bool read = method == "GET" || method == "HEAD";
  for (const Route& route : kRoutes) {
    if (route.path != path) continue;
    if (route.methods == Methods::kPost && method != "POST") {
      return {405, "text/plain; charset=utf-8", "use POST\n"};
    }
    if (route.methods == Methods::kRead && !read) break;
    return route.handler(ctx, HttpRequest{method, path, body, limiter});
  }
  // Any other method is refused before an unknown path is reported.
  if (!read) return {405, "text/plain; charset=utf-8", "method not allowed\n"};
  return {404, "text/plain; charset=utf-8", "not found\n"};
}

namespace {

// A Beast body of a string plus shared strings, written as a sequence of buffers: no copy.
struct PiecesBody {
  struct value_type {
    std::string head;
    std::vector<std::shared_ptr<const std::string>> shared;
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

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context* io, HttpContext c) : io(io), acceptor(*io), ctx(std::move(c)) {}
  asio::io_context* io;
  asio::ip::tcp::acceptor acceptor;
  HttpContext ctx;
  LogRateLimiter limiter{5};
  bool stopped = false;
  std::set<std::shared_ptr<beast::tcp_stream>> streams;

  void Accept() {
    acceptor.async_accept([self = shared_from_this()](error_code ec, asio::ip::tcp::socket s) {
      if (self->stopped) return;
      if (!ec) Session(self, std::make_shared<beast::tcp_stream>(std::move(s)));
      self->Accept();
    });
  }

  static void Session(std::shared_ptr<Impl> self, std::shared_ptr<beast::tcp_stream> stream) {
    self->streams.insert(stream);
    Read(std::move(self), std::move(stream));
  }

  static void Read(std::shared_ptr<Impl> self, std::shared_ptr<beast::tcp_stream> stream) {
    auto buffer = std::make_shared<beast::flat_buffer>();
    auto parser = std::make_shared<http::request_parser<http::string_body>>();
    parser->body_limit(self->ctx.max_body_bytes);
    stream->expires_after(std::chrono::seconds(60));
    http::async_read(
        *stream, *buffer, *parser, [self, stream, buffer, parser](error_code ec, size_t) {
          if (ec == http::error::body_limit) {
            self->ctx.metrics->transport(Transport::kHttp).Error(Reason::kBodyTooLarge);
            HttpResponse r{413, "text/plain; charset=utf-8", "body too large\n"};
            Write(self, stream, std::move(r), false, false);
            return;
          }
          if (ec) {
            self->Close(stream);
            return;
          }
          auto& req = parser->get();
          const auto method = req.method_string();
          const auto target = req.target();
          HttpResponse r = HandleHttp(&self->ctx, std::string_view(method.data(), method.size()),
                                      std::string_view(target.data(), target.size()), req.body(),
                                      &self->limiter);
          Write(self, stream, std::move(r), req.keep_alive(), req.method() == http::verb::head);
        });
  }

  static void Write(std::shared_ptr<Impl> self, std::shared_ptr<beast::tcp_stream> stream,
                    HttpResponse r, bool keep_alive, bool head) {
    auto res =
        std::make_shared<http::response<PiecesBody>>(static_cast<http::status>(r.status), 11);
    res->set(http::field::server, "driftd");
    res->set(http::field::content_type, r.content_type);
    res->keep_alive(keep_alive && !self->stopped);
    if (!head) res->body() = {std::move(r.body), std::move(r.shared)};
    res->prepare_payload();
    http::async_write(*stream, *res, [self, stream, res](error_code ec, size_t) {
      if (ec || !res->keep_alive()) {
        self->Close(stream);
        return;
      }
      Read(self, stream);
    });
  }

  void Close(const std::shared_ptr<beast::tcp_stream>& stream) {
    error_code ec;
    stream->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    stream->socket().close(ec);
    streams.erase(stream);
  }
};

HttpServer::HttpServer(asio::io_context* io, const HttpConfig& config, HttpContext ctx)
    : impl_(std::make_shared<Impl>(io, std::move(ctx))), listen_(config.listen) {}

HttpServer::~HttpServer() = default;

bool HttpServer::Start(std::string* error) {
  const std::string what = "http " + FormatHostPort(listen_);
  error_code ec;
  auto addr = asio::ip::make_address(listen_.host, ec);
  if (ec) {
    *error = what + ": " + ec.message();
    return false;
  }
  ec = Listen(&impl_->acceptor, asio::ip::tcp::endpoint(addr, listen_.port), true);
  if (ec) {
    *error = what + ": " + ec.message();
    return false;
  }
  const auto local = impl_->acceptor.local_endpoint();
  bound_ = "http " + FormatHostPort({local.address().to_string(), local.port()});
  impl_->Accept();
  return true;
}

void HttpServer::Stop() {
  impl_->stopped = true;
  error_code ec;
  impl_->acceptor.close(ec);
  auto streams = impl_->streams;
  for (const auto& s : streams) impl_->Close(s);
}

}  // namespace driftd
