// The status document is written feature by feature rather than built as one JSON tree: at 10,000
// features x 32 bins the tree cost several times the 89 MB text. The output is exactly what
// nlohmann's dump(2) gives for the whole document (a test re-dumps it to check).
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "core/feature_metrics.h"
#include "daemon/http/endpoints.h"
#include "daemon/http/query.h"

namespace driftd {

namespace {

using Json = nlohmann::ordered_json;

// JSON has no NaN or infinity; the divergences are always finite, but be safe.
Json Number(double v) { return std::isfinite(v) ? Json(v) : Json(); }

std::string Dump(const Json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Appends `text` (a dump(2)) with every line after its first indented by `indent` more spaces:
// how a nested value is written at its depth. JSON strings hold no raw newline.
void AppendIndented(std::string* out, std::string_view text, size_t indent) {
  size_t from = 0;
  for (size_t nl = text.find('\n'); nl != std::string_view::npos; nl = text.find('\n', from)) {
    out->append(text, from, nl + 1 - from);
    out->append(indent, ' ');
    from = nl + 1;
  }
  out->append(text, from);
}

// `text`, a dump(2) of an object, without its closing "\n}": to go on with more members.
std::string_view Open(const std::string& text) {
  return std::string_view(text).substr(0, text.size() - 2);
}

// Which models and features a request asks for; empty sets mean all.
struct StatusQuery {
  std::set<std::string, std::less<>> models, features, windows;
  bool bins = false;
  bool filtered() const { return !models.empty() || !features.empty() || !windows.empty(); }
};

bool ParseStatusQuery(std::string_view query, StatusQuery* out, std::string* error) {
  const std::optional<QueryParams> params = ParseQuery(query, error);
  if (!params) return false;
  for (const auto& [key, value] : *params) {
    if (key == "model") {
      out->models.insert(value);
    } else if (key == "feature") {
      out->features.insert(value);
    } else if (key == "window") {
      out->windows.insert(value);
    } else if (key == "bins") {
      if (value == "true" || value == "1") {
        out->bins = true;
      } else if (value == "false" || value == "0") {
        out->bins = false;
      } else {
        *error = "bins: expected true or false, got \"" + value + "\"";
        return false;
      }
    } else {
      *error = "unknown query parameter \"" + key + "\" (model, feature, window, bins)";
      return false;
    }
  }
  return true;
}

HttpResponse JsonError(int status, const std::string& message) {
  return {status, "application/json", Dump(Json{{"error", message}}) + "\n"};
}

bool Wanted(const std::set<std::string, std::less<>>& names, std::string_view name) {
  return names.empty() || names.count(name) != 0;
}

Json FeatureJson(const FeatureEvaluation& f, const MonitorOptions& o, bool bins) {
  Json jf;
  jf["feature"] = f.name;
  jf["window"] = o.windows[f.window].name;
  jf["type"] = f.kind == FeatureKind::kNumeric ? "numeric" : "categorical";
  jf["samples"] = f.samples;
  jf["status"] = f.samples == 0 ? "no_data" : (f.evaluable ? "ok" : "insufficient_data");
  if (f.evaluable) {
    for (const FeatureMetric& fm : FeatureMetrics()) {
      jf[std::string(fm.json_key)] = Number(fm.value(f));
    }
    jf["p_value"] = f.significance.p_value;
    jf["p_value_adjusted"] = f.p_adjusted;
    jf["g_statistic"] = f.significance.g;
    jf["degrees_of_freedom"] = f.significance.dof;
    jf["kl_noise_floor"] = f.kl_noise_floor;
  }
  jf["drift"] = f.alert.Name();
  jf["missing_ratio"] = f.missing_ratio;
  jf["out_of_range_ratio"] = f.out_of_range_ratio;
  if (!bins) return jf;
  auto jbins = Json::array();
  const std::vector<double> window_p =
      SmoothedProbabilities(f.window_counts, o.divergence.smoothing);
  for (size_t b = 0; b < f.window_counts.size(); ++b) {
    jbins.push_back(Json{{"bin", f.bins->BinLabel(static_cast<uint32_t>(b))},
                         {"window_count", f.window_counts[b]},
                         {"window_probability", window_p[b]},
                         {"reference_count", (*f.reference_counts)[b]},
                         {"reference_probability", (*f.reference_probabilities)[b]}});
  }
  jf["bins"] = std::move(jbins);
  return jf;
}

// Whether the request asks for `f` (its name and its window).
bool WantedFeature(const StatusQuery& q, const MonitorOptions& o, const FeatureEvaluation& f) {
  return Wanted(q.features, f.name) && Wanted(q.windows, o.windows[f.window].name);
}

Json ModelHeadJson(const ModelEvaluation& m, const MonitorOptions& o) {
  Json jm;
  jm["model"] = m.model;
  jm["reference_version"] = m.version;
  jm["reference_sha256"] = m.sha256;
  jm["evaluable_features"] = m.alerts.evaluable;
  jm["drifted_features"] = m.alerts.drifted;
  jm["critical_features"] = m.alerts.critical;
  jm["retrain_recommended"] = m.alerts.retrain;
  jm["warning_window"] = o.windows[m.warning_window].name;
  jm["critical_window"] = o.windows[m.critical_window].name;
  auto records = Json::object();
  for (size_t k = 0; k < m.records.size(); ++k) records[o.windows[k].name] = m.records[k];
  jm["window_records"] = std::move(records);
  jm["late_total"] = m.late;
  jm["future_total"] = m.future;
  return jm;
}

// An upper estimate of the bytes RenderModels writes (about 250 a feature, 250 a bin). Reserved
// up front: growing the string by doubling would copy it and, for a moment, hold it twice; the
// pages of the estimate that are never written are never resident either.
size_t EstimateSize(const Evaluation& eval, const StatusQuery& q) {
  size_t n = 64;
  for (const ModelEvaluation& m : eval.models) {
    if (!Wanted(q.models, m.model)) continue;
    n += 1024;
    for (const FeatureEvaluation& f : m.features) {
      if (!WantedFeature(q, eval.options, f)) continue;
      n += 1024 + (q.bins ? 320 * f.window_counts.size() : 0);
    }
  }
  return n;
}

// The document's "models" array as it is written at its depth (members at 4 spaces).
std::string RenderModels(const Evaluation& eval, const MonitorOptions& o, const StatusQuery& q) {
  std::string out = "[";
  out.reserve(EstimateSize(eval, q));
  bool any_model = false;
  for (const ModelEvaluation& m : eval.models) {
    if (!Wanted(q.models, m.model)) continue;
    const bool any_feature =
        std::any_of(m.features.begin(), m.features.end(),
                    [&](const FeatureEvaluation& f) { return WantedFeature(q, o, f); });
    if ((!q.features.empty() || !q.windows.empty()) && !any_feature) continue;
    out += any_model ? ",\n    " : "\n    ";
    AppendIndented(&out, Open(Dump(ModelHeadJson(m, o))), 4);
    out += ",\n      \"features\": [";
    bool first = true;
    for (const FeatureEvaluation& f : m.features) {
      if (!WantedFeature(q, o, f)) continue;
      out += first ? "\n        " : ",\n        ";
      AppendIndented(&out, Dump(FeatureJson(f, o, q.bins)), 8);
      first = false;
    }
    out += any_feature ? "\n      ]\n    }" : "]\n    }";
    any_model = true;
  }
  out += any_model ? "\n  ]" : "]";
  return out;
}

// Everything before the "models" array, made per request (it holds `ready`).
std::string RenderHead(const HttpContext& ctx, const Evaluation& eval) {
  Json out;
  out["version"] = ctx.version;
  out["ready"] = ctx.ready->load();
  out["evaluated_at"] = eval.timestamp;
  out["evaluation_seconds"] = eval.duration_seconds;
  const MonitorOptions& o = eval.options;
  auto windows = Json::array();
  for (const NamedWindow& w : o.windows) {
    windows.push_back({{"name", w.name},
                       {"length_seconds", w.options.length_seconds},
                       {"slices", w.options.slices}});
  }
  out["windows"] = std::move(windows);
  out["evaluation"] = {{"min_samples", o.min_samples},
                       {"smoothing", o.divergence.smoothing},
                       {"log_base", o.divergence.base == LogBase::kTwo ? "2" : "e"},
                       {"kl_direction", KlDirectionName(o.kl_direction)}};
  return std::string(Open(Dump(out))) + ",\n  \"models\": ";
}

const std::shared_ptr<const std::string>& Tail() {
  static const auto* tail =
      new std::shared_ptr<const std::string>(std::make_shared<const std::string>("\n}\n"));
  return *tail;
}

// The first name of `wanted` that `has` lacks, or nullptr.
template <typename Has>
const std::string* Missing(const std::set<std::string, std::less<>>& wanted, Has has) {
  for (const std::string& name : wanted) {
    if (!has(name)) return &name;
  }
  return nullptr;
}

}  // namespace

HttpResponse StatusEndpoint(HttpContext* ctx, const HttpRequest& req) {
  StatusQuery q;
  std::string error;
  if (!ParseStatusQuery(req.query, &q, &error)) return JsonError(400, error);
  std::shared_ptr<const Evaluation> eval = ctx->published->evaluation();
  if (!eval) {
    Json out;
    out["version"] = ctx->version;
    out["ready"] = ctx->ready->load();
    out["evaluated_at"] = nullptr;
    out["models"] = Json::array();
    return {200, "application/json", Dump(out) + "\n"};
  }
  if (const std::string* name = Missing(q.models, [&](std::string_view n) {
        for (const ModelEvaluation& m : eval->models) {
          if (m.model == n) return true;
        }
        return false;
      })) {
    return JsonError(404, "unknown model \"" + *name + "\"");
  }
  if (const std::string* name = Missing(q.features, [&](std::string_view n) {
        for (const ModelEvaluation& m : eval->models) {
          if (!Wanted(q.models, m.model)) continue;
          for (const FeatureEvaluation& f : m.features) {
            if (f.name == n) return true;
          }
        }
        return false;
      })) {
    return JsonError(404, "unknown feature \"" + *name + "\"");
  }
  if (const std::string* name = Missing(q.windows, [&](std::string_view n) {
        return FindWindow(eval->options.windows, n).has_value();
      })) {
    return JsonError(404, "unknown window \"" + *name + "\"");
  }

  HttpResponse r(200, "application/json", "");
  if (!TakeLargeResponseSlot(ctx, &r)) return BusyResponse(JsonError(503, kLargeResponsesBusy));
  r.body = RenderHead(*ctx, *eval);
  if (!q.filtered()) {
    if (auto models = ctx->published->StatusModels(eval.get(), q.bins)) {
      r.shared = {std::move(models), Tail()};
      return r;
    }
  }
  // Rendering may take seconds: left to the server's renderer thread. The unfiltered arrays are
  // looked up again there, so that requests queued behind the first one share its rendering.
  r.render = [ctx, eval = std::move(eval), q = std::move(q)](HttpResponse* out) {
    std::shared_ptr<const std::string> models;
    if (!q.filtered()) models = ctx->published->StatusModels(eval.get(), q.bins);
    if (!models) {
      models = std::make_shared<const std::string>(RenderModels(*eval, eval->options, q));
      if (!q.filtered()) ctx->published->SetStatusModels(eval, q.bins, models);
    }
    out->shared = {std::move(models), Tail()};
  };
  return r;
}

}  // namespace driftd
