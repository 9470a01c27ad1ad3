// What every HTTP endpoint reads: the published evaluation, the registry and ingest counters, the
// monitor, the clock and the ready flag; and the response an endpoint returns before it meets a
// socket. No Beast here: endpoints are testable without a connection.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/monitor.h"
#include "daemon/export/metrics.h"

namespace driftd {

// The alert metric of every feature in every window over the last kPoints evaluations, oldest first
// (NaN while the feature was not evaluable), for the live page. Immutable once made; 4 bytes a
// point, so 2.4 MB at 10,000 features.
class MetricHistory {
 public:
  static constexpr size_t kPoints = 60;
  // `prev`'s series (null: none) with `eval`'s values appended, the oldest dropped past kPoints;
  // features no longer in `eval` (a reload removed them) are dropped.
  static std::shared_ptr<const MetricHistory> Extend(const MetricHistory* prev,
                                                     const Evaluation& eval);
  // The series of `feature` of `model` in `window`, or null.
  const std::vector<float>* Series(std::string_view model, std::string_view window,
                                   std::string_view feature) const;

 private:
  std::map<std::string, std::vector<float>, std::less<>> series_;  // "model\0window\0feature"
};

// What the evaluation thread publishes and the HTTP threads read: the evaluation, its rendered
// metric families, and the status endpoint's renderings of it (made on demand, at most once per
// evaluation). Thread-safe; no method holds the lock while rendering.
class Published {
 public:
  // Publishes a new evaluation (and its features' history) and drops the status renderings of
  // the previous one.
  void Set(std::shared_ptr<const Evaluation> eval, std::string metrics_text,
           std::shared_ptr<const MetricHistory> history = nullptr);
  std::shared_ptr<const Evaluation> evaluation() const;
  std::shared_ptr<const MetricHistory> history() const;
  std::shared_ptr<const std::string> metrics_text() const;

  // The status endpoint's unfiltered "models" array of `eval` (with or without the bins) as
  // stored by SetStatusModels; null when none was stored. The latest evaluation's rendering is
  // kept until the next one is published; an older one's only while a response still holds it,
  // so that requests queued behind a slow rendering share it after a newer evaluation came out
  // (each rendering them again kept the renderer busy for seconds per request).
  std::shared_ptr<const std::string> StatusModels(const Evaluation* eval, bool bins) const;
  // Stores `text` as that rendering.
  void SetStatusModels(const std::shared_ptr<const Evaluation>& eval, bool bins,
                       std::shared_ptr<const std::string> text);

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Evaluation> eval_;               // guarded by mu_
  std::shared_ptr<const std::string> metrics_text_;      // guarded by mu_
  std::shared_ptr<const MetricHistory> history_;         // guarded by mu_
  std::shared_ptr<const std::string> status_models_[2];  // guarded by mu_; [bins]
  std::weak_ptr<const Evaluation> last_eval_[2];         // guarded by mu_; the last one rendered
  std::weak_ptr<const std::string> last_models_[2];      // guarded by mu_; its rendering
};

// Bounds how many responses of one kind are in flight (from the request until the response is
// written or the connection closed). Thread-safe; leases may outlive the limiter.
class ResponseLimiter {
 public:
  explicit ResponseLimiter(size_t max) : max_(max) {}
  // A lease on one of the `max` slots, given back when its last copy is destroyed; null when
  // every slot is taken.
  std::shared_ptr<const void> TryAcquire();
  size_t in_use() const { return in_use_->load(); }
  size_t max() const { return max_; }
  // A reload's new bound: leases already held are kept. On the thread that acquires.
  void set_max(size_t max) { max_ = max; }

 private:
  size_t max_;
  std::shared_ptr<std::atomic<size_t>> in_use_ = std::make_shared<std::atomic<size_t>>(0);
};

// Registers driftd_http_requests_total{handler,code} in `registry` (the same family when called
// again). Thread-safe.
prometheus::Family<prometheus::Counter>* HttpRequestsFamily(prometheus::Registry* registry);

// Which paths a listener serves (http.ingest, http.ingest_listen).
enum class HttpRoutes {
  kAll,
  kNoIngest,    // the ingest paths answer 403
  kIngestOnly,  // the ingest paths, /healthz and /readyz; anything else 404
};

struct HttpContext {
  HttpRoutes routes = HttpRoutes::kAll;
  Published* published = nullptr;
  prometheus::Registry* registry = nullptr;
  Monitor* monitor = nullptr;
  IngestMetrics* metrics = nullptr;
  std::function<double()> clock;
  std::atomic<bool>* ready = nullptr;
  size_t max_line_bytes = 65536;
  size_t max_body_bytes = 64 << 20;  // http.max_body_bytes
  std::string version;
  double refresh_seconds = 10;  // how often the live page reloads itself (the evaluation interval)
  // Concurrent large responses (/api/v1/status, the live page, snapshots), at most
  // http.max_status_responses; null: no limit.
  ResponseLimiter* status_responses = nullptr;
  // driftd_http_requests_total; null: requests are not counted.
  prometheus::Family<prometheus::Counter>* requests = nullptr;
  // POST /api/v1/ingest applies its body this many bytes at a time, releasing the model's lock
  // in between so that the other transports and the evaluation are never held up for long.
  size_t ingest_chunk_bytes = 64 << 10;
  // POST /-/reload: Daemon::Reload; null when the lifecycle API is off.
  std::function<bool(std::string* error)> reload;
  // Called after each chunk of an ingest body, with no lock held. For tests.
  std::function<void()> after_ingest_chunk;
};

// A response, before it meets the socket (so handlers are testable without one).
struct HttpResponse {
  HttpResponse() = default;
  HttpResponse(int s, std::string type, std::string text)
      : status(s), content_type(std::move(type)), body(std::move(text)) {}
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // more fields ("Retry-After")
  std::string body;
  // Shared, immutable text sent after `body` without being copied (the rendered metrics of an
  // evaluation run to megabytes with 10,000s of features).
  std::vector<std::shared_ptr<const std::string>> shared;
  // Held until the response is written or abandoned (a ResponseLimiter slot).
  std::shared_ptr<const void> lease;
  // When set, the rest of the response is slow to make (a large document): the server runs it
  // off the HTTP thread, then sends what it left in the response. Runs once, on any thread.
  std::function<void(HttpResponse*)> render;
};

// For a large response (/api/v1/status, the live page /, a snapshot): one of
// ctx->status_responses' slots into r->lease, held until the response is written or abandoned.
// False when every slot is taken (counted as too_many_requests): answer BusyResponse().
bool TakeLargeResponseSlot(HttpContext* ctx, HttpResponse* r);
inline constexpr char kLargeResponsesBusy[] = "too many large responses in progress; retry later";
// `r` (a 503 saying kLargeResponsesBusy, in the endpoint's format) with Retry-After: 1.
HttpResponse BusyResponse(HttpResponse r);

}  // namespace driftd
