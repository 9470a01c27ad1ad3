// Drift alert policy: effect size (a divergence over a threshold), significance (the G-test
// p-value, Benjamini-Hochberg adjusted across a model's features) and persistence with
// hysteresis, per feature; and the model-level retraining recommendation.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/feature_metrics.h"

namespace driftd {

// The metric a policy compares with its thresholds: an alertable row of FeatureMetrics().
using DriftMetric = FeatureMetricId;
// Its `alerts.metric` name ("kl", "psi", ...); "" for a metric the alert policy may not use.
const char* DriftMetricName(DriftMetric m);

enum class DriftLevel { kOk = 0, kWarning = 1, kCritical = 2 };
const char* DriftLevelName(DriftLevel l);

struct AlertPolicy {
  DriftMetric metric = DriftMetric::kKl;
  double warning = Describe(DriftMetric::kKl).default_warning;
  double critical = Describe(DriftMetric::kKl).default_critical;
  std::optional<double> max_p_value = 0.01;  // nullopt: no significance gate
  uint32_t for_evaluations = 3;
  double resolve_ratio = 0.8;

  // The default thresholds of `metric` (see docs/alerting.md for the reasoning); 0 and 0 for a
  // metric that is not alertable.
  static void DefaultThresholds(DriftMetric metric, double* warning, double* critical);
};

struct RetrainPolicy {
  std::optional<double> drifted_share = 0.5;
  std::optional<uint32_t> critical_features = 1;
};

// A model's alerting configuration: the model-wide policy, per-feature overrides, retraining.
struct ModelAlerts {
  AlertPolicy policy;
  std::map<std::string, AlertPolicy> features;
  RetrainPolicy retrain;
  // The windows (by name) whose values decide the warning and the critical level; empty: the
  // longest window for warning and the shortest for critical (docs/alerting.md says why).
  std::string warning_window, critical_window;
  const AlertPolicy& For(const std::string& feature) const {
    auto it = features.find(feature);
    return it == features.end() ? policy : it->second;
  }
};

// The alert state of one feature across evaluations. Not thread-safe (the evaluation owns it).
class FeatureAlertState {
 public:
  struct Input {
    bool evaluable = false;  // the window holds min_samples
    double value = 0;        // the policy's metric
    double p_adjusted = 1;   // BH-adjusted p-value
  };
  // Applies one evaluation. Returns true when the state (insufficient data / level) changed.
  // A level is entered after `for_evaluations` consecutive evaluations at or above its threshold
  // (with the p-value gate passed); it is left after `for_evaluations` consecutive evaluations
  // below threshold x resolve_ratio (or not significant), to the level those values are at.
  bool Update(const AlertPolicy& policy, const Input& in) { return Update(policy, in, in); }
  // The same with the warning level decided on `warning` and the critical level on `critical`
  // (two windows' values): the feature is evaluable when either is.
  bool Update(const AlertPolicy& policy, const Input& warning, const Input& critical);

  bool evaluable() const { return evaluable_; }
  DriftLevel level() const { return level_; }
  // "insufficient_data", "ok", "warning" or "critical".
  const char* Name() const { return evaluable_ ? DriftLevelName(level_) : "insufficient_data"; }

  // The whole state, for a checkpoint: Restore(Save()) gives the same state.
  struct Saved {
    bool evaluable = false;
    uint8_t level = 0;
    uint32_t up[3] = {0, 0, 0}, down[3] = {0, 0, 0};
  };
  Saved Save() const;
  // False (and no change) when `saved` holds an unknown level.
  bool Restore(const Saved& saved);

 private:
  bool evaluable_ = false;
  DriftLevel level_ = DriftLevel::kOk;
  uint32_t up_[3] = {0, 0, 0};    // consecutive evaluations at or above level L
  uint32_t down_[3] = {0, 0, 0};  // consecutive evaluations below level L's resolve threshold
};

struct ModelAlertSummary {
  uint32_t evaluable = 0;  // features with enough data
  uint32_t drifted = 0;    // of those, at warning or above
  uint32_t critical = 0;
  bool retrain = false;
};

// The model's summary and retraining recommendation from its features' states.
ModelAlertSummary Summarize(const RetrainPolicy& retrain,
                            const std::vector<FeatureAlertState>& features);

}  // namespace driftd
