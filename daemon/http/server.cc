#include "daemon/http/server.h"

#include <prometheus/text_serializer.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "core/feature_metrics.h"

namespace driftd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

void Published::Set(std::shared_ptr<const Evaluation> eval, std::string metrics_text) {
  auto text = std::make_shared<const std::string>(std::move(metrics_text));
  std::lock_guard<std::mutex> lock(mu_);
  eval_ = std::move(eval);
  metrics_text_ = std::move(text);
}

std::shared_ptr<const Evaluation> Published::evaluation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return eval_;
}

std::shared_ptr<const std::string> Published::metrics_text() const {
  std::lock_guard<std::mutex> lock(mu_);
  return metrics_text_;
}

namespace {

// JSON has no NaN or infinity; the divergences are always finite, but be safe.
nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

std::string StatusJson(const HttpContext& ctx) {
  auto eval = ctx.published->evaluation();
  nlohmann::ordered_json out;
  out["version"] = ctx.version;
  out["ready"] = ctx.ready->load();
  if (!eval) {
    out["evaluated_at"] = nullptr;
    out["models"] = nlohmann::json::array();
    return out.dump(2);
  }
  out["evaluated_at"] = eval->timestamp;
  out["evaluation_seconds"] = eval->duration_seconds;
  const MonitorOptions& o = ctx.monitor->options();
  out["window"] = {{"length_seconds", o.window.length_seconds}, {"slices", o.window.slices}};
  out["evaluation"] = {
      {"min_samples", o.min_samples},
      {"smoothing", o.divergence.alpha},
      {"log_base", o.divergence.base == LogBase::kTwo ? "2" : "e"},
      {"kl_direction", o.kl_reference_to_window ? "reference_to_window" : "window_to_reference"}};
  auto models = nlohmann::ordered_json::array();
  for (const ModelEvaluation& m : eval->models) {
    nlohmann::ordered_json jm;
    jm["model"] = m.model;
    jm["reference_version"] = m.version;
    jm["reference_sha256"] = m.sha256;
    jm["evaluable_features"] = m.alerts.evaluable;
    jm["drifted_features"] = m.alerts.drifted;
    jm["critical_features"] = m.alerts.critical;
    jm["retrain_recommended"] = m.alerts.retrain;
    jm["late_total"] = m.late;
    jm["future_total"] = m.future;
    auto features = nlohmann::ordered_json::array();
    for (const FeatureEvaluation& f : m.features) {
      nlohmann::ordered_json jf;
      jf["feature"] = f.name;
      jf["type"] = f.kind == FeatureKind::kNumeric ? "numeric" : "categorical";
      jf["samples"] = f.samples;
      jf["status"] = f.samples == 0 ? "no_data" : (f.evaluable ? "ok" : "insufficient_data");
      if (f.evaluable) {
        for (const FeatureMetric& fm : FeatureMetrics()) {
          jf[std::string(fm.json_key)] = Number(fm.value(f));
        }
      }
      if (f.evaluable) {
        jf["p_value"] = f.significance.p_value;
        jf["p_value_adjusted"] = f.p_adjusted;
        jf["g_statistic"] = f.significance.g;
        jf["degrees_of_freedom"] = f.significance.dof;
        jf["kl_noise_floor"] = f.kl_noise_floor;
      }
      jf["drift"] = f.alert.Name();
      jf["missing_ratio"] = f.missing_ratio;
      jf["out_of_range_ratio"] = f.out_of_range_ratio;
      auto bins = nlohmann::ordered_json::array();
      const std::vector<double> window_p =
          SmoothedProbabilities(f.window_counts, o.divergence.alpha);
      for (size_t b = 0; b < f.window_counts.size(); ++b) {
        bins.push_back(
            nlohmann::ordered_json{{"bin", f.bins->BinLabel(static_cast<uint32_t>(b))},
                                   {"window_count", f.window_counts[b]},
                                   {"window_probability", window_p[b]},
                                   {"reference_count", (*f.reference_counts)[b]},
                                   {"reference_probability", (*f.reference_probabilities)[b]}});
      }
      jf["bins"] = std::move(bins);
      features.push_back(std::move(jf));
    }
    jm["features"] = std::move(features);
    models.push_back(std::move(jm));
  }
  out["models"] = std::move(models);
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

constexpr char kIndex[] = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>driftd</title></head>
<body><h1>driftd</h1>
<p>Data-drift monitor. Version %VERSION%.</p>
<ul>
<li><a href="/metrics">/metrics</a> &mdash; Prometheus metrics</li>
<li><a href="/api/v1/status">/api/v1/status</a> &mdash; every feature's divergences and bins</li>
<li><a href="/healthz">/healthz</a> &mdash; liveness</li>
<li><a href="/readyz">/readyz</a> &mdash; readiness</li>
</ul>
<p>Send records with <code>POST /api/v1/ingest</code> (NDJSON or InfluxDB line protocol).</p>
</body></html>
)";

}  // namespace

HttpResponse HandleHttp(HttpContext* ctx, std::string_view method, std::string_view target,
                        std::string_view body, LogRateLimiter* limiter) {
  const std::string_view path = target.substr(0, target.find('?'));
  const bool get = method == "GET" || method == "HEAD";
  if (path == "/api/v1/ingest") {
    if (method != "POST") return {405, "text/plain; charset=utf-8", "use POST\n"};
    LineProcessor proc(ctx->monitor, &ctx->metrics->transport(Transport::kHttp),
                       ctx->metrics->values(), limiter, ctx->max_line_bytes);
    const double now = ctx->clock();
    proc.Feed(body, now);
    proc.EndMessage(now);  // the body ends the last line
    proc.Flush();
    if (proc.rejected() == 0) return {204, "text/plain; charset=utf-8", ""};
    nlohmann::json j = {{"accepted", proc.accepted()},
                        {"rejected", proc.rejected()},
                        {"last_error", proc.last_error()}};
    return {400, "application/json",
            j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
  }
  if (!get) return {405, "text/plain; charset=utf-8", "method not allowed\n"};
  if (path == "/metrics") {
    // The evaluation's families go out as they were rendered, shared rather than copied.
    HttpResponse r(
        200, "text/plain; version=0.0.4; charset=utf-8",
        prometheus::TextSerializer().Serialize(ctx->registry->Collect()) + RenderProcessMetrics());
    if (auto eval_text = ctx->published->metrics_text()) r.shared.push_back(std::move(eval_text));
    return r;
  }
  if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
  if (path == "/readyz") {
    return ctx->ready->load() ? HttpResponse{200, "text/plain; charset=utf-8", "ready\n"}
                              : HttpResponse{503, "text/plain; charset=utf-8", "not ready\n"};
  }
  if (path == "/api/v1/status") return {200, "application/json", StatusJson(*ctx) + "\n"};
  if (path == "/") {
    std::string page = kIndex;
    page.replace(page.find("%VERSION%"), 9, ctx->version);
    return {200, "text/html; charset=utf-8", std::move(page)};
  }
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
