// The Prometheus side of driftd: process-wide ingest counters (prometheus-cpp), the per-feature
// metric families rendered from an Evaluation, and the standard process_* metrics read from /proc.
// The registry's counters are serialised by prometheus-cpp's TextSerializer; the evaluation's and
// process families by FamilyWriter (daemon/export/text_format.h), which writes the same text.
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
#include <vector>

#include "core/monitor.h"

namespace driftd {

// The ingest transports, and their `transport` label.
enum class Transport { kTcp, kUdp, kUnix, kHttp, kCount };
inline constexpr std::array<std::string_view, static_cast<size_t>(Transport::kCount)>
    kTransportLabels = {"tcp", "udp", "unix", "http"};
inline std::string_view TransportName(Transport t) {
  return kTransportLabels[static_cast<size_t>(t)];
}

// The counters of one transport; pointers into the registry, valid while IngestMetrics lives.
// prometheus-cpp counters are atomic: any thread may add to them.
struct TransportMetrics {
  std::array<prometheus::Counter*, static_cast<size_t>(Format::kCount)> records{};  // by Format
  prometheus::Gauge* connections = nullptr;
  std::array<prometheus::Counter*, kReasonCount> errors{};  // by Reason, every one exported
  // Adds the error `reason` `n` times.
  void Error(Reason reason, double n = 1) { errors[static_cast<size_t>(reason)]->Increment(n); }
  // Adds a batch of Monitor::Apply() outcomes.
  void Add(const ApplyStats& stats, prometheus::Counter* values);
};

class IngestMetrics {
 public:
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
// The six divergence gauges are present only for features whose window holds min_samples. The
// models named in `export_bins` also get their count per bin, of every window and of the
// reference (docs/fleet.md).
std::string RenderEvaluation(const Evaluation& eval,
                             const std::vector<std::string>& export_bins = {});

// Renders process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_start_time_seconds, process_open_fds and process_max_fds, read from /proc/self.
std::string RenderProcessMetrics();

}  // namespace driftd
