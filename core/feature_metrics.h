// The per-feature divergence metrics, described once. /metrics, the /api/v1/status document, the
// config's `alerts.metric` values, the alert policy's defaults and docs/metrics.md all come from
// (or are tested against) this table; adding a metric is a row here plus its value in Divergences.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace driftd {

struct FeatureEvaluation;  // core/monitor.h

// Indexes FeatureMetrics(); the order is the order of /metrics and of the status document.
enum class FeatureMetricId : uint8_t {
  kKl,
  kEntropy,
  kCrossEntropy,
  kPsi,
  kJs,
  kHellinger,
  kTvd,
  kLinf,
};
inline constexpr size_t kFeatureMetricCount = 8;

struct FeatureMetric {
  FeatureMetricId id;
  std::string_view prometheus_name;  // gauge with labels model, feature
  std::string_view help;             // the gauge's HELP text
  std::string_view json_key;         // key of the feature object in /api/v1/status
  // The value for one evaluated feature; meaningful only when the feature is evaluable (its
  // window holds min_samples), which is when every surface reports it.
  double (*value)(const FeatureEvaluation&);
  // The `alerts.metric` name when the alert policy may use it, empty otherwise; then the default
  // warning and critical thresholds (docs/alerting.md gives the reasoning).
  std::string_view alert_name = {};
  double default_warning = 0;
  double default_critical = 0;

  bool alertable() const { return !alert_name.empty(); }
};

// Every per-feature divergence metric, in FeatureMetricId order. Immutable; thread-safe.
const std::array<FeatureMetric, kFeatureMetricCount>& FeatureMetrics();

// The row of `id`.
inline const FeatureMetric& Describe(FeatureMetricId id) {
  return FeatureMetrics()[static_cast<size_t>(id)];
}

}  // namespace driftd
