#include <gtest/gtest.h>

#include <cmath>

#include "tests/daemon/http/http_fixture.h"

namespace driftd {
namespace {

using PageEndpointTest = HttpFixture;

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(PageEndpointTest, BeforeTheFirstEvaluation) {
  HttpResponse r = Handle("GET", "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.body.rfind("<!doctype html>\n", 0), 0u);
  EXPECT_NE(r.body.find("Version 1.2.3-test."), std::string::npos);
  EXPECT_NE(r.body.find("No evaluation yet."), std::string::npos);
  for (std::string_view path : {"/metrics", "/api/v1/status", "/healthz", "/readyz"}) {
    EXPECT_NE(r.body.find("<a href=\"" + std::string(path) + "\">"), std::string::npos) << path;
  }
}

TEST_F(PageEndpointTest, DriftedFeatureFirstWithItsBars) {
  Record rec;
  rec.model = "m";
  // x: all in its first bin (reference 5/5): drifted. c: as the reference.
  for (int i = 0; i < 40; ++i) {
    rec.fields = {{"x", {Value::Kind::kNumber, 0.5, {}}},
                  {"c", {Value::Kind::kString, 0, i % 2 ? "a" : "b"}}};
    monitor_->Apply(rec, kNow);
  }
  for (int i = 0; i < 4; ++i) {  // the policy needs 3 evaluations in a row
    auto eval = monitor_->Evaluate(kNow);
    auto history = MetricHistory::Extend(published_.history().get(), *eval);
    published_.Set(std::move(eval), "", std::move(history));
  }
  HttpResponse r = Handle("GET", "/");
  ASSERT_EQ(r.status, 200);
  const std::string& page = r.body;
  const size_t x = page.find("<section class=\"feature critical\" data-feature=\"x\"");
  const size_t c = page.find("<section class=\"feature ok\" data-feature=\"c\"");
  ASSERT_NE(x, std::string::npos) << page;
  ASSERT_NE(c, std::string::npos);
  EXPECT_LT(x, c);  // the drifted feature first
  EXPECT_EQ(Count(page, "<svg class=\"bins\""), 2u);
  // x: 5 bins (2 interior + underflow, overflow, missing), a window and a reference bar each.
  // Smoothed (alpha 0.5): the window's first bin (40.5 / 42.5) is the tallest bar, full height.
  EXPECT_EQ(Count(page, "class=\"bar window\""), 5u + 4u);
  const std::string tallest = "height=\"120\" data-bin=\"[0, 1)\" data-probability=\"" +
                              std::string("0.95294117647058818") + "\"";
  EXPECT_NE(page.find(tallest), std::string::npos) << page.substr(x, 1500);
  EXPECT_NE(page.find("data-points=\"4\""), std::string::npos);  // 4 evaluations of history
  EXPECT_NE(page.find("<span class=\"state\">critical</span>"), std::string::npos);
  EXPECT_NE(page.find("retraining recommended"), std::string::npos);
}

TEST_F(PageEndpointTest, SearchPagesAndBadParameters) {
  EvaluateAndPublish();
  HttpResponse r = Handle("GET", "/?q=x");
  EXPECT_EQ(Count(r.body, "<section class=\"feature"), 1u);
  r = Handle("GET", "/?per_page=1&page=2");
  EXPECT_EQ(Count(r.body, "<section class=\"feature"), 1u);
  EXPECT_NE(r.body.find("page 2 of 2"), std::string::npos);
  EXPECT_NE(r.body.find("rel=\"prev\""), std::string::npos);
  EXPECT_EQ(Handle("GET", "/?page=0").status, 400);
  EXPECT_EQ(Handle("GET", "/?page=-1").status, 400);
  EXPECT_EQ(Handle("GET", "/?per_page=%2B3").status, 400);  // "+3"
  EXPECT_EQ(Handle("GET", "/?page=1000001").status, 400);
  EXPECT_EQ(Handle("GET", "/?nope=1").status, 400);
  r = Handle("GET", "/?model=other");
  EXPECT_EQ(Count(r.body, "<section class=\"feature"), 0u);
}

}  // namespace
}  // namespace driftd
