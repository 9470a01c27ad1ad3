// Logs the Monitor's state changes: a feature's drift state and a model's retraining
// recommendation, at warn when they move towards drift and at info when they recover.
#pragma once

#include "core/monitor.h"

namespace driftd {

class DriftLog : public MonitorObserver {
 public:
  // "feature drift state changed" model= feature= from= to= metric= value= p_value= p_adjusted=
  // window_samples=
  void FeatureStateChanged(const FeatureStateChange& change) override;
  // "model retraining recommendation changed" model= from= to= drifted_features=
  // critical_features= evaluable_features=
  void RetrainChanged(const RetrainChange& change) override;
};

}  // namespace driftd
