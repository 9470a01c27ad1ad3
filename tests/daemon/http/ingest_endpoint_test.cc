#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>

#include "tests/daemon/http/http_fixture.h"

namespace driftd {
namespace {

class IngestEndpointTest : public HttpFixture {
 protected:
  // Window counts of feature `name` of model m at kNow, by bin (the missing bin last).
  std::vector<uint64_t> WindowCounts(std::string_view name) {
    auto eval = monitor_->Evaluate(kNow);
    for (const FeatureEvaluation& f : eval->models.at(0).features) {
      if (f.name == name) return f.window_counts;
    }
    ADD_FAILURE() << "no feature " << name;
    return {};
  }
};

TEST_F(IngestEndpointTest, AllGoodIsNoContent) {
  HttpResponse r = Handle("POST", "/api/v1/ingest",
                          "m x=0.5\n"
                          "{\"model\": \"m\", \"features\": {\"x\": 1.5, \"c\": \"a\"}}\n"
                          "m,c=b x=1");  // the body ends the last line
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(HttpRecords(Format::kLineProtocol), 2);
  EXPECT_EQ(HttpRecords(Format::kJson), 1);
  EXPECT_EQ(metrics_.values()->Value(), 5);
  // The records reached the monitor's window: x in [0,1) [1,2] (underflow, overflow, missing),
  // c a, b (other, missing; the first record has no c).
  EXPECT_EQ(WindowCounts("x"), (std::vector<uint64_t>{1, 2, 0, 0, 0}));
  EXPECT_EQ(WindowCounts("c"), (std::vector<uint64_t>{1, 1, 0, 1}));
  // Another transport's counters are untouched.
  EXPECT_EQ(metrics_.transport(Transport::kTcp).records[0]->Value(), 0);
}

TEST_F(IngestEndpointTest, AnEmptyBodyIsNoContent) {
  EXPECT_EQ(Handle("POST", "/api/v1/ingest", "").status, 204);
  EXPECT_EQ(WindowCounts("x"), (std::vector<uint64_t>{0, 0, 0, 0, 0}));
}

TEST_F(IngestEndpointTest, APartlyBadBodyCountsTheGoodAndReportsTheLastError) {
  HttpResponse r = Handle("POST", "/api/v1/ingest",
                          "m x=0.5\n"
                          "this is not a record\n"
                          "m x=1.5\n"
                          "{\"model\": \"zz\", \"features\": {\"x\": 1}}\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/json");
  ASSERT_FALSE(r.body.empty());
  EXPECT_EQ(r.body.back(), '\n');
  const auto j = nlohmann::json::parse(r.body);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 3u);
  EXPECT_EQ(j.at("accepted"), 2);
  EXPECT_EQ(j.at("rejected"), 2);
  EXPECT_EQ(j.at("last_error"), "unknown model \"zz\"");
  // The keys in the order clients have always seen (nlohmann::json sorts them).
  EXPECT_EQ(r.body.find("{\"accepted\":"), 0u);

  EXPECT_EQ(HttpErrors(Reason::kMalformedLineProtocol), 1);
  EXPECT_EQ(HttpErrors(Reason::kUnknownModel), 1);
  EXPECT_EQ(WindowCounts("x"), (std::vector<uint64_t>{1, 1, 0, 0, 0}));
}

TEST_F(IngestEndpointTest, TheLastErrorOfADecodeFailureNamesItsReason) {
  HttpResponse r = Handle("POST", "/api/v1/ingest", "{\"model\": \"m\", \"features\": \n");
  EXPECT_EQ(r.status, 400);
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j.at("accepted"), 0);
  EXPECT_EQ(j.at("rejected"), 1);
  EXPECT_EQ(j.at("last_error").get<std::string>().rfind("malformed_json: ", 0), 0u)
      << j.at("last_error");
  EXPECT_EQ(HttpErrors(Reason::kMalformedJson), 1);
}

TEST_F(IngestEndpointTest, ALineLongerThanTheLimitIsRejected) {
  ctx_.max_line_bytes = 16;
  HttpResponse r = Handle("POST", "/api/v1/ingest", "m x=0.5\nm x=0.5                  \n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(nlohmann::json::parse(r.body).at("accepted"), 1);
  EXPECT_EQ(HttpErrors(Reason::kLineTooLong), 1);
}

// A large body goes in chunks, the model's lock released between them: another sender's record
// is applied while the body is in progress (before the fix the lock was held for the whole body,
// and the Apply below would wait until the body was done).
TEST_F(IngestEndpointTest, ALargeBodyReleasesTheModelBetweenChunks) {
  ctx_.ingest_chunk_bytes = 100;  // not a multiple of the 8-byte lines: lines are cut
  std::string body;
  for (int i = 0; i < 1000; ++i) body += "m x=0.5\n";
  int chunks = 0;
  double last_counted = -1;
  // An Apply that found the model locked; it completes once the body is done.
  std::future<bool> blocked;
  ctx_.after_ingest_chunk = [&] {
    ++chunks;
    // The chunk's records are already counted...
    const double counted = HttpRecords(Format::kLineProtocol);
    EXPECT_GT(counted, last_counted);
    last_counted = counted;
    // ...and the model is free: another thread applies a record to it.
    if (blocked.valid()) return;
    auto other = std::async(std::launch::async, [&] {
      Record r;
      r.model = "m";
      r.fields.push_back({"x", Value{Value::Kind::kNumber, 1.5, {}}});
      return monitor_->Apply(r, kNow).accepted();
    });
    if (other.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      ADD_FAILURE() << "the model's lock is held between chunks";
      blocked = std::move(other);
      return;
    }
    EXPECT_TRUE(other.get());
  };
  EXPECT_EQ(Handle("POST", "/api/v1/ingest", body).status, 204);
  EXPECT_EQ(chunks, 80);  // 8000 bytes / 100
  EXPECT_EQ(HttpRecords(Format::kLineProtocol), 1000);
  // Every line, those cut by a chunk boundary included, reached the window; and every record of
  // the other thread: x=0.5 in [0,1), x=1.5 in [1,2].
  EXPECT_EQ(WindowCounts("x"), (std::vector<uint64_t>{1000, 80, 0, 0, 0}));
}

}  // namespace
}  // namespace driftd
