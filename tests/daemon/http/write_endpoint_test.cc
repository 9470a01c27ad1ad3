#include <gtest/gtest.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/daemon/http/http_fixture.h"

namespace driftd {
namespace {

// `text` as one gzip member, compressed by zlib (independently of the code under test).
std::string Gzip(const std::string& text) {
  z_stream zs{};
  EXPECT_EQ(
      deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
      Z_OK);
  std::string out(deflateBound(&zs, text.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

class WriteEndpointTest : public HttpFixture {
 protected:
  uint64_t Lp() { return static_cast<uint64_t>(HttpRecords(Format::kLineProtocol)); }
  // The x counts of model m's window at kNow: [0,1), [1,2], underflow, overflow, missing.
  std::vector<uint64_t> XCounts() {
    auto eval = monitor_->Evaluate(kNow);
    for (const FeatureEvaluation& f : eval->models.at(0).features) {
      if (f.name == "x") return f.window_counts;
    }
    ADD_FAILURE() << "no feature x";
    return {};
  }
  static std::string Line(double x, const std::string& ts) {
    return "m x=" + std::to_string(x) + " " + ts + "\n";
  }
  static constexpr int64_t kSec = static_cast<int64_t>(kNow);
};

TEST_F(WriteEndpointTest, BothVersionsAnswerNoContent) {
  EXPECT_EQ(Handle("POST", "/write?db=driftd", "m x=0.5\nm,c=a x=1.5").status, 204);
  HttpResponse r = Handle("POST", "/api/v2/write?org=o&bucket=b", "m x=0.25\n");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(Lp(), 3);
  EXPECT_EQ(XCounts(), (std::vector<uint64_t>{2, 1, 0, 0, 0}));
}

TEST_F(WriteEndpointTest, PrecisionNamesTheTimestampUnit) {
  // The same instant (kNow, or a quarter second after it) in every unit; each is in the window.
  const std::string s = std::to_string(kSec);
  EXPECT_EQ(Handle("POST", "/api/v2/write?precision=s", Line(0.5, s)).status, 204);
  EXPECT_EQ(Handle("POST", "/api/v2/write?precision=ms", Line(0.5, s + "250")).status, 204);
  EXPECT_EQ(Handle("POST", "/api/v2/write?precision=us", Line(0.5, s + "250000")).status, 204);
  EXPECT_EQ(Handle("POST", "/api/v2/write?precision=ns", Line(0.5, s + "250000000")).status, 204);
  EXPECT_EQ(Handle("POST", "/write?precision=u", Line(0.5, s + "000000")).status, 204);
  EXPECT_EQ(Handle("POST", "/write?precision=n", Line(0.5, s + "000000000")).status, 204);
  EXPECT_EQ(Handle("POST", "/write?precision=m", Line(0.5, std::to_string(kSec / 60))).status, 204);
  EXPECT_EQ(Handle("POST", "/write?precision=h", Line(0.5, std::to_string(kSec / 3600))).status,
            204);
  EXPECT_EQ(Lp(), 8);
  EXPECT_EQ(XCounts()[0], 8);
  // Without precision the unit is nanoseconds: kNow read as nanoseconds is 1970, long before the
  // window.
  HttpResponse late = Handle("POST", "/api/v2/write", Line(0.5, s));
  EXPECT_EQ(late.status, 400);
  EXPECT_NE(late.body.find("timestamp older than the window"), std::string::npos) << late.body;
  EXPECT_EQ(XCounts()[0], 8);
}

TEST_F(WriteEndpointTest, ABadPrecisionIsRefusedBeforeAnythingIsApplied) {
  HttpResponse r = Handle("POST", "/api/v2/write?precision=m", "m x=0.5\n");  // a 1.x form
  EXPECT_EQ(r.status, 400);
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["code"], "invalid");
  EXPECT_EQ(j["message"], "invalid precision \"m\"; valid precision units are ns, us, ms and s");
  r = Handle("POST", "/write?precision=days", "m x=0.5\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(
      nlohmann::json::parse(r.body)["error"],
      "invalid precision \"days\"; valid precision units are n, ns, u, us, µ, ms, s, m and h");
  EXPECT_EQ(HttpErrors(Reason::kBadRequest), 2);
  EXPECT_EQ(Lp(), 0);
}

TEST_F(WriteEndpointTest, APartialWriteNamesTheFirstBadLineAndKeepsTheRest) {
  const std::string body =
      "m x=0.5\n"
      "\n"
      "m x=\n"
      "m x=1.5\n"
      "zz x=1\n";
  HttpResponse v1 = Handle("POST", "/write", body);
  EXPECT_EQ(v1.status, 400);
  EXPECT_EQ(v1.content_type, "application/json; charset=utf-8");
  const auto e1 = nlohmann::json::parse(v1.body);
  const std::string m1 = e1["error"];
  EXPECT_EQ(
      m1.rfind("partial write: unable to parse 'm x=' (line 3): malformed_line_protocol: ", 0), 0)
      << m1;
  EXPECT_EQ(m1.substr(m1.size() - 10), " dropped=2") << m1;

  HttpResponse v2 = Handle("POST", "/api/v2/write", body);
  EXPECT_EQ(v2.status, 400);
  const auto e2 = nlohmann::json::parse(v2.body);
  EXPECT_EQ(e2["code"], "invalid");
  EXPECT_EQ(e2["line"], 3);
  const std::string m2 = e2["message"];
  EXPECT_NE(m2.find("(2 of 4 lines rejected)"), std::string::npos) << m2;
  // The good lines of both requests were applied; the bad ones counted under their reasons.
  EXPECT_EQ(XCounts(), (std::vector<uint64_t>{2, 2, 0, 0, 0}));
  EXPECT_EQ(HttpErrors(Reason::kMalformedLineProtocol), 2);
  EXPECT_EQ(HttpErrors(Reason::kUnknownModel), 2);
}

TEST_F(WriteEndpointTest, AllBadIsNotAPartialWrite) {
  HttpResponse r = Handle("POST", "/api/v2/write", "nonsense\n");
  EXPECT_EQ(r.status, 400);
  const std::string m = nlohmann::json::parse(r.body)["message"];
  EXPECT_EQ(m.rfind("unable to parse 'nonsense' (line 1): ", 0), 0) << m;
}

TEST_F(WriteEndpointTest, GzipBodiesAreInflated) {
  std::string body;
  for (int i = 0; i < 5000; ++i) body += i % 2 ? "m x=0.5\n" : "m x=1.5\n";
  const std::string gz = Gzip(body);
  ASSERT_LT(gz.size(), body.size() / 20);
  ctx_.ingest_chunk_bytes = 1000;  // lines cut across the chunks of the inflated body
  EXPECT_EQ(Handle("POST", "/api/v2/write", gz, "gzip").status, 204);
  EXPECT_EQ(XCounts(), (std::vector<uint64_t>{2500, 2500, 0, 0, 0}));
  // Two members back to back (as `cat a.gz b.gz`), the last line unterminated.
  EXPECT_EQ(Handle("POST", "/write", Gzip("m x=0.5\n") + Gzip("m x=0.5"), "gzip").status, 204);
  EXPECT_EQ(XCounts()[0], 2502);
}

TEST_F(WriteEndpointTest, ABadGzipBodyIsRefusedWhole) {
  const std::string gz = Gzip("m x=0.5\nm x=0.5\nm x=0.5\n");
  // Cut short, corrupted, and not gzip at all: 400, nothing applied.
  for (const std::string& bad :
       {gz.substr(0, gz.size() - 6), gz.substr(0, 12) + std::string(8, 'z') + gz.substr(20),
        std::string("m x=0.5\n")}) {
    HttpResponse r = Handle("POST", "/api/v2/write", bad, "gzip");
    EXPECT_EQ(r.status, 400);
    const std::string m = nlohmann::json::parse(r.body)["message"];
    EXPECT_EQ(m.rfind("not valid gzip", 0), 0) << m;
  }
  EXPECT_EQ(HttpErrors(Reason::kBadRequest), 3);
  EXPECT_EQ(Lp(), 0);
}

TEST_F(WriteEndpointTest, ABodyThatInflatesPastTheLimitIsRefusedBeforeAnyOfItIsApplied) {
  ctx_.max_body_bytes = 100000;
  std::string body;
  while (body.size() <= 100000) body += "m x=0.5\n";
  HttpResponse r = Handle("POST", "/api/v2/write", Gzip(body), "gzip");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(nlohmann::json::parse(r.body)["code"], "request too large");
  EXPECT_EQ(HttpErrors(Reason::kBodyTooLarge), 1);
  EXPECT_EQ(Lp(), 0);
  // At the limit it is applied.
  body.resize(100000 - 100000 % 8);
  EXPECT_EQ(Handle("POST", "/write", Gzip(body), "gzip").status, 204);
  EXPECT_EQ(Lp(), 12500);
}

TEST_F(WriteEndpointTest, OtherEncodingsAndMethods) {
  HttpResponse r = Handle("POST", "/api/v2/write", "m x=0.5\n", "br");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(HttpErrors(Reason::kBadRequest), 1);
  EXPECT_EQ(Handle("POST", "/write", "m x=0.5\n", "identity").status, 204);
  EXPECT_EQ(Handle("GET", "/write").status, 405);
  EXPECT_EQ(Handle("GET", "/api/v2/write").status, 405);
  EXPECT_EQ(Lp(), 1);
}

}  // namespace
}  // namespace driftd
