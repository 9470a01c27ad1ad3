#include "daemon/export/metrics.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "core/feature_metrics.h"

namespace driftd {
namespace {

// The value of the sample `name{labels}` in `text`, if present.
std::optional<double> Sample(const std::string& text, const std::string& name_and_labels) {
  const std::string prefix = name_and_labels + " ";
  size_t at = 0;
  while ((at = text.find(prefix, at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + prefix.size()));
    at += prefix.size();
  }
  return std::nullopt;
}

// A per-window series' labels (HandBuilt's one window is the default, "1h").
std::string Labels(std::string_view feature) {
  return "{feature=\"" + std::string(feature) + "\",model=\"m\",window=\"1h\"}";
}

// The alert state's labels: one per feature, no window.
std::string StateLabels(std::string_view feature) {
  return "{feature=\"" + std::string(feature) + "\",model=\"m\"}";
}

// Model m: feature "a" evaluable with known values, "b" with too few samples.
Evaluation HandBuilt() {
  Evaluation eval;
  eval.timestamp = 1'732'060'800;
  ModelEvaluation m;
  m.model = "m";
  m.version = "v1";
  m.sha256 = "abc123";
  m.alerts.evaluable = 1;
  m.alerts.drifted = 0;
  FeatureEvaluation a;
  a.name = "a";
  a.kind = FeatureKind::kNumeric;
  a.samples = 300;
  a.evaluable = true;
  a.kl = 0.125;
  a.entropy = 1.5;
  a.cross_entropy = 1.625;
  a.divergences.psi = 0.25;
  a.divergences.js = 0.0625;
  a.divergences.hellinger = 0.375;
  a.divergences.tvd = 0.5;
  a.divergences.linf = 0.3125;
  a.significance.p_value = 0.001;
  a.kl_noise_floor = 0.0078125;
  a.missing_ratio = 0.03125;
  FeatureAlertState::Saved evaluable;
  evaluable.evaluable = true;
  a.alert.Restore(evaluable);
  m.features.push_back(a);
  FeatureEvaluation b;
  b.name = "b";
  b.kind = FeatureKind::kCategorical;
  b.samples = 10;
  b.evaluable = false;
  b.kl = 9;  // computed but not reportable: below min_samples
  b.divergences.tvd = 9;
  b.missing_ratio = 0.25;
  b.out_of_range_ratio = 0.5;
  m.features.push_back(b);
  m.features_per_window = 2;
  m.records = {300};
  eval.models.push_back(std::move(m));
  return eval;
}

TEST(RenderEvaluationTest, DivergencesOnlyForEvaluableFeatures) {
  const Evaluation eval = HandBuilt();
  const FeatureEvaluation& a = eval.models[0].features[0];
  const std::string text = RenderEvaluation(eval);
  for (const FeatureMetric& fm : FeatureMetrics()) {
    const std::string name(fm.prometheus_name);
    EXPECT_NE(text.find("# TYPE " + name + " gauge\n"), std::string::npos) << name;
    EXPECT_NE(text.find("# HELP " + name + " "), std::string::npos) << name;
    const auto value = Sample(text, name + Labels("a"));
    ASSERT_TRUE(value) << name;
    EXPECT_DOUBLE_EQ(*value, fm.value(a)) << name;
    EXPECT_FALSE(Sample(text, name + Labels("b"))) << name;
  }
}

TEST(RenderEvaluationTest, ValuesAsGiven) {
  const std::string text = RenderEvaluation(HandBuilt());
  const std::pair<FeatureMetricId, double> expected[] = {{FeatureMetricId::kKl, 0.125},
                                                         {FeatureMetricId::kEntropy, 1.5},
                                                         {FeatureMetricId::kCrossEntropy, 1.625},
                                                         {FeatureMetricId::kPsi, 0.25},
                                                         {FeatureMetricId::kJs, 0.0625},
                                                         {FeatureMetricId::kHellinger, 0.375},
                                                         {FeatureMetricId::kTvd, 0.5},
                                                         {FeatureMetricId::kLinf, 0.3125}};
  ASSERT_EQ(std::size(expected), kFeatureMetricCount);
  for (const auto& [id, value] : expected) {
    for (const FeatureMetric& fm : FeatureMetrics()) {
      if (fm.id != id) continue;
      EXPECT_EQ(Sample(text, std::string(fm.prometheus_name) + Labels("a")), value)
          << fm.prometheus_name;
    }
  }
  EXPECT_EQ(Sample(text, "driftd_feature_drift_p_value" + Labels("a")), 0.001);
  EXPECT_EQ(Sample(text, "driftd_feature_kl_noise_floor" + Labels("a")), 0.0078125);
  EXPECT_EQ(Sample(text, "driftd_feature_drift_severity" + StateLabels("a")), 0);
}

TEST(RenderEvaluationTest, WindowGaugesForEveryFeature) {
  const std::string text = RenderEvaluation(HandBuilt());
  EXPECT_EQ(Sample(text, "driftd_feature_window_samples" + Labels("a")), 300);
  EXPECT_EQ(Sample(text, "driftd_feature_window_samples" + Labels("b")), 10);
  EXPECT_EQ(Sample(text, "driftd_feature_missing_ratio" + Labels("a")), 0.03125);
  EXPECT_EQ(Sample(text, "driftd_feature_missing_ratio" + Labels("b")), 0.25);
  EXPECT_EQ(Sample(text, "driftd_feature_out_of_range_ratio" + Labels("b")), 0.5);
  // The G-test and the alert level need min_samples too.
  EXPECT_FALSE(Sample(text, "driftd_feature_drift_p_value" + Labels("b")));
  EXPECT_FALSE(Sample(text, "driftd_feature_drift_severity" + StateLabels("b")));
}

TEST(RenderEvaluationTest, ModelFamilies) {
  const std::string text = RenderEvaluation(HandBuilt());
  EXPECT_EQ(Sample(text, "driftd_model_evaluable_features{model=\"m\"}"), 1);
  EXPECT_EQ(Sample(text, "driftd_model_drifted_features{model=\"m\"}"), 0);
  EXPECT_EQ(Sample(text, "driftd_model_retrain_recommended{model=\"m\"}"), 0);
  EXPECT_EQ(Sample(text, "driftd_reference_info{model=\"m\",sha256=\"abc123\",version=\"v1\"}"), 1);
  EXPECT_EQ(Sample(text, "driftd_window_saturations_total{model=\"m\"}"), 0);
  Evaluation saturated = HandBuilt();
  saturated.models[0].saturations = 12;
  EXPECT_EQ(Sample(RenderEvaluation(saturated), "driftd_window_saturations_total{model=\"m\"}"),
            12);
}

TEST(RenderEvaluationTest, BinCountsOnlyForTheModelsThatExportThem) {
  Evaluation eval = HandBuilt();
  const std::vector<uint64_t> reference = {7, 0, 5};
  for (FeatureEvaluation& f : eval.models[0].features) {
    f.window_counts = {4, 1, 0};
    f.reference_counts = &reference;
  }
  const std::string without = RenderEvaluation(eval);
  EXPECT_EQ(without.find("driftd_feature_window_bin_count"), std::string::npos);
  EXPECT_EQ(Sample(without, "driftd_evaluation_smoothing_alpha"), 0.5);
  EXPECT_NEAR(*Sample(without, "driftd_evaluation_log_base"), 2.718281828459045, 1e-15);
  const std::string text = RenderEvaluation(eval, {"m"});
  EXPECT_EQ(Sample(text,
                   "driftd_feature_window_bin_count{bin=\"0\",feature=\"a\",model=\"m\","
                   "window=\"1h\"}"),
            4);
  EXPECT_EQ(Sample(text,
                   "driftd_feature_window_bin_count{bin=\"2\",feature=\"b\",model=\"m\","
                   "window=\"1h\"}"),
            0);
  EXPECT_EQ(Sample(text, "driftd_feature_reference_bin_count{bin=\"0\",feature=\"b\",model=\"m\"}"),
            7);
  EXPECT_EQ(Sample(text, "driftd_feature_reference_bin_count{bin=\"2\",feature=\"a\",model=\"m\"}"),
            5);
  EXPECT_EQ(RenderEvaluation(eval, {"other"}).find("driftd_feature_window_bin_count"),
            std::string::npos);
}

TEST(RenderEvaluationTest, NoModelsNoText) { EXPECT_EQ(RenderEvaluation(Evaluation{}), ""); }

}  // namespace
}  // namespace driftd
