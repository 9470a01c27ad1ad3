// HandleHttp as a router: which path reaches which endpoint, and the 404 and 405 answers.
#include "daemon/http/server.h"

#include <gtest/gtest.h>

#include "tests/daemon/http/http_fixture.h"

namespace driftd {
namespace {

using ServerTest = HttpFixture;

TEST_F(ServerTest, UnknownPathIsNotFound) {
  for (std::string_view target : {"/nope", "/healthz/", "/metrics/x", "/API/V1/STATUS", ""}) {
    HttpResponse r = Handle("GET", target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
    EXPECT_EQ(r.body, "not found\n");
  }
}

TEST_F(ServerTest, ReadOnlyPathsRefuseOtherMethods) {
  for (std::string_view target : {"/", "/metrics", "/healthz", "/readyz", "/api/v1/status"}) {
    for (std::string_view method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
      HttpResponse r = Handle(method, target, "m x=0.5\n");
      EXPECT_EQ(r.status, 405) << method << " " << target;
      EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
      EXPECT_EQ(r.body, "method not allowed\n");
    }
  }
  // The body of a refused request is never ingested.
  EXPECT_EQ(HttpRecords(Format::kLineProtocol), 0);
}

TEST_F(ServerTest, AnUnknownPathWithAnotherMethodIsMethodNotAllowed) {
  HttpResponse r = Handle("POST", "/nope");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body, "method not allowed\n");
}

TEST_F(ServerTest, IngestTakesOnlyPost) {
  for (std::string_view method : {"GET", "HEAD", "PUT"}) {
    HttpResponse r = Handle(method, "/api/v1/ingest", "m x=0.5\n");
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
    EXPECT_EQ(r.body, "use POST\n");
  }
  EXPECT_EQ(HttpRecords(Format::kLineProtocol), 0);
}

TEST_F(ServerTest, HeadIsAnsweredLikeGet) {
  // The session drops a HEAD response's body; the router answers it in full.
  for (std::string_view target : {"/", "/metrics", "/healthz", "/readyz", "/api/v1/status"}) {
    HttpResponse get = Handle("GET", target);
    HttpResponse head = Handle("HEAD", target);
    EXPECT_EQ(head.status, get.status) << target;
    EXPECT_EQ(head.content_type, get.content_type) << target;
    EXPECT_FALSE(head.body.empty()) << target;
  }
  EXPECT_EQ(Handle("HEAD", "/nope").status, 404);
}

TEST_F(ServerTest, TheQueryIsIgnored) {
  HttpResponse r = Handle("GET", "/healthz?verbose=1&x");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  EXPECT_EQ(Handle("POST", "/api/v1/ingest?db=x", "m x=0.5\n").status, 204);
  EXPECT_EQ(Handle("GET", "/?").status, 200);
}

TEST_F(ServerTest, RequestsAreCountedByHandlerAndCode) {
  ctx_.requests = HttpRequestsFamily(&registry_);
  auto count = [&](const std::string& handler, const std::string& code) {
    return ctx_.requests->Add({{"handler", handler}, {"code", code}}).Value();
  };
  Handle("GET", "/healthz");
  Handle("GET", "/healthz?x=1");
  Handle("HEAD", "/healthz");
  Handle("GET", "/readyz");                       // 503: not ready
  Handle("GET", "/api/v1/status?model=nope");     // 404 from the endpoint
  Handle("PUT", "/metrics");                      // 405
  Handle("GET", "/api/v1/ingest");                // 405
  Handle("POST", "/api/v1/ingest", "m x=0.5\n");  // 204
  Handle("GET", "/no/such/path");                 // 404
  Handle("GET", "/another?q");                    // 404
  EXPECT_EQ(count("/healthz", "200"), 3);
  EXPECT_EQ(count("/readyz", "503"), 1);
  EXPECT_EQ(count("/metrics", "405"), 1);
  EXPECT_EQ(count("/api/v1/ingest", "405"), 1);
  EXPECT_EQ(count("/api/v1/ingest", "204"), 1);
  EXPECT_EQ(count("other", "404"), 2);
  // Before the first evaluation a model filter has nothing to refuse.
  EXPECT_EQ(count("/api/v1/status", "200"), 1);
  // Nothing else: every request above is in exactly one series.
  double total = 0;
  for (const auto& family : registry_.Collect()) {
    if (family.name != "driftd_http_requests_total") continue;
    for (const auto& m : family.metric) total += m.counter.value;
  }
  EXPECT_EQ(total, 10);
}

}  // namespace
}  // namespace driftd
