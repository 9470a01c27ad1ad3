#include <gtest/gtest.h>

#include "tests/daemon/http/http_fixture.h"

namespace driftd {
namespace {

using IndexEndpointTest = HttpFixture;

TEST_F(IndexEndpointTest, LinksTheEndpointsAndNamesTheVersion) {
  HttpResponse r = Handle("GET", "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.body.rfind("<!doctype html>\n", 0), 0u);
  EXPECT_NE(r.body.find("Version 1.2.3-test."), std::string::npos);
  EXPECT_EQ(r.body.find("%VERSION%"), std::string::npos);
  for (std::string_view path : {"/metrics", "/api/v1/status", "/healthz", "/readyz"}) {
    EXPECT_NE(r.body.find("<a href=\"" + std::string(path) + "\">"), std::string::npos) << path;
  }
  EXPECT_NE(r.body.find("POST /api/v1/ingest"), std::string::npos);
}

}  // namespace
}  // namespace driftd
