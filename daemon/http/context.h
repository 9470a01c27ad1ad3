// What every HTTP endpoint reads: the published evaluation, the registry and ingest counters, the
// monitor, the clock and the ready flag; and the response an endpoint returns before it meets a
// socket. No Beast here: endpoints are testable without a connection.
#pragma once

#include <prometheus/registry.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/monitor.h"
#include "daemon/export/metrics.h"

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
  // POST /api/v1/ingest applies its body this many bytes at a time, releasing the model's lock
  // in between so that the other transports and the evaluation are never held up for long.
  size_t ingest_chunk_bytes = 64 << 10;
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
  std::string body;
  // Shared, immutable text sent after `body` without being copied (the rendered metrics of an
  // evaluation run to megabytes with 10,000s of features).
  std::vector<std::shared_ptr<const std::string>> shared;
};

}  // namespace driftd
