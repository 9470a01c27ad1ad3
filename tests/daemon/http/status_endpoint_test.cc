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

TEST_F(StatusEndpointTest, AnEvaluatedModelWithBins) {
  ready_ = true;
  ASSERT_EQ(Handle("POST", "/api/v1/ingest", "m x=0.5\nm x=0.5\nm x=1.5\n").status, 204);
  EvaluateAndPublish();
  HttpResponse r = Handle("GET", "/api/v1/status?bins=true");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  const std::string wire = Wire(r);
  ASSERT_EQ(wire.back(), '\n');
  const Json j = Json::parse(wire);

  EXPECT_EQ(Keys(j),
            (std::vector<std::string>{"version", "ready", "evaluated_at", "evaluation_seconds",
                                      "windows", "evaluation", "models"}));
  EXPECT_EQ(j["version"], "1.2.3-test");
  EXPECT_EQ(j["ready"], true);
  EXPECT_EQ(j["evaluated_at"], kNow);
  EXPECT_EQ(j["windows"], Json::parse(R"([{"name": "w", "length_seconds": 600, "slices": 10}])"));
  EXPECT_EQ(Keys(j["evaluation"]),
            (std::vector<std::string>{"min_samples", "smoothing", "log_base", "kl_direction"}));
  EXPECT_EQ(j["evaluation"]["min_samples"], 2);
  EXPECT_EQ(j["evaluation"]["kl_direction"], "window_to_reference");

  ASSERT_EQ(j["models"].size(), 1u);
  const Json& m = j["models"][0];
  EXPECT_EQ(Keys(m),
            (std::vector<std::string>{"model", "reference_version", "reference_sha256",
                                      "evaluable_features", "drifted_features", "critical_features",
                                      "retrain_recommended", "warning_window", "critical_window",
                                      "window_records", "late_total", "future_total", "features"}));
  EXPECT_EQ(m["warning_window"], "w");
  EXPECT_EQ(m["critical_window"], "w");
  EXPECT_EQ(m["window_records"], Json::parse(R"({"w": 3})"));
  EXPECT_EQ(m["model"], "m");
  EXPECT_EQ(m["reference_version"], "1");
  EXPECT_EQ(m["reference_sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(m["evaluable_features"], 2);
  EXPECT_EQ(m["late_total"], 0);
  EXPECT_EQ(m["future_total"], 0);
  ASSERT_EQ(m["features"].size(), 2u);

  // x holds min_samples: every divergence, the G-test and the bins with their counts.
  const Json& x = Feature(m, "x");
  std::vector<std::string> keys = {"feature", "window", "type", "samples", "status"};
  for (const FeatureMetric& fm : FeatureMetrics()) keys.emplace_back(fm.json_key);
  for (const char* k : {"p_value", "p_value_adjusted", "g_statistic", "degrees_of_freedom",
                        "kl_noise_floor", "drift", "missing_ratio", "out_of_range_ratio", "bins"}) {
    keys.emplace_back(k);
  }
  EXPECT_EQ(Keys(x), keys);
  EXPECT_EQ(x["window"], "w");
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
  const Json j = Json::parse(Wire(Handle("GET", "/api/v1/status")));
  const Json& x = Feature(j["models"][0], "x");
  EXPECT_EQ(x["samples"], 1);
  EXPECT_EQ(x["status"], "insufficient_data");
  EXPECT_FALSE(x.contains("p_value"));
  EXPECT_EQ(j["models"][0]["evaluable_features"], 0);
}

TEST_F(StatusEndpointTest, NoDataBeforeAnyRecord) {
  EvaluateAndPublish();
  const Json j = Json::parse(Wire(Handle("GET", "/api/v1/status")));
  ASSERT_EQ(j["models"].size(), 1u);
  for (const Json& f : j["models"][0]["features"]) {
    EXPECT_EQ(f["samples"], 0);
    EXPECT_EQ(f["status"], "no_data");
    EXPECT_EQ(Keys(f), (std::vector<std::string>{"feature", "window", "type", "samples", "status",
                                                 "drift", "missing_ratio", "out_of_range_ratio"}));
  }
}

TEST_F(StatusEndpointTest, BinsOnlyWhenAsked) {
  ASSERT_EQ(Handle("POST", "/api/v1/ingest", "m x=0.5\nm x=1.5\n").status, 204);
  EvaluateAndPublish();
  auto features_with_bins = [&](std::string_view target) {
    HttpResponse r = Handle("GET", target);
    EXPECT_EQ(r.status, 200) << target;
    int with = 0;
    const Json j = Json::parse(Wire(r));
    for (const Json& f : j["models"][0]["features"]) with += f.contains("bins");
    return with;
  };
  EXPECT_EQ(features_with_bins("/api/v1/status"), 0);
  EXPECT_EQ(features_with_bins("/api/v1/status?bins=false"), 0);
  EXPECT_EQ(features_with_bins("/api/v1/status?bins=0"), 0);
  EXPECT_EQ(features_with_bins("/api/v1/status?bins=true"), 2);
  EXPECT_EQ(features_with_bins("/api/v1/status?bins=1"), 2);
  EXPECT_EQ(features_with_bins("/api/v1/status?feature=x&bins=true"), 1);
  // Apart from the bins the documents are the same.
  Json with = Json::parse(Wire(Handle("GET", "/api/v1/status?bins=true")));
  for (Json& f : with["models"][0]["features"]) f.erase("bins");
  EXPECT_EQ(with, Json::parse(Wire(Handle("GET", "/api/v1/status"))));
}

// The document is written piece by piece; it must be exactly what nlohmann's dump(2) of the
// whole tree gives, as it was when the tree was built.
TEST_F(StatusEndpointTest, TheWrittenDocumentIsTheTreesDump) {
  ready_ = true;
  ASSERT_EQ(Handle("POST", "/api/v1/ingest", "m,c=a x=0.5\nm x=0.5\nm x=7\n").status, 204);
  for (bool evaluated : {false, true}) {
    if (evaluated) EvaluateAndPublish();
    for (std::string_view target :
         {"/api/v1/status", "/api/v1/status?bins=true", "/api/v1/status?feature=c",
          "/api/v1/status?model=m&feature=x&bins=true"}) {
      const std::string wire = Wire(Handle("GET", target));
      EXPECT_EQ(wire, Json::parse(wire).dump(2) + "\n") << target;
    }
  }
}

TEST_F(StatusEndpointTest, FiltersByFeature) {
  EvaluateAndPublish();
  auto features = [&](std::string_view target) {
    std::vector<std::string> names;
    const Json j = Json::parse(Wire(Handle("GET", target)));
    for (const Json& m : j["models"]) {
      for (const Json& f : m["features"]) names.push_back(f["feature"]);
    }
    return names;
  };
  EXPECT_EQ(features("/api/v1/status"), (std::vector<std::string>{"c", "x"}));
  EXPECT_EQ(features("/api/v1/status?feature=c"), (std::vector<std::string>{"c"}));
  // In the evaluation's order, whatever the query's.
  EXPECT_EQ(features("/api/v1/status?feature=x&feature=c&model=m"),
            (std::vector<std::string>{"c", "x"}));
  EXPECT_EQ(features("/api/v1/status?feature=x&feature=x"), (std::vector<std::string>{"x"}));
}

TEST_F(StatusEndpointTest, BadQueriesAreClientErrors) {
  EvaluateAndPublish();
  const struct {
    std::string_view target;
    int status;
    std::string_view error;
  } cases[] = {
      {"/api/v1/status?model=zz", 404, "unknown model \"zz\""},
      {"/api/v1/status?model=m&model=zz", 404, "unknown model \"zz\""},
      {"/api/v1/status?feature=nope", 404, "unknown feature \"nope\""},
      {"/api/v1/status?window=1d", 404, "unknown window \"1d\""},
      {"/api/v1/status?bins=yes", 400, "bins: expected true or false, got \"yes\""},
      {"/api/v1/status?bin=true", 400,
       "unknown query parameter \"bin\" (model, feature, window, bins)"},
      {"/api/v1/status?model=%zz", 400, "bad %-escape in \"model=%zz\""},
  };
  for (const auto& c : cases) {
    HttpResponse r = Handle("GET", c.target);
    EXPECT_EQ(r.status, c.status) << c.target;
    EXPECT_EQ(r.content_type, "application/json") << c.target;
    EXPECT_EQ(Json::parse(r.body), Json({{"error", c.error}})) << c.target;
    EXPECT_TRUE(r.shared.empty());
  }
}

// Models m (x, c) and n (y): a model filter keeps models, a feature filter leaves out the models
// that have none of the features.
TEST_F(StatusEndpointTest, FiltersAcrossModels) {
  std::vector<std::string> errors;
  auto n = ParseReference(R"({"model": "n", "version": "7", "features": {
      "y": {"type": "numeric", "edges": [0, 1], "counts": [3]}}})",
                          "n.json", &errors);
  ASSERT_TRUE(n);
  auto m = ParseReference(R"({"model": "m", "version": "1", "features": {
      "x": {"type": "numeric", "edges": [0, 1, 2], "counts": [5, 5]},
      "y": {"type": "numeric", "edges": [0, 1], "counts": [3]}}})",
                          "m.json", &errors);
  ASSERT_TRUE(m);
  Monitor two(monitor_->options(), {*m, *n}, kNow);
  ctx_.monitor = &two;
  published_.Set(two.Evaluate(kNow), "");
  auto shape = [&](std::string_view target) {
    std::vector<std::string> out;
    HttpResponse r = Handle("GET", target);
    EXPECT_EQ(r.status, 200) << target << " " << r.body;
    const Json j = Json::parse(Wire(r));
    for (const Json& jm : j["models"]) {
      std::string s = jm["model"].get<std::string>() + ":";
      for (const Json& f : jm["features"]) s += f["feature"].get<std::string>();
      out.push_back(s);
    }
    return out;
  };
  EXPECT_EQ(shape("/api/v1/status"), (std::vector<std::string>{"m:xy", "n:y"}));
  EXPECT_EQ(shape("/api/v1/status?model=n"), (std::vector<std::string>{"n:y"}));
  EXPECT_EQ(shape("/api/v1/status?model=n&model=m"), (std::vector<std::string>{"m:xy", "n:y"}));
  EXPECT_EQ(shape("/api/v1/status?feature=x"), (std::vector<std::string>{"m:x"}));
  EXPECT_EQ(shape("/api/v1/status?feature=y"), (std::vector<std::string>{"m:y", "n:y"}));
  EXPECT_EQ(shape("/api/v1/status?model=n&feature=y"), (std::vector<std::string>{"n:y"}));
  // x is a feature, but not of the selected model.
  EXPECT_EQ(Handle("GET", "/api/v1/status?model=n&feature=x").status, 404);
  published_.Set(nullptr, "");  // its features point into `two`
}

TEST_F(StatusEndpointTest, TheUnfilteredModelsAreRenderedOncePerEvaluationAndShared) {
  EvaluateAndPublish();
  // The first request leaves the rendering to the renderer; once it ran, later requests share
  // its text (the same object, not a copy) and need no rendering.
  HttpResponse first = HandleHttp(&ctx_, "GET", "/api/v1/status", {}, &limiter_);
  ASSERT_TRUE(first.render);
  first = Rendered(std::move(first));
  ASSERT_EQ(first.shared.size(), 2u);
  HttpResponse second = HandleHttp(&ctx_, "GET", "/api/v1/status", {}, &limiter_);
  EXPECT_FALSE(second.render);
  ASSERT_EQ(second.shared.size(), 2u);
  EXPECT_EQ(second.shared[0].get(), first.shared[0].get());
  EXPECT_EQ(Wire(second), Wire(first));

  // With bins is another document, rendered once too.
  HttpResponse bins = HandleHttp(&ctx_, "GET", "/api/v1/status?bins=true", {}, &limiter_);
  ASSERT_TRUE(bins.render);
  bins = Rendered(std::move(bins));
  EXPECT_NE(bins.shared[0].get(), first.shared[0].get());
  HttpResponse bins2 = HandleHttp(&ctx_, "GET", "/api/v1/status?bins=1", {}, &limiter_);
  EXPECT_FALSE(bins2.render);
  EXPECT_EQ(bins2.shared[0].get(), bins.shared[0].get());

  // A filtered request is rendered for itself, and never stored as the unfiltered one.
  HttpResponse filtered = HandleHttp(&ctx_, "GET", "/api/v1/status?feature=x", {}, &limiter_);
  ASSERT_TRUE(filtered.render);
  filtered = Rendered(std::move(filtered));
  EXPECT_EQ(HandleHttp(&ctx_, "GET", "/api/v1/status", {}, &limiter_).shared[0].get(),
            first.shared[0].get());

  // A new evaluation drops the renderings of the previous one.
  ASSERT_EQ(Handle("POST", "/api/v1/ingest", "m x=0.5\n").status, 204);
  EvaluateAndPublish();
  HttpResponse after = HandleHttp(&ctx_, "GET", "/api/v1/status", {}, &limiter_);
  EXPECT_TRUE(after.render);
  after = Rendered(std::move(after));
  EXPECT_EQ(Feature(Json::parse(Wire(after))["models"][0], "x")["samples"], 1);
  EXPECT_EQ(Feature(Json::parse(Wire(first))["models"][0], "x")["samples"], 0);
}

// Two requests queued for the renderer before either ran: the second finds the first's text.
TEST_F(StatusEndpointTest, QueuedRequestsShareOneRendering) {
  EvaluateAndPublish();
  HttpResponse a = HandleHttp(&ctx_, "GET", "/api/v1/status", {}, &limiter_);
  HttpResponse b = HandleHttp(&ctx_, "GET", "/api/v1/status", {}, &limiter_);
  ASSERT_TRUE(a.render);
  ASSERT_TRUE(b.render);
  a = Rendered(std::move(a));
  b = Rendered(std::move(b));
  EXPECT_EQ(a.shared[0].get(), b.shared[0].get());
}

TEST_F(StatusEndpointTest, ReadyIsCurrentInASharedDocument) {
  EvaluateAndPublish();
  EXPECT_EQ(Json::parse(Wire(Handle("GET", "/api/v1/status")))["ready"], false);
  ready_ = true;
  HttpResponse r = HandleHttp(&ctx_, "GET", "/api/v1/status", {}, &limiter_);
  EXPECT_FALSE(r.render);  // shared
  EXPECT_EQ(Json::parse(Wire(r))["ready"], true);
}

TEST_F(StatusEndpointTest, ConcurrentResponsesAreBounded) {
  ResponseLimiter limit(2);
  ctx_.status_responses = &limit;
  EvaluateAndPublish();
  HttpResponse a = Handle("GET", "/api/v1/status");
  HttpResponse b = Handle("GET", "/api/v1/status?bins=true");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(b.status, 200);
  EXPECT_EQ(limit.in_use(), 2u);
  // Both slots are held until the responses are gone: the third request is refused.
  HttpResponse busy = Handle("GET", "/api/v1/status?feature=x");
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.content_type, "application/json");
  EXPECT_EQ(busy.headers, (std::vector<std::pair<std::string, std::string>>{{"Retry-After", "1"}}));
  EXPECT_EQ(Json::parse(busy.body)["error"], "too many large responses in progress; retry later");
  EXPECT_EQ(HttpErrors(Reason::kTooManyRequests), 1);
  // The live page and a snapshot are large responses too: they share the slots.
  HttpResponse page = Handle("GET", "/");
  EXPECT_EQ(page.status, 503);
  EXPECT_EQ(page.body, "too many large responses in progress; retry later\n");
  EXPECT_EQ(page.headers, (std::vector<std::pair<std::string, std::string>>{{"Retry-After", "1"}}));
  EXPECT_EQ(Handle("GET", "/api/v1/snapshot?model=m").status, 503);
  EXPECT_EQ(HttpErrors(Reason::kTooManyRequests), 3);
  // Other endpoints are not limited; a bad query is answered without a slot.
  EXPECT_EQ(Handle("GET", "/healthz").status, 200);
  EXPECT_EQ(Handle("GET", "/metrics").status, 200);
  EXPECT_EQ(Handle("GET", "/api/v1/status?model=zz").status, 404);
  EXPECT_EQ(Handle("GET", "/api/v1/snapshot").status, 400);  // no model=
  EXPECT_EQ(HttpErrors(Reason::kTooManyRequests), 3);

  a = HttpResponse();
  EXPECT_EQ(limit.in_use(), 1u);
  {
    const HttpResponse held = Handle("GET", "/");  // a page holds its slot until it is gone
    EXPECT_EQ(held.status, 200);
    EXPECT_EQ(limit.in_use(), 2u);
  }
  EXPECT_EQ(limit.in_use(), 1u);
  EXPECT_EQ(Handle("GET", "/api/v1/status").status, 200);  // its slot given back at once
  EXPECT_EQ(limit.in_use(), 1u);
  b = HttpResponse();
  EXPECT_EQ(limit.in_use(), 0u);
}

TEST(ResponseLimiterTest, LeasesAreCountedUntilTheirLastCopyIsGone) {
  ResponseLimiter limit(2);
  EXPECT_EQ(limit.max(), 2u);
  auto a = limit.TryAcquire();
  ASSERT_TRUE(a);
  auto a_copy = a;
  EXPECT_EQ(limit.in_use(), 1u);
  auto b = limit.TryAcquire();
  ASSERT_TRUE(b);
  EXPECT_FALSE(limit.TryAcquire());
  EXPECT_EQ(limit.in_use(), 2u);
  a.reset();
  EXPECT_EQ(limit.in_use(), 2u);  // a_copy still holds it
  a_copy.reset();
  EXPECT_EQ(limit.in_use(), 1u);
  EXPECT_TRUE(limit.TryAcquire());  // a temporary: given back at once
  EXPECT_EQ(limit.in_use(), 1u);
}

TEST(ResponseLimiterTest, ALeaseMayOutliveItsLimiter) {
  std::shared_ptr<const void> lease;
  {
    ResponseLimiter limit(1);
    lease = limit.TryAcquire();
    ASSERT_TRUE(lease);
  }
  lease.reset();  // no use after free (ASan would say)
}

}  // namespace
}  // namespace driftd
