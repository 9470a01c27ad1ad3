// The Prometheus side of driftd: process-wide ingest counters (prometheus-cpp), the per-feature
// metric families rendered from an Evaluation, and the standard process_* metrics read from /proc.
// Everything is serialised with prometheus-cpp's TextSerializer.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <memory>
#include <string>

#include "daemon/monitor.h"

namespace driftd {

enum class Transport { kTcp, kUdp, kUnix, kHttp, kCount };
const char* TransportName(Transport t);

// The counters of one transport; pointers into the registry, valid while IngestMetrics lives.
// prometheus-cpp counters are atomic: any thread may add to them.
struct TransportMetrics {
  prometheus::Counter* records[2] = {};  // by Format: json, line protocol
  prometheus::Gauge* connections = nullptr;
  std::map<std::string, prometheus::Counter*, std::less<>> errors;  // by reason
  // Adds the error `reason` (one of IngestMetrics::kReasons) `n` times.
  void Error(std::string_view reason, double n = 1);
  // Adds a batch of Monitor::Apply() results.
  void Add(const ApplyStats& stats, prometheus::Counter* values);
};

class IngestMetrics {
 public:
  // Every `reason` label driftd_ingest_errors_total can carry; all are exported from the start.
  static const std::vector<std::string>& Reasons();

  explicit IngestMetrics(prometheus::Registry* registry);
  TransportMetrics& transport(Transport t) { return transports_[static_cast<size_t>(t)]; }
  prometheus::Counter* values() { return values_; }
  prometheus::Histogram* evaluation_duration() { return evaluation_duration_; }
  prometheus::Gauge* last_evaluation() { return last_evaluation_; }

 private:
  std::array<TransportMetrics, static_cast<size_t>(Transport::kCount)> transports_;
  prometheus::Counter* values_;
  prometheus::Histogram* evaluation_duration_;
  prometheus::Gauge* last_evaluation_;
};

// Renders the per-model and per-feature families of `eval` in the text exposition format.
// The six divergence gauges are present only for features whose window holds min_samples.
std::string RenderEvaluation(const Evaluation& eval);

// Renders process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_start_time_seconds, process_open_fds and process_max_fds, read from /proc/self.
std::string RenderProcessMetrics();

}  // namespace driftd
