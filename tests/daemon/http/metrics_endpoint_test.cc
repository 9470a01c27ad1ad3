#include <gtest/gtest.h>

#include "core/feature_metrics.h"
#include "tests/daemon/http/http_fixture.h"

namespace driftd {
namespace {

using MetricsEndpointTest = HttpFixture;

constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

bool Has(const std::string& text, std::string_view what) {
  return text.find(what) != std::string::npos;
}

TEST_F(MetricsEndpointTest, BeforeTheFirstEvaluationTheCountersAndProcess) {
  HttpResponse r = Handle("GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, kContentType);
  EXPECT_TRUE(r.shared.empty());
  EXPECT_TRUE(Has(r.body, "# TYPE driftd_ingest_records_total counter\n"));
  EXPECT_TRUE(Has(r.body, "driftd_ingest_records_total{format=\"json\",transport=\"http\"} 0\n"));
  EXPECT_TRUE(Has(r.body, "# TYPE driftd_ingest_errors_total counter\n"));
  EXPECT_TRUE(Has(r.body, "# TYPE driftd_ingest_values_total counter\n"));
  EXPECT_TRUE(Has(r.body, "# TYPE process_cpu_seconds_total counter\n"));
  EXPECT_TRUE(Has(r.body, "process_resident_memory_bytes "));
  EXPECT_FALSE(Has(r.body, "driftd_feature_"));
}

TEST_F(MetricsEndpointTest, TheRegistrysCountersAndThePublishedEvaluation) {
  ASSERT_EQ(Handle("POST", "/api/v1/ingest", "m x=0.5\nm x=0.5\nm x=1.5\nzz x=1\n").status, 400);
  EvaluateAndPublish();
  HttpResponse r = Handle("GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, kContentType);
  // The evaluation's text goes out shared, as it was published, after the registry's.
  ASSERT_EQ(r.shared.size(), 1u);
  EXPECT_EQ(r.shared[0], published_.metrics_text());
  EXPECT_FALSE(Has(r.body, "driftd_feature_"));

  const std::string text = Wire(r);
  EXPECT_TRUE(
      Has(text, "driftd_ingest_records_total{format=\"line_protocol\",transport=\"http\"} 4\n"));
  EXPECT_TRUE(
      Has(text, "driftd_ingest_errors_total{reason=\"unknown_model\",transport=\"http\"} 1\n"));
  EXPECT_TRUE(Has(text, "driftd_ingest_values_total 3\n"));
  // Every divergence of both features (c is all missing, but its window holds min_samples).
  for (const FeatureMetric& m : FeatureMetrics()) {
    const std::string name(m.prometheus_name);
    EXPECT_TRUE(Has(text, "# TYPE " + name + " gauge\n")) << name;
    EXPECT_TRUE(Has(text, name + "{feature=\"x\",model=\"m\",window=\"w\"} ")) << name;
    EXPECT_TRUE(Has(text, name + "{feature=\"c\",model=\"m\",window=\"w\"} ")) << name;
  }
  EXPECT_TRUE(
      Has(text, "driftd_feature_window_samples{feature=\"x\",model=\"m\",window=\"w\"} 3\n"));
  EXPECT_TRUE(
      Has(text, "driftd_feature_missing_ratio{feature=\"c\",model=\"m\",window=\"w\"} 1\n"));
  EXPECT_TRUE(Has(text, "driftd_model_evaluable_features{model=\"m\"} 2\n"));
  EXPECT_TRUE(Has(text, "driftd_reference_info{model=\"m\","));
}

TEST_F(MetricsEndpointTest, NoDivergencesBelowMinSamples) {
  ASSERT_EQ(Handle("POST", "/api/v1/ingest", "m x=0.5\n").status, 204);
  EvaluateAndPublish();
  const std::string text = Wire(Handle("GET", "/metrics"));
  for (const FeatureMetric& m : FeatureMetrics()) {
    EXPECT_FALSE(Has(text, std::string(m.prometheus_name) + "{")) << m.prometheus_name;
  }
  EXPECT_TRUE(
      Has(text, "driftd_feature_window_samples{feature=\"x\",model=\"m\",window=\"w\"} 1\n"));
  EXPECT_TRUE(Has(text, "driftd_model_evaluable_features{model=\"m\"} 0\n"));
}

}  // namespace
}  // namespace driftd
