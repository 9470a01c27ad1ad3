#include "core/feature_metrics.h"

#include "core/monitor.h"

namespace driftd {
namespace {

// Names and help texts are what dashboards and alerts already query: change them only on purpose.
// The default thresholds are explained in docs/alerting.md.
constexpr std::array<FeatureMetric, kFeatureMetricCount> kMetrics = {{
    {.id = FeatureMetricId::kKl,
     .prometheus_name = "driftd_feature_kl_divergence",
     .help = "KL divergence between the window and the reference, in the configured direction "
             "and log base.",
     .json_key = "kl_divergence",
     .value = [](const FeatureEvaluation& f) { return f.kl; },
     .alert_name = "kl",  // nats: a normal feature shifted by 0.14 / 0.22 standard deviations
     .default_warning = 0.01,
     .default_critical = 0.025},
    {.id = FeatureMetricId::kEntropy,
     .prometheus_name = "driftd_feature_entropy",
     .help = "Entropy of the window distribution H(P).",
     .json_key = "entropy",
     .value = [](const FeatureEvaluation& f) { return f.entropy; }},
    {.id = FeatureMetricId::kCrossEntropy,
     .prometheus_name = "driftd_feature_cross_entropy",
     .help = "Cross-entropy H(P,Q) = entropy + KL divergence.",
     .json_key = "cross_entropy",
     .value = [](const FeatureEvaluation& f) { return f.cross_entropy; }},
    {.id = FeatureMetricId::kPsi,
     .prometheus_name = "driftd_feature_psi",
     .help = "Population stability index, in nats.",
     .json_key = "psi",
     .value = [](const FeatureEvaluation& f) { return f.divergences.psi; },
     .alert_name = "psi",  // the industry's rule of thumb
     .default_warning = 0.1,
     .default_critical = 0.25},
    {.id = FeatureMetricId::kJs,
     .prometheus_name = "driftd_feature_js_divergence",
     .help = "Jensen-Shannon divergence.",
     .json_key = "js_divergence",
     .value = [](const FeatureEvaluation& f) { return f.divergences.js; },
     .alert_name = "js",  // JS ~ KL / 4 for small drift
     .default_warning = 0.0025,
     .default_critical = 0.00625},
    {.id = FeatureMetricId::kHellinger,
     .prometheus_name = "driftd_feature_hellinger_distance",
     .help = "Hellinger distance, in [0, 1].",
     .json_key = "hellinger_distance",
     .value = [](const FeatureEvaluation& f) { return f.divergences.hellinger; },
     .alert_name = "hellinger",  // H ~ sqrt(KL / 8) for small drift
     .default_warning = 0.035,
     .default_critical = 0.056},
    {.id = FeatureMetricId::kTvd,
     .prometheus_name = "driftd_feature_total_variation_distance",
     .help = "Total variation distance, half the L1 distance between the window and the "
             "reference distributions, in [0, 1].",
     .json_key = "total_variation_distance",
     .value = [](const FeatureEvaluation& f) { return f.divergences.tvd; },
     .alert_name = "tvd",  // a normal feature shifted by 0.14 / 0.22 standard deviations
     .default_warning = 0.056,
     .default_critical = 0.089},
    {.id = FeatureMetricId::kLinf,
     .prometheus_name = "driftd_feature_linf_distance",
     .help = "L-infinity distance: the largest absolute difference of one bin's probability "
             "between the window and the reference, in [0, 1].",
     .json_key = "linf_distance",
     .value = [](const FeatureEvaluation& f) { return f.divergences.linf; },
     .alert_name = "linf",  // the same shifts over the default 20 quantile bins
     .default_warning = 0.016,
     .default_critical = 0.028},
}};

constexpr bool RowsInIdOrder() {
  for (size_t i = 0; i < kMetrics.size(); ++i) {
    if (static_cast<size_t>(kMetrics[i].id) != i) return false;
  }
  return true;
}
static_assert(RowsInIdOrder(), "kMetrics must list the rows in FeatureMetricId order");

}  // namespace

const std::array<FeatureMetric, kFeatureMetricCount>& FeatureMetrics() { return kMetrics; }

}  // namespace driftd
