#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/feature_metrics.h"
#include "tests/daemon/http/http_fixture.h"

namespace driftd {
namespace {

using StatusEndpointTest = HttpFixture;
using Json = nlohmann::ordered_json;

std::vector<std::string> Keys(const Json& j) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : j.items()) keys.push_back(key);
  return keys;
}

const Json& Feature(const Json& model, std::string_view name) {
  for (const Json& f : model.at("features")) {
    if (f.at("feature") == name) return f;
  }
  static const Json kNone;
  ADD_FAILURE() << "no feature " << name;
  return kNone;
}

TEST_F(StatusEndpointTest, BeforeTheFirstEvaluation) {
  HttpResponse r = Handle("GET", "/api/v1/status");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            "{\n  \"version\": \"1.2.3-test\",\n  \"ready\": false,\n  \"evaluated_at\": null,\n"
            "  \"models\": []\n}\n");
}

TEST_F(StatusEndpointTest, AnEvaluatedModel) {
  ready_ = true;
  ASSERT_EQ(Handle("POST", "/api/v1/ingest", "m x=0.5\nm x=0.5\nm x=1.5\n").status, 204);
  EvaluateAndPublish();
  HttpResponse r = Handle("GET", "/api/v1/status");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  ASSERT_EQ(r.body.back(), '\n');
  const Json j = Json::parse(r.body);

  EXPECT_EQ(Keys(j),
            (std::vector<std::string>{"version", "ready", "evaluated_at", "evaluation_seconds",
                                      "window", "evaluation", "models"}));
  EXPECT_EQ(j["version"], "1.2.3-test");
  EXPECT_EQ(j["ready"], true);
  EXPECT_EQ(j["evaluated_at"], kNow);
  EXPECT_EQ(j["window"], Json::parse(R"({"length_seconds": 600, "slices": 10})"));
  EXPECT_EQ(Keys(j["evaluation"]),
            (std::vector<std::string>{"min_samples", "smoothing", "log_base", "kl_direction"}));
  EXPECT_EQ(j["evaluation"]["min_samples"], 2);
  EXPECT_EQ(j["evaluation"]["kl_direction"], "window_to_reference");

  ASSERT_EQ(j["models"].size(), 1u);
  const Json& m = j["models"][0];
  EXPECT_EQ(Keys(m), (std::vector<std::string>{"model", "reference_version", "reference_sha256",
                                               "evaluable_features", "drifted_features",
                                               "critical_features", "retrain_recommended",
                                               "late_total", "future_total", "features"}));
  EXPECT_EQ(m["model"], "m");
  EXPECT_EQ(m["reference_version"], "1");
  EXPECT_EQ(m["reference_sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(m["evaluable_features"], 2);
  EXPECT_EQ(m["late_total"], 0);
  EXPECT_EQ(m["future_total"], 0);
  ASSERT_EQ(m["features"].size(), 2u);

  // x holds min_samples: every divergence, the G-test and the bins with their counts.
  const Json& x = Feature(m, "x");
  std::vector<std::string> keys = {"feature", "type", "samples", "status"};
  for (const FeatureMetric& fm : FeatureMetrics()) keys.emplace_back(fm.json_key);
  for (const char* k : {"p_value", "p_value_adjusted", "g_statistic", "degrees_of_freedom",
                        "kl_noise_floor", "drift", "missing_ratio", "out_of_range_ratio", "bins"}) {
    keys.emplace_back(k);
  }
  EXPECT_EQ(Keys(x), keys);
  EXPECT_EQ(x["type"], "numeric");
  EXPECT_EQ(x["samples"], 3);
  EXPECT_EQ(x["status"], "ok");
  for (const FeatureMetric& fm : FeatureMetrics()) {
    EXPECT_TRUE(x[std::string(fm.json_key)].is_number()) << fm.json_key;
  }
  EXPECT_EQ(x["missing_ratio"], 0.0);
  const Json& bins = x["bins"];
  ASSERT_EQ(bins.size(), 5u);  // two interior bins, underflow, overflow, missing
  EXPECT_EQ(Keys(bins[0]), (std::vector<std::string>{"bin", "window_count", "window_probability",
                                                     "reference_count", "reference_probability"}));
  EXPECT_EQ(bins[0]["window_count"], 2);
  EXPECT_EQ(bins[1]["window_count"], 1);
  EXPECT_EQ(bins[0]["reference_count"], 5);
  EXPECT_EQ(bins[1]["reference_count"], 5);
  double window_p = 0;
  for (const Json& b : bins) window_p += b["window_probability"].get<double>();
  EXPECT_NEAR(window_p, 1, 1e-9);

  // c is in no record: all missing, but its window holds min_samples.
  const Json& c = Feature(m, "c");
  EXPECT_EQ(c["type"], "categorical");
  EXPECT_EQ(c["samples"], 3);
  EXPECT_EQ(c["status"], "ok");
  EXPECT_EQ(c["missing_ratio"], 1.0);
  EXPECT_EQ(c["bins"].size(), 4u);  // a, b, other, missing
  EXPECT_EQ(c["bins"][3]["window_count"], 3);
}

TEST_F(StatusEndpointTest, TooFewSamplesIsInsufficientData) {
  ASSERT_EQ(Handle("POST", "/api/v1/ingest", "m x=0.5\n").status, 204);
  EvaluateAndPublish();
  const Json j = Json::parse(Handle("GET", "/api/v1/status").body);
  const Json& x = Feature(j["models"][0], "x");
  EXPECT_EQ(x["samples"], 1);
  EXPECT_EQ(x["status"], "insufficient_data");
  EXPECT_FALSE(x.contains("p_value"));
  EXPECT_EQ(j["models"][0]["evaluable_features"], 0);
}

TEST_F(StatusEndpointTest, NoDataBeforeAnyRecord) {
  EvaluateAndPublish();
  const Json j = Json::parse(Handle("GET", "/api/v1/status").body);
  ASSERT_EQ(j["models"].size(), 1u);
  for (const Json& f : j["models"][0]["features"]) {
    EXPECT_EQ(f["samples"], 0);
    EXPECT_EQ(f["status"], "no_data");
    EXPECT_EQ(Keys(f), (std::vector<std::string>{"feature", "type", "samples", "status", "drift",
                                                 "missing_ratio", "out_of_range_ratio", "bins"}));
  }
}

}  // namespace
}  // namespace driftd
