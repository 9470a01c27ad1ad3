// libFuzzer entry point for the whole ingest pipeline of one connection: LineSplitter framing,
// LineDecoder, Monitor::Apply and the counters. The input is fed twice, to two pipelines of their
// own: once in one piece, once cut into chunks whose sizes come from the input itself. Then:
//   - the two agree on every window count and every error count (framing does not depend on how
//     the bytes arrived);
//   - each feature's window counts sum to the records in the window (a record counts each feature
//     once: as a value, as missing, or as out of range), and the records in the window are the
//     records the processor accepted.
// Input layout: byte 0 picks the chunk sizes' seed; the rest is the stream.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "core/monitor.h"
#include "core/reference.h"
#include "daemon/export/metrics.h"
#include "daemon/ingest/line_processor.h"
#include "daemon/log.h"

namespace {

void CheckAt(bool ok, int line) {
  if (!ok) {
    std::fprintf(stderr, "stream_fuzz.cc:%d: check failed\n", line);
    std::abort();
  }
}
#define Check(ok) CheckAt((ok), __LINE__)

constexpr double kNow = 1700000000;
constexpr size_t kMaxLine = 200;  // small, so that over-long lines are common

// Two models, so that records switch the Monitor::Batch between them; numbers, categories (text
// and numeric) and every special bin.
constexpr std::string_view kReferences[] = {
    R"({"model": "m", "version": "1", "features": {
      "x": {"type": "numeric", "edges": [0, 1, 2.5, 10], "counts": [5, 6, 7], "missing": 1,
            "underflow": 2, "overflow": 3},
      "c": {"type": "categorical", "categories": {"a": 4, "b": 5, "10115": 6}, "other": 1}}})",
    R"({"model": "n", "version": "1", "features": {
      "y": {"type": "numeric", "edges": [-1, 0, 1], "counts": [1, 1]}}})",
};

struct Pipeline {
  Pipeline() {
    std::vector<driftd::Reference> refs;
    for (std::string_view text : kReferences) {
      std::vector<std::string> errors;
      auto ref = driftd::ParseReference(text, "fuzz", &errors);
      Check(ref.has_value());
      refs.push_back(std::move(*ref));
    }
    driftd::MonitorOptions options;
    options.windows = {{"w", {3600, 4}}};
    options.min_samples = 1;
    monitor = std::make_unique<driftd::Monitor>(options, std::move(refs), kNow);
    metrics = std::make_unique<driftd::IngestMetrics>(&registry);
    processor = std::make_unique<driftd::LineProcessor>(
        monitor.get(), &metrics->transport(driftd::Transport::kTcp), metrics->values(), &limiter,
        kMaxLine);
  }
  prometheus::Registry registry;
  std::unique_ptr<driftd::Monitor> monitor;
  std::unique_ptr<driftd::IngestMetrics> metrics;
  driftd::LogRateLimiter limiter{0};
  std::unique_ptr<driftd::LineProcessor> processor;
};

// Feeds `bytes` as one piece each, with an exact-size copy, so that ASan sees any over-read.
void FeedExact(driftd::LineProcessor* p, std::string_view bytes) {
  const std::unique_ptr<char[]> copy(new char[bytes.size()]);
  std::copy(bytes.begin(), bytes.end(), copy.get());
  p->Feed(std::string_view(copy.get(), bytes.size()), kNow);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = driftd::SetupLogging("off", driftd::LogFormat::kText);
  (void)quiet;
  if (size == 0) return 0;
  uint32_t seed = data[0] * 2654435761u + 1;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  Pipeline whole, chunked;
  FeedExact(whole.processor.get(), stream);
  for (size_t at = 0; at < stream.size();) {
    seed = seed * 1103515245u + 12345u;
    const size_t n = std::min<size_t>(stream.size() - at, 1 + (seed >> 16) % 97);
    FeedExact(chunked.processor.get(), stream.substr(at, n));
    at += n;
  }
  for (Pipeline* p : {&whole, &chunked}) {
    p->processor->EndStream(kNow);
    p->processor->Flush();
  }

  Check(whole.processor->accepted() == chunked.processor->accepted());
  Check(whole.processor->rejected() == chunked.processor->rejected());
  const auto a = whole.monitor->Evaluate(kNow);
  const auto b = chunked.monitor->Evaluate(kNow);
  uint64_t in_windows = 0;
  for (size_t m = 0; m < a->models.size(); ++m) {
    const driftd::ModelEvaluation& ma = a->models[m];
    in_windows += ma.records[0];
    Check(ma.records == b->models[m].records);
    for (size_t f = 0; f < ma.features.size(); ++f) {
      const std::vector<uint64_t>& counts = ma.features[f].window_counts;
      Check(counts == b->models[m].features[f].window_counts);
      uint64_t sum = 0;
      for (uint64_t c : counts) sum += c;
      Check(sum == ma.records[0]);
    }
  }
  Check(in_windows == whole.processor->accepted());
  for (size_t r = 0; r < driftd::kReasonCount; ++r) {
    Check(whole.metrics->transport(driftd::Transport::kTcp).errors[r]->Value() ==
          chunked.metrics->transport(driftd::Transport::kTcp).errors[r]->Value());
  }
  return 0;
}
