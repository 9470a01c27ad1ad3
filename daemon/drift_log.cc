#include "daemon/drift_log.h"

#include "daemon/log.h"

namespace driftd {

void DriftLog::FeatureStateChanged(const FeatureStateChange& c) {
  Log(c.level > DriftLevel::kOk ? spdlog::level::warn : spdlog::level::info,
      "feature drift state changed",
      {{"model", c.model},
       {"feature", c.feature},
       {"from", c.from},
       {"to", c.to},
       {"metric", DriftMetricName(c.metric)},
       {"value", c.value},
       {"p_value", c.p_value},
       {"p_adjusted", c.p_adjusted},
       {"window", c.window},
       {"window_samples", c.window_samples}});
}

void DriftLog::RetrainChanged(const RetrainChange& c) {
  Log(c.retrain ? spdlog::level::warn : spdlog::level::info,
      "model retraining recommendation changed",
      {{"model", c.model},
       {"from", c.retrain ? "ok" : "retrain"},
       {"to", c.retrain ? "retrain" : "ok"},
       {"drifted_features", static_cast<uint64_t>(c.drifted_features)},
       {"critical_features", static_cast<uint64_t>(c.critical_features)},
       {"evaluable_features", static_cast<uint64_t>(c.evaluable_features)}});
}

}  // namespace driftd
