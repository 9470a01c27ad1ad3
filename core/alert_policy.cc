#include "core/alert_policy.h"

#include <algorithm>
#include <iterator>

namespace driftd {

const char* DriftMetricName(DriftMetric m) {
  // Every alert name is a string literal in the table, so data() is null-terminated.
  const FeatureMetric& d = Describe(m);
  return d.alertable() ? d.alert_name.data() : "";
}

const char* DriftLevelName(DriftLevel l) {
  switch (l) {
    case DriftLevel::kOk:
      return "ok";
    case DriftLevel::kWarning:
      return "warning";
    case DriftLevel::kCritical:
      return "critical";
  }
  return "ok";
}

void AlertPolicy::DefaultThresholds(DriftMetric metric, double* warning, double* critical) {
  const FeatureMetric& m = Describe(metric);
  *warning = m.default_warning;
  *critical = m.default_critical;
}

FeatureAlertState::Saved FeatureAlertState::Save() const {
  Saved s;
  s.evaluable = evaluable_;
  s.level = static_cast<uint8_t>(level_);
  std::copy(std::begin(up_), std::end(up_), s.up);
  std::copy(std::begin(down_), std::end(down_), s.down);
  return s;
}

bool FeatureAlertState::Restore(const Saved& s) {
  if (s.level > static_cast<uint8_t>(DriftLevel::kCritical)) return false;
  evaluable_ = s.evaluable;
  level_ = static_cast<DriftLevel>(s.level);
  std::copy(std::begin(s.up), std::end(s.up), up_);
  std::copy(std::begin(s.down), std::end(s.down), down_);
  return true;
}

bool FeatureAlertState::Update(const AlertPolicy& policy, const Input& warning,
                               const Input& critical) {
  if (!warning.evaluable && !critical.evaluable) {
    const bool changed = evaluable_ || level_ != DriftLevel::kOk;
    *this = FeatureAlertState();
    return changed;
  }
  bool changed = !evaluable_;
  evaluable_ = true;
  auto over = [&](const Input& in, double threshold) {
    const bool significant = !policy.max_p_value || in.p_adjusted <= *policy.max_p_value;
    return in.evaluable && significant && in.value >= threshold;
  };
  auto level_at = [&](double scale) {
    if (over(critical, policy.critical * scale)) return 2;
    if (over(warning, policy.warning * scale)) return 1;
    return 0;
  };
  const int up = level_at(1.0);
  const int down = level_at(policy.resolve_ratio);
  for (int l = 1; l <= 2; ++l) {
    up_[l] = up >= l ? up_[l] + 1 : 0;
    down_[l] = down < l ? down_[l] + 1 : 0;
  }
  const int current = static_cast<int>(level_);
  int next = current;
  for (int l = 2; l > current; --l) {
    if (up_[l] >= policy.for_evaluations) {
      next = l;
      break;
    }
  }
  if (next == current && current > 0 && down_[current] >= policy.for_evaluations) next = down;
  if (next != current) {
    level_ = static_cast<DriftLevel>(next);
    changed = true;
  }
  return changed;
}

ModelAlertSummary Summarize(const RetrainPolicy& retrain,
                            const std::vector<FeatureAlertState>& features) {
  ModelAlertSummary s;
  for (const FeatureAlertState& f : features) {
    if (!f.evaluable()) continue;
    ++s.evaluable;
    if (f.level() >= DriftLevel::kWarning) ++s.drifted;
    if (f.level() == DriftLevel::kCritical) ++s.critical;
  }
  if (retrain.drifted_share && s.evaluable > 0 &&
      static_cast<double>(s.drifted) >= *retrain.drifted_share * s.evaluable) {
    s.retrain = true;
  }
  if (retrain.critical_features && s.critical >= *retrain.critical_features) s.retrain = true;
  return s;
}

}  // namespace driftd
