#include "daemon/export/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/feature_metrics.h"
#include "daemon/export/text_format.h"

namespace driftd {

void TransportMetrics::Add(const ApplyStats& stats, prometheus::Counter* values) {
  if (stats.values) values->Increment(static_cast<double>(stats.values));
  for (size_t r = 0; r < kReasonCount; ++r) {
    if (stats.errors.n[r]) errors[r]->Increment(static_cast<double>(stats.errors.n[r]));
  }
}

IngestMetrics::IngestMetrics(prometheus::Registry* registry) {
  auto& records = prometheus::BuildCounter()
                      .Name("driftd_ingest_records_total")
                      .Help("Records decoded, by transport and wire format.")
                      .Register(*registry);
  auto& errors =
      prometheus::BuildCounter()
          .Name("driftd_ingest_errors_total")
          .Help("Lines, records, values or connections rejected, by transport and reason.")
          .Register(*registry);
  auto& connections = prometheus::BuildGauge()
                          .Name("driftd_ingest_connections")
                          .Help("Open ingest connections, by transport.")
                          .Register(*registry);
  for (size_t t = 0; t < transports_.size(); ++t) {
    const std::string name(kTransportLabels[t]);
    TransportMetrics& m = transports_[t];
    for (size_t f = 0; f < m.records.size(); ++f) {
      m.records[f] = &records.Add({{"transport", name}, {"format", std::string(kFormatLabels[f])}});
    }
    if (t != static_cast<size_t>(Transport::kUdp)) {
      m.connections = &connections.Add({{"transport", name}});
    }
    for (size_t r = 0; r < kReasonCount; ++r) {
      m.errors[r] = &errors.Add({{"transport", name}, {"reason", std::string(kReasonLabels[r])}});
    }
  }
  values_ = &prometheus::BuildCounter()
                 .Name("driftd_ingest_values_total")
                 .Help("Feature values counted into a window.")
                 .Register(*registry)
                 .Add({});
  evaluation_duration_ =
      &prometheus::BuildHistogram()
           .Name("driftd_evaluation_duration_seconds")
           .Help("Time one evaluation of every model's windows took.")
           .Register(*registry)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                            0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
  last_evaluation_ = &prometheus::BuildGauge()
                          .Name("driftd_last_evaluation_timestamp_seconds")
                          .Help("Unix time of the latest evaluation.")
                          .Register(*registry)
                          .Add({});
}

std::string RenderEvaluation(const Evaluation& eval, const std::vector<std::string>& export_bins) {
  struct Spec {
    const char* name;
    const char* help;
    bool needs_min_samples;
    double (*value)(const FeatureEvaluation&);
    bool per_window = true;  // labelled with the window; else once per feature (its first)
  };
  // The divergences come from the descriptor table (core/feature_metrics.h); these follow them.
  static const Spec kSpecs[] = {
      {"driftd_feature_drift_p_value",
       "p-value of the G-test of the window against the reference (chi-square, K-1 degrees of "
       "freedom), before the Benjamini-Hochberg adjustment.",
       true, [](const FeatureEvaluation& f) { return f.significance.p_value; }},
      {"driftd_feature_kl_noise_floor",
       "(K-1)/(2n): the KL divergence sampling noise alone gives on average, in the KL's log base.",
       true, [](const FeatureEvaluation& f) { return f.kl_noise_floor; }},
      {"driftd_feature_drift_severity",
       "Drift alert level: 0 ok, 1 warning, 2 critical (absent while the window holds fewer than "
       "min_samples).",
       true, [](const FeatureEvaluation& f) { return static_cast<double>(f.alert.level()); },
       false},
      {"driftd_feature_window_samples", "Observations in the feature's window.", false,
       [](const FeatureEvaluation& f) { return static_cast<double>(f.samples); }},
      {"driftd_feature_missing_ratio", "Share of the window that is missing (null, NaN or absent).",
       false, [](const FeatureEvaluation& f) { return f.missing_ratio; }},
      {"driftd_feature_out_of_range_ratio",
       "Share of the window outside the reference: underflow and overflow, or categories the "
       "reference never saw.",
       false, [](const FeatureEvaluation& f) { return f.out_of_range_ratio; }},
  };
  // Written sample by sample into a string sized from the feature count (about 120 bytes a
  // sample), so neither metric objects nor a doubling buffer sit beside the page.
  size_t samples = 0;
  for (const ModelEvaluation& m : eval.models) samples += m.features.size();
  std::vector<Spec> specs;
  specs.reserve(kFeatureMetricCount + std::size(kSpecs));
  for (const FeatureMetric& m : FeatureMetrics()) {
    // Divergences are present only when the feature's window holds min_samples.
    specs.push_back({m.prometheus_name.data(), m.help.data(), true, m.value});
  }
  specs.insert(specs.end(), std::begin(kSpecs), std::end(kSpecs));
  std::string out;
  out.reserve(samples * specs.size() * 120);
  for (const Spec& spec : specs) {
    FamilyWriter family(&out, spec.name, spec.help);
    for (const ModelEvaluation& m : eval.models) {
      if (!spec.per_window) {
        // The alert state is one per feature: decided on the policy's warning and critical
        // windows, so it carries no window label. Present when either window is evaluable.
        for (size_t f = 0; f < m.features_per_window; ++f) {
          const FeatureEvaluation& fe = m.features[f];
          if (spec.needs_min_samples && !fe.alert.evaluable()) continue;
          family.Sample({{"feature", fe.name}, {"model", m.model}}, spec.value(fe));
        }
        continue;
      }
      for (const FeatureEvaluation& f : m.features) {
        if (spec.needs_min_samples && !f.evaluable) continue;
        family.Sample({{"feature", f.name},
                       {"model", m.model},
                       {"window", eval.options.windows[f.window].name}},
                      spec.value(f));
      }
    }
  }
  FamilyWriter drifted(&out, "driftd_model_drifted_features",
                       "Features with enough data at drift level warning or above.");
  for (const ModelEvaluation& m : eval.models) {
    drifted.Sample({{"model", m.model}}, m.alerts.drifted);
  }
  FamilyWriter evaluable(&out, "driftd_model_evaluable_features",
                         "Features whose window holds min_samples.");
  for (const ModelEvaluation& m : eval.models) {
    evaluable.Sample({{"model", m.model}}, m.alerts.evaluable);
  }
  FamilyWriter retrain(
      &out, "driftd_model_retrain_recommended",
      "1 when the model's drifted share or critical features reach its retrain policy.");
  for (const ModelEvaluation& m : eval.models) {
    retrain.Sample({{"model", m.model}}, m.alerts.retrain ? 1 : 0);
  }
  FamilyWriter info(&out, "driftd_reference_info", "The reference each model is compared with.");
  for (const ModelEvaluation& m : eval.models) {
    info.Sample({{"model", m.model}, {"sha256", m.sha256}, {"version", m.version}}, 1);
  }
  // Cumulative since start: a counter, carried by every evaluation.
  FamilyWriter saturations(&out, "driftd_window_saturations_total",
                           "Observations not counted because their window counter (one per "
                           "feature, bin and slice) was at its maximum, 4294967295.",
                           "counter");
  for (const ModelEvaluation& m : eval.models) {
    saturations.Sample({{"model", m.model}}, static_cast<double>(m.saturations));
  }
  // What Prometheus needs to compute the divergences of a fleet from its counts: the smoothing
  // and the log base (docs/fleet.md), and the counts of the models that export them.
  if (!eval.models.empty()) {
    FamilyWriter(&out, "driftd_evaluation_smoothing_alpha",
                 "The additive smoothing alpha added to every bin of both distributions.")
        .Sample({}, eval.options.divergence.smoothing);
    FamilyWriter(&out, "driftd_evaluation_log_base",
                 "The logarithm base of KL, entropy, cross-entropy and JS: e (2.718...) or 2.")
        .Sample({}, eval.options.divergence.base == LogBase::kTwo ? 2.0 : std::exp(1.0));
  }
  FamilyWriter window_bins(
      &out, "driftd_feature_window_bin_count",
      "Observations in one bin of the feature's window (models[].export_bins); "
      "bin is the bin's index in the reference's bin vector.");
  std::string reference_bins;  // its own family, written after the window's
  FamilyWriter reference_family(
      &reference_bins, "driftd_feature_reference_bin_count",
      "The reference's count of one bin of the feature (models[].export_bins).");
  for (const ModelEvaluation& m : eval.models) {
    if (std::find(export_bins.begin(), export_bins.end(), m.model) == export_bins.end()) continue;
    for (const FeatureEvaluation& f : m.features) {
      const std::string& window = eval.options.windows[f.window].name;
      for (size_t b = 0; b < f.window_counts.size(); ++b) {
        const std::string bin = std::to_string(b);
        window_bins.Sample(
            {{"bin", bin}, {"feature", f.name}, {"model", m.model}, {"window", window}},
            static_cast<double>(f.window_counts[b]));
        if (f.window == 0 && f.reference_counts != nullptr) {
          reference_family.Sample({{"bin", bin}, {"feature", f.name}, {"model", m.model}},
                                  static_cast<double>((*f.reference_counts)[b]));
        }
      }
    }
  }
  out += reference_bins;
  return out;
}

std::string RenderProcessMetrics() {
  std::string out;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start at field 3 (state).
  const auto close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream in(text.substr(close + 2));
    std::vector<std::string> f((std::istream_iterator<std::string>(in)),
                               std::istream_iterator<std::string>());
    // f[0] is field 3; utime=14, stime=15, starttime=22, vsize=23, rss=24.
    if (f.size() > 21) {
      FamilyWriter(&out, "process_cpu_seconds_total",
                   "Total user and system CPU time spent in seconds.", "counter")
          .Sample({}, (std::stod(f[11]) + std::stod(f[12])) / ticks);
      std::ifstream up("/proc/stat");
      std::string line;
      double boot = 0;
      while (std::getline(up, line)) {
        if (line.rfind("btime ", 0) == 0) boot = std::stod(line.substr(6));
      }
      FamilyWriter(&out, "process_start_time_seconds",
                   "Start time of the process since unix epoch in seconds.")
          .Sample({}, boot + std::stod(f[19]) / ticks);
      FamilyWriter(&out, "process_virtual_memory_bytes", "Virtual memory size in bytes.")
          .Sample({}, std::stod(f[20]));
      FamilyWriter(&out, "process_resident_memory_bytes", "Resident memory size in bytes.")
          .Sample({}, std::stod(f[21]) * page);
    }
  }
  double fds = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++fds;
    closedir(d);
    fds -= 3;  // ".", ".." and the directory's own descriptor
  }
  FamilyWriter(&out, "process_open_fds", "Number of open file descriptors.").Sample({}, fds);
  FamilyWriter(&out, "process_max_fds", "Maximum number of open file descriptors.")
      .Sample({}, static_cast<double>(sysconf(_SC_OPEN_MAX)));
  return out;
}

}  // namespace driftd
