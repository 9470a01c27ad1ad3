#include <cmath>
#include <nlohmann/json.hpp>

#include "core/feature_metrics.h"
#include "daemon/http/endpoints.h"

namespace driftd {

namespace {

// JSON has no NaN or infinity; the divergences are always finite, but be safe.
nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

std::string StatusJson(const HttpContext& ctx) {
  auto eval = ctx.published->evaluation();
  nlohmann::ordered_json out;
  out["version"] = ctx.version;
  out["ready"] = ctx.ready->load();
  if (!eval) {
    out["evaluated_at"] = nullptr;
    out["models"] = nlohmann::json::array();
    return out.dump(2);
  }
  out["evaluated_at"] = eval->timestamp;
  out["evaluation_seconds"] = eval->duration_seconds;
  const MonitorOptions& o = ctx.monitor->options();
  out["window"] = {{"length_seconds", o.window.length_seconds}, {"slices", o.window.slices}};
  out["evaluation"] = {{"min_samples", o.min_samples},
                       {"smoothing", o.divergence.smoothing},
                       {"log_base", o.divergence.base == LogBase::kTwo ? "2" : "e"},
                       {"kl_direction", KlDirectionName(o.kl_direction)}};
  auto models = nlohmann::ordered_json::array();
  for (const ModelEvaluation& m : eval->models) {
    nlohmann::ordered_json jm;
    jm["model"] = m.model;
    jm["reference_version"] = m.version;
    jm["reference_sha256"] = m.sha256;
    jm["evaluable_features"] = m.alerts.evaluable;
    jm["drifted_features"] = m.alerts.drifted;
    jm["critical_features"] = m.alerts.critical;
    jm["retrain_recommended"] = m.alerts.retrain;
    jm["late_total"] = m.late;
    jm["future_total"] = m.future;
    auto features = nlohmann::ordered_json::array();
    for (const FeatureEvaluation& f : m.features) {
      nlohmann::ordered_json jf;
      jf["feature"] = f.name;
      jf["type"] = f.kind == FeatureKind::kNumeric ? "numeric" : "categorical";
      jf["samples"] = f.samples;
      jf["status"] = f.samples == 0 ? "no_data" : (f.evaluable ? "ok" : "insufficient_data");
      if (f.evaluable) {
        for (const FeatureMetric& fm : FeatureMetrics()) {
          jf[std::string(fm.json_key)] = Number(fm.value(f));
        }
      }
      if (f.evaluable) {
        jf["p_value"] = f.significance.p_value;
        jf["p_value_adjusted"] = f.p_adjusted;
        jf["g_statistic"] = f.significance.g;
        jf["degrees_of_freedom"] = f.significance.dof;
        jf["kl_noise_floor"] = f.kl_noise_floor;
      }
      jf["drift"] = f.alert.Name();
      jf["missing_ratio"] = f.missing_ratio;
      jf["out_of_range_ratio"] = f.out_of_range_ratio;
      auto bins = nlohmann::ordered_json::array();
      const std::vector<double> window_p =
          SmoothedProbabilities(f.window_counts, o.divergence.smoothing);
      for (size_t b = 0; b < f.window_counts.size(); ++b) {
        bins.push_back(
            nlohmann::ordered_json{{"bin", f.bins->BinLabel(static_cast<uint32_t>(b))},
                                   {"window_count", f.window_counts[b]},
                                   {"window_probability", window_p[b]},
                                   {"reference_count", (*f.reference_counts)[b]},
                                   {"reference_probability", (*f.reference_probabilities)[b]}});
      }
      jf["bins"] = std::move(bins);
      features.push_back(std::move(jf));
    }
    jm["features"] = std::move(features);
    models.push_back(std::move(jm));
  }
  out["models"] = std::move(models);
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

HttpResponse StatusEndpoint(HttpContext* ctx, const HttpRequest&) {
  return {200, "application/json", StatusJson(*ctx) + "\n"};
}

}  // namespace driftd
