// A real HttpContext for the endpoint tests: one model "m" (numeric x with bins [0,1) [1,2],
// categorical c with categories a and b; a record without a feature counts it as missing), a
// Monitor with min_samples 2, ingest counters on a registry, a Published, and a clock fixed at
// kNow. No socket.
#pragma once

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/export/metrics.h"
#include "daemon/http/server.h"
#include "daemon/log.h"

namespace driftd {

class HttpFixture : public ::testing::Test {
 protected:
  static constexpr double kNow = 1'732'060'800;

  HttpFixture() : metrics_(&registry_) {
    std::vector<std::string> errors;
    auto ref = ParseReference(R"({"model": "m", "version": "1", "features": {
        "x": {"type": "numeric", "edges": [0, 1, 2], "counts": [5, 5]},
        "c": {"type": "categorical", "categories": {"a": 5, "b": 5}}}})",
                              "m.json", &errors);
    EXPECT_TRUE(ref) << (errors.empty() ? "" : errors[0]);
    MonitorOptions o;
    o.windows = {{"w", {600, 10}}};
    o.min_samples = 2;
    monitor_ = std::make_unique<Monitor>(o, std::vector<Reference>{*ref}, kNow);
    ctx_.published = &published_;
    ctx_.registry = &registry_;
    ctx_.monitor = monitor_.get();
    ctx_.metrics = &metrics_;
    ctx_.clock = [] { return kNow; };
    ctx_.ready = &ready_;
    ctx_.version = "1.2.3-test";
  }

  // The response to one request, with its `render` (if any) run, as the server would.
  HttpResponse Handle(std::string_view method, std::string_view target, std::string_view body = {},
                      std::string_view content_encoding = {}) {
    return Rendered(HandleHttp(&ctx_, method, target, body, &limiter_, content_encoding));
  }

  static HttpResponse Rendered(HttpResponse r) {
    if (r.render) {
      auto render = std::move(r.render);
      r.render = nullptr;
      render(&r);
    }
    return r;
  }

  // Evaluates the monitor now and publishes the result, as the evaluation thread does.
  void EvaluateAndPublish() {
    auto eval = monitor_->Evaluate(kNow);
    std::string text = RenderEvaluation(*eval);
    published_.Set(std::move(eval), std::move(text));
  }

  // The whole body as it goes on the wire: `body` then the shared pieces.
  static std::string Wire(const HttpResponse& r) {
    std::string out = r.body;
    for (const auto& piece : r.shared) out += *piece;
    return out;
  }

  double HttpErrors(Reason r) {
    return metrics_.transport(Transport::kHttp).errors[static_cast<size_t>(r)]->Value();
  }
  double HttpRecords(Format f) {
    return metrics_.transport(Transport::kHttp).records[static_cast<size_t>(f)]->Value();
  }

  prometheus::Registry registry_;
  IngestMetrics metrics_;
  std::unique_ptr<Monitor> monitor_;
  Published published_;
  std::atomic<bool> ready_{false};
  LogRateLimiter limiter_{0};  // nothing is logged
  HttpContext ctx_;
};

}  // namespace driftd
